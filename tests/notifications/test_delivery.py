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
    assert redis_sync().zcard("arq:queue") >= 2  # a batch job per tenant (and quarter second)
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
    assert summary == {"released": 1, "tenants": 2, "leased": 0}
    await service.sweep()  # a second sweep before the worker runs adds nothing twice
    await run_workers()
    assert sorted(m["To"] for m in smtp.messages) == sorted(f"p{i}@example.cn" for i in range(12))
    assert {r["status"] for r in await all_rows()} == {"sent"}
    # Nothing left for a later sweep.
    assert await service.sweep() == {"released": 0, "tenants": 0, "leased": 0}


async def test_two_workers_at_once_never_send_twice(world, smtp, monkeypatch, tmp_path):
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
    # Two real `tiaojie worker` OS processes take jobs from the same queue at once. Their
    # logs go to files: a pipe nobody reads until the end fills and blocks the writer.
    logs = [tmp_path / f"worker-{n}.log" for n in range(2)]
    workers = []
    for log in logs:
        with log.open("wb") as err:
            workers.append(subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=dict(os.environ),
                                            stdout=subprocess.DEVNULL, stderr=err, start_new_session=True))

    def tails() -> str:
        return "\n".join(f"--- worker {w.pid} (status {w.returncode}):\n{log.read_text(errors='replace')[-4000:]}"
                         for w, log in zip(workers, logs))

    try:
        for _ in range(600):
            rows = await all_rows()
            if {r["status"] for r in rows} == {"sent"} or any(w.poll() is not None for w in workers):
                break
            await asyncio.sleep(0.1)
        assert all(w.poll() is None for w in workers), tails()
        assert len({w.pid for w in workers} | {os.getpid()}) == 3
    finally:
        for w in workers:
            if w.poll() is None:
                os.killpg(w.pid, signal.SIGTERM)
        stuck = []
        for w in workers:
            try:  # a worker gives up on its own 10 s after the signal (workers/shutdown.py)
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:  # never leave a worker holding the database
                os.killpg(w.pid, signal.SIGKILL)
                w.wait()
                stuck.append(w.pid)
        assert not stuck, f"workers {stuck} did not stop on SIGTERM\n{tails()}"
    # Both stopped cleanly on the signal; the log says what a stuck one waited on.
    assert [w.returncode for w in workers] == [0, 0], tails()
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


async def test_names_and_addresses_cannot_add_mail_headers(world, smtp):
    """An organisation name (the From display name), a subject and a recipient that carry
    "\\r\\nBcc: …" add no header: the sent bytes have exactly the headers we set."""
    from tenants.tables import Tenant

    a = world.tenants["a"]["id"]
    evil_name = "Chengdong Centre\r\nBcc: spy@evil.example\r\nX-Injected: 1"
    await Tenant.update({Tenant.name: evil_name}).where(Tenant.id == a)
    await service.notify(a, "staff_notice", "inject:name", email="w@example.cn", locale="en",
                         payload={"subject": "Hi\r\nBcc: spy2@evil.example", "body": "Body"})
    await service.notify(a, "staff_notice", "inject:to", email="v@example.cn\r\nBcc: spy3@evil.example",
                         payload=NOTICE)
    await run_workers()

    assert smtp.envelopes == [("noreply@tiaojie.example", ["w@example.cn"])]
    [raw] = smtp.raw
    head = raw.split(b"\r\n\r\n", 1)[0]
    names = [line.split(b":", 1)[0] for line in head.split(b"\r\n") if line and not line[:1].isspace()]
    assert names == [b"From", b"To", b"Subject", b"Date", b"Message-ID", b"X-Tiaojie-Notification",
                     b"MIME-Version", b"Content-Type"]
    assert b"\nBcc" not in raw and b"\nX-Injected" not in raw
    [msg] = smtp.messages
    assert msg["Bcc"] is None and msg["X-Injected"] is None
    # The name and subject arrive whole, on one line, as a reader sees them.
    [sender] = msg["From"].addresses
    assert sender.display_name == "Chengdong Centre Bcc: spy@evil.example X-Injected: 1"
    assert sender.addr_spec == "noreply@tiaojie.example"
    assert msg["Subject"] == "Hi Bcc: spy2@evil.example"
    # The recipient with a line break is never sent; its row says why.
    rows = {r["dedupe_key"]: r for r in await all_rows()}
    assert rows["inject:name"]["status"] == "sent"
    assert rows["inject:to"]["status"] == "failed" and "BadAddress" in rows["inject:to"]["last_error"]


