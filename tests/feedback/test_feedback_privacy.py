"""Contents and contact data never reach the logs, the audit log, the outbox payloads
or error reports; the audit log names the action and the item's code."""

from __future__ import annotations

import logging

from app.audit.tables import AuditEntry
from app.feedback import service
from app.feedback.tables import FeedbackItem
from app.notifications.tables import Notification
from tenants.scope import unscoped
from tests.feedback.helpers import main, submit, track
from tests.support import csrf_token, login

MESSAGE = "隐私测试甲乙丙：车间主任私扣工资"
NAME = "隐名测试者"
PHONE = "13700001111"
REPLY = "隐私答复丁戊己：已约谈车间主任"
NOTE = "隐私备注庚辛壬"
SECRETS = (MESSAGE, NAME, PHONE, REPLY, NOTE, "车间主任")


async def _post(client, path: str, **data):
    return await client.post(path, data={**data, "_csrf_token": csrf_token(client)}, follow_redirects=False)


async def test_nothing_private_in_logs_audit_or_outbox(client, world, caplog):
    caplog.set_level(logging.DEBUG)
    code, secret = await submit(client, "ent-a", message=MESSAGE, identity="contact", name=NAME, phone=PHONE)
    with unscoped("test"):
        item_id = (await FeedbackItem.select(FeedbackItem.id).first())["id"]
    await login(client, world.users["ent_a_staff"])
    base = f"/manage/ent-a/feedback/{item_id}"
    assert (await _post(client, f"{base}/note", body=NOTE)).status_code == 303
    assert (await _post(client, f"{base}/escalate", body=NOTE)).status_code == 303
    client.cookies.clear()
    await login(client, world.users["a_staff"])
    base = f"/manage/district-a/feedback/{item_id}"
    assert (await _post(client, f"{base}/reply", body=REPLY)).status_code == 303
    assert (await _post(client, f"{base}/reply", body=REPLY + "\x00")).status_code == 422
    assert REPLY in main((await track(client, code, secret)).text)
    assert (await track(client, code, "0000 0001")).status_code == 422

    with unscoped("test"):
        audit = await AuditEntry.select(AuditEntry.action, AuditEntry.target, AuditEntry.detail)
        outbox = await Notification.select(Notification.payload, Notification.last_error)
    stored = repr(audit) + repr(outbox)
    for text in SECRETS:
        assert text not in caplog.text, text
        assert text not in stored, text
    assert secret not in caplog.text and secret.replace(" ", "") not in caplog.text
    assert {a["target"] for a in audit if a["action"].startswith("feedback.")} == {code}


async def test_an_error_report_names_the_request_not_the_message(client, world, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)

    async def broken(form, locale):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(service, "submit", broken)
    from tests.feedback.helpers import GOOD, form_token, open_form, post_form

    page = await open_form(client, "district-a")
    resp = await post_form(client, "district-a", {**GOOD, "message": MESSAGE, "identity": "contact", "name": NAME,
                                                  "phone": PHONE, "form_token": form_token(page.text)})
    assert resp.status_code == 500 and "Request id" in resp.text
    assert "the database went away" in caplog.text  # the error itself is reported
    for text in (MESSAGE, NAME, PHONE):
        assert text not in caplog.text
        assert text not in resp.text


async def test_the_console_sms_gateway_does_not_log_the_number(client, world, caplog, monkeypatch):
    from datetime import datetime, timezone

    from app.notifications import service as outbox
    from app.notifications.jobs import deliver_notification
    from tenants.scope import tenant_scope
    from tests.notifications.helpers import use_settings

    use_settings(monkeypatch, SMS_GATEWAY="console")
    monkeypatch.setattr(outbox, "quiet_until", lambda at: None)  # whatever the hour the test runs at
    caplog.set_level(logging.DEBUG)
    await submit(client, "district-a", identity="contact", name=NAME, phone=PHONE)
    with unscoped("test"):
        item_id = (await FeedbackItem.select(FeedbackItem.id).first())["id"]
    with tenant_scope(world.tenants["a"]["id"]):
        await service.reply(item_id, REPLY, None)
        await Notification.update({Notification.scheduled_for: datetime.now(timezone.utc)}).where(
            Notification.template_key == "feedback_reply")
    with unscoped("test"):
        sms = await Notification.select(Notification.id).where(Notification.template_key == "feedback_reply").first()
    assert await deliver_notification({}, sms["id"], world.tenants["a"]["id"]) == "sent"
    assert "SMS to ****1111" in caplog.text and PHONE not in caplog.text and REPLY not in caplog.text
