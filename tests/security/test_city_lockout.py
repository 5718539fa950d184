"""The city cannot lock itself out: the city center cannot be deactivated (or turned into
another kind), and its last admin can be neither removed nor demoted."""

from __future__ import annotations

from tenants.scope import tenant_scope
from tenants.tables import Membership, Tenant
from tests.support import csrf_token, login


def _city_form(client, **overrides):
    data = {"name": "city name", "slug": "city", "kind": "city_center", "parent": "", "district": "",
            "address": "city road 1", "office_hours": "", "reception_window": "", "reception_contact": "",
            "reception_phone": "", "description": "", "_csrf_token": csrf_token(client)}
    data.update(overrides)
    return data


async def test_the_city_center_cannot_be_deactivated(client, world):
    await login(client, world.users["city_admin"])
    resp = await client.post("/city/tenants/city/edit", data=_city_form(client), follow_redirects=False)  # box unticked
    assert resp.status_code == 422
    assert 'id="f-active-error"' in resp.text and "The city center cannot be deactivated" in resp.text
    assert 'value="city road 1"' in resp.text  # nothing typed is lost
    assert (await Tenant.select(Tenant.active).where(Tenant.slug == "city").first())["active"] is True
    assert (await client.get("/city/", follow_redirects=False)).status_code == 200
    # Nor can it become a district center.
    resp = await client.post("/city/tenants/city/edit", data=_city_form(client, active="1", kind="district_center",
                                                                       district="甲镇"), follow_redirects=False)
    assert resp.status_code == 422 and "The city center cannot become another kind" in resp.text
    # Saving it active works as before.
    ok = await client.post("/city/tenants/city/edit", data=_city_form(client, active="1", name="市中心"),
                           follow_redirects=False)
    assert ok.status_code == 303
    assert (await Tenant.select(Tenant.name).where(Tenant.slug == "city").first())["name"] == "市中心"


async def test_the_last_city_admin_can_be_neither_removed_nor_demoted(client, world):
    city = world.tenants["city"]["id"]
    with tenant_scope(city):
        admin = await Membership.select(Membership.id).where(Membership.role == "admin").first()
    await login(client, world.users["city_admin"])
    demote = await client.post(f"/manage/city/members/{admin['id']}/role",
                               data={"role": "staff", "_csrf_token": csrf_token(client)}, follow_redirects=False)
    assert demote.status_code in (400, 409, 422)
    assert "An organisation needs at least one admin." in demote.text
    remove = await client.post(f"/manage/city/members/{admin['id']}/remove",
                               data={"_csrf_token": csrf_token(client), "confirmed": "yes"}, follow_redirects=False)
    assert remove.status_code in (400, 409, 422)
    with tenant_scope(city):
        assert await Membership.count().where(Membership.role == "admin") == 1
    assert (await client.get("/city/", follow_redirects=False)).status_code == 200
