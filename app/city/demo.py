"""Demo data of the city console: the register (``app.registry.demo``), five past monthly
coverage snapshots so the trend shows, and one notice to the district centers with a read
receipt. Deterministic and idempotent (months are keyed, the notice by its subject)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from app.city import broadcasts, coverage
from app.city.tables import Broadcast, BroadcastRead, CoverageSnapshot
from app.core.forms import Form
from app.outreach.counters import today
from app.outreach.service import last_months
from app.registry.demo import seed_registry
from tenants.scope import tenant_scope

NOTICE = {
    "subject": "关于开展年底农民工工资支付情况排查的通知",
    "body": "各区镇（街道）劳动人事争议调解中心：\n请于 12 月 20 日前完成辖区内劳动密集型企业工资支付情况排查，"
            "对排查中发现的欠薪苗头及时开展调解，并将排查情况报市联合调处中心。\n市劳动人事争议联合调处中心",
}
# Earlier months had fewer committees and chamber organisations: the share of today's
# covered ones there were, by months before now.
PAST_SHARE = {5: 0.55, 4: 0.65, 3: 0.75, 2: 0.85, 1: 0.95}


async def seed_snapshots(city_id: int) -> int:
    data = await coverage.figures(city_id)
    months = last_months(6, today())[:-1]  # the five months before this one
    rows = []
    for back, month in zip(range(5, 0, -1), months, strict=True):
        share = PAST_SHARE[back]

        def past(key: str, covered: int) -> int:
            return covered if key in ("centers", "reception") else int(covered * share)

        taken = datetime.fromisoformat(f"{month}-01T01:20:00+08:00").astimezone(timezone.utc)
        for district, figures in [(coverage.CITY, data["city"]), *((r["district"], r["figures"]) for r in data["districts"])]:
            for key, f in figures.items():
                rows.append(CoverageSnapshot(month=month, district=district, measure=key,
                                             covered=past(key, f["covered"]), total=f["total"], taken_at=taken))
    written = await CoverageSnapshot.insert(*rows).on_conflict(
        target=(CoverageSnapshot.month, CoverageSnapshot.district, CoverageSnapshot.measure), action="DO NOTHING"
    ).returning(CoverageSnapshot.id)
    return len(written)


async def seed_notice(city: dict[str, Any], reader_id: int | None, reader_tenant: int | None) -> int | None:
    with tenant_scope(city["id"]):
        existing = await Broadcast.select(Broadcast.id).where(Broadcast.subject == NOTICE["subject"]).first()
    if existing:
        return existing["id"]
    sent = await broadcasts.send(city, None, Form(values=dict(NOTICE)), ["district_center"], [])
    if reader_id and reader_tenant:
        with tenant_scope(reader_tenant):
            await BroadcastRead(tenant=reader_tenant, broadcast=sent["id"], user=reader_id).save()
    return sent["id"]


async def seed_city(tenants: list[dict[str, Any]], ids: dict[str, int]) -> dict[str, Any]:
    from app.accounts.tables import User

    city = {"id": ids["city"], "name": next(t["name"] for t in tenants if t["slug"] == "city")}
    registry = await seed_registry(city["id"], tenants)
    snapshots = await seed_snapshots(city["id"])
    reader = await User.select(User.id).where(User.email == "chengdong.admin@demo.tiaojie.cn").first()
    notice = await seed_notice(city, reader["id"] if reader else None, ids.get("chengdong"))
    return {**registry, "snapshots": snapshots, "notice": notice}
