"""Attendance figures per event, tenant, union and city, feeding the outreach figures; and
the iCalendar feeds (per tenant, city-wide, per event), read back by a calendar parser."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar

from app.events import service
from app.outreach import service as outreach
from tenants.scope import tenant_scope
from tests.events.helpers import T0, Clock, make_event
from tests.support import login


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


async def _held_event(world, clock) -> dict:
    """An event of district-a with 3 people and a union group of 2; 2 people and 1 member
    came, plus a walk-in; now over."""
    a = world.tenants["a"]["id"]
    event = await make_event(a, capacity=10, starts_in=timedelta(hours=1))
    with tenant_scope(a):
        for i in range(3):
            await service.register_individual(event["id"], f"人{i}", f"1380000000{i}")
    await service.register_group({"id": world.tenants["union"]["id"], "kind": "union"}, event["id"], 2,
                                 [("会员甲", ""), ("会员乙", "")], {"id": None, "name": "代表", "email": "r@e.cn"})
    with tenant_scope(a):
        people = await service.checkin_list(event["id"])
        for person in people:
            if person["name"] in ("人0", "人1", "会员甲"):
                await service.set_present(person["id"], True, None)
        await service.add_walk_in(event["id"], "路人", "", None)
    clock.move(hours=4)
    return event


async def test_attendance_per_event_tenant_union_and_city(world, clock):
    event = await _held_event(world, clock)
    a = world.tenants["a"]["id"]
    with tenant_scope(a):
        regs = await service.event_registrations(event["id"])
        row = await service.get_event(event["id"])
        assert service.event_figures(row, regs) == {
            "confirmed": 5, "present": 4, "walk_ins": 1, "no_shows": 2, "waitlisted": 0,
            "waitlisted_registrations": 0, "held": True}
        assert await service.tenant_attendance(T0 - timedelta(days=1), T0 + timedelta(days=1)) == {
            "events_held": 1, "attendees": 4, "walk_ins": 1, "no_shows": 2}
    city = await service.city_attendance(T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert city["total"] == {"events_held": 1, "attendees": 4, "walk_ins": 1, "no_shows": 2}
    [row] = city["districts"]["甲镇"]["rows"]
    assert row["slug"] == "district-a" and row["attendees"] == 4
    [union] = city["unions"]
    assert (union["groups"], union["attendees"], union["no_shows"]) == (1, 1, 1)
    groups = await service.union_groups(world.tenants["union"]["id"])
    assert [(g["present"], g["no_shows"], g["held"]) for g in groups] == [(1, 1, True)]


async def test_attendance_feeds_the_outreach_figures(world, clock):
    await _held_event(world, clock)
    await make_event(world.tenants["a"]["id"], title="取消的", status="cancelled", starts_in=-timedelta(hours=2))
    with tenant_scope(world.tenants["a"]["id"]):
        [march] = await outreach.monthly_figures(["2030-03"])
    assert (march["events_held"], march["event_attendees"]) == (1, 4)
    assert ("events_held", "Events held") in outreach.figure_columns()
    city = await outreach.city_figures(["2030-03"])
    assert city["total"]["events_held"] == 1 and city["total"]["event_attendees"] == 4
    assert city["monthly"][0]["event_attendees"] == 4
    with tenant_scope(world.tenants["b"]["id"]):
        [other] = await outreach.monthly_figures(["2030-03"])
    assert other["events_held"] == 0


async def test_city_staff_see_attendance_by_organisation_and_union(client, world, clock):
    await _held_event(world, clock)
    await login(client, world.users["city_staff"])
    page = await client.get("/city/events?months=3")
    assert page.status_code == 200
    assert "district-a name" in page.text and "union-a name" in page.text
    await login(client, world.users["a_staff"])
    assert (await client.get("/city/events")).status_code == 404


def _parse(body: bytes) -> list:
    cal = Calendar.from_ical(body)
    assert cal["VERSION"] == "2.0" and "PRODID" in cal
    return list(cal.walk("VEVENT"))


async def test_ical_feeds_per_tenant_city_and_event(client, world, clock):
    a_event = await make_event(world.tenants["a"]["id"], title="甲镇讲座")
    b_event = await make_event(world.tenants["b"]["id"], title="乙镇沙龙", status="cancelled")
    await make_event(world.tenants["a"]["id"], title="草稿", status="draft")
    resp = await client.get("/o/district-a/events.ics")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/calendar")
    assert b"\r\n" in resp.content  # lines end with CRLF as RFC 5545 asks
    [entry] = _parse(resp.content)
    assert str(entry["SUMMARY"]) == "甲镇讲座"
    assert entry["DTSTART"].dt == a_event["starts_at"] and entry["DTEND"].dt == a_event["ends_at"]
    assert str(entry["URL"]) == f"http://testserver.local/o/district-a/events/{a_event['id']}"
    assert str(entry["URL"]) in str(entry["DESCRIPTION"])
    assert str(entry["UID"]) == f"event-{a_event['id']}@testserver.local" and str(entry["STATUS"]) == "CONFIRMED"
    city = _parse((await client.get("/events.ics")).content)
    assert sorted(str(e["SUMMARY"]) for e in city) == ["乙镇沙龙", "甲镇讲座"]
    assert {str(e["SUMMARY"]): str(e["STATUS"]) for e in city}["乙镇沙龙"] == "CANCELLED"
    [single] = _parse((await client.get(f"/o/district-b/events/{b_event['id']}/event.ics")).content)
    assert str(single["SUMMARY"]) == "乙镇沙龙"
