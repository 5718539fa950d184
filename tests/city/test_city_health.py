"""Network health: each check against hand-built facts, the page, and adding a check."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from app.city import health
from app.events.tables import Event
from app.feedback.tables import FeedbackItem
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
    now = datetime.now(timezone.utc)
    with tenant_scope(ids["ent_a"]):
        # An event held 20 days ago keeps it from being quiet.
        await Event(tenant=ids["ent_a"], kind="seminar", title="t", starts_at=now - timedelta(days=20),
                    ends_at=now - timedelta(days=20) + timedelta(hours=2), status="completed").save()
    with tenant_scope(ids["b"]):
        # Page views are the public's doing: they do not keep an organisation from being quiet;
        # nor do a cancelled event and one that has not happened yet.
        await DailyCount(tenant=ids["b"], day=today() - timedelta(days=3), metric="page_view", hits=4).save()
        for status, days in (("cancelled", -5), ("published", 10)):
            await Event(tenant=ids["b"], kind="seminar", title="t", starts_at=now + timedelta(days=days),
                        ends_at=now + timedelta(days=days, hours=2), status=status).save()
        # Feedback waiting past its deadline in b; an answered late one in a does not count.
        await FeedbackItem(tenant=ids["b"], origin=ids["b"], code="HLTH00001", secret_salt="s", secret_hash="h",
                           category="other", message="m", status="in_progress",
                           due_at=now - timedelta(days=1)).save()
        await FeedbackItem(tenant=ids["b"], origin=ids["b"], code="HLTH00002", secret_salt="s", secret_hash="h",
                           category="other", message="m", status="new", due_at=now + timedelta(days=1)).save()
    with tenant_scope(ids["a"]):
        await FeedbackItem(tenant=ids["a"], origin=ids["a"], code="HLTH00003", secret_salt="s", secret_hash="h",
                           category="other", message="m", status="answered", due_at=now - timedelta(days=1)).save()
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
    assert await health.unanswered_feedback(every) == {ids["b"]}


async def test_network_health_applies_checks_by_kind_and_skips_inactive(world):
    await _facts(world)
    result = await health.network_health()
    found = _problems(result)
    assert "district-a" not in found  # it passes everything
    assert "district-d" not in found  # inactive
    assert found["union-a"] == {"quiet"}  # a union runs no hotline or card of its own
    assert found["district-c"] == {"no_hotline", "no_card", "no_admin", "quiet"}
    assert found["ent-a"] == {"no_hotline", "no_card"}
    assert found["district-b"] == {"no_hotline", "no_card", "quiet", "unanswered_feedback"}
    assert result["counts"] == {"no_hotline": 4, "no_card": 4, "no_admin": 1, "quiet": 4, "unanswered_feedback": 1}
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
