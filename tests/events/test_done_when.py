"""The issue's "done when", end to end over HTTP with real arq workers and a real SMTP server,
on a clock the test controls: a district center publishes a case-explanation session, a
union registers a group of 12 from an uploaded sheet, individuals fill the rest and the
waitlist, a cancellation promotes the right person, reminders arrive at the SMTP server,
and staff check people in."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest

from app.events.jobs import send_event_reminders
from tests.events.helpers import T0, Clock
from tests.notifications.helpers import SmtpSink, run_workers, use_settings
from tests.support import csrf_token, login


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def smtp(monkeypatch):
    from app.settings import get_settings

    sink = SmtpSink().start()
    use_settings(monkeypatch, SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port), SMTP_SECURITY="none",
                 SMTP_FROM="noreply@tiaojie.example", EMAIL_DELIVERY="smtp")
    yield sink
    sink.stop()
    monkeypatch.undo()
    get_settings.cache_clear()


def _sheet(n: int) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["姓名", "手机号"])
    for i in range(n):
        sheet.append([f"会员{i + 1}", 13600000000 + i])  # typed as numbers, as Excel does
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def _register(client, event_id: int, i: int) -> str:
    await client.get(f"/o/district-a/events/{event_id}")
    resp = await client.post(f"/o/district-a/events/{event_id}/register",
                             data={"name": f"个人{i}", "phone": f"1380000{i:04d}", "email": f"p{i}@example.cn",
                                   "employer": "", "_csrf_token": csrf_token(client)}, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    return resp.headers["location"].split("?")[0]


async def test_done_when(client, world, clock, smtp):
    # A district center publishes a case-explanation session for 20 people.
    await login(client, world.users["a_staff"])
    resp = await client.post("/manage/district-a/events/new", data={
        "title": "以案释法：拖欠工资怎么办", "kind": "case_explanation", "summary": "典型案例", "body": "",
        "audience": "workers", "industry": "", "starts_at": "2030-03-07T14:00", "ends_at": "2030-03-07T16:00",
        "venue": "城东镇便民服务中心", "online_url": "", "capacity": "20", "registration_opens_at": "",
        "registration_closes_at": "", "groups_allowed": "1", "topics": ["wages"], "_csrf_token": csrf_token(client)},
        follow_redirects=False)
    event_url = resp.headers["location"]
    event_id = int(event_url.rsplit("/", 1)[1])
    await client.post(f"{event_url}/publish", data={"_csrf_token": csrf_token(client)})

    # A union registers a group of 12 from an uploaded sheet.
    await login(client, world.users["union_rep"])
    resp = await client.post("/manage/union-a/groups/new",
                             data={"event": str(event_id), "headcount": "12", "names": "",
                                   "_csrf_token": csrf_token(client)},
                             files={"sheet": ("会员名单.xlsx", _sheet(12), "application/octet-stream")},
                             follow_redirects=False)
    assert resp.status_code == 303
    assert "12 seats, confirmed" in (await client.get(resp.headers["location"])).text

    # Individuals fill the remaining 8 seats, and three more join the waitlist.
    client.cookies.clear()
    links = [await _register(client, event_id, i) for i in range(11)]
    pages = [(await client.get(link)).text for link in links]
    assert all("Your seat is confirmed." in p for p in pages[:8])
    assert [re.search(r"number (\d) on the waitlist", p).group(1) for p in pages[8:]] == ["1", "2", "3"]

    # One of them cancels through the private link: the first on the waitlist gets the seat.
    await client.post(f"{links[3]}/cancel", data={"_csrf_token": csrf_token(client)})
    assert "Your seat is confirmed." in (await client.get(links[8])).text
    assert "number 1 on the waitlist" in (await client.get(links[9])).text
    await run_workers()  # delivers the pending messages at once, in any order
    assert sorted(m["Subject"] for m in smtp.to("p8@example.cn")) == [
        "A seat is yours: 以案释法：拖欠工资怎么办", "On the waitlist: 以案释法：拖欠工资怎么办"]
    assert [m["Subject"] for m in smtp.to("p9@example.cn")] == ["On the waitlist: 以案释法：拖欠工资怎么办"]

    # The day before: the 24 h reminders reach everyone with a seat, and nobody else.
    clock.move(days=2, hours=6, minutes=1)  # T0 is 10:00 on the 4th; the event is at 14:00 on the 7th
    assert (await send_event_reminders({}))["written"] == 8 + 1  # 8 people and the union's representative
    await run_workers()
    reminded = sorted(m["To"] for m in smtp.messages if m["Subject"] == "Reminder: 以案释法：拖欠工资怎么办")
    assert reminded == sorted([f"p{i}@example.cn" for i in (0, 1, 2, 4, 5, 6, 7, 8)] + [world.users["union_rep"]])
    body = [m for m in smtp.to("p0@example.cn") if m["Subject"].startswith("Reminder")][0]
    assert "Mar 7, 2030 14:00" in body.get_body(preferencelist=("plain",)).get_content()

    # On the day, staff check people in from a phone: found by the end of the phone number.
    clock.at(T0 + timedelta(days=3, hours=3, minutes=45))  # 13:45
    await login(client, world.users["a_staff"])
    found = await client.get(f"/manage/district-a/events/{event_id}/checkin?q=0005", headers={"HX-Request": "true"})
    assert "个人5" in found.text and "个人9" not in found.text  # the waitlist is never listed
    attendee = re.search(r'id="attendee-(\d+)"', found.text).group(1)
    tap = await client.post(f"/manage/district-a/attendees/{attendee}/present",
                            data={"present": "1", "_csrf_token": csrf_token(client)}, headers={"HX-Request": "true"})
    assert "is-present" in tap.text and "1 present of 20 confirmed seats" in tap.text
    members = await client.get(f"/manage/district-a/events/{event_id}/checkin?q=%E4%BC%9A%E5%91%987")  # 会员7
    assert "会员7" in members.text and "union-a name" in members.text
