"""Demo events: every district center and the city center hold past events with attendance
and upcoming ones with registrations, a waitlist and union groups.

Deterministic (names, phones and tokens derive from indexes and slugs; dates from the
day of seeding) and idempotent (an event is keyed by its organisation and title). Rows
are written directly, without messages: the demo sends nobody anything.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from app.accounts.tables import User
from app.db import atomic
from app.events.tables import Attendee, Event, Registration
from app.i18n import tz
from tenants.scope import tenant_scope

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英",
         "霞", "平", "刚", "桂英", "建华", "海燕", "志强", "文", "红梅", "立新"]
EMPLOYERS = ["海安建材有限公司", "城东纺织厂", "开发区电子科技", "曲塘机械厂", "李堡食品公司", ""]

# title, kind, topics, audience, capacity, groups allowed
PAST = [
    ("劳动合同签订与解除讲座", "seminar", "|contracts|dismissal|", "workers", 40, True),
    ("工伤认定与社会保险沙龙", "salon", "|injury|social_insurance|", "everyone", 25, False),
]
UPCOMING = [
    ("以案释法：拖欠工资怎么办", "case_explanation", "|wages|law|", "workers", 30, True),
    ("农民工欠薪劳动争议专场", "special_session", "|wages|mediation|", "migrant_workers", 50, True),
]
CITY_TRAINING = ("基层调解员业务培训：调解程序与文书", "training", "|mediation|law|", "mediators", 60, False)


def person(n: int) -> str:
    return SURNAMES[n % len(SURNAMES)] + GIVEN[(n * 7) % len(GIVEN)]


def demo_token(slug: str, title: str, n: int) -> str:
    return hashlib.sha256(f"demo-registration:{slug}:{title}:{n}".encode()).hexdigest()[:32]


def _code(slug: str, title: str, n: int) -> str:
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    digest = hashlib.sha256(f"demo-checkin:{slug}:{title}:{n}".encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:10])


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=tz()).astimezone(timezone.utc)


def demo_registration_path(slug: str = "chengdong") -> str:
    """The private page of the first person registered for the district's first upcoming event."""
    return f"/o/{slug}/registrations/{demo_token(slug, UPCOMING[0][0], 0)}"


async def _union_ids() -> dict[str, int]:
    from tenants.tables import Tenant

    rows = await Tenant.select(Tenant.id, Tenant.slug).where(Tenant.kind == "union")
    return {r["slug"]: r["id"] for r in rows}


async def _seed_event(tenant_id: int, slug: str, index: int, spec: tuple, starts: datetime, *, status: str,
                      individuals: int, group: tuple[int, int, int | None] | None, attended: bool,
                      now: datetime) -> bool:
    """One event with its registrations; False when it exists already."""
    title, kind, topics, audience, capacity, groups_allowed = spec
    if await Event.exists().where(Event.title == title):
        return False
    created = min(now, starts) - timedelta(days=20)
    event = Event(tenant=tenant_id, kind=kind, title=title, summary=_summary(kind), topics=topics, audience=audience,
                  starts_at=starts, ends_at=starts + timedelta(hours=2), venue=_venue(slug), capacity=capacity,
                  groups_allowed=groups_allowed, status=status, published_at=created, created_at=created,
                  updated_at=created, body=_body(kind))
    await event.save()
    regs: list[dict[str, Any]] = []
    taken = 0
    n = 0
    for _i in range(individuals):
        phone = f"139{index:02d}{(hash_int(slug, title) % 10)}{n:05d}"
        regs.append({"kind": "individual", "seats": 1, "name": person(index * 100 + n), "phone": phone,
                     "employer": EMPLOYERS[n % len(EMPLOYERS)], "people": [(person(index * 100 + n), phone)]})
        n += 1
    if group is not None:  # the union registered third
        seats, union_id, rep_id = group
        regs.insert(min(2, len(regs)), {
            "kind": "group", "seats": seats, "name": "刘春兰", "union": union_id, "rep": rep_id,
            "people": [(person(index * 100 + 50 + i), "") for i in range(seats)]})
    for i, r in enumerate(regs):
        fits = taken + r["seats"] <= capacity
        taken += r["seats"] if fits else 0
        registered = created + timedelta(hours=3 * i + 1)
        row = Registration(
            tenant=tenant_id, event=event.id, kind=r["kind"], status="confirmed" if fits else "waitlisted",
            seats=r["seats"], name=r["name"], phone=r.get("phone", ""), employer=r.get("employer", ""),
            union_tenant=r.get("union"), created_by=r.get("rep"), token=demo_token(slug, title, i),
            checkin_code=_code(slug, title, i), confirmed_at=registered if fits else None, created_at=registered,
        )
        await row.save()
        attendees = []
        for pos, (name, phone) in enumerate(r["people"], start=1):
            present = attended and fits and (i + pos) % 5 != 0
            attendees.append(Attendee(tenant=tenant_id, event=event.id, registration=row.id, name=name, phone=phone,
                                      position=pos, checked_in_at=starts + timedelta(minutes=pos % 20) if present else None))
        await Attendee.insert(*attendees)
    if attended:
        for w in range(index % 3):
            walk = Registration(tenant=tenant_id, event=event.id, kind="walk_in", status="confirmed", seats=0,
                                name=person(index * 100 + 90 + w), token=demo_token(slug, title, 900 + w),
                                checkin_code=_code(slug, title, 900 + w), confirmed_at=starts, created_at=starts)
            await walk.save()
            await Attendee(tenant=tenant_id, event=event.id, registration=walk.id, name=walk.name,
                           checked_in_at=starts + timedelta(minutes=10)).save()
    await Event.update({Event.seats_taken: taken}).where(Event.id == event.id)
    return True


