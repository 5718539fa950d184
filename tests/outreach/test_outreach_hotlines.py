"""Hotlines: staff manage them, numbers are validated, the public sees tel: links."""

from __future__ import annotations

from app.audit.tables import AuditEntry
from app.outreach.tables import Hotline
from tenants.scope import tenant_scope, unscoped
from tests.support import csrf_token, login


def _data(client, **values):
    return {"label": "调解热线", "number": "0513 8888 1234", "hours": "工作日 9-17", "notes": "", "position": "10",
            "_csrf_token": csrf_token(client), **values}


async def test_staff_adds_a_hotline_and_the_number_is_normalised(client, world):
    await login(client, world.users["a_staff"])
    page = await client.get("/manage/district-a/hotlines")
    assert page.status_code == 200 and "Add a hotline" in page.text
    resp = await client.post("/manage/district-a/hotlines", data=_data(client), follow_redirects=False)
    assert resp.status_code == 303
    with tenant_scope(world.tenants["a"]["id"]):
        rows = await Hotline.select()
        assert await AuditEntry.exists().where(AuditEntry.action == "hotline.created")
    assert [(r["label"], r["number"], r["position"]) for r in rows] == [("调解热线", "0513-88881234", 10)]
    listing = await client.get("/manage/district-a/hotlines")
    assert 'href="tel:051388881234"' in listing.text and "Hotline “调解热线” was added." in listing.text


async def test_invalid_phone_is_refused_with_a_clear_message_keeping_input(client, world):
    await login(client, world.users["a_staff"])
    for bad in ("99999", "call us", "0513-12", "+1 415 555 0100"):
        resp = await client.post("/manage/district-a/hotlines", data=_data(client, number=bad, label="夜间热线"))
        assert resp.status_code == 422, bad
        assert 'id="f-number-error"' in resp.text and "Enter a Chinese mobile number" in resp.text
        assert 'value="夜间热线"' in resp.text
    with tenant_scope(world.tenants["a"]["id"]):
        assert await Hotline.count() == 0


async def test_missing_label_and_bad_order_are_refused(client, world):
    await login(client, world.users["a_staff"])
    resp = await client.post("/manage/district-a/hotlines", data=_data(client, label="", position="-3"))
    assert resp.status_code == 422
    assert 'id="f-label-error"' in resp.text and 'id="f-position-error"' in resp.text


async def test_mobile_and_service_numbers_are_accepted(client, world):
    await login(client, world.users["a_staff"])
    for number, label in (("138-1234-5678", "手机"), ("12333", "人社热线")):
        resp = await client.post("/manage/district-a/hotlines", data=_data(client, number=number, label=label),
                                 follow_redirects=False)
        assert resp.status_code == 303
    with tenant_scope(world.tenants["a"]["id"]):
        assert sorted(r["number"] for r in await Hotline.select(Hotline.number)) == ["12333", "13812345678"]


async def _hotline(tenant_id: int, label: str = "热线", number: str = "0513-88881234", position: int = 10) -> int:
    with tenant_scope(tenant_id):
        row = Hotline(tenant=tenant_id, label=label, number=number, position=position)
        await row.save()
        return row.id


async def test_edit_and_delete_a_hotline(client, world):
    hid = await _hotline(world.tenants["a"]["id"])
    await login(client, world.users["a_admin"])
    form = await client.get(f"/manage/district-a/hotlines/{hid}/edit")
    assert form.status_code == 200 and 'value="0513-88881234"' in form.text
    bad = await client.post(f"/manage/district-a/hotlines/{hid}/edit", data=_data(client, number="abc"))
    assert bad.status_code == 422
    ok = await client.post(f"/manage/district-a/hotlines/{hid}/edit", data=_data(client, label="新标签", number="13912345678"),
                           follow_redirects=False)
    assert ok.status_code == 303
    with tenant_scope(world.tenants["a"]["id"]):
        row = await Hotline.select().where(Hotline.id == hid).first()
    assert (row["label"], row["number"]) == ("新标签", "13912345678")
    asked = await client.post(f"/manage/district-a/hotlines/{hid}/delete", data={"_csrf_token": csrf_token(client)},
                              follow_redirects=False)
    assert asked.status_code == 200 and "Remove the hotline “新标签 · 139 1234 5678”?" in asked.text
    with unscoped("test"):
        assert await Hotline.count() == 1  # asked, not done
    gone = await client.post(f"/manage/district-a/hotlines/{hid}/delete",
                             data={"_csrf_token": csrf_token(client), "confirmed": "yes"}, follow_redirects=False)
    assert gone.status_code == 303
    with unscoped("test"):
        assert await Hotline.count() == 0


async def test_another_tenants_hotline_is_not_found(client, world):
    foreign = await _hotline(world.tenants["b"]["id"], label="乙镇热线")
    await login(client, world.users["a_admin"])
    assert (await client.get(f"/manage/district-a/hotlines/{foreign}/edit")).status_code == 404
    assert (await client.get("/manage/district-a/hotlines/999999/edit")).status_code == 404
    for action in ("edit", "delete"):
        resp = await client.post(f"/manage/district-a/hotlines/{foreign}/{action}", data=_data(client, label="taken"))
        assert resp.status_code == 404
    with unscoped("test"):
        assert (await Hotline.select(Hotline.label).first())["label"] == "乙镇热线"


