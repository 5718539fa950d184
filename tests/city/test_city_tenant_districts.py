"""Issue #13 item 5: an organisation lies in its parent's district (inherited when left
blank, refused when another), in the city's tenant form and in the demo."""

from __future__ import annotations

import pytest

from app.directory.demo import demo_tenants
from tenants.tables import Tenant
from tenants.tree import OutsideParentDistrict, child_district
from tests.support import csrf_token, login


def test_child_district_rule():
    assert child_district("城东镇", "") == "城东镇"
    assert child_district("城东镇", " 城东镇 ") == "城东镇"
    assert child_district("", "曲塘镇") == "曲塘镇"  # under the city a child names its own district
    assert child_district("", "") == ""  # a city-level body
    with pytest.raises(OutsideParentDistrict) as exc:
        child_district("城东镇", "曲塘镇")
    assert exc.value.parent_district == "城东镇"


def test_every_demo_organisation_lies_in_its_parents_district():
    rows = demo_tenants()
    district = {r["slug"]: r.get("district", "") for r in rows}
    for row in rows:
        if row["parent_slug"] and district[row["parent_slug"]]:
            assert district[row["slug"]] == district[row["parent_slug"]], row["slug"]


def _form(client, **overrides):
    data = {"name": "甲镇某公司劳动争议调解委员会", "slug": "ent-new", "kind": "enterprise_committee", "parent": "",
            "district": "", "address": "", "office_hours": "", "reception_window": "", "reception_contact": "",
            "reception_phone": "", "description": "", "active": "1", "_csrf_token": csrf_token(client)}
    data.update(overrides)
    return data


async def test_a_committee_left_without_district_inherits_its_centers(client, world):
    await login(client, world.users["city_admin"])
    resp = await client.post("/city/tenants/new", data=_form(client, parent=str(world.tenants["a"]["id"])),
                             follow_redirects=False)
    assert resp.status_code == 303
    row = await Tenant.select(Tenant.district).where(Tenant.slug == "ent-new").first()
    assert row["district"] == "甲镇"
    # Listed under its district on the portal's district filter, not under the city level.
    portal = await client.get("/", params={"district": "甲镇"})
    assert "甲镇某公司劳动争议调解委员会" in portal.text


async def test_a_child_outside_its_parents_district_is_refused(client, world):
    await login(client, world.users["city_admin"])
    resp = await client.post("/city/tenants/new",
                             data=_form(client, parent=str(world.tenants["a"]["id"]), district="乙镇"))
    assert resp.status_code == 422
    assert 'id="f-district-error"' in resp.text and "甲镇" in resp.text
    assert 'value="乙镇"' in resp.text  # what was typed is kept
    assert not await Tenant.exists().where(Tenant.slug == "ent-new")


async def test_a_district_center_needs_a_district(client, world):
    await login(client, world.users["city_admin"])
    resp = await client.post("/city/tenants/new", data=_form(
        client, slug="district-c", kind="district_center", parent=str(world.tenants["city"]["id"])))
    assert resp.status_code == 422 and 'id="f-district-error"' in resp.text


async def test_moving_a_center_to_another_district_takes_its_children_along(client, world):
    await login(client, world.users["city_admin"])
    data = _form(client, name="甲镇调解中心", slug="district-a", kind="district_center",
                 parent=str(world.tenants["city"]["id"]), district="甲街道")
    resp = await client.post("/city/tenants/district-a/edit", data=data, follow_redirects=False)
    assert resp.status_code == 303
    rows = {r["slug"]: r["district"] for r in await Tenant.select(Tenant.slug, Tenant.district)}
    assert rows["district-a"] == "甲街道" and rows["ent-a"] == "甲街道"
    assert rows["district-b"] == "乙镇"


async def test_moving_a_committee_under_a_center_of_another_district_inherits_or_is_refused(client, world):
    await login(client, world.users["city_admin"])
    b = str(world.tenants["b"]["id"])
    data = _form(client, name="ent-a name", slug="ent-a", parent=b, district="甲镇")
    refused = await client.post("/city/tenants/ent-a/edit", data=data)
    assert refused.status_code == 422 and 'id="f-district-error"' in refused.text
    moved = await client.post("/city/tenants/ent-a/edit", data={**data, "district": ""}, follow_redirects=False)
    assert moved.status_code == 303
    assert (await Tenant.select(Tenant.district).where(Tenant.slug == "ent-a").first())["district"] == "乙镇"