async def test_message_id_is_the_same_on_every_attempt(world, smtp):
    """A re-sent message carries the Message-ID of the first try (receivers can drop repeats)."""
    from app.notifications.email import build_email
    from app.notifications.messages import Rendered
    from app.settings import get_settings

    rendered = Rendered(subject="S", text="t", html="<p>h</p>", sms="")
    one = build_email(rendered, to="a@example.cn", tenant_name="n", notification_id=7, settings=get_settings())
    two = build_email(rendered, to="a@example.cn", tenant_name="n", notification_id=7, settings=get_settings())
    other = build_email(rendered, to="a@example.cn", tenant_name="n", notification_id=8, settings=get_settings())
    mid = [line for line in one.data.split(b"\r\n") if line.startswith(b"Message-ID:")]
    assert mid and mid == [line for line in two.data.split(b"\r\n") if line.startswith(b"Message-ID:")]
    assert mid != [line for line in other.data.split(b"\r\n") if line.startswith(b"Message-ID:")]


async def test_many_notify_calls_share_a_few_batch_jobs(world, smtp):
    """notify() wakes its tenant's batch job under a per-quarter-second job id: hundreds of
    calls queue a handful of jobs, and one worker run delivers every message once."""
    import time as _time

    a, b = world.tenants["a"]["id"], world.tenants["b"]["id"]
    started = _time.monotonic()
    for i in range(150):
        await service.notify(a if i % 3 else b, "staff_notice", f"many:{i}", email=f"m{i}@example.cn",
                             payload=NOTICE)
    slots = (_time.monotonic() - started) / service.WAKE_SLOT + 1
    jobs_queued = redis_sync().zrange("arq:queue", 0, -1)
    assert all(j.startswith(b"deliver_due_notifications:") for j in jobs_queued)
    assert 2 <= len(jobs_queued) <= 2 * (slots + 1), (len(jobs_queued), slots)
    await run_workers()
    assert sorted(m["To"] for m in smtp.messages) == sorted(f"m{i}@example.cn" for i in range(150))
    assert {r["status"] for r in await all_rows()} == {"sent"}


async def test_a_lease_that_ran_out_is_claimed_again_and_a_live_one_is_not(world):
    a = world.tenants["a"]["id"]
    dead = await service.notify(a, "staff_notice", "lease:dead", email="d@example.cn", payload=NOTICE)
    live = await service.notify(a, "staff_notice", "lease:live", email="l@example.cn", payload=NOTICE)
    now = service.utcnow()
    with tenant_scope(a):
        await Notification.update({Notification.status: "sending", Notification.attempts: 1,
                                   Notification.claimed_at: now - service.LEASE - timedelta(seconds=1)}
                                  ).where(Notification.id == dead)
        await Notification.update({Notification.status: "sending", Notification.attempts: 1,
                                   Notification.claimed_at: now - service.LEASE / 2}
                                  ).where(Notification.id == live)
        [row] = await service.claim_batch()
        assert row["id"] == dead and row["attempts"] == 2
        # The worker that held the live row renews it before sending; the dead worker's
        # claim is not ours any more, so it cannot renew or record anything.
        [old] = await Notification.select(*service.ROW_COLUMNS).where(Notification.id == live)
        assert await service.renew(old) is True
        assert service.lease_left(old) > service.LEASE * 0.9
        stale = {**row, "claimed_at": now - service.LEASE - timedelta(seconds=1)}
        assert await service.renew(stale) is False
    # The sweep wakes the tenant for the moment the live lease ends.
    redis_sync().flushdb()
    summary = await service.sweep()
    assert summary == {"released": 0, "tenants": 0, "leased": 1}
    [(job, score)] = redis_sync().zrange("arq:queue", 0, -1, withscores=True)
    assert job.startswith(f"deliver_due_notifications:{a}:".encode())
    assert score / 1000 >= (service.utcnow() + service.LEASE * 0.9).timestamp()
