"""Reminders 24 h and 2 h before the start, with a clock the test sets: due ones only, never
stale, new ones for a moved event and none for its old time or for a cancelled one; and
delivered by a real arq worker to a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.events import schemas, service
from app.notifications.tables import Notification
from tenants.scope import tenant_scope, unscoped
from tests.events.helpers import T0, Clock, make_event
from tests.notifications.helpers import SmtpSink, run_workers, use_settings


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


async def _reminders() -> list[tuple[str, str]]:
    with unscoped("test reads the outbox"):
        rows = await Notification.select(Notification.dedupe_key, Notification.recipient, Notification.status).where(
            Notification.template_key == "event_reminder").order_by(Notification.id)
    return [(r["dedupe_key"].split(":")[3] + ":" + r["recipient"], r["status"]) for r in rows]


async def _register(tenant_id, event_id, name, phone, email=""):
    with tenant_scope(tenant_id):
        return await service.register_individual(event_id, name, phone, email=email, locale="en")


async def test_reminders_are_due_24h_and_2h_before_and_never_stale(world, clock):
    a = world.tenants["a"]["id"]
    event = await make_event(a, capacity=3)
    start = event["starts_at"]
    await _register(a, event["id"], "Early", "13800000001", "early@example.cn")
    second = await _register(a, event["id"], "Second", "13800000002")
    clock.at(start - timedelta(hours=24, minutes=1))
    assert (await service.send_due_reminders())["written"] == 0
    clock.at(start - timedelta(hours=23, minutes=59))
    assert (await service.send_due_reminders())["written"] == 2
    assert (await service.send_due_reminders())["written"] == 0  # idempotent
    # Registered after the 24 h reminder's time: no stale "tomorrow" message for them.
    late = await _register(a, event["id"], "Late", "13800000003", "late@example.cn")
    waiting = await _register(a, event["id"], "Waiting", "13800000004")
    assert (late.status, waiting.status) == ("confirmed", "waitlisted")
    clock.move(hours=1)
    with tenant_scope(a):
        assert await service.cancel_registration(second.id) == [waiting.id]  # promoted after the 24 h mark
    assert (await service.send_due_reminders())["written"] == 0
    assert await _reminders() == [("24h:early@example.cn", "pending"), ("24h:13800000002", "pending")]
    clock.at(start - timedelta(hours=1, minutes=59))
    assert (await service.send_due_reminders())["written"] == 3
    assert sorted(await _reminders())[:3] == [("24h:13800000002", "pending"), ("24h:early@example.cn", "pending"),
                                               ("2h:13800000004", "pending")]
    assert sorted(k for k, _s in await _reminders() if k.startswith("2h")) == [
        "2h:13800000004", "2h:early@example.cn", "2h:late@example.cn"]
    clock.at(start + timedelta(minutes=1))
    assert (await service.send_due_reminders())["events"] == 0  # started: nothing more


async def test_a_worker_down_past_the_next_reminder_sends_only_that_one(world, clock):
    a = world.tenants["a"]["id"]
    event = await make_event(a)
    await _register(a, event["id"], "Early", "13800000001", "early@example.cn")
    clock.at(event["starts_at"] - timedelta(hours=1))  # the cron did not run for a day
    await service.send_due_reminders()
    assert await _reminders() == [("2h:early@example.cn", "pending")]


async def test_moved_event_gets_reminders_for_its_new_time_and_none_for_the_old(world, clock, smtp):
    a = world.tenants["a"]["id"]
    event = await make_event(a)
    await _register(a, event["id"], "Early", "13800000001", "early@example.cn")
    clock.at(event["starts_at"] - timedelta(hours=23))
    await service.send_due_reminders()  # the 24 h reminder for the old time is written, not yet sent
    with tenant_scope(a):
        row = await service.get_event(event["id"])
        form = schemas.event_form(initial=row)
        new_start = row["starts_at"] + timedelta(days=2)
        form.values["starts_at"] = schemas.local_input(new_start)
        form.values["ends_at"] = schemas.local_input(new_start + timedelta(hours=2))
        await service.update_event(event["id"], schemas.validate_event(form, clock.current, row))
    await run_workers()  # delivers both at once, in either order
    assert sorted(m["Subject"] for m in smtp.to("early@example.cn")) == [
        "New time: 以案释法：欠薪怎么办", "Registration confirmed: 以案释法：欠薪怎么办"]
    with unscoped("test reads the outbox"):
        old = await Notification.select(Notification.status, Notification.last_error).where(
            Notification.template_key == "event_reminder").first()
    assert old == {"status": "cancelled", "last_error": "no longer applies"}
    clock.at(new_start - timedelta(hours=23))
    await service.send_due_reminders()
    await run_workers()
    subjects = [m["Subject"] for m in smtp.to("early@example.cn")]
    assert subjects[-1] == "Reminder: 以案释法：欠薪怎么办" and len(subjects) == 3
    body = smtp.to("early@example.cn")[-1].get_body(preferencelist=("plain",)).get_content()
    assert "Mar 9, 2030 10:00" in body  # the new time, in Shanghai
    assert "/o/district-a/registrations/" in body


async def test_a_cancelled_event_gets_no_reminders_even_if_written_before(world, clock, smtp):
    a = world.tenants["a"]["id"]
    event = await make_event(a)
    await _register(a, event["id"], "Early", "13800000001", "early@example.cn")
    await run_workers()  # the confirmation goes out
    clock.at(event["starts_at"] - timedelta(hours=3))
    await service.send_due_reminders()
    with tenant_scope(a):
        await service.cancel_event(event["id"])
    await service.send_due_reminders()
    await run_workers()
    assert [m["Subject"] for m in smtp.to("early@example.cn")] == [
        "Registration confirmed: 以案释法：欠薪怎么办", "Cancelled: 以案释法：欠薪怎么办"]
    assert await _reminders() == [("24h:early@example.cn", "cancelled")]
