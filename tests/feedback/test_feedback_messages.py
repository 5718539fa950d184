"""The mailbox's outbox messages render in both languages, reach the staff's in-app
inbox, and say what happened without the message's text."""

from __future__ import annotations

import re

import pytest

from app.feedback.tables import FeedbackItem
from app.notifications.jobs import deliver_notification
from app.notifications.messages import render_message
from app.notifications.tables import Notification
from tenants.scope import tenant_scope, unscoped
from tests.feedback.helpers import GOOD, make_item, submit
from tests.support import login


async def test_a_new_message_reaches_the_staffs_in_app_inbox(client, world):
    code, _secret = await submit(client, "district-a")
    with unscoped("test"):
        inapp = await Notification.select(Notification.id, Notification.tenant).where(
            (Notification.channel == "inapp") & (Notification.template_key == "feedback_new"))
    for row in inapp:
        assert await deliver_notification({}, row["id"], row["tenant"]) == "sent"
    await login(client, world.users["a_staff"])
    inbox = re.sub(r"<[^>]+>", "", (await client.get("/manage/district-a/inbox")).text)  # the text read
    assert f"意见信箱新留言：拖欠工资（{code}）" in inbox  # in the staff member's language (Chinese by default)
    assert f"/manage/district-a/feedback/" in inbox and GOOD["message"] not in inbox


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
async def test_every_feedback_message_renders(world, locale):
    from app.feedback import service

    item_id = await make_item(world.tenants["ent_a"]["id"], escalations=1)
    with unscoped("test"):
        item = await FeedbackItem.objects().where(FeedbackItem.id == item_id).first()
    with tenant_scope(world.tenants["a"]["id"]):
        await service._tell_staff(world.tenants["a"]["id"], item_id, "feedback_due_soon", "t:soon",
                                  await service._staff(world.tenants["a"]["id"]), item=item)
        await service._tell_staff(world.tenants["a"]["id"], item_id, "feedback_overdue", "t:over",
                                  await service._staff(world.tenants["a"]["id"]), item=item)
        await service._tell_staff(world.tenants["a"]["id"], item_id, "feedback_reopened", "t:reopen",
                                  await service._staff(world.tenants["a"]["id"]), item=item)
    with unscoped("test"):
        rows = await Notification.select().where(Notification.channel == "email")
    kinds = set()
    for row in rows:
        row = {**row, "locale": locale}
        rendered = render_message(row, "district-a name")
        kinds.add(row["template_key"])
        assert item.code[:3] in rendered.subject + rendered.text
        assert "{{" not in rendered.text and "三个月没发工资" not in rendered.text + rendered.html
    assert kinds == {"feedback_new", "feedback_escalated", "feedback_due_soon", "feedback_overdue", "feedback_reopened"}
    reply = render_message({"template_key": "feedback_reply", "locale": locale, "channel": "sms", "recipient": "13812345678",
                            "payload": {"item_id": item_id, "code": "K7M-3QX-9PA"}}, "district-a name")
    assert "K7M-3QX-9PA" in reply.sms and "/track" in reply.sms and "district-a name" in reply.sms
