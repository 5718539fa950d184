"""Production start-up checks, liveness and readiness, request metrics, JSON logs."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import pytest

from app.ops.checks import production_problems
from app.settings import load_settings
from tests.ops.procs import ROOT, SECRET

SAFE = {
    "TIAOJIE_ENV": "production",
    "SECRET_KEY": SECRET,
    "BASE_URL": "https://tiaojie.example.cn",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_DELIVERY": "smtp",
    "SMS_GATEWAY": "http",
    "SMS_GATEWAY_URL": "https://sms.example.cn/send",
}


def _problems(monkeypatch, **changes: str | None) -> list[str]:
    for key, value in {**SAFE, **changes}.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    monkeypatch.delenv("TIAOJIE_EMBEDDED_REDIS", raising=False)
    return production_problems(load_settings())


def test_safe_production_settings_have_no_problems(monkeypatch):
    assert _problems(monkeypatch) == []


@pytest.mark.parametrize("changes,expected", [
    ({"BASE_URL": "http://tiaojie.example.cn"}, "production needs an https:// address"),
    ({"BASE_URL": None}, "BASE_URL is not set"),
    ({"EMAIL_DELIVERY": "file"}, "EMAIL_DELIVERY is 'file', a development mode"),
    ({"SMS_GATEWAY": "console"}, "SMS_GATEWAY is 'console', a development mode"),
    ({"SMS_GATEWAY": "file"}, "SMS_GATEWAY is 'file', a development mode"),
    ({"SMS_GATEWAY_URL": ""}, "SMS_GATEWAY_URL is not set"),
    ({"REDIS_URL": None}, "REDIS_URL is not set"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY is shorter than 32 characters"),
])
def test_each_unsafe_setting_is_named(monkeypatch, changes, expected):
    problems = _problems(monkeypatch, **changes)
    assert len(problems) == 1 and expected in problems[0], problems


def test_the_embedded_redis_is_refused(monkeypatch):
    monkeypatch.setenv("TIAOJIE_EMBEDDED_REDIS", "1")
    for key, value in SAFE.items():
        monkeypatch.setenv(key, value)
    assert any("embedded Redis" in p for p in production_problems(load_settings()))


def _start(*args: str, **env: str | None) -> subprocess.CompletedProcess:
    full = {**os.environ, **SAFE}
    for key, value in env.items():
        if value is None:
            full.pop(key, None)
        else:
            full[key] = value
    return subprocess.run([sys.executable, "-m", "app.cli", *args], env=full, cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_production_start_up_refuses_unsafe_settings_with_a_clear_message():
    serve = _start("serve", "--port", "1", BASE_URL="http://tiaojie.example.cn", EMAIL_DELIVERY="file")
    assert serve.returncode != 0
    assert "refusing to start with TIAOJIE_ENV=production" in serve.stderr
    assert "https://" in serve.stderr and "EMAIL_DELIVERY is 'file'" in serve.stderr
    worker = _start("worker", SMS_GATEWAY="console")
    assert worker.returncode != 0 and "SMS_GATEWAY is 'console'" in worker.stderr
    no_key = _start("serve", "--port", "1", SECRET_KEY=None)
    assert no_key.returncode != 0 and "SECRET_KEY must be set" in no_key.stderr
    dev = _start("dev", "--port", "1")
    assert dev.returncode != 0 and "tiaojie dev is for development" in dev.stderr
    # The app factory refuses too (uvicorn started some other way).
    factory = subprocess.run([sys.executable, "-c", "from app.main import create_app; create_app()"],
                             env={**os.environ, **SAFE, "BASE_URL": "http://x.cn"}, cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    assert factory.returncode != 0 and "production needs an https:// address" in factory.stderr


async def test_livez_and_readyz(client):
    live = await client.get("/livez")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "migrations": "ok", "redis": "ok"}


async def test_readyz_is_503_without_redis_while_livez_answers(monkeypatch):
    from litestar.testing import AsyncTestClient

    from app import settings
    from app.core import redis as redis_mod

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    settings.get_settings.cache_clear()
    redis_mod._clients.clear()
    try:
        from app.main import create_app

        async with AsyncTestClient(app=create_app()) as c:
            ready = await c.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["redis"].startswith("error") and ready.json()["database"] == "ok"
            assert (await c.get("/livez")).status_code == 200
    finally:
        settings.get_settings.cache_clear()
        redis_mod._clients.clear()


def test_check_reports_migrations_not_applied(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}
    result = subprocess.run([sys.executable, "-m", "app.cli", "check"], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert "database: ok" in result.stdout and "migrations: error" in result.stdout


async def test_requests_are_measured_by_route_template(client, world):
    from prometheus_client import REGISTRY

    labels = {"method": "GET", "route": "/o/{slug}"}
    before = REGISTRY.get_sample_value("tiaojie_http_request_duration_seconds_count", labels) or 0
    for _ in range(3):
        assert (await client.get("/o/district-a/")).status_code == 200
    assert REGISTRY.get_sample_value("tiaojie_http_request_duration_seconds_count", labels) == before + 3
    ok = {"method": "GET", "route": "/o/{slug}", "status": "200"}
    assert REGISTRY.get_sample_value("tiaojie_http_requests_total", ok) >= 3
    missing = {"method": "GET", "route": "/o/{slug}", "status": "404"}
    before_404 = REGISTRY.get_sample_value("tiaojie_http_requests_total", missing) or 0
    await client.get("/o/no-such-place/")
    assert REGISTRY.get_sample_value("tiaojie_http_requests_total", missing) == before_404 + 1


async def test_outbox_depth_and_oldest_pending_age(world):
    import datetime

    from app.notifications.service import notify
    from app.notifications.tables import Notification
    from app.ops.metrics import OutboxCollector
    from app.settings import get_settings
    from tenants.scope import unscoped

    tenant_id = world.tenants["a"]["id"]
    for i in range(3):
        await notify(tenant_id, "staff_notice", f"metrics-{i}", email=f"m{i}@test.tiaojie.cn",
                     payload={"subject": "s", "body": "b"})
    with unscoped("test ages one message"):
        await Notification.update({Notification.scheduled_for: datetime.datetime.now(datetime.timezone.utc)
                                   - datetime.timedelta(minutes=5)}).where(Notification.dedupe_key == "metrics-0")
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        families = {f.name: f for f in pool.submit(lambda: list(OutboxCollector(get_settings().database_url).collect())).result()}
    assert families["tiaojie_outbox_readable"].samples[0].value == 1
    assert families["tiaojie_outbox_depth"].samples[0].value == 3
    pending = next(s for s in families["tiaojie_outbox_messages"].samples if s.labels["status"] == "pending")
    assert pending.value == 3
    age = families["tiaojie_outbox_oldest_pending_age_seconds"].samples[0].value
    assert 290 < age < 900


def test_json_log_lines_carry_the_request_id_and_mask_phone_numbers_and_emails():
    from app.ops.logs import JsonFormatter, request_id_var

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("web"))
    logger = logging.getLogger("tiaojie.test-json")
    logger.addHandler(handler)
    logger.propagate = False
    token = request_id_var.set("abc123abc123")
    try:
        logger.warning("SMTP refused wang.li@example.cn, call 13812345678 or 0513-88881234", extra={"status": 550})
        try:
            raise ValueError("for +86 13912345678")
        except ValueError:
            logger.exception("failed")
    finally:
        request_id_var.reset(token)
        logger.removeHandler(handler)
    first, second = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    assert first["request_id"] == "abc123abc123" and first["level"] == "warning" and first["status"] == 550
    assert first["message"] == "SMTP refused [email], call [phone] or [phone]"
    assert "13912345678" not in second["exception"] and "ValueError" in second["exception"]
