"""Retention: the contact data of closed items are erased after the tenant's period."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.feedback import clock, service
from app.feedback.jobs import erase_feedback_contacts
from app.feedback.tables import FeedbackEvent, FeedbackItem, FeedbackSettings
from app.feedback.workdays import SH
from app.notifications.tables import Notification
from tenants.scope import tenant_scope, unscoped
from tests.feedback.helpers import submit


async def _items() -> dict[str, dict]:
    with unscoped("test"):
        rows = await FeedbackItem.select().order_by(FeedbackItem.id)
    return {r["contact_name"] or r["code"]: r for r in rows}


async def test_closed_items_lose_name_and_phone_after_the_period_and_nothing_else(client, world):
    start = datetime(2026, 3, 2, 10, tzinfo=SH)
    clock.set(start)
    for name in ("甲", "乙", "丙"):
        await submit(client, "district-a", identity="contact", name=name, phone="13912345678")
    await submit(client, "district-a")  # anonymous: nothing to erase
    with unscoped("test"):
        ids = {r["contact_name"]: r["id"] for r in await FeedbackItem.select(FeedbackItem.id, FeedbackItem.contact_name)}
    with tenant_scope(world.tenants["a"]["id"]):
        await service.reply(ids["甲"], "答复", None)  # an SMS goes to the phone
        await service.change_status(ids["甲"], "closed", None)
        await service.change_status(ids["乙"], "closed", None)
        # 丙 stays open: its contact is needed.

    clock.set(start + timedelta(days=179))
    assert await erase_feedback_contacts({}) == {"erased": 0}
    clock.set(start + timedelta(days=181))
    assert await erase_feedback_contacts({}) == {"erased": 2}
    assert await erase_feedback_contacts({}) == {"erased": 0}
    with unscoped("test"):
        rows = {r["id"]: r for r in await FeedbackItem.select()}
        events = await FeedbackEvent.select(FeedbackEvent.item).where(FeedbackEvent.kind == "contact_erased")
        sms = await Notification.select(Notification.recipient).where(Notification.template_key == "feedback_reply")
    for key in ("甲", "乙"):
        row = rows[ids[key]]
        assert (row["contact_name"], row["contact_phone"]) == ("", "") and row["contact_erased_at"] is not None
        assert row["message"]  # the message and its history stay
    assert rows[ids["丙"]]["contact_phone"] == "13912345678"
    assert sorted(e["item"] for e in events) == sorted([ids["甲"], ids["乙"]])
    assert [s["recipient"] for s in sms] == ["139****5678"]  # also gone from the outbox


async def test_the_period_is_the_tenants_setting(client, world):
    with tenant_scope(world.tenants["a"]["id"]):
        await FeedbackSettings(tenant=world.tenants["a"]["id"], retention_days=30).save()
    start = datetime(2026, 3, 2, 10, tzinfo=SH)
    clock.set(start)
    await submit(client, "district-a", identity="contact", name="甲", phone="13912345678")
    await submit(client, "district-b", identity="contact", name="乙", phone="13912345679")
    with unscoped("test"):
        rows = await FeedbackItem.select(FeedbackItem.id, FeedbackItem.tenant)
    for row in rows:
        with tenant_scope(row["tenant"]):
            await service.change_status(row["id"], "closed", None)
    clock.set(start + timedelta(days=31))
    assert await service.erase_expired_contacts() == 1
    items = await _items()
    assert "甲" not in items and "乙" in items
