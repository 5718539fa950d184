"""Network health: each check against hand-built facts, the page, and adding a check."""

from __future__ import annotations

from datetime import timedelta

from app.city import health
from app.outreach.counters import today
from app.outreach.tables import DailyCount, Hotline, InfoCard, OutreachEntry
from tenants.scope import tenant_scope
from tenants.tables import Tenant
from tests.support import login


async def _facts(world):
    ids = {k: v["id"] for k, v in world.tenants.items()}
    with tenant_scope(ids["a"]):
        await Hotline(tenant=ids["a"], label="热线", number="12333").save()
        await InfoCard(tenant=ids["a"], code="AAAA2222", title="卡", published=True).save()
        await OutreachEntry(tenant=ids["a"], day=today() - timedelta(days=10), kind="visit", quantity=1).save()
    with tenant_scope(ids["b"]):
        await InfoCard(tenant=ids["b"], code="BBBB2222", title="草稿", published=False).save()
        await OutreachEntry(tenant=ids["b"], day=today() - timedelta(days=100), kind="visit", quantity=5).save()
    with tenant_scope(ids["ent_a"]):
        await DailyCount(tenant=ids["ent_a"], day=today() - timedelta(days=3), metric="page_view", hits=4).save()
    c = Tenant(slug="district-c", name="district-c name", kind="district_center", parent=ids["city"], district="丙镇")
    await c.save()
    gone = Tenant(slug="district-d", name="district-d name", kind="district_center", parent=ids["city"],
                  district="丁镇", active=False)
    await gone.save()
    ids["c"] = c.id
    return ids


def _problems(result) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for rows in result["groups"].values():
        for t in rows:
            found[t["slug"]] = {p.key for p in t["problems"]}
    return found


async def test_each_check_finds_what_is_missing(world):
    ids = await _facts(world)
    every = [ids[k] for k in ("city", "a", "b", "ent_a", "union", "c")]
    assert await health.no_hotline(every) == {ids["city"], ids["b"], ids["ent_a"], ids["union"], ids["c"]}
    assert await health.no_card(every) == {ids["city"], ids["b"], ids["ent_a"], ids["union"], ids["c"]}
    assert await health.no_admin(every) == {ids["c"]}
    assert await health.quiet(every) == {ids["city"], ids["b"], ids["union"], ids["c"]}


async def test_network_health_applies_checks_by_kind_and_skips_inactive(world):
    await _facts(world)
    result = await health.network_health()
    found = _problems(result)
    assert "district-a" not in found  # it passes everything
    assert "district-d" not in found  # inactive
    assert found["union-a"] == {"quiet"}  # a union runs no hotline or card of its own
    assert found["district-c"] == {"no_hotline", "no_card", "no_admin", "quiet"}
    assert found["ent-a"] == {"no_hotline", "no_card"}
    assert result["counts"] == {"no_hotline": 4, "no_card": 4, "no_admin": 1, "quiet": 4}
    assert list(result["groups"]) == ["", "丙镇", "乙镇", "甲镇"]  # city level first, then districts in order
    only = await health.network_health(district="甲镇", only="no_card")
    assert _problems(only) == {"ent-a": {"no_card"}}


async def test_a_new_check_is_one_function(world):
    ids = await _facts(world)

    @health.check("test_only", "Test check", "Do something", kinds=frozenset({"union"}))
    async def test_only(tenant_ids):
        return set(tenant_ids)

    try:
        found = _problems(await health.network_health())
        assert found["union-a"] == {"quiet", "test_only"}
        assert "test_only" not in found["district-c"]
    finally:
        health.CHECKS[:] = [c for c in health.CHECKS if c.key != "test_only"]
    assert ids


async def test_the_health_page(client, world):
    await _facts(world)
    await login(client, world.users["city_admin"])
    page = await client.get("/city/health")
    assert page.status_code == 200
    assert "district-c name" in page.text and "No administrator" in page.text
    assert "/city/tenants/district-c/edit#admins-h" in page.text
    assert "5 of 6 active organisations need attention." in page.text
    filtered = await client.get("/city/health", params={"check": "no_admin"})
    assert "district-c name" in filtered.text and "ent-a name" not in filtered.text
    client.cookies.clear()
    await login(client, world.users["city_staff"])
    staff = await client.get("/city/health")
    assert "district-c name" in staff.text and "Give it an administrator" not in staff.text
    client.cookies.clear()
    await login(client, world.users["a_admin"])
    assert (await client.get("/city/health")).status_code == 404
