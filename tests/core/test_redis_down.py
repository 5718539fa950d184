"""Redis hung or unreachable (issue 12, item 11): every Redis call is bounded, public
pages and forms keep answering quickly, and what a person submitted is written to the
outbox and delivered by the sweep once Redis is back.

The Redis here is a real embedded Valkey of this test alone, frozen with SIGSTOP (it
accepts connections and never answers: the worst case), and a port that accepts and
never replies (a "blackhole")."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import threading
import time
from datetime import timedelta

import pytest
from litestar.testing import AsyncTestClient

from app.core.redis import COOL_OFF
from app.notifications.tables import Notification
from tenants.scope import unscoped
from tests.feedback.helpers import GOOD, form_token, post_form, receipt
from tests.notifications.helpers import SmtpSink, run_workers, use_settings

# A request may make a few Redis calls (page version, rate limit, enqueue), each bounded
# by REDIS_TIMEOUT (0.3 s), and none while Redis is known to be down (COOL_OFF): a page
# answers within BOUND (it took 2-4 s, then a 500, before), and a form submission within
# EXTRA of the same submission with Redis up (it hashes a secret: CPU time, not Redis).
BOUND = 2.0
EXTRA = 1.0


@pytest.fixture
def own_redis(monkeypatch):
    """This test's own Redis; the app's cached clients are forgotten before and after."""
    from app.core import jobs, redis
    from app.devserver import start_embedded_redis

    proc, url = start_embedded_redis()
    monkeypatch.setattr(redis, "_clients", {})
    monkeypatch.setattr(jobs, "_pools", {})
    use_settings(monkeypatch, REDIS_URL=url)
    yield proc
    _forget(monkeypatch)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGCONT)
        proc.kill()
        proc.wait()


def _forget(monkeypatch) -> None:
    """Back to the run's own Redis for the next test: settings, clients, the cool-off."""
    from app.core import redis
    from app.settings import get_settings

    monkeypatch.undo()
    get_settings.cache_clear()
    redis.mark_redis_up()


@pytest.fixture
def blackhole(monkeypatch):
    """A port that accepts connections and never says a word."""
    from app.core import jobs, redis

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    monkeypatch.setattr(redis, "_clients", {})
    monkeypatch.setattr(jobs, "_pools", {})
    use_settings(monkeypatch, REDIS_URL=f"redis://127.0.0.1:{server.getsockname()[1]}/0")
    yield
    _forget(monkeypatch)
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


async def _timed(call):
    started = time.monotonic()
    resp = await call
    return resp, time.monotonic() - started


async def _submit(client):
    form = await client.get("/o/district-a/feedback")
    return await _timed(post_form(client, "district-a", {**GOOD, "form_token": form_token(form.text)}))


async def _public_work_goes_on(client, baseline: float, cache_bypassed: bool = True) -> str:
    """Public pages and the feedback form answer quickly; returns the receipt's code."""
    for path in ("/", "/o/district-a/", "/hotlines", "/login", "/o/district-a/feedback"):
        resp, took = await _timed(client.get(path))
        assert resp.status_code == 200 and took < BOUND, (path, resp.status_code, took)
        if cache_bypassed:  # no version token to trust: pages are rendered afresh
            assert "x-page-cache" not in resp.headers
    resp, took = await _submit(client)
    assert resp.status_code == 200 and took < baseline + EXTRA, (resp.status_code, took, baseline, resp.text[:500])
    return receipt(resp.text)[0]


async def test_a_hung_redis_costs_a_fraction_of_a_second_and_loses_nothing(world, own_redis, monkeypatch):
    from app.main import create_app
    from app.notifications import service

    async with AsyncTestClient(app=create_app(), base_url="http://testserver.local") as client:
        client.headers["Accept-Language"] = "en"
        healthy, baseline = await _submit(client)
        assert healthy.status_code == 200
        with unscoped("test"):
            await Notification.delete(force=True)  # only what is sent while Redis hangs counts below
        os.kill(own_redis.pid, signal.SIGSTOP)  # Redis hangs: connections open, no replies
        # (This process's subscription was live when Redis froze: its cache may still answer.)
        code = await _public_work_goes_on(client, baseline, cache_bypassed=False)
        # The feedback reached the database, and its messages to the staff are in the outbox.
        with unscoped("test"):
            rows = await Notification.select(Notification.id, Notification.status, Notification.channel)
        assert code and rows and {r["status"] for r in rows} == {"pending"}
        # Redis comes back: the sweep enqueues what the request could not, a worker delivers.
        os.kill(own_redis.pid, signal.SIGCONT)
        await asyncio.sleep(COOL_OFF)  # the app tries Redis again after its cool-off
        sink = SmtpSink().start()
        try:
            use_settings(monkeypatch, SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port), SMTP_SECURITY="none",
                         EMAIL_DELIVERY="smtp")
            monkeypatch.setattr(service, "SWEEP_GRACE", timedelta(0))
            assert (await service.sweep())["tenants"] >= 1
            await run_workers()
        finally:
            sink.stop()
        with unscoped("test"):
            after = await Notification.select(Notification.status, Notification.channel)
        assert {r["status"] for r in after} == {"sent"}
        emails = [r for r in rows if r["channel"] == "email"]
        assert len(sink.messages) == len(emails) > 0