def hash_int(*parts: str) -> int:
    return int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:8], 16)


def _venue(slug: str) -> str:
    return "市民服务中心二楼多功能厅" if slug == "city" else "便民服务中心二楼会议室"


def _summary(kind: str) -> str:
    return {
        "case_explanation": "结合本地真实案例，讲清拖欠工资时如何取证、协商和申请调解。",
        "special_session": "面向农民工的欠薪劳动争议专场：现场咨询、调解员答疑、当场登记调解申请。",
        "seminar": "劳动合同怎么签、哪些条款无效、解除合同时的经济补偿怎么算。",
        "salon": "工伤认定流程与社会保险待遇，用人单位与职工面对面交流。",
        "training": "面向企业、商会和基层调解组织调解员：调解程序、调解协议书的制作与司法确认。",
    }[kind]


def _body(kind: str) -> str:
    return ("请携带身份证件；如有劳动合同、工资条、考勤记录等材料，可一并带来现场咨询。\n"
            "活动免费，座位有限，请提前报名。")


async def seed_events(tenants: list[dict[str, Any]], ids: dict[str, int]) -> int:
    """Events for the city center and every district center (see the module docstring)."""
    today = datetime.now(tz()).date()
    now = datetime.now(timezone.utc)
    unions = await _union_ids()
    rep = await User.select(User.id).where(User.email == "union.rep@demo.tiaojie.cn").first()
    rep_id = rep["id"] if rep else None
    union_for = {"chengdong": "union-chengdong", "kaifaqu": "union-kaifaqu", "libao": "union-libao"}
    seeded = 0
    centers = [r for r in tenants if r["kind"] in ("city_center", "district_center")]
    for index, row in enumerate(centers):
        slug = row["slug"]
        tenant_id = ids[slug]
        local_union = unions.get(union_for.get(slug, ""), None)
        city_union = unions.get("union-city")
        with tenant_scope(tenant_id):
            seeded += await _seed_center(tenant_id, slug, index, today, now, local_union, city_union, rep_id)
    return seeded


async def _seed_center(tenant_id: int, slug: str, index: int, today: date, now: datetime, local_union: int | None,
                       city_union: int | None, rep_id: int | None) -> int:
    seeded = 0
    async with atomic():  # one commit per organisation, not one per row
        for j, spec in enumerate(PAST):
            day = today - timedelta(days=45 - j * 30 + index % 5)
            group = (6, local_union or city_union, None) if spec[5] and (local_union or city_union) else None
            seeded += await _seed_event(tenant_id, slug, index, spec, _at(day, 14), status="completed",
                                        individuals=20 + index % 10, group=group, attended=True, now=now)
        for j, spec in enumerate(UPCOMING):
            day = today + timedelta(days=5 + j * 15 + index % 4)
            if j == 0:  # full, with a union group of 12 and a waitlist
                group = (12, city_union, rep_id) if city_union else None
                individuals = spec[4] - 12 + 3
            else:
                group = (8, local_union, None) if local_union else None
                individuals = 10 + index % 7
            seeded += await _seed_event(tenant_id, slug, index, spec, _at(day, 9 if j else 14),
                                        status="published", individuals=individuals, group=group, attended=False,
                                        now=now)
        if slug == "city":
            seeded += await _seed_event(tenant_id, slug, index, CITY_TRAINING, _at(today + timedelta(days=12), 9),
                                        status="published", individuals=25, group=None, attended=False, now=now)
        if slug == "chengdong" and not await Event.exists().where(Event.status == "draft"):
            draft = Event(tenant=tenant_id, kind="salon", title="劳动者权益保护沙龙（筹备中）",
                          summary="与辖区企业人事经理座谈，交流预防劳动争议的做法。", topics="|contracts|working_hours|",
                          starts_at=_at(today + timedelta(days=40), 14),
                          ends_at=_at(today + timedelta(days=40), 16), venue=_venue(slug), capacity=30,
                          status="draft", created_at=now, updated_at=now)
            await draft.save()
            seeded += 1
    return seeded
