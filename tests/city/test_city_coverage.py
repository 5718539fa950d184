"""Coverage maths against a hand-computed fixture, the monthly snapshot job, and who sees what."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from app.city import coverage
from app.city.jobs import snapshot_coverage
from app.city.tables import CoverageSnapshot
from app.registry.creditcode import complete
from app.registry.tables import Chamber, Enterprise
from tenants.scope import tenant_scope
from tenants.tables import Tenant
from tests.support import login

# (district, labour-intensive, employees, has a committee)
ENTERPRISES = [
    ("甲镇", True, 350, True),   # in scope, covered
    ("甲镇", True, 120, False),  # in scope, missing
    ("甲镇", True, 100, True),   # 100 employees counts
    ("甲镇", True, 99, False),   # 99 does not
    ("甲镇", False, 500, False),  # not labour-intensive
    ("乙镇", True, 200, False),
    ("乙镇", True, 150, False),
    ("乙镇", True, 300, True),
    ("丙镇", True, 180, True),   # a district in the register without a center
]
# (district, linked to the federation, has a mediation organisation)
CHAMBERS = [
    ("", True, True),
    ("", False, False),
    ("甲镇", True, False),
    ("甲镇", False, True),
    ("乙镇", False, True),
]


@pytest.fixture
async def fixture(world):
    city = world.tenants["city"]["id"]
    await Tenant.update({Tenant.reception_contact: "张三", Tenant.reception_window: "一楼窗口"}).where(
        Tenant.id == world.tenants["a"]["id"])
    with tenant_scope(city):
        for i, (district, labour, employees, has) in enumerate(ENTERPRISES):
            await Enterprise(tenant=city, district=district, name=f"{district}企业{i}", employees=employees,
                             credit_code=complete(f"91320621MA{i:07d}"), labour_intensive=labour,
                             has_committee=has).save()
        for i, (district, federation, has) in enumerate(CHAMBERS):
            await Chamber(tenant=city, district=district, name=f"{district or '市'}商会{i}",
                          credit_code=complete(f"51320621MJ{i:07d}"), federation_member=federation,
                          has_mediation_org=has).save()
    return world


def cf(data, key):
    f = data["city"][key]
    return f["covered"], f["total"], f["percent"], f["status"]


def df(data, district, key):
    row = next(r for r in data["districts"] if r["district"] == district)
    f = row["figures"][key]
    return f["covered"], f["total"], f["status"]


async def test_coverage_matches_the_hand_computed_figures(fixture):
    data = await coverage.figures(fixture.tenants["city"]["id"])
    assert [r["district"] for r in data["districts"]] == sorted(["甲镇", "乙镇", "丙镇"])
    # Enterprises: 甲镇 2 of 3 (66%, end-2024 met), 乙镇 1 of 3, 丙镇 1 of 1; city 4 of 7 = 57%.
    assert cf(data, "enterprises") == (4, 7, 57, "red")
    assert df(data, "甲镇", "enterprises") == (2, 3, "amber")
    assert df(data, "乙镇", "enterprises") == (1, 3, "red")
    assert df(data, "丙镇", "enterprises") == (1, 1, "green")
    city_ent = data["city"]["enterprises"]
    assert city_ent["short_2024"] == 1 and city_ent["short_2025"] == 3  # 5 of 7 is 60%
    assert city_ent["met_2024"] is False and city_ent["met_2025"] is False
    # Chambers: 3 of 5 with an organisation (two city-level ones count for the city): 60% meets the target.
    assert cf(data, "chambers") == (3, 5, 60, "green")
    assert df(data, "甲镇", "chambers") == (1, 2, "red")
    assert df(data, "乙镇", "chambers") == (1, 1, "green")
    # Federation chambers: 1 of 2, against 100%.
    assert cf(data, "federation_chambers") == (1, 2, 50, "red")
    assert df(data, "乙镇", "federation_chambers") == (0, 0, "none")
    # Centers: 丙镇 has none. Reception: 甲镇's is staffed, 乙镇's has no named person.
    assert cf(data, "centers") == (2, 3, 66, "red")
    assert df(data, "丙镇", "centers") == (0, 1, "red")
    assert cf(data, "reception") == (1, 2, 50, "red")
    assert df(data, "甲镇", "reception") == (1, 1, "green")
    assert df(data, "丙镇", "reception") == (0, 0, "none")
    assert coverage.below_first_target(data["districts"], "enterprises") == ["乙镇"]
    assert coverage.districts_without_center(data) == ["丙镇"]
    assert [c["slug"] for c in coverage.centers_without_staffed_window(data)] == ["district-b"]


def test_status_and_rounding_edges():
    ent = coverage.BY_KEY["enterprises"]
    assert coverage.percent(599, 1000) == 59 and coverage.status(ent, 599, 1000) == "red"
    assert coverage.status(ent, 600, 1000) == "amber"
    assert coverage.status(ent, 10, 10) == "green"
    assert coverage.status(ent, 0, 0) == "none"
    assert coverage.short_by(0, 1, 60) == 1 and coverage.short_by(3, 5, 60) == 0


async def test_a_deactivated_center_no_longer_counts(fixture):
    await Tenant.update({Tenant.active: False}).where(Tenant.id == fixture.tenants["a"]["id"])
    data = await coverage.figures(fixture.tenants["city"]["id"])
    assert df(data, "甲镇", "centers") == (0, 1, "red")
    assert cf(data, "reception") == (0, 1, 0, "red")


async def test_the_snapshot_job_writes_each_month_once(fixture):
    june = datetime(2026, 5, 31, 17, 0, tzinfo=timezone.utc)  # already 1 June in Shanghai
    first = await coverage.take_snapshot(june)
    assert first == {"month": "2026-06", "written": 20}  # (city + 3 districts) x 5 measures
    again = await coverage.take_snapshot(june)
    assert again["written"] == 0
    both = await asyncio.gather(coverage.take_snapshot(datetime(2026, 7, 2, tzinfo=timezone.utc)),
                                coverage.take_snapshot(datetime(2026, 7, 3, tzinfo=timezone.utc)))
    assert sum(r["written"] for r in both) == 20
    assert await CoverageSnapshot.count() == 40
    row = await CoverageSnapshot.select().where(
        (CoverageSnapshot.month == "2026-06") & (CoverageSnapshot.district == "")
        & (CoverageSnapshot.measure == "enterprises")).first()
    assert (row["covered"], row["total"]) == (4, 7)
    points = await coverage.trend()
    assert [p["month"] for p in points] == ["2026-06", "2026-07"]
    assert points[0]["figures"]["enterprises"]["percent"] == 57
    assert [p["month"] for p in await coverage.trend("乙镇")] == ["2026-06", "2026-07"]


async def test_the_cron_job_runs_the_snapshot_and_is_scheduled(fixture):
    from workers.settings import WorkerSettings

    result = await snapshot_coverage({})
    assert result["written"] == 20 and result["month"] == coverage.month_of(datetime.now(timezone.utc))
    assert (await snapshot_coverage({}))["written"] == 0
    assert any(job.coroutine is snapshot_coverage for job in WorkerSettings.cron_jobs)


def test_trend_chart_geometry_and_targets():
    points = [{"month": f"2026-{m:02d}", "figures": {"enterprises": coverage.figure(coverage.BY_KEY["enterprises"], c, 10)}}
              for m, c in ((1, 3), (2, 5), (3, 6))]
    chart = coverage.trend_chart(points, coverage.BY_KEY["enterprises"])
    assert [d["percent"] for d in chart["dots"]] == [30, 50, 60]
    assert [d["status"] for d in chart["dots"]] == ["red", "red", "amber"]
    assert chart["dots"][0]["y"] > chart["dots"][2]["y"]  # higher share, higher on the chart
    assert [t["value"] for t in chart["targets"]] == [60, 100]
    assert chart["path"].startswith("M") and chart["path"].count("L") == 2


async def test_city_page_shows_figures_and_the_missing_list(client, fixture):
    await login(client, fixture.users["city_staff"])
    await coverage.take_snapshot(datetime(2026, 6, 2, tzinfo=timezone.utc))
    page = await client.get("/city/coverage")
    assert page.status_code == 200
    text = page.text
    assert "57%" in text and "4 of 7" in text
    assert "Below the end-2024 target" in text  # said in words, not by colour alone
    assert "1 district is below the end-2024 target: 乙镇" in text
    assert "/city/coverage/missing?measure=enterprises&amp;district=%E4%B9%99%E9%95%87" in text
    assert "Monthly snapshots" in text and "2026-06" in text
    missing = await client.get("/city/coverage/missing", params={"measure": "enterprises", "district": "乙镇"})
    assert "乙镇企业5" in missing.text and "乙镇企业6" in missing.text
    assert "乙镇企业7" not in missing.text and "甲镇企业1" not in missing.text
    centers = await client.get("/city/coverage/missing", params={"measure": "centers"})
    assert "丙镇" in centers.text and "district-b name" in centers.text
    assert "Add its center" not in centers.text  # staff see, only admins are offered the fix
    assert (await client.get("/city/coverage/missing", params={"measure": "nope"})).status_code == 404


async def test_a_district_admin_sees_only_its_own_district(client, fixture):
    await login(client, fixture.users["a_admin"])
    page = await client.get("/manage/district-a/coverage")
    assert page.status_code == 200
    assert "Coverage in 甲镇" in page.text and "2 of 3" in page.text
    assert "甲镇企业1" in page.text  # its own missing enterprise
    assert "乙镇企业5" not in page.text and "乙镇" not in page.text
    assert (await client.get("/manage/district-b/coverage")).status_code == 404
    assert (await client.get("/city/coverage")).status_code == 404
    client.cookies.clear()
    await login(client, fixture.users["a_staff"])
    assert (await client.get("/manage/district-a/coverage")).status_code == 403
    client.cookies.clear()
    await login(client, fixture.users["ent_a_admin"])
    assert (await client.get("/manage/ent-a/coverage")).status_code == 404  # only district centers have one