async def test_a_redis_that_never_answers_is_a_bounded_wait(world, blackhole):
    from app.core import ratelimit
    from app.core.jobs import _send
    from app.main import create_app

    started = time.monotonic()
    with pytest.raises(Exception):
        await ratelimit.consume("probe", 5, 60)
    assert time.monotonic() - started < 1
    started = time.monotonic()
    assert await _send("deliver_notification", 1, 1) is False  # logged; the sweep sends it later
    assert time.monotonic() - started < 1
    async with AsyncTestClient(app=create_app(), base_url="http://testserver.local") as client:
        client.headers["Accept-Language"] = "en"
        await _public_work_goes_on(client, baseline=1.0)


async def test_sign_in_and_staff_work_go_on_while_redis_hangs(world, own_redis):
    """Sessions and the sign-in limits live in the database: with Redis frozen a person
    signs in, opens the console and saves a hotline (whose page-cache bump and messages
    wait for Redis), each within the bound."""
    from app.main import create_app
    from app.outreach.tables import Hotline
    from tests.support import csrf_token, login

    async with AsyncTestClient(app=create_app(), base_url="http://testserver.local") as client:
        client.headers["Accept-Language"] = "en"
        os.kill(own_redis.pid, signal.SIGSTOP)
        resp, took = await _timed(login(client, world.users["a_admin"]))
        assert resp.status_code == 303 and took < BOUND, (resp.status_code, took)
        for path in ("/manage/district-a/", "/manage/district-a/hotlines", "/account/password"):
            resp, took = await _timed(client.get(path))
            assert resp.status_code == 200 and took < BOUND, (path, resp.status_code, took)
        resp, took = await _timed(client.post("/manage/district-a/hotlines", data={
            "_csrf_token": csrf_token(client), "label": "维权热线", "number": "0513-8123 4567", "hours": "9:00-17:00"},
            follow_redirects=False))
        assert resp.status_code == 303 and took < BOUND, (resp.status_code, took, [l for l in resp.text.splitlines() if "error" in l][:5])
        with unscoped("test"):
            saved = await Hotline.select(Hotline.label).where(Hotline.tenant == world.tenants["a"]["id"])
        assert "维权热线" in {r["label"] for r in saved}


async def test_the_page_cache_subscription_notices_a_hung_redis_and_follows_again(own_redis, monkeypatch):
    """A hung Redis keeps the subscription's socket open and says nothing: the watcher must
    stop trusting its tokens (requests then read them, bounded) and follow again once Redis
    answers, hearing the bumps made after that."""
    from app.core import pagecache

    monkeypatch.setattr(pagecache.VersionWatcher, "PING_EVERY", 0.3)
    monkeypatch.setattr(pagecache.VersionWatcher, "CONNECT_TIMEOUT", 0.5)

    async def until(condition, within: float, what: str) -> None:
        deadline = time.monotonic() + within
        while not condition():
            assert time.monotonic() < deadline, what
            await asyncio.sleep(0.05)

    await pagecache.bump(None)  # an epoch to follow
    watcher = pagecache.VersionWatcher()
    await watcher.start()
    try:
        await until(lambda: watcher.live, 5, "the watcher never followed the running Redis")
        os.kill(own_redis.pid, signal.SIGSTOP)
        stopped = time.monotonic()
        await until(lambda: not watcher.live, 5, "a hung Redis was still trusted")
        # Noticed within a couple of PING intervals, not at the next 30 s timeout.
        assert time.monotonic() - stopped < 2.0
        await asyncio.sleep(1.0)  # reconnecting meanwhile: bounded attempts, still not live
        assert not watcher.live
        os.kill(own_redis.pid, signal.SIGCONT)
        from app.core import redis

        redis.mark_redis_up()
        await until(lambda: watcher.live, 8, "the watcher did not follow Redis again")
        before = dict(watcher.versions)
        await pagecache.bump(42)
        await until(lambda: watcher.versions.get(pagecache.tenant_field(42)) not in (None, before.get(
            pagecache.tenant_field(42))), 5, "a bump after the recovery was not heard")
    finally:
        await watcher.stop()
