"""The staff inbox: lists with masked phones and filters, one item's page, the workflow
new → acknowledged → in progress → answered → closed (and reopened), notes, assignment."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from app.audit.tables import AuditEntry
from app.feedback import clock
from app.feedback.tables import FeedbackItem
from app.notifications.tables import Notification
from tenants.scope import unscoped
from tests.feedback.helpers import GOOD, main, submit, track
from tests.support import csrf_token, login


async def _item_id(code: str) -> int:
    with unscoped("test"):
        row = await FeedbackItem.select(FeedbackItem.id).where(FeedbackItem.code == code.replace("-", "")).first()
    return row["id"]


async def _post(client, path: str, **data):
    return await client.post(path, data={**data, "_csrf_token": csrf_token(client)}, follow_redirects=False)


async def test_the_list_masks_phones_and_filters(client, world):
    clock.set(datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc))  # Monday 10:00 in Shanghai
    wage = await submit(client, "district-a", identity="contact", name="王师傅", phone="13812345678")
    injury = await submit(client, "district-a", category="occupational_injury", message="工伤认定没人管")
    await login(client, world.users["a_staff"])
    page = await client.get("/manage/district-a/feedback")
    html = main(page.text)
    assert "138****5678" in html and "13812345678" not in html and "王师傅" in html
    assert wage[0] in html and injury[0] in html and "Anonymous" in html
    assert "5 working days left" in html and "by the end of Nov 9, 2026" in html
    only_injury = main((await client.get("/manage/district-a/feedback?category=occupational_injury")).text)
    assert injury[0] in only_injury and wage[0] not in only_injury
    by_code = main((await client.get(f"/manage/district-a/feedback?q={wage[0].lower()}")).text)
    assert wage[0] in by_code and injury[0] not in by_code
    by_phone = main((await client.get("/manage/district-a/feedback?q=138-1234-5678")).text)
    assert wage[0] in by_phone and injury[0] not in by_phone
    assert "No messages match" in main((await client.get("/manage/district-a/feedback?status=closed")).text)
    clock.set(datetime(2026, 11, 3, 2, 0, tzinfo=timezone.utc))  # a day later
    assert "4 working days left" in main((await client.get("/manage/district-a/feedback")).text)
    assert "No messages match" in main((await client.get("/manage/district-a/feedback?age=3")).text)
    assert "No messages match" in main((await client.get("/manage/district-a/feedback?overdue=1")).text)
    assert "No messages match" in main((await client.get("/manage/district-a/feedback?mine=1")).text)
    # htmx gets only the results block.
    fragment = await client.get("/manage/district-a/feedback?category=wage_arrears", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="feedback-results">') and "<html" not in fragment.text


async def test_age_and_overdue_filters_follow_the_clock(client, world):
    clock.set(datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc))  # Monday 10:00 in Shanghai
    code, _secret = await submit(client, "district-a")
    clock.set(datetime(2026, 11, 12, 2, 0, tzinfo=timezone.utc))  # ten days later: overdue
    await login(client, world.users["a_staff"])
    html = main((await client.get("/manage/district-a/feedback?overdue=1&age=7")).text)
    assert code in html and "Overdue by 3 working days" in html
    assert "Overdue by" in main((await client.get("/manage/district-a/feedback")).text)


async def test_the_workflow_from_new_to_closed_and_reopened(client, world):
    code, secret = await submit(client, "district-a", identity="contact", name="王师傅", phone="13812345678")
    item_id = await _item_id(code)
    await login(client, world.users["a_staff"])
    base = f"/manage/district-a/feedback/{item_id}"
    page = main((await client.get(base)).text)
    assert "13812345678" in page and GOOD["message"] in page and "Acknowledge" in page

    assert (await _post(client, f"{base}/status", to="acknowledged")).status_code == 303
    bad = await _post(client, f"{base}/status", to="new")
    assert bad.status_code == 422 and "cannot be set to" in bad.text
    assert (await _post(client, f"{base}/status", to="in_progress")).status_code == 303
    members = re.findall(r'<option value="(\d+)"', (await client.get(base)).text)
    assert (await _post(client, f"{base}/assign", assignee=members[-1])).status_code == 303
    outsider = await _post(client, f"{base}/assign", assignee="999999")
    assert outsider.status_code == 422 and "Choose a staff member of this organisation." in outsider.text

    note = await _post(client, f"{base}/note", body="内部：先核实考勤表。")
    assert note.status_code == 303
    empty = await _post(client, f"{base}/reply", body="  ")
    assert empty.status_code == 422 and "This field is required." in empty.text
    long_reply = "答" * 5001
    too_long = await _post(client, f"{base}/reply", body=long_reply)
    assert too_long.status_code == 422 and long_reply in too_long.text  # kept for shortening
    assert (await _post(client, f"{base}/reply", body="已约企业周五面谈。")).status_code == 303
    assert (await _post(client, f"{base}/status", to="closed")).status_code == 303
    closed = main((await client.get(base)).text)
    assert "Closed" in closed and "Reopen" in closed and "Reply to the submitter" not in closed
    assert (await _post(client, f"{base}/status", to="in_progress")).status_code == 303

    with unscoped("test"):
        item = await FeedbackItem.select().where(FeedbackItem.id == item_id).first()
        audit = await AuditEntry.select(AuditEntry.action, AuditEntry.target, AuditEntry.detail).where(
            AuditEntry.action.like("feedback.%")).order_by(AuditEntry.id)
        sms = await Notification.select(Notification.recipient, Notification.payload).where(
            Notification.template_key == "feedback_reply")
    assert item["status"] == "in_progress" and item["reopenings"] == 1 and item["closed_at"] is None
    assert item["first_reply_at"] is not None and item["assignee"] == int(members[-1])
    assert [a["action"] for a in audit] == ["feedback.status_changed", "feedback.status_changed", "feedback.assigned",
                                            "feedback.noted", "feedback.replied", "feedback.status_changed",
                                            "feedback.status_changed"]
    assert all(a["target"] == code for a in audit)
    assert not any(text in str(a) for a in audit for text in ("考勤", "面谈", "王师傅", "13812345678", "工资"))
    assert [s["recipient"] for s in sms] == ["13812345678"] and "面谈" not in sms[0]["payload"]

    seen = main((await track(client, code, secret)).text)
    assert "已约企业周五面谈。" in seen and "考勤" not in seen  # notes never reach the submitter


async def test_no_text_message_to_a_landline_or_an_anonymous_submitter(client, world):
    landline, _s = await submit(client, "district-a", identity="contact", name="赵", phone="0513-88881234")
    anonymous, _s = await submit(client, "district-a")
    await login(client, world.users["a_staff"])
    for code in (landline, anonymous):
        assert (await _post(client, f"/manage/district-a/feedback/{await _item_id(code)}/reply",
                            body="答复")).status_code == 303
    with unscoped("test"):
        assert await Notification.count().where(Notification.template_key == "feedback_reply") == 0


async def test_settings_are_the_admins(client, world):
    await login(client, world.users["a_staff"])
    assert (await client.get("/manage/district-a/feedback/settings")).status_code == 403
    client.cookies.clear()
    await login(client, world.users["a_admin"])
    page = await client.get("/manage/district-a/feedback/settings")
    assert 'value="5"' in page.text and 'value="180"' in page.text
    bad = await _post(client, "/manage/district-a/feedback/settings", response_days="0", escalate_after_days="x",
                      retention_days="90")
    assert bad.status_code == 422 and "Enter a whole number from 1 to 30." in bad.text and 'value="90"' in bad.text
    ok = await _post(client, "/manage/district-a/feedback/settings", response_days="3", escalate_after_days="0",
                     retention_days="90")
    assert ok.status_code == 303
    page = await client.get("/manage/district-a/feedback/settings")
    assert 'value="3"' in page.text and 'value="90"' in page.text
    with unscoped("test"):
        entry = await AuditEntry.select(AuditEntry.action, AuditEntry.detail).where(
            AuditEntry.action == "feedback.settings_updated").first()
    assert entry is not None


async def test_new_settings_set_the_deadline_of_new_messages(client, world):
    await login(client, world.users["a_admin"])
    await _post(client, "/manage/district-a/feedback/settings", response_days="1", escalate_after_days="0",
                retention_days="180")
    client.cookies.clear()
    clock.set(datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc))  # Friday
    code, _secret = await submit(client, "district-a")
    with unscoped("test"):
        item = await FeedbackItem.select(FeedbackItem.due_at, FeedbackItem.escalate_at).where(
            FeedbackItem.code == code.replace("-", "")).first()
    # One working day after a Friday: the end of Monday 30 November, in Shanghai.
    assert item["due_at"] == datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc) and item["escalate_at"] is None
    assert timedelta(0) < item["due_at"] - clock.now()
