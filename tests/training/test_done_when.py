"""Issue 10's "done when", end to end through the pages: the city center assigns "mediator
skills" to all district centers, one passes it down to its enterprise committees, their people
attend a training event, and the city overview shows who is done, who is late and who was
reminded."""

from __future__ import annotations

import re
from datetime import timedelta

from app.events import service as events
from app.events.tables import Attendee
from app.training import service
from tenants.scope import tenant_scope
from tests.events.helpers import make_event
from tests.support import csrf_token, login
from tests.training.helpers import TODAY


async def _post(client, url, data):
    resp = await client.post(url, data={**data, "_csrf_token": csrf_token(client)}, follow_redirects=False)
    assert resp.status_code == 303, resp.text[:2000]
    return resp


async def test_city_assigns_a_district_passes_down_people_attend_and_the_city_sees_it(world, client, clock):
    a, ent = world.tenants["a"]["id"], world.tenants["ent_a"]["id"]
    # The city center assigns "mediator skills" to every district center.
    await login(client, world.users["city_staff"])
    resp = await _post(client, "/manage/city/training/programmes/new",
                       {"title": "调解员技能", "hours": "3", "audience": "调解员", "content": ""})
    programme = int(resp.headers["location"].rsplit("/", 1)[1])
    await _post(client, f"/manage/city/training/programmes/{programme}/assign",
                {"kind": "district_center", "due_date": (TODAY + timedelta(days=10)).isoformat(),
                 "required_people": "2"})

    # District-a passes it down to its enterprise committees.
    await login(client, world.users["a_staff"])
    home = (await client.get("/manage/district-a/training")).text
    top = int(re.search(r"/manage/district-a/training/assignments/(\d+)", home).group(1))
    await _post(client, f"/manage/district-a/training/assignments/{top}/pass-down",
                {"kind": "enterprise_committee", "due_date": (TODAY + timedelta(days=8)).isoformat(),
                 "required_people": "2"})

    # The committee nominates two people by mobile number and links district-a's training event.
    await login(client, world.users["ent_a_staff"])
    home = (await client.get("/manage/ent-a/training")).text
    child = int(re.search(r"/manage/ent-a/training/assignments/(\d+)", home).group(1))
    for name, phone in (("王芳", "13900000001"), ("李雷", "13900000002"), ("韩梅", "13900000003")):
        await _post(client, f"/manage/ent-a/training/assignments/{child}/participants",
                    {"name": name, "phone": phone, "member": ""})
    event = await make_event(a, kind="training", title="调解员技能培训", starts_in=timedelta(days=2), hours=3)
    await login(client, world.users["a_staff"])
    await _post(client, f"/manage/district-a/training/programmes/{programme}/sessions",
                {"event": str(event["id"]), "next": f"/manage/district-a/training/assignments/{top}"})

    # They register; two check in, one stays away; the event is held.
    with tenant_scope(a):
        regs = [await events.register_individual(event["id"], n, p)
                for n, p in (("王芳", "13900000001"), ("李雷", "13900000002"), ("韩梅", "13900000003"))]
    clock.move(days=2, minutes=10)
    with tenant_scope(a):
        for reg in regs[:2]:
            attendee = await Attendee.select(Attendee.id).where(Attendee.registration == reg.id).first()
            await events.set_present(attendee["id"], True, None)
    clock.move(hours=3)
    await _post(client, f"/manage/district-a/events/{event['id']}/complete", {})

    # Time passes; the reminders run (district-b did nothing).
    clock.move(days=4)  # within a week of the due date
    assert (await service.send_due_reminders())["written"] > 0
    clock.move(days=5)  # past the due date
    await service.send_due_reminders()

    await login(client, world.users["city_staff"])
    page = (await client.get("/manage/city/training/overview")).text
    rows = {m.group(1): m.group(0) for m in re.finditer(r'<tr class="depth-\d">\s*<th scope="row"><a [^>]+>([^<]+)</a>.*?</tr>',
                                                          page, re.S)}
    assert "Complete" in rows["ent-a name"] and "2/2" in rows["ent-a name"]
    assert "Complete" in rows["district-a name"]  # rolled up from its committee
    assert "Overdue" in rows["district-b name"] and "overdue notice" in rows["district-b name"]
    assert '<td class="small">—</td>' in rows["district-a name"]  # complete before any reminder was due
    person = (await client.get(f"/manage/city/training/assignments/{child}")).text
    assert "王芳" in person and "韩梅" in person and person.count("trained</span>") == 2
