"""Adding a person is an invitation they accept: nobody is made a member (or an admin)
without saying yes, and the admin's answer does not tell whether the email has an account."""

from __future__ import annotations

import json

from app.accounts.tables import User
from app.audit.tables import AuditEntry
from app.notifications.tables import Notification
from tenants.scope import tenant_scope, unscoped
from tenants.tables import Membership
from tests.support import World, csrf_token, login


async def invitation_link(email: str) -> str:
    with unscoped("test reads the outbox"):
        rows = await Notification.select(Notification.payload, Notification.template_key).where(
            Notification.recipient == email).order_by(Notification.id, ascending=False)
    assert rows and rows[0]["template_key"] == "member_invited"
    payload = rows[0]["payload"]
    return (json.loads(payload) if isinstance(payload, str) else payload)["path"]


async def is_member(world, tenant_key: str, email: str) -> str | None:
    user = await User.select(User.id).where(User.email == email).first()
    if user is None:
        return None
    with tenant_scope(world.tenants[tenant_key]["id"]):
        row = await Membership.select(Membership.role).where(Membership.user == user["id"]).first()
    return row["role"] if row else None


async def invite(client, email: str, role: str = "staff"):
    return await client.post("/manage/district-a/members", data={"email": email, "role": role,
                                                                 "_csrf_token": csrf_token(client)},
                             follow_redirects=False)


async def test_the_answer_does_not_reveal_whether_an_account_exists(client, world):
    await login(client, world.users["a_admin"])
    answers = []
    for email in (world.users["b_staff"], "nobody.yet@test.cn"):
        resp = await invite(client, email, "admin")
        assert resp.status_code == 303
        page = await client.get("/manage/district-a/members")
        answers.append(page.text.split("An invitation was sent to ")[1].split("<")[0].replace(email, "EMAIL"))
        assert "no account" not in page.text.lower()
    assert answers[0] == answers[1]
    # Neither is a member yet: the existing account was not made an admin without consent.
    assert await is_member(world, "a", world.users["b_staff"]) is None
    assert await User.count().where(User.email == "nobody.yet@test.cn") == 0
    with tenant_scope(world.tenants["a"]["id"]):
        actions = [r["action"] for r in await AuditEntry.select(AuditEntry.action)]
    assert actions.count("member.invited") == 2


async def test_a_new_person_sets_a_password_through_the_link(client, world):
    await login(client, world.users["a_admin"])
    assert (await invite(client, "New.Mediator@test.cn")).status_code == 303
    link = await invitation_link("new.mediator@test.cn")
    client.cookies.clear()
    page = await client.get(link)
    assert page.status_code == 200 and "district-a name" in page.text and 'id="f-password"' in page.text
    await client.get("/login")  # a CSRF cookie, as a browser opening the link has
    bad = await client.post(link, data={"name": "新调解员", "password": "weak", "confirm_password": "weak",
                                        "_csrf_token": csrf_token(client)})
    assert bad.status_code == 422 and 'id="f-password-error"' in bad.text and 'value="新调解员"' in bad.text
    ok = await client.post(link, data={"name": "新调解员", "password": "First-pass-2024",
                                       "confirm_password": "First-pass-2024", "_csrf_token": csrf_token(client)},
                           follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/manage/district-a/"
    assert (await client.get("/manage/district-a/", follow_redirects=False)).status_code == 200
    assert await is_member(world, "a", "new.mediator@test.cn") == "staff"
    # The link works once.
    client.cookies.clear()
    assert (await client.get(link)).status_code == 404
    assert (await login(client, "new.mediator@test.cn", "First-pass-2024")).headers["location"] == "/manage/district-a/"


async def test_an_existing_user_accepts_when_signed_in_as_that_email(client, world):
    await login(client, world.users["a_admin"])
    await invite(client, world.users["b_staff"], "admin")
    link = await invitation_link(world.users["b_staff"])
    # Someone else signed in cannot accept it.
    page = await client.get(link)
    assert "this invitation is for" in page.text
    refused = await client.post(link, data={"_csrf_token": csrf_token(client)})
    assert refused.status_code == 422 and await is_member(world, "a", world.users["b_staff"]) is None
    client.cookies.clear()
    anonymous = await client.get(link)
    assert f'href="/login?next={link}"' in anonymous.text and 'id="f-password"' not in anonymous.text
    await login(client, world.users["b_staff"])
    accept = await client.post(link, data={"_csrf_token": csrf_token(client)}, follow_redirects=False)
    assert accept.status_code == 303
    assert await is_member(world, "a", world.users["b_staff"]) == "admin"
    with tenant_scope(world.tenants["a"]["id"]):
        assert await AuditEntry.exists().where(AuditEntry.action == "member.invitation_accepted")


async def test_a_stolen_or_made_up_link_does_nothing(client, world):
    assert (await client.get("/invitations/not-a-real-token")).status_code == 404
    await client.get("/login")
    resp = await client.post("/invitations/not-a-real-token", data={
        "name": "x", "password": World.PASSWORD, "confirm_password": World.PASSWORD, "_csrf_token": csrf_token(client)})
    assert resp.status_code == 404


async def test_the_city_invites_an_organisations_first_admin(client, world):
    from tenants.tables import Tenant

    await Tenant(slug="new-org", name="新组织", kind="chamber_org", parent=world.tenants["city"]["id"]).save()
    await login(client, world.users["city_admin"])
    resp = await client.post("/city/tenants/new-org/admins", data={"email": "chair@chamber.cn",
                                                                   "_csrf_token": csrf_token(client)},
                             follow_redirects=False)
    assert resp.status_code == 303
    assert "An invitation to administer 新组织 was sent to chair@chamber.cn." in (
        await client.get("/city/tenants/new-org/edit")).text
    link = await invitation_link("chair@chamber.cn")
    client.cookies.clear()
    await client.get("/login")
    ok = await client.post(link, data={"name": "商会秘书长", "password": "Chamber-pass-1",
                                       "confirm_password": "Chamber-pass-1", "_csrf_token": csrf_token(client)},
                           follow_redirects=False)
    assert ok.headers["location"] == "/manage/new-org/"
    assert (await client.get("/manage/new-org/members")).status_code == 200
