from __future__ import annotations

import os
import subprocess
import sys

from app.accounts.tables import User
from app.directory.demo import DEMO_ACCOUNTS, all_demo_accounts
from tenants.scope import unscoped
from tenants.tables import Membership, Tenant
from tests.support import redis_sync


async def _membership_count() -> int:
    with unscoped("test counts memberships across tenants"):
        return await Membership.count()


def tiaojie(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


async def test_demo_seed_is_deterministic_and_idempotent():
    first = tiaojie("demo", "seed")
    assert first.returncode == 0, first.stderr
    counts = (await Tenant.count(), await User.count(), await _membership_count())
    assert counts[0] >= 1 + 12 + 30 and counts[1] == len(all_demo_accounts()) > len(DEMO_ACCOUNTS)
    # Every organisation has an administrator (who can fill in its public profile).
    with unscoped("test checks every organisation's administrators"):
        administered = {r["tenant"] for r in await Membership.select(Membership.tenant).where(Membership.role == "admin")}
    assert administered == {r["id"] for r in await Tenant.select(Tenant.id)}
    kinds = {r["kind"] for r in await Tenant.select(Tenant.kind)}
    assert kinds == {"city_center", "district_center", "enterprise_committee", "chamber_org", "union"}
    assert await Tenant.exists().where((Tenant.slug == "city") & (Tenant.kind == "city_center"))
    second = tiaojie("demo", "seed")
    assert second.returncode == 0
    assert (await Tenant.count(), await User.count(), await _membership_count()) == counts
    assert tiaojie("demo", "seed", "--if-empty").stdout.strip() == "demo data already present"


async def test_user_create_and_its_errors(world):
    ok = tiaojie("user", "create", "--email", "New.Person@Example.cn", "--password", "Strong-pass-99",
                 "--tenant", "district-a", "--role", "staff")
    assert ok.returncode == 0, ok.stderr
    user = await User.select(User.id).where(User.email == "new.person@example.cn").first()
    with unscoped("test checks the membership the CLI created"):
        assert await Membership.exists().where((Membership.user == user["id"]) & (Membership.role == "staff"))

    cases = [
        (["--email", "x@example.cn", "--password", "Strong-pass-99", "--tenant", "nope", "--role", "staff"],
         "no organisation with slug 'nope'"),
        (["--email", "x@example.cn", "--password", "weak", "--tenant", "district-a", "--role", "staff"],
         "at least 10 characters"),
        (["--email", "new.person@example.cn", "--password", "Strong-pass-99", "--tenant", "district-a",
          "--role", "admin"], "already exists"),
        (["--email", "not-an-email", "--password", "Strong-pass-99", "--tenant", "district-a", "--role", "staff"],
         "not a valid email"),
        (["--email", "y@example.cn", "--password", "Strong-pass-99", "--tenant", "district-a", "--role", "union_rep"],
         "union_rep is a role in a union"),
        (["--email", "y@example.cn", "--password", "Strong-pass-99", "--tenant", "district-a", "--role", "boss"],
         "Invalid value for '--role'"),
    ]
    for args, message in cases:
        result = tiaojie("user", "create", *args, env={"LANG": "C.UTF-8"})
        assert result.returncode != 0, args
        assert message in result.stderr, (args, result.stderr)


def test_production_refuses_to_start_without_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["TIAOJIE_ENV"] = "production"
    result = subprocess.run([sys.executable, "-c", "from app.settings import get_settings; get_settings()"],
                            capture_output=True, text=True, env=env)
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


async def test_healthz_reports_database_redis_and_worker(client):
    resp = await client.get("/healthz")
    assert resp.status_code == 200
    body = resp.json()
    assert body["database"] == "ok" and body["redis"] == "ok"
    assert body["worker"]["status"] == "unknown"
    # The worker's cron job writes a heartbeat; run it as the worker would.
    from workers.heartbeat import HEARTBEAT_KEY, heartbeat
    from app.core.redis import get_redis

    await heartbeat({"redis": get_redis()})
    body = (await client.get("/healthz")).json()
    assert body["worker"]["status"] == "ok"
    assert redis_sync().get(HEARTBEAT_KEY) is not None


async def test_healthz_is_503_when_redis_is_down(monkeypatch):
    from litestar.testing import AsyncTestClient

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    from app import settings
    from app.core import redis as redis_mod

    settings.get_settings.cache_clear()
    redis_mod._clients.clear()
    try:
        from app.main import create_app

        async with AsyncTestClient(app=create_app()) as c:
            resp = await c.get("/healthz")
            assert resp.status_code == 503
            assert resp.json()["redis"].startswith("error") and resp.json()["database"] == "ok"
            # Public pages do not need Redis.
            assert (await c.get("/")).status_code == 200
    finally:
        settings.get_settings.cache_clear()
        redis_mod._clients.clear()


async def test_error_pages_are_friendly_and_500_hides_internals(client, monkeypatch):
    resp = await client.get("/o/no-such-place/")
    assert resp.status_code == 404 and "Page not found" in resp.text
    from app.directory import service

    async def boom(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(service, "active_by_district", boom)  # the portal's first query
    resp = await client.get("/")
    assert resp.status_code == 500
    assert "secret internal detail" not in resp.text and "Traceback" not in resp.text
    request_id = resp.headers["x-request-id"]
    assert request_id in resp.text
