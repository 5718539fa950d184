from __future__ import annotations

from app.audit.tables import AuditEntry
from tenants.scope import tenant_scope
from tenants.tables import Membership
from tests.support import World, csrf_token, login


async def _member_id(world, tenant_key, user_key):
    from app.accounts.tables import User

    user = await User.select(User.id).where(User.email == world.users[user_key]).first()
    with tenant_scope(world.tenants[tenant_key]["id"]):
        row = await Membership.select(Membership.id).where(Membership.user == user["id"]).first()
    return row["id"]


async def test_admin_invites_and_duplicates_are_refused(client, world):
    """Adding people is an invitation: tests/security/test_invitations.py follows it through."""
    await login(client, world.users["a_admin"])
    page = await client.get("/manage/district-a/members")
    assert page.status_code == 200 and world.users["a_staff"] in page.text
    bad = await client.post("/manage/district-a/members",
                            data={"email": "not-an-email", "role": "staff", "_csrf_token": csrf_token(client)})
    assert bad.status_code == 422 and 'id="f-email-error"' in bad.text and 'value="not-an-email"' in bad.text
    data = {"email": world.users["b_staff"], "role": "staff", "_csrf_token": csrf_token(client)}
    assert (await client.post("/manage/district-a/members", data=data, follow_redirects=False)).status_code == 303
    assert world.users["b_staff"] in (await client.get("/manage/district-a/members")).text  # listed as invited
    again = await client.post("/manage/district-a/members",
                              data={**data, "email": world.users["a_staff"], "_csrf_token": csrf_token(client)})
    assert again.status_code == 422 and "already a member" in again.text
    # union roles are not offered outside a union
    wrong = await client.post("/manage/district-a/members",
                              data={**data, "email": "x@test.cn", "role": "union_rep", "_csrf_token": csrf_token(client)})
    assert wrong.status_code == 422


async def test_roles_change_but_the_last_admin_stays(client, world):
    await login(client, world.users["a_admin"])
    staff_id = await _member_id(world, "a", "a_staff")
    admin_id = await _member_id(world, "a", "a_admin")
    resp = await client.post(f"/manage/district-a/members/{staff_id}/role",
                             data={"role": "admin", "_csrf_token": csrf_token(client)}, follow_redirects=False)
    assert resp.status_code == 303
    # two admins now: demoting one is fine, then the other is the last
    resp = await client.post(f"/manage/district-a/members/{staff_id}/role",
                             data={"role": "staff", "_csrf_token": csrf_token(client)}, follow_redirects=False)
    assert resp.status_code == 303
    last = await client.post(f"/manage/district-a/members/{admin_id}/role",
                             data={"role": "staff", "_csrf_token": csrf_token(client)})
    assert last.status_code == 422 and "at least one admin" in last.text
    removed = await client.post(f"/manage/district-a/members/{staff_id}/remove",
                                data={"_csrf_token": csrf_token(client), "confirmed": "yes"}, follow_redirects=False)
    assert removed.status_code == 303
    with tenant_scope(world.tenants["a"]["id"]):
        assert await Membership.count() == 1


async def test_members_of_another_tenant_are_404(client, world):
    await login(client, world.users["a_admin"])
    b_member = await _member_id(world, "b", "b_staff")
    for action, data in (("role", {"role": "admin"}), ("remove", {})):
        resp = await client.post(f"/manage/district-a/members/{b_member}/{action}",
                                 data={**data, "_csrf_token": csrf_token(client)})
        assert resp.status_code == 404
    with tenant_scope(world.tenants["b"]["id"]):
        assert await Membership.count() == 2


async def test_city_admin_form_asks_only_for_an_email(client, world):
    await login(client, world.users["city_admin"])
    resp = await client.post("/city/tenants/district-b/admins",
                             data={"email": "someone", "_csrf_token": csrf_token(client)})
    assert resp.status_code == 422 and 'id="a-email-error"' in resp.text
    assert 'value="someone"' in resp.text and 'id="a-password"' not in resp.text
