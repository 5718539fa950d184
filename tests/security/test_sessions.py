"""Sessions live in the database (a Redis restart signs nobody out), CSRF tokens are bound
to the signed-in session, a password change ends the other sessions, and a person can sign
out everywhere."""

from __future__ import annotations

import hashlib

from litestar.testing import AsyncTestClient

from app.main import create_app
from tests.support import World, csrf_token, login, redis_sync


def new_client():
    c = AsyncTestClient(app=create_app(), base_url="http://testserver.local")
    c.headers["Accept-Language"] = "en"
    return c


async def signed_in(client, path="/manage/district-a/") -> bool:
    return (await client.get(path, follow_redirects=False)).status_code == 200


async def test_sessions_survive_a_redis_restart(client, world):
    assert (await login(client, world.users["a_staff"])).status_code == 303
    assert await signed_in(client)
    redis_sync().flushall()  # what a restart of the (non-persistent) Redis leaves
    assert await signed_in(client)
    # The database keeps only a hash of the id the cookie holds.
    cookie = client.cookies.get("tiaojie_session")
    from app.accounts.tables import Session

    rows = await Session.select(Session.key_hash, Session.user)
    assert rows == [{"key_hash": hashlib.sha256(cookie.encode()).hexdigest(), "user": rows[0]["user"]}]
    assert cookie not in str(rows)


async def test_a_session_id_the_server_did_not_issue_is_not_adopted(client, world):
    client.cookies.set("tiaojie_session", "planted-by-someone-else", domain="testserver.local")
    assert (await login(client, world.users["a_staff"])).status_code == 303
    assert client.cookies.get("tiaojie_session") != "planted-by-someone-else"
    assert await signed_in(client)


async def test_an_anonymous_csrf_token_is_refused_with_a_signed_in_session(client, world):
    # The attacker fetches a valid token pair anonymously ...
    async with new_client() as attacker:
        await attacker.get("/login")
        foreign = csrf_token(attacker)
    assert foreign
    # ... and the victim, signed in, is made to send it (cookie planted, form posted).
    await login(client, world.users["a_staff"])
    client.cookies.set("tiaojie_csrf", foreign, domain="testserver.local")
    resp = await client.post("/account/sign-out-everywhere", data={"_csrf_token": foreign}, follow_redirects=False)
    assert resp.status_code == 403
    assert "This form has expired" in resp.text
    assert await signed_in(client)
    # Reloading a page gives the session's own token back, which works.
    await client.get("/account/password")
    own = csrf_token(client)
    assert own and own != foreign
    ok = await client.post("/logout", data={"_csrf_token": own}, follow_redirects=False)
    assert ok.status_code == 303 and not await signed_in(client)


async def test_signing_in_rotates_the_csrf_token(client, world):
    await client.get("/login")
    before = csrf_token(client)
    await login(client, world.users["a_staff"])
    after = csrf_token(client)
    assert after and after != before
    stale = await client.post("/logout", data={"_csrf_token": before}, follow_redirects=False)
    assert await signed_in(client)
    assert stale.status_code == 403


async def test_a_password_change_ends_the_other_sessions(client, world):
    email = world.users["a_staff"]
    async with new_client() as phone, new_client() as other_person:
        await login(phone, email)
        await login(other_person, world.users["a_admin"])
        await login(client, email)
        assert await signed_in(phone) and await signed_in(client)
        resp = await client.post("/account/password", data={
            "current_password": World.PASSWORD, "new_password": "New-pass-2025", "confirm_password": "New-pass-2025",
            "_csrf_token": csrf_token(client)}, follow_redirects=False)
        assert resp.status_code == 303
        page = await client.get("/account/password")
        assert "Your password has been changed." in page.text and "You were signed out everywhere else." in page.text
        assert await signed_in(client)  # this browser stays signed in
        assert not await signed_in(phone)  # the other one is out
        assert await signed_in(other_person)  # someone else's session is untouched
        # The old session cannot come back through a request that was already under way.
        assert (await phone.get("/account/password", follow_redirects=False)).status_code == 303


async def test_sign_out_everywhere(client, world):
    email = world.users["a_staff"]
    async with new_client() as phone:
        await login(phone, email)
        await login(client, email)
        page = await client.get("/account/password")
        assert 'action="/account/sign-out-everywhere"' in page.text and "Sign out everywhere" in page.text
        resp = await client.post("/account/sign-out-everywhere", data={"_csrf_token": csrf_token(client)},
                                 follow_redirects=False)
        assert resp.status_code == 303 and resp.headers["location"] == "/login"
        assert not await signed_in(client) and not await signed_in(phone)
        from app.accounts.tables import Session

        assert await Session.count() == 0


async def test_the_nightly_sweep_deletes_expired_sessions_and_keeps_live_ones(client, world):
    from datetime import datetime, timedelta, timezone

    from app.accounts.jobs import sweep_expired_sessions
    from app.accounts.tables import Session
    from workers.settings import WorkerSettings

    assert (await login(client, world.users["a_staff"])).status_code == 303  # a live session
    now = datetime.now(timezone.utc)
    for i, age in enumerate((timedelta(days=1), timedelta(days=30))):  # two that never came back
        await Session.insert(Session(key_hash=f"{i:064d}", data="{}", expires_at=now - age))
    assert await Session.count() == 3

    assert await sweep_expired_sessions({}) == 2
    assert [r["key_hash"] for r in await Session.select(Session.key_hash)] == [
        hashlib.sha256(client.cookies.get("tiaojie_session").encode()).hexdigest()
    ]
    assert await signed_in(client)  # the live one still signs its person in
    assert await sweep_expired_sessions({}) == 0
    assert "sweep_expired_sessions" in {job.name.split(":")[-1] for job in WorkerSettings.cron_jobs}
