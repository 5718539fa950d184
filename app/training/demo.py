"""Demo training: the city's "mediator skills" programme assigned to every district center,
partly done (one district complete, 城东镇 passed it down to its enterprise committees, one
person trained there), a second programme already overdue and reminded, the city's upcoming
training event held for the first programme, and 城东镇 and two other districts as the city
staff member's guidance area.

Deterministic and idempotent: a programme is keyed by its owner and title; nothing is sent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.accounts.tables import User
from app.events.demo import CITY_TRAINING, person
from app.events.tables import Event
from app.training import clock
from app.training.tables import Assignment, Completion, GuidanceArea, Participant, Programme, TrainingSession
from tenants.scope import tenant_scope, unscoped

SKILLS = ("调解员业务技能培训", "调解程序、调解技巧与调解协议书制作，结合典型案例演练。", 240, "专职和兼职调解员")
DOCUMENTS = ("劳动争议调解文书规范", "调解申请书、调解笔录、调解协议书的规范写法。", 120, "调解员")
AREA_OF_CITY_STAFF = ["城东镇", "曲塘镇", "李堡镇"]
COMPLETE_DISTRICT = "haian-jiedao"
PASSING_DOWN = "chengdong"


async def _programme(city_id: int, values: tuple[str, str, int, str]) -> int:
    title, content, minutes, audience = values
    row = await Programme.select(Programme.id).where(Programme.title == title).first()
    if row:
        return row["id"]
    programme = Programme(tenant=city_id, title=title, content=content, required_minutes=minutes, audience=audience)
    await programme.save()
    return programme.id


async def _assignment(tenant_id: int, programme_id: int, assigner: int, due, required: int,
                      parent: int | None = None, **extra: Any) -> int:
    row = await Assignment.select(Assignment.id).where(
        (Assignment.tenant == tenant_id) & (Assignment.programme == programme_id)).first()
    if row:
        return row["id"]
    a = Assignment(tenant=tenant_id, programme=programme_id, assigner=assigner, parent=parent, due_date=due,
                   required_people=required, **extra)
    await a.save()
    return a.id


async def _trained(tenant_id: int, assignment_id: int, n: int, minutes: int, day, trained: bool = True) -> None:
    if await Participant.exists().where(Participant.assignment == assignment_id):
        return
    for i in range(n):
        p = Participant(tenant=tenant_id, assignment=assignment_id, name=person(tenant_id * 10 + i),
                        phone=f"139{tenant_id:04d}{i:04d}")
        await p.save()
        if trained or i == 0:
            await Completion(tenant=tenant_id, assignment=assignment_id, participant=p.id,
                             minutes=minutes if trained else minutes // 2, day=day,
                             note="市级集中培训签到表").save()


async def seed_training(ids: dict[str, int]) -> int:
    """Returns how many assignments exist after seeding."""
    from app.training import service

    city = ids["city"]
    today = clock.today()
    now = clock.now()
    districts = [slug for slug in ids if slug not in ("city",) and slug in _district_slugs(ids)]
    with unscoped("demo training across the network"):
        skills = await _programme(city, SKILLS)
        documents = await _programme(city, DOCUMENTS)
        due = today + timedelta(days=30)
        for slug in districts:
            await _assignment(ids[slug], skills, city, due, 3)
        done = await Assignment.select(Assignment.id).where(
            (Assignment.tenant == ids[COMPLETE_DISTRICT]) & (Assignment.programme == skills)).first()
        await _trained(ids[COMPLETE_DISTRICT], done["id"], 3, SKILLS[2], today - timedelta(days=3))
        top = await Assignment.select(Assignment.id).where(
            (Assignment.tenant == ids[PASSING_DOWN]) & (Assignment.programme == skills)).first()
        for slug in ("ent-chengdong-jiancai", "ent-chengdong-fuzhuang"):
            child = await _assignment(ids[slug], skills, ids[PASSING_DOWN], due - timedelta(days=5), 1,
                                      parent=top["id"])
            if slug == "ent-chengdong-jiancai":
                await _trained(ids[slug], child, 1, SKILLS[2], today - timedelta(days=2))
        # Overdue: the documents programme was due ten days ago; two districts are behind and were told.
        for slug, n in (("qutang", 1), ("libao", 0), ("sunzhuang", 2)):
            a = await _assignment(ids[slug], documents, city, today - timedelta(days=10), 2,
                                  reminded_soon_at=now - timedelta(days=17), reminded_overdue_at=None)
            if n:
                await _trained(ids[slug], a, n, DOCUMENTS[2], today - timedelta(days=12))
        event = await Event.select(Event.id).where((Event.tenant == city) & (Event.title == CITY_TRAINING[0])).first()
        if event and not await TrainingSession.exists().where(TrainingSession.event == event["id"]):
            await TrainingSession(tenant=city, event=event["id"], programme=skills).save()
        assignments = await Assignment.select(Assignment.id)
    # Completion dates, roll-up, and the overdue reminders as the worker would have written them.
    for row in assignments:
        await service.refresh(row["id"])
    with unscoped("demo: the overdue stage was reminded yesterday"):
        await Assignment.update({Assignment.reminded_overdue_at: now - timedelta(days=1)}).where(
            (Assignment.programme == documents) & Assignment.completed_at.is_null())
    staff = await User.select(User.id).where(User.email == "city.staff@demo.tiaojie.cn").first()
    if staff:
        with tenant_scope(city):
            if not await GuidanceArea.exists().where(GuidanceArea.user == staff["id"]):
                await GuidanceArea.insert(*(GuidanceArea(tenant=city, user=staff["id"], district=d)
                                            for d in AREA_OF_CITY_STAFF))
    return len(assignments)


def _district_slugs(ids: dict[str, int]) -> set[str]:
    from app.directory.demo import DISTRICTS

    return {slug for slug, _name, _road in DISTRICTS if slug in ids}