async def test_hotline_pages_need_staff_of_the_tenant(client, world):
    anonymous = await client.get("/manage/district-a/hotlines", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    await login(client, world.users["b_staff"])
    assert (await client.get("/manage/district-a/hotlines")).status_code == 404
    resp = await client.post("/manage/district-a/hotlines", data=_data(client))
    assert resp.status_code == 404
    await client.post("/logout", data={"_csrf_token": csrf_token(client)})
    await login(client, world.users["union_rep"])
    assert (await client.get("/manage/union-a/hotlines")).status_code == 403


async def test_public_page_lists_hotlines_in_order_with_an_urgent_hint(client, world):
    a = world.tenants["a"]["id"]
    await _hotline(a, "第二条", "13812345678", position=20)
    await _hotline(a, "首选热线", "0513-88881234", position=10)
    page = (await client.get("/o/district-a/")).text
    assert page.index("首选热线") < page.index("第二条")
    assert 'href="tel:051388881234"' in page and 'href="tel:13812345678"' in page
    urgent = page[page.index('class="urgent"'):]
    assert urgent.index("Urgent? Call") < urgent.index("tel:051388881234") < urgent.index("</p>")
    assert '<meta property="og:title" content="district-a name">' in page
    assert "Hotline 0513-8888 1234" in page[page.index('name="description"'):page.index('name="description"') + 300]
    # Without any number the hint points at the national hotline.
    other = (await client.get("/o/district-b/")).text
    assert 'class="urgent"' in other and 'href="tel:12333"' in other[other.index('class="urgent"'):][:400]


async def test_all_hotlines_page_groups_by_district_and_filters(client, world):
    await _hotline(world.tenants["city"]["id"], "市中心热线", "0513-88101234")
    await _hotline(world.tenants["a"]["id"], "甲镇热线", "0513-88881234")
    await _hotline(world.tenants["b"]["id"], "乙镇热线", "13812345678")
    portal = (await client.get("/")).text
    assert 'href="/hotlines"' in portal and "市中心热线" in portal and 'href="tel:051388101234"' in portal
    page = (await client.get("/hotlines")).text
    # City level first, then districts in the portal's order.
    assert page.index("市中心热线") < page.index("乙镇热线") < page.index("甲镇热线")
    assert "<h2>甲镇</h2>" in page and 'href="tel:13812345678"' in page
    filtered = await client.get("/hotlines", params={"district": "乙镇"})
    assert "乙镇热线" in filtered.text and "甲镇热线" not in filtered.text
    fragment = await client.get("/hotlines", params={"district": "甲镇"}, headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="hotline-results"') and "甲镇热线" in fragment.text


async def test_inactive_organisations_hotlines_are_hidden(client, world):
    from tenants.tables import Tenant

    await _hotline(world.tenants["b"]["id"], "乙镇热线", "13812345678")
    await Tenant.update({Tenant.active: False}).where(Tenant.slug == "district-b")
    assert "乙镇热线" not in (await client.get("/hotlines")).text


async def test_full_width_input_is_accepted_and_shown_grouped(client, world):
    await login(client, world.users["a_staff"])
    resp = await client.post("/manage/district-a/hotlines",
                             data=_data(client, number="０５１３－８８８８１２３４"), follow_redirects=False)
    assert resp.status_code == 303
    resp = await client.post("/manage/district-a/hotlines",
                             data=_data(client, number="400-123-4567", label="服务热线"), follow_redirects=False)
    assert resp.status_code == 303
    with tenant_scope(world.tenants["a"]["id"]):
        assert sorted(r["number"] for r in await Hotline.select(Hotline.number)) == ["0513-88881234", "4001234567"]
    listing = await client.get("/manage/district-a/hotlines")
    assert '<a href="tel:051388881234">0513-8888 1234</a>' in listing.text
    assert '<a href="tel:4001234567">400-123-4567</a>' in listing.text
    public = await client.get("/o/district-a/")
    assert "0513-8888 1234" in public.text and "400-123-4567" in public.text


async def test_the_same_number_twice_is_refused_with_a_clear_message(client, world):
    await login(client, world.users["a_staff"])
    first = await client.post("/manage/district-a/hotlines", data=_data(client), follow_redirects=False)
    assert first.status_code == 303
    again = await client.post("/manage/district-a/hotlines",
                              data=_data(client, number="0513 8888 1234", label="夜间热线"))
    assert again.status_code == 422
    assert 'id="f-number-error"' in again.text
    assert "This number is already listed as “调解热线”. Edit that hotline instead." in again.text
    assert 'value="夜间热线"' in again.text  # nothing typed is lost
    with tenant_scope(world.tenants["a"]["id"]):
        assert await Hotline.count() == 1
        hotline_id = (await Hotline.select(Hotline.id).first())["id"]
    # Saving the hotline itself with its own number is not a duplicate.
    edit = await client.post(f"/manage/district-a/hotlines/{hotline_id}/edit",
                             data=_data(client, label="调解热线（白天）"), follow_redirects=False)
    assert edit.status_code == 303
    # Another organisation may publish the same number (e.g. a shared district line).
    await login(client, world.users["b_staff"])
    other = await client.post("/manage/district-b/hotlines", data=_data(client), follow_redirects=False)
    assert other.status_code == 303
