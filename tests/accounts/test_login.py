from __future__ import annotations

from app.audit.tables import AuditEntry
from app.main import create_app
from tenants.scope import unscoped
from tests.support import World, csrf_token, login


async def test_login_redirects_members_to_their_console(client, world):
    resp = await login(client, world.users["a_staff"])
    assert resp.status_code == 303
    assert resp.headers["location"] == "/manage/district-a/"
    page = await client.get("/manage/district-a/")
    assert page.status_code == 200
    assert "district-a name" in page.text


async def test_city_admin_lands_on_city_console(client, world):
    resp = await login(client, world.users["city_admin"])
    assert resp.headers["location"] == "/city/"


async def test_wrong_password_is_refused_with_message_and_email_kept(client, world):
    resp = await login(client, world.users["a_staff"], "Wrong-pass-000")
    assert resp.status_code == 400
    assert "Wrong email or password." in resp.text
    assert f'value="{world.users["a_staff"]}"' in resp.text
    assert "Wrong-pass-000" not in resp.text
    assert (await client.get("/manage/district-a/", follow_redirects=False)).status_code == 303


async def test_bad_email_gets_field_message(client, world):
    await client.get("/login")
    resp = await client.post("/login", data={"email": "not-an-email", "password": "", "_csrf_token": csrf_token(client)})
    assert resp.status_code == 400
    assert 'id="f-email-error"' in resp.text and 'id="f-password-error"' in resp.text
    assert 'value="not-an-email"' in resp.text


async def test_login_is_rate_limited_then_lifts(client, world, monkeypatch):
    email = world.users["a_staff"]
    for _ in range(5):
        assert (await login(client, email, "Wrong-pass-000")).status_code == 400
    blocked = await login(client, email, World.PASSWORD)  # even the right password waits
    assert blocked.status_code == 429
    assert "Too many failed sign-in attempts" in blocked.text
    # The block is a wait, not a lockout: when the clock passes it the owner gets in.
    from datetime import datetime, timedelta, timezone

    from app.accounts import clock

    later = datetime.now(timezone.utc) + timedelta(seconds=61)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert (await login(client, email, World.PASSWORD)).status_code == 303


async def test_post_without_csrf_token_is_refused(client, world):
    await client.get("/login")
    resp = await client.post("/login", data={"email": world.users["a_staff"], "password": World.PASSWORD})
    assert resp.status_code == 403
    assert (await client.get("/manage/district-a/", follow_redirects=False)).status_code == 303


async def test_logout_ends_session(client, world):
    await login(client, world.users["a_staff"])
    resp = await client.post("/logout", data={"_csrf_token": csrf_token(client)}, follow_redirects=False)
    assert resp.status_code == 303
    page = await client.get("/manage/district-a/", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=/manage/district-a/")


async def test_change_password(client, world):
    email = world.users["a_staff"]
    await login(client, email)
    bad = await client.post(
        "/account/password",
        data={"current_password": "nope", "new_password": "short", "confirm_password": "short",
              "_csrf_token": csrf_token(client)},
    )
    assert bad.status_code == 400 and "Your current password is not correct." in bad.text
    weak = await client.post(
        "/account/password",
        data={"current_password": World.PASSWORD, "new_password": "short", "confirm_password": "short",
              "_csrf_token": csrf_token(client)},
    )
    assert weak.status_code == 400 and "Use at least 10 characters." in weak.text
    ok = await client.post(
        "/account/password",
        data={"current_password": World.PASSWORD, "new_password": "New-pass-2025", "confirm_password": "New-pass-2025",
              "_csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    await client.post("/logout", data={"_csrf_token": csrf_token(client)})
    assert (await login(client, email)).status_code == 400
    assert (await login(client, email, "New-pass-2025")).status_code == 303
    with unscoped("test reads the account audit trail"):
        actions = [r["action"] for r in await AuditEntry.select(AuditEntry.action)]
    assert "account.password_changed" in actions


async def test_anonymous_visitor_gets_no_session_cookie(client):
    resp = await client.get("/")
    assert resp.status_code == 200
    assert "tiaojie_session" not in resp.headers.get("set-cookie", "")


async def test_signing_in_gives_a_new_session_id(client, world):
    # A visitor who already has a session (e.g. one planted by someone else) ...
    await login(client, world.users["a_staff"])
    before = client.cookies.get("tiaojie_session")
    assert before
    # ... signs in again: the old id no longer works.
    await login(client, world.users["a_admin"])
    after = client.cookies.get("tiaojie_session")
    assert after and after != before
    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(app=create_app(), base_url="http://testserver.local") as thief:
        thief.cookies.set("tiaojie_session", before)
        assert (await thief.get("/manage/district-a/", follow_redirects=False)).status_code == 303


async def test_admin_of_a_deactivated_organisation_is_told_why_and_what_to_do(client, world):
    from tenants.tables import Tenant

    from app.outreach.tables import Hotline
    from tenants.scope import tenant_scope

    city = world.tenants["city"]["id"]
    with tenant_scope(city):
        await Hotline(tenant=city, label="市调处中心", number="0513-88101234", position=10).save()
    await Tenant.update({Tenant.active: False}).where(Tenant.slug == "ent-a")
    resp = await login(client, world.users["ent_a_admin"])
    assert resp.status_code == 303 and resp.headers["location"] == "/account/organisations"
    page = (await client.get("/account/organisations")).text
    assert "ent-a name has been deactivated by the city center." in page
    assert "To reopen it, or to move your account to another organisation, contact the city center." in page
    assert 'href="/o/city/">city name</a>' in page and 'href="tel:051388101234">0513-8810 1234<' in page
    # Someone who still has an active organisation lands on its console as before.
    await client.post("/logout", data={"_csrf_token": client.cookies.get("tiaojie_csrf")})
    resp = await login(client, world.users["a_staff"])
    assert resp.headers["location"] == "/manage/district-a/"
    page = (await client.get("/account/organisations")).text
    assert 'href="/manage/district-a/">district-a name</a>' in page and "deactivated" not in page
