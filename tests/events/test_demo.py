"""The demo city is alive: every district center and the city center hold past events with
attendance and upcoming ones with registrations, a waitlist and union groups; seats add up;
seeding twice adds nothing."""

from __future__ import annotations

from app.directory.demo import seed_demo
from app.events.demo import demo_registration_path
from app.events.tables import Attendee, Event, Registration
from tenants.scope import unscoped
from tenants.tables import Tenant


async def _counts() -> tuple[int, int, int]:
    with unscoped("test counts demo rows"):
        return await Event.count(), await Registration.count(), await Attendee.count()


async def test_every_district_has_past_and_upcoming_events_with_people(client):
    await seed_demo()
    first = await _counts()
    with unscoped("test reads every organisation's demo events"):
        centers = await Tenant.select(Tenant.id, Tenant.slug).where(
            Tenant.kind.is_in(["city_center", "district_center"]))
        events = await Event.select()
        regs = await Registration.select()
        present = await Attendee.select(Attendee.event).where(Attendee.checked_in_at.is_not_null())
    attended = {p["event"] for p in present}
    for center in centers:
        mine = [e for e in events if e["tenant"] == center["id"]]
        past = [e for e in mine if e["status"] == "completed"]
        upcoming = [e for e in mine if e["status"] == "published"]
        assert len(past) >= 2 and all(e["id"] in attended for e in past), center["slug"]
        ids = {e["id"] for e in upcoming}
        assert len(upcoming) >= 2, center["slug"]
        assert any(r["event"] in ids and r["status"] == "waitlisted" for r in regs), center["slug"]
        assert any(r["event"] in ids and r["kind"] == "group" for r in regs), center["slug"]
    for event in events:  # the seat count is the confirmed seats, never above capacity
        confirmed = sum(r["seats"] for r in regs if r["event"] == event["id"] and r["status"] == "confirmed")
        assert event["seats_taken"] == confirmed <= event["capacity"]
    await seed_demo()
    assert await _counts() == first
    page = await client.get(demo_registration_path("chengdong"))
    assert page.status_code == 200 and "以案释法：拖欠工资怎么办" in page.text
    listing = await client.get("/events")
    assert "以案释法：拖欠工资怎么办" in listing.text and "农民工欠薪劳动争议专场" in listing.text
