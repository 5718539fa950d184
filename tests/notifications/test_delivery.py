"""Delivery by real arq workers to a real SMTP server and a real HTTP SMS gateway,
and the faults: SMTP down then up, Redis losing its jobs, two workers, stale causes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.notifications import jobs, service
from app.notifications.tables import Notification
from tenants.scope import tenant_scope, unscoped
from tests.notifications.helpers import SmsGatewayServer, SmtpSink, free_port, run_workers, use_settings
from tests.support import redis_sync

NOTICE = {"subject": "Seminar moved", "body": "The seminar now starts at 14:00."}


@pytest.fixture
def smtp(monkeypatch):
    sink = SmtpSink().start()
    use_settings(monkeypatch, SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port), SMTP_SECURITY="none",
                 SMTP_FROM="noreply@tiaojie.example", EMAIL_DELIVERY="smtp")
    yield sink
    sink.stop()
    from app.settings import get_settings

    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def sms_gateway(monkeypatch):
    server = SmsGatewayServer().start()
    use_settings(monkeypatch, SMS_GATEWAY="http", SMS_GATEWAY_URL=server.url, SMS_GATEWAY_KEY=server.key)
    yield server
    server.stop()


async def all_rows() -> list[dict]:
    with unscoped("tests read the whole outbox"):
        return await Notification.select().order_by(Notification.id)


async def test_email_is_delivered_per_recipient_with_text_html_and_tenant_name(world, smtp):
    a = world.tenants["a"]["id"]
    for i, address in enumerate(["one@example.cn", "two@example.cn"]):
        await service.notify(a, "staff_notice", f"notice:{i}", email=address, payload=NOTICE, locale="en")
    await service.notify(a, "staff_notice", "notice:zh", email="three@example.cn", payload=NOTICE)
    await run_workers()

    assert sorted(rcpts for _f, rcpts in smtp.envelopes) == [["one@example.cn"], ["three@example.cn"],
                                                             ["two@example.cn"]]
    [msg] = smtp.to("one@example.cn")
    assert msg["Subject"] == "Seminar moved"
    assert "district-a name" in msg["From"] and "noreply@tiaojie.example" in msg["From"]
    assert msg["Bcc"] is None
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "The seminar now starts at 14:00." in text and "sent by district-a name" in text
    assert "<p>The seminar now starts at 14:00.</p>" in html
    # The Chinese recipient gets the Chinese frame around the same payload.
    [zh] = smtp.to("three@example.cn")
    assert "您好" in zh.get_body(preferencelist=("plain",)).get_content()
    assert {r["status"] for r in await all_rows()} == {"sent"}
    assert all(r["sent_at"] is not None and r["attempts"] == 1 for r in await all_rows())


async def test_sms_goes_through_the_http_gateway_and_inapp_reaches_the_inbox(world, sms_gateway):
    from app.accounts.tables import User

    a = world.tenants["a"]["id"]
    staff = await User.select(User.id).where(User.email == world.users["a_staff"]).first()
    await service.notify(a, "staff_notice", "sms:1", channel="sms", phone="13800138000", urgent=True,
                         payload=NOTICE, locale="en")
    await service.notify(a, "staff_notice", "inapp:1", channel="inapp", user_id=staff["id"], payload=NOTICE)
    await run_workers()
    [sms] = sms_gateway.received
    assert sms["to"] == "13800138000" and sms["text"].startswith("【district-a name】Seminar moved")
    assert sms["reference"].startswith("notification-")
    with tenant_scope(a):
        [inbox] = await service.inbox(staff["id"])
        assert await service.unread_count(staff["id"]) == 1
    assert inbox["sent_at"] is not None


async def test_sms_gateway_errors_are_kept_and_retried(world, monkeypatch):
    server = SmsGatewayServer(fail_with=503).start()
    try:
        use_settings(monkeypatch, SMS_GATEWAY="http", SMS_GATEWAY_URL=server.url, SMS_GATEWAY_KEY=server.key)
        monkeypatch.setattr(service, "MAX_ATTEMPTS", 2)
        monkeypatch.setattr(service, "BACKOFF_BASE", timedelta(milliseconds=100))
        a = world.tenants["a"]["id"]
        await service.notify(a, "staff_notice", "sms:fail", channel="sms", phone="13800138000", urgent=True,
                             payload=NOTICE)
        await run_workers()
        [row] = await all_rows()
        assert row["status"] == "failed" and row["attempts"] == 2
        assert "503" in row["last_error"]
    finally:
        server.stop()


async def test_non_urgent_sms_at_night_is_postponed_not_sent(world, sms_gateway, monkeypatch):
    a = world.tenants["a"]["id"]
    nid = await service.notify(a, "staff_notice", "sms:night", channel="sms", phone="13800138000",
                               urgent=True, payload=NOTICE)
    # Written as urgent by mistake? No: written in the day, delivered at night.
    with tenant_scope(a):
        await Notification.update({Notification.urgent: False}).where(Notification.id == nid)
    shanghai = ZoneInfo("Asia/Shanghai")
    tomorrow = service.utcnow().astimezone(shanghai).date() + timedelta(days=1)
    night = datetime.combine(tomorrow, datetime.min.time().replace(hour=22, minute=30), tzinfo=shanghai)
    monkeypatch.setattr(service, "utcnow", lambda: night.astimezone(timezone.utc))
    redis_sync().flushdb()
    assert await jobs.deliver_notification({}, nid, a) == "postponed"
    [row] = await all_rows()
    assert row["status"] == "pending" and row["attempts"] == 0
    morning = datetime.combine(tomorrow + timedelta(days=1), datetime.min.time().replace(hour=8), tzinfo=shanghai)
    assert row["scheduled_for"] == morning
    assert redis_sync().zcard("arq:queue") == 1  # its job waits for the morning
    assert sms_gateway.received == []


async def test_smtp_down_then_up_delivers_once_later(world, monkeypatch):
    port = free_port()  # nothing listens here yet
    use_settings(monkeypatch, SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_SECURITY="none",
                 EMAIL_DELIVERY="smtp")
    monkeypatch.setattr(service, "BACKOFF_BASE", timedelta(milliseconds=200))
    monkeypatch.setattr(service, "BACKOFF_CAP", timedelta(milliseconds=400))
    monkeypatch.setattr(service, "MAX_ATTEMPTS", 50)
    a = world.tenants["a"]["id"]
    await service.notify(a, "staff_notice", "outage", email="w@example.cn", payload=NOTICE)

    sink = SmtpSink(port)
    worker = asyncio.create_task(run_workers())
    try:
        for _ in range(200):  # until two tries have failed
            [row] = await all_rows()
            if row["attempts"] >= 2 and row["status"] == "pending":
                break
            await asyncio.sleep(0.05)
        assert row["status"] == "pending" and row["last_error"], row
        assert sink.messages == []
        sink.start()  # the mail server comes back
        await worker
    finally:
        sink.stop()
    [row] = await all_rows()
    assert row["status"] == "sent" and row["last_error"] == "" and row["attempts"] >= 3
    assert len(sink.messages) == 1 and sink.messages[0]["To"] == "w@example.cn"


async def test_gives_up_after_the_limit_and_keeps_the_error(world, monkeypatch):
    use_settings(monkeypatch, SMTP_HOST="127.0.0.1", SMTP_PORT=str(free_port()), EMAIL_DELIVERY="smtp")
    monkeypatch.setattr(service, "BACKOFF_BASE", timedelta(milliseconds=50))
    monkeypatch.setattr(service, "MAX_ATTEMPTS", 3)
    a = world.tenants["a"]["id"]
    await service.notify(a, "staff_notice", "doomed", email="w@example.cn", payload=NOTICE)
    await run_workers()
    [row] = await all_rows()
    assert row["status"] == "failed" and row["attempts"] == 3
    assert "SMTPConnect" in row["last_error"] or "onnect" in row["last_error"]


async def test_redis_losing_queued_jobs_the_sweep_delivers_them_once(world, smtp, monkeypatch):
    a, b = world.tenants["a"]["id"], world.tenants["b"]["id"]
    for i in range(12):
        await service.notify(a if i % 2 else b, "staff_notice", f"lost:{i}", email=f"p{i}@example.cn",
                             payload=NOTICE)
    assert redis_sync().zcard("arq:queue") == 12
    redis_sync().flushdb()  # Redis restarted without persistence: every queued job is gone
    await run_workers()
    assert smtp.messages == [] and {r["status"] for r in await all_rows()} == {"pending"}

    # A worker that died mid-send left a row in "sending".
    with tenant_scope(a):
        stuck = (await Notification.select(Notification.id).where(Notification.tenant == a).first())["id"]
        await Notification.update({Notification.status: "sending",
                                   Notification.claimed_at: service.utcnow() - timedelta(hours=1),
                                   Notification.attempts: 1}).where(Notification.id == stuck)

    monkeypatch.setattr(service, "SWEEP_GRACE", timedelta(0))
    summary = await jobs.sweep_notifications({})
    assert summary == {"released": 1, "tenants": 2}
    await service.sweep()  # a second sweep before the worker runs adds nothing twice
    await run_workers()
    assert sorted(m["To"] for m in smtp.messages) == sorted(f"p{i}@example.cn" for i in range(12))
    assert {r["status"] for r in await all_rows()} == {"sent"}
    # Nothing left for a later sweep.
    assert await service.sweep() == {"released": 0, "tenants": 0}


async def test_two_workers_at_once_never_send_twice(world, smtp, monkeypatch):
    a = world.tenants["a"]["id"]
    count = 40
    ids = [await service.notify(a, "staff_notice", f"dup:{i}", email=f"d{i}@example.cn", payload=NOTICE)
           for i in range(count)]
    # Every message also has a second job queued (a re-enqueue raced the first), and the
    # sweep's batch job runs beside them.
    from app.core.jobs import enqueue

    for nid in ids:
        await enqueue("deliver_notification", nid, a)
    monkeypatch.setattr(service, "SWEEP_GRACE", timedelta(0))
    await service.sweep()
    # Two real `tiaojie worker` OS processes take jobs from the same queue at once.
    workers = [subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=dict(os.environ),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
               for _ in range(2)]
    try:
        for _ in range(600):
            rows = await all_rows()
            if {r["status"] for r in rows} == {"sent"} or any(w.poll() is not None for w in workers):
                break
            await asyncio.sleep(0.1)
        assert all(w.poll() is None for w in workers), [w.stderr.read() for w in workers if w.poll() is not None]
        assert len({w.pid for w in workers} | {os.getpid()}) == 3
    finally:
        for w in workers:
            if w.poll() is None:
                os.killpg(w.pid, signal.SIGTERM)
        for w in workers:
            w.wait(timeout=20)
    addresses = [m["To"] for m in smtp.messages]
    assert len(addresses) == count and len(set(addresses)) == count
    rows = await all_rows()
    assert {r["status"] for r in rows} == {"sent"} and {r["attempts"] for r in rows} == {1}


async def test_a_message_whose_cause_no_longer_applies_is_cancelled_not_sent(world, smtp, monkeypatch):
    cancelled_events = {7}

    async def still_applies(row):
        from app.notifications.messages import payload_of

        return payload_of(row)["event_id"] not in cancelled_events

    monkeypatch.setitem(service._REGISTRY, "staff_notice", service.MessageKind("staff_notice", still_applies))
    a = world.tenants["a"]["id"]
    await service.notify(a, "staff_notice", "reminder:7", email="gone@example.cn",
                         payload={**NOTICE, "event_id": 7})
    await service.notify(a, "staff_notice", "reminder:8", email="still@example.cn",
                         payload={**NOTICE, "event_id": 8})
    await run_workers()
    assert [m["To"] for m in smtp.messages] == ["still@example.cn"]
    status = {r["dedupe_key"]: (r["status"], r["last_error"]) for r in await all_rows()}
    assert status == {"reminder:7": ("cancelled", "no longer applies"), "reminder:8": ("sent", "")}
