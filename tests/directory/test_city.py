from __future__ import annotations

from app.audit.tables import AuditEntry
from tenants.scope import tenant_scope
from tenants.tables import Tenant
from tests.support import csrf_token, login


def _form(client, **overrides):
    data = {"name": "丙镇劳动人事争议调解中心", "slug": "district-c", "kind": "district_center", "parent": "",
            "district": "丙镇", "address": "", "office_hours": "", "reception_window": "", "reception_contact": "",
            "reception_phone": "", "description": "", "active": "1", "_csrf_token": csrf_token(client)}
    data.update(overrides)
    return data


async def test_city_admin_sees_the_tree(client, world):
    await login(client, world.users["city_admin"])
    resp = await client.get("/city/")
    assert resp.status_code == 200
    text = resp.text
    assert text.index("city name") < text.index("district-a name") < text.index("ent-a name")
    assert "/city/tenants/district-a/edit" in text


async def test_city_admin_adds_a_district_center(client, world):
    await login(client, world.users["city_admin"])
    city_id = world.tenants["city"]["id"]
    resp = await client.post("/city/tenants/new", data=_form(client, parent=str(city_id)), follow_redirects=False)
    assert resp.status_code == 303
    row = await Tenant.select().where(Tenant.slug == "district-c").first()
    assert row["parent"] == city_id and row["kind"] == "district_center" and row["active"]
    with tenant_scope(city_id):
        assert await AuditEntry.exists().where(AuditEntry.action == "tenant.created")
    assert "丙镇劳动人事争议调解中心" in (await client.get("/")).text


async def test_bad_tenant_form_keeps_input_and_explains(client, world):
    await login(client, world.users["city_admin"])
    ent_a = world.tenants["ent_a"]["id"]
    resp = await client.post(
        "/city/tenants/new",
        data=_form(client, slug="District A!", parent=str(ent_a), reception_phone="123"),
    )
    assert resp.status_code == 422
    assert 'id="f-slug-error"' in resp.text
    assert 'id="f-parent-error"' in resp.text  # a district center cannot sit under an enterprise
    assert 'id="f-reception_phone-error"' in resp.text
    assert 'value="District A!"' in resp.text and "丙镇劳动人事争议调解中心" in resp.text
    taken = await client.post("/city/tenants/new", data=_form(client, slug="district-a", parent=str(world.tenants["city"]["id"])))
    assert taken.status_code == 422 and "This address is taken" in taken.text
    assert not await Tenant.exists().where(Tenant.slug == "district-c")


async def test_city_admin_edits_and_deactivates(client, world):
    await login(client, world.users["city_admin"])
    page = await client.get("/city/tenants/district-b/edit")
    assert page.status_code == 200 and 'value="district-b name"' in page.text
    data = _form(client, name="乙镇调解中心", slug="district-b", parent=str(world.tenants["city"]["id"]), active="")
    data.pop("active")
    resp = await client.post("/city/tenants/district-b/edit", data=data, follow_redirects=False)
    assert resp.status_code == 303
    row = await Tenant.select().where(Tenant.slug == "district-b").first()
    assert row["name"] == "乙镇调解中心" and row["active"] is False
    assert (await client.get("/city/tenants/no-such/edit")).status_code == 404
