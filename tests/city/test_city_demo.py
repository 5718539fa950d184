"""The demo shows the city dashboard: a register with a realistic mix, past snapshots so the
trend shows, a notice with a receipt; seeding twice changes nothing."""

from __future__ import annotations

from app.city import coverage
from app.city.tables import Broadcast, BroadcastRead, BroadcastRecipient, CoverageSnapshot
from app.directory.demo import demo_tenants, seed_demo
from app.registry import creditcode
from app.registry.demo import chamber_rows, enterprise_rows
from app.registry.tables import Chamber, Enterprise
from tenants.scope import unscoped
from tenants.tree import city_center_id
from tests.support import login


async def _counts() -> tuple[int, ...]:
    with unscoped("test counts demo rows"):
        return (await Enterprise.count(), await Chamber.count(), await CoverageSnapshot.count(),
                await Broadcast.count(), await BroadcastRecipient.count(), await BroadcastRead.count())


def test_demo_register_rows_are_valid_and_deterministic():
    rows = enterprise_rows(demo_tenants())
    assert rows == enterprise_rows(demo_tenants())
    assert all(creditcode.is_valid(r["credit_code"]) for r in rows + chamber_rows())
    assert len({r["credit_code"] for r in rows}) == len(rows)
    assert sum(1 for r in rows if r["committee"]) == 35  # every demo enterprise committee stands for one enterprise


async def test_demo_city_dashboard(client):
    await seed_demo()
    first = await _counts()
    await seed_demo()
    assert await _counts() == first
    enterprises, chambers, snapshots, notices, recipients, reads = first
    assert enterprises > 90 and chambers >= 10 and notices == 1 and recipients == 14 and reads == 1
    data = await coverage.figures(await city_center_id())
    statuses = {r["figures"]["enterprises"]["status"] for r in data["districts"]}
    assert statuses == {"red", "amber", "green"}  # some districts below 60%, some on target
    assert 0 < data["city"]["enterprises"]["percent"] < 100
    assert [p["month"] for p in await coverage.trend()] and snapshots == 5 * 5 * (1 + len(data["districts"]))
    await login(client, "city.admin@demo.tiaojie.cn", "Tiaojie-demo-2024")
    page = await client.get("/city/coverage")
    assert page.status_code == 200 and "Below the end-2024 target" in page.text
    await login(client, "chengdong.admin@demo.tiaojie.cn", "Tiaojie-demo-2024")
    home = await client.get("/manage/chengdong/")
    assert "关于开展年底农民工工资支付情况排查的通知" in home.text and "You read it on" in home.text
