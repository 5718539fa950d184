"""Events over HTTP: staff create and publish, people register and cancel through their
private link, unions register groups from a sheet, staff check people in; bad input gets
a message beside its field and keeps what was typed."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest

from app.audit.tables import AuditEntry
from app.events import service
from app.events.tables import Attendee, Event, Registration
from tenants.scope import tenant_scope
from tests.events.helpers import T0, Clock, make_event
from tests.support import csrf_token, login


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def _event_data(client, **values):
    data = {"title": "以案释法：拖欠工资怎么办", "kind": "case_explanation", "summary": "典型案例讲解", "body": "",
            "audience": "workers", "industry": "", "starts_at": "2030-03-10T14:00", "ends_at": "2030-03-10T16:00",
            "venue": "城东镇便民服务中心二楼", "online_url": "", "capacity": "30", "registration_opens_at": "",
            "registration_closes_at": "", "groups_allowed": "1", "topics": ["wages", "contracts"],
            "_csrf_token": csrf_token(client)}
    data.update(values)
    return data


async def test_staff_create_a_draft_edit_and_publish_it(client, world, clock):
    await login(client, world.users["a_staff"])
    page = await client.get("/manage/district-a/events/new")
    assert page.status_code == 200 and 'type="datetime-local"' in page.text
    resp = await client.post("/manage/district-a/events/new", data=_event_data(client), follow_redirects=False)
    assert resp.status_code == 303
    event_url = resp.headers["location"]
    event_id = int(event_url.rsplit("/", 1)[1])
    with tenant_scope(world.tenants["a"]["id"]):
        row = await Event.select().where(Event.id == event_id).first()
        assert await AuditEntry.exists().where(AuditEntry.action == "event.created")
    assert row["status"] == "draft" and row["topics"] == "|wages|contracts|" and row["capacity"] == 30
    assert row["starts_at"].isoformat() == "2030-03-10T06:00:00+00:00"
    # A draft is not public; its staff may preview it.
    assert (await client.get(f"/o/district-a/events/{event_id}")).status_code == 200
    client.cookies.clear()
    assert (await client.get(f"/o/district-a/events/{event_id}")).status_code == 404
    await login(client, world.users["a_staff"])
    detail = await client.get(event_url)
    assert "Publish" in detail.text and "以案释法：拖欠工资怎么办" in detail.text
    resp = await client.post(f"{event_url}/publish", data={"_csrf_token": csrf_token(client)}, follow_redirects=False)
    assert resp.status_code == 303
    edit = await client.get(f"{event_url}/edit")
    assert 'value="2030-03-10T14:00"' in edit.text and 'value="wages" checked' in edit.text
    resp = await client.post(f"{event_url}/edit", data=_event_data(client, title="以案释法（更新）", capacity="40"),
                             follow_redirects=False)
    assert resp.status_code == 303
    with tenant_scope(world.tenants["a"]["id"]):
        row = await Event.select().where(Event.id == event_id).first()
    assert (row["status"], row["title"], row["capacity"]) == ("published", "以案释法（更新）", 40)
    client.cookies.clear()
    public = await client.get(f"/o/district-a/events/{event_id}")
    assert public.status_code == 200 and "40 seats left." in public.text


async def test_bad_event_input_is_shown_beside_the_field_and_kept(client, world, clock):
    await login(client, world.users["a_staff"])
    resp = await client.post("/manage/district-a/events/new", data=_event_data(
        client, starts_at="2030-03-01T14:00", ends_at="2030-02-28T16:00", capacity="0", title="保留的标题"))
    assert resp.status_code == 422
    assert 'id="f-starts_at-error"' in resp.text and "The start must be in the future." in resp.text
    assert 'id="f-capacity-error"' in resp.text and 'id="f-ends_at-error"' in resp.text
    assert 'value="保留的标题"' in resp.text and 'value="wages" checked' in resp.text
    with tenant_scope(world.tenants["a"]["id"]):
        assert await Event.count() == 0


async def test_a_person_registers_sees_the_manage_page_and_cancels(client, world, clock):
    event = await make_event(world.tenants["a"]["id"], capacity=1)
    page = await client.get(f"/o/district-a/events/{event['id']}")
    assert page.status_code == 200 and "1 seat left." in page.text
    data = {"name": "王小明", "phone": "138 1234 5678", "email": "", "employer": "城东建材",
            "_csrf_token": csrf_token(client)}
    resp = await client.post(f"/o/district-a/events/{event['id']}/register", data=data, follow_redirects=False)
    assert resp.status_code == 303
    manage = resp.headers["location"]
    assert re.fullmatch(r"/o/district-a/registrations/[\w-]{20,}\?new=1", manage)
    page = await client.get(manage)
    assert "You are registered" in page.text and "Your seat is confirmed." in page.text
    assert "138****5678" in page.text and '<svg' in page.text  # the check-in QR
    assert page.headers["cache-control"] == "no-store"
    # Again with the same phone: refused beside the field, the name kept.
    again = await client.post(f"/o/district-a/events/{event['id']}/register",
                              data={**data, "name": "王小明二", "_csrf_token": csrf_token(client)})
    assert again.status_code == 422 and 'id="f-phone-error"' in again.text
    assert "already registered for this event" in again.text and 'value="王小明二"' in again.text
    # Someone else joins the waitlist.
    other = await client.post(f"/o/district-a/events/{event['id']}/register",
                              data={**data, "phone": "13900001111", "_csrf_token": csrf_token(client)},
                              follow_redirects=False)
    waiting_page = await client.get(other.headers["location"])
    assert "You are on the waitlist" in waiting_page.text and "number 1 on the waitlist" in waiting_page.text
    # The first person cancels through the private link: the second gets the seat.
    path = manage.split("?")[0]
    resp = await client.post(f"{path}/cancel", data={"_csrf_token": csrf_token(client)}, follow_redirects=False)
    assert resp.status_code == 303
    assert "This registration is cancelled." in (await client.get(path)).text
    promoted = await client.get(other.headers["location"].split("?")[0])
    assert "Your seat is confirmed." in promoted.text


async def test_registration_input_is_checked(client, world, clock):
    event = await make_event(world.tenants["a"]["id"])
    await client.get(f"/o/district-a/events/{event['id']}")
    for phone, field in (("0513-88881234", "phone"), ("12345", "phone"), ("", "phone")):
        resp = await client.post(f"/o/district-a/events/{event['id']}/register",
                                 data={"name": "李", "phone": phone, "email": "not-mail", "employer": "",
                                       "_csrf_token": csrf_token(client)})
        assert resp.status_code == 422
        assert f'id="f-{field}-error"' in resp.text and 'id="f-email-error"' in resp.text
    with tenant_scope(world.tenants["a"]["id"]):
        assert await Registration.count() == 0


async def test_a_missing_or_foreign_event_is_404(client, world, clock):
    b_event = await make_event(world.tenants["b"]["id"])
    for url in (f"/o/district-a/events/{b_event['id']}", "/o/district-a/events/999999",
                f"/o/district-a/events/{b_event['id']}/event.ics"):
        assert (await client.get(url)).status_code == 404
    draft = await make_event(world.tenants["a"]["id"], status="draft")
    await client.get("/o/district-a/events")
    for event_id in (b_event["id"], draft["id"], 999999):
        resp = await client.post(f"/o/district-a/events/{event_id}/register",
                                 data={"name": "李", "phone": "13800000001", "_csrf_token": csrf_token(client)})
        assert resp.status_code == 404
    await login(client, world.users["a_staff"])
    assert (await client.get(f"/manage/district-a/events/{b_event['id']}")).status_code == 404
    assert (await client.get(f"/manage/district-a/events/{b_event['id']}/checkin")).status_code == 404


async def test_registrations_per_address_are_limited(client, world, clock, monkeypatch):
    from app.settings import get_settings

    monkeypatch.setenv("EVENT_REGISTRATIONS_PER_ADDRESS", "2")
    get_settings.cache_clear()
    try:
        event = await make_event(world.tenants["a"]["id"], capacity=10)
        await client.get(f"/o/district-a/events/{event['id']}")
        codes = []
        for i in range(3):
            resp = await client.post(f"/o/district-a/events/{event['id']}/register",
                                     data={"name": f"人{i}", "phone": f"1380000000{i}", "_csrf_token": csrf_token(client)},
                                     follow_redirects=False)
            codes.append(resp.status_code)
        assert codes == [303, 303, 429]
        assert "Too many registrations from this connection" in resp.text and 'value="人2"' in resp.text
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def _xlsx(rows: list[list]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_a_union_registers_a_group_of_12_from_a_sheet(client, world, clock):
    event = await make_event(world.tenants["a"]["id"], capacity=20)
    await login(client, world.users["union_rep"])
    form = await client.get(f"/manage/union-a/groups/new?event={event['id']}")
    assert form.status_code == 200 and f'value="{event["id"]}" selected' in form.text
    rows = [["姓名", "手机"]] + [[f"会员{i}", f"1370000{i:04d}"] for i in range(11)] + [["会员11", None]]
    resp = await client.post("/manage/union-a/groups/new",
                             data={"event": str(event["id"]), "headcount": "12", "names": "",
                                   "_csrf_token": csrf_token(client)},
                             files={"sheet": ("members.xlsx", _xlsx(rows),
                                              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
                             follow_redirects=False)
    assert resp.status_code == 303, resp.text
    group = await client.get(resp.headers["location"])
    assert "会员0" in group.text and "13700000000" in group.text and "12 seats, confirmed" in group.text
    with tenant_scope(world.tenants["a"]["id"]):
        reg = await Registration.select().where(Registration.kind == "group").first()
        assert await Attendee.count().where(Attendee.registration == reg["id"]) == 12
        assert (await Event.select(Event.seats_taken).where(Event.id == event["id"]).first())["seats_taken"] == 12
    assert reg["union_tenant"] == world.tenants["union"]["id"] and reg["seats"] == 12
    dashboard = await client.get("/manage/union-a/")
    assert "以案释法：欠薪怎么办" in dashboard.text  # the union's dashboard shows its groups


async def test_a_sheet_with_bad_lines_is_reported_line_by_line_and_nothing_is_saved(client, world, clock):
    event = await make_event(world.tenants["a"]["id"], capacity=20)
    await login(client, world.users["union_rep"])
    csv_text = "姓名,手机\n张三,13700000001\n,13700000002\n李四,12345\n王五,13700000001\n赵六\n"
    resp = await client.post("/manage/union-a/groups/new",
                             data={"event": str(event["id"]), "headcount": "5", "names": "",
                                   "_csrf_token": csrf_token(client)},
                             files={"sheet": ("members.csv", csv_text.encode("gb18030"), "text/csv")})
    assert resp.status_code == 422
    assert "Line 3: the name is missing." in resp.text
    assert "Line 4: “12345” is not a Chinese mobile number (11 digits starting with 1)." in resp.text
    assert "Line 5: the mobile number 13700000001 is already on line 2." in resp.text
    assert 'id="f-sheet-error"' in resp.text and "nothing was saved" in resp.text
    for name, content in (("members.xlsx", b"PK\x03\x04 not really a workbook"), ("members.xls", b"\xd0\xcf\x11\xe0"),
                          ("members.pdf", b"%PDF-1.4")):
        resp = await client.post("/manage/union-a/groups/new",
                                 data={"event": str(event["id"]), "headcount": "5", "_csrf_token": csrf_token(client)},
                                 files={"sheet": (name, content, "application/octet-stream")})
        assert resp.status_code == 422 and 'id="f-sheet-error"' in resp.text
    typed = await client.post("/manage/union-a/groups/new",
                              data={"event": str(event["id"]), "headcount": "3", "names": "甲\n乙,13700000009",
                                    "_csrf_token": csrf_token(client)})
    assert typed.status_code == 422 and "You gave 2 names for a group of 3." in typed.text
    assert "甲\n乙,13700000009" in typed.text  # what was typed is kept
    with tenant_scope(world.tenants["a"]["id"]):
        assert await Registration.count() == 0 and await Attendee.count() == 0


async def test_union_reps_see_only_their_own_groups(client, world, clock):
    event = await make_event(world.tenants["a"]["id"], capacity=20)
    union = {"id": world.tenants["union"]["id"], "kind": "union"}
    reg = await service.register_group(union, event["id"], 1, [("甲", "")], {"id": None, "name": "x", "email": "x@e.cn"})
    await login(client, world.users["union_rep"])
    assert (await client.get(f"/manage/union-a/groups/{reg.id}")).status_code == 200
    await login(client, world.users["a_admin"])
    # district-a's admin passes the role check, but the group is not district-a's: the same 404.
    assert (await client.get(f"/manage/district-a/groups/{reg.id}")).status_code == 404
    assert "Group registration is for trade unions" in (await client.get("/manage/district-a/groups")).text


async def test_staff_check_people_in_with_htmx_and_add_a_walk_in(client, world, clock):
    a = world.tenants["a"]["id"]
    event = await make_event(a, capacity=2, starts_in=timedelta(minutes=30))
    with tenant_scope(a):
        await service.register_individual(event["id"], "王小明", "13811112222")
        await service.register_individual(event["id"], "李小红", "13833334444")
        await service.register_individual(event["id"], "赵等待", "13855556666")
    await login(client, world.users["a_staff"])
    page = await client.get(f"/manage/district-a/events/{event['id']}/checkin")
    assert "王小明" in page.text and "赵等待" not in page.text and "0 present of 2 confirmed seats" in page.text
    found = await client.get(f"/manage/district-a/events/{event['id']}/checkin?q=2222", headers={"HX-Request": "true"})
    assert found.text.lstrip().startswith('<div id="checkin-results">') and "王小明" in found.text
    assert "李小红" not in found.text
    attendee_id = int(re.search(r'id="attendee-(\d+)"', found.text).group(1))
    tap = await client.post(f"/manage/district-a/attendees/{attendee_id}/present",
                            data={"present": "1", "back": "/manage/district-a/events/1/checkin",
                                  "_csrf_token": csrf_token(client)}, headers={"HX-Request": "true"})
    assert tap.status_code == 200 and tap.text.lstrip().startswith(f'<li class="checkin-person is-present" id="attendee-{attendee_id}"')
    assert 'id="checkin-count" data-hx-swap-oob="true"' in tap.text and "1 present of 2 confirmed seats" in tap.text
    resp = await client.post(f"/manage/district-a/events/{event['id']}/walkins",
                             data={"name": "路过的人", "phone": "", "_csrf_token": csrf_token(client)},
                             follow_redirects=False)
    assert resp.status_code == 303
    page = await client.get(f"/manage/district-a/events/{event['id']}/checkin")
    assert "2 present of 2 confirmed seats" in page.text and "1 walk-in" in page.text
    rows = {m.group(1): m.group(2) for m in re.finditer(
        r'<span class="name">([^<]+)</span>\s*(?:<span class="small muted">([^<]*)</span>)?', page.text)}
    # Each row says what tells people apart: the phone's last digits, or that they walked in.
    assert rows["王小明"] == "phone ending 2222" and rows["路过的人"] == "walk-in"
    # The row's form posts to this organisation's address with this session's token.
    assert f'action="/manage/district-a/attendees/{attendee_id}/present"' in page.text
    assert f'name="_csrf_token" value="{csrf_token(client)}"' in page.text
    bad = await client.post(f"/manage/district-a/events/{event['id']}/walkins",
                            data={"name": "", "phone": "123", "_csrf_token": csrf_token(client)})
    assert bad.status_code == 422 and 'id="w-name-error"' in bad.text and 'id="w-phone-error"' in bad.text


async def test_the_qr_code_leads_staff_to_the_persons_check_in(client, world, clock):
    a = world.tenants["a"]["id"]
    event = await make_event(a, starts_in=timedelta(minutes=30))
    with tenant_scope(a):
        reg = await service.register_individual(event["id"], "王小明", "13811112222")
        code = (await Registration.select(Registration.checkin_code).where(Registration.id == reg.id).first())[
            "checkin_code"]
    page = await client.get(f"/o/district-a/registrations/{reg.token}")
    assert f"/manage/district-a/checkin/{code}" not in page.text  # encoded in the QR, not printed
    await login(client, world.users["a_staff"])
    scan = await client.get(f"/manage/district-a/checkin/{code}")
    assert scan.status_code == 200 and "王小明" in scan.text and "Registered, with a confirmed seat." in scan.text
    assert (await client.get("/manage/district-a/checkin/NOSUCHCODE")).status_code == 404
    await login(client, world.users["b_staff"])
    assert (await client.get(f"/manage/district-b/checkin/{code}")).status_code == 404


async def test_calendar_listing_filters_and_month_view(client, world, clock):
    a, b = world.tenants["a"]["id"], world.tenants["b"]["id"]
    await make_event(a, title="甲镇欠薪专场", kind="special_session", topics="|wages|")
    await make_event(b, title="乙镇合同沙龙", kind="salon", topics="|contracts|", starts_in=timedelta(days=40))
    await make_event(a, title="草稿不公开", status="draft")
    page = await client.get("/events")
    assert "甲镇欠薪专场" in page.text and "乙镇合同沙龙" in page.text and "草稿不公开" not in page.text
    only = await client.get("/events?kind=salon", headers={"HX-Request": "true"})
    assert only.text.lstrip().startswith('<div id="event-results"') and "乙镇合同沙龙" in only.text
    assert "甲镇欠薪专场" not in only.text
    district = await client.get("/events?district=%E7%94%B2%E9%95%87")
    assert "甲镇欠薪专场" in district.text and "乙镇合同沙龙" not in district.text
    topic = await client.get("/events?topic=contracts")
    assert "乙镇合同沙龙" in topic.text and "甲镇欠薪专场" not in topic.text
    month = await client.get("/events?view=month&month=2030-03")
    assert 'class="month-grid"' in month.text and "甲镇欠薪专场" in month.text and "乙镇合同沙龙" not in month.text
    assert 'href="#day-2030-03-07"' in month.text
    tenant = await client.get("/o/district-a/events")
    assert "甲镇欠薪专场" in tenant.text and "乙镇合同沙龙" not in tenant.text
    public = await client.get("/o/district-a/")
    assert "甲镇欠薪专场" in public.text and "/o/district-a/events" in public.text
