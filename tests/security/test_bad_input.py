"""Bad input answers 4xx with a clear message, never 500 and never stored: ids beyond
64 bits or written with other digits, NUL bytes, invalid UTF-8; one length limit per field."""

from __future__ import annotations

import re

import pytest
from litestar.testing import AsyncTestClient

from app.main import create_app
from tests.support import csrf_token, login

BAD_IDS = [str(2**64), str(2**63), "9" * 40, "²", "٣", "１２", "-0", "+1"]
ROUTE_IDS = [str(2**63), "٣", "+1"]  # every route: beyond 64 bits, other digits, a sign


def _id_routes(app) -> list[tuple[str, str]]:
    """(method, path template) of every route with a numeric path parameter."""
    found = []
    for route in app.routes:
        if not re.search(r"\{[a-z_]*id:(int|str)\}", route.path):
            continue
        for method in sorted(getattr(route, "methods", ())):
            if method in ("GET", "POST"):
                found.append((method, route.path))
    return found


def _fill(path: str, bad: str) -> str:
    slug = "city" if path.startswith("/city/") else "district-a"
    path = path.replace("{slug:str}", slug)
    path = re.sub(r"\{[a-z_]*id:(int|str)\}", bad, path)
    return re.sub(r"\{[a-z_]+:str\}", "x", path)


async def test_routes_with_numeric_ids_refuse_bad_ids_without_500(world):
    app = create_app()
    routes = _id_routes(app)
    assert len(routes) >= 20
    failures = []
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as anonymous, \
            AsyncTestClient(app=create_app(), base_url="http://testserver.local") as staff, \
            AsyncTestClient(app=create_app(), base_url="http://testserver.local") as city:
        await login(staff, world.users["a_admin"])
        await login(city, world.users["city_admin"])
        for method, template in routes:
            # Who gets past the access check to where the id is read.
            c = city if template.startswith("/city/") else staff if template.startswith("/manage/") else anonymous
            for bad in ROUTE_IDS:
                url = _fill(template, bad)
                if method == "GET":
                    resp = await c.get(url, follow_redirects=False)
                else:
                    await c.get("/login" if c is anonymous else "/account/password")
                    resp = await c.post(url, data={"_csrf_token": csrf_token(c)}, follow_redirects=False)
                if resp.status_code not in (404, 422):
                    failures.append((method, url, resp.status_code))
    assert not failures, failures


@pytest.mark.parametrize("bad", BAD_IDS)
async def test_public_card_pages_answer_404(client, world, bad):
    for path in (f"/o/district-a/cards/{bad}", f"/o/district-a/cards/{bad}/qr.png"):
        resp = await client.get(path)
        assert resp.status_code == 404, (path, resp.status_code)
        assert "Page not found" in resp.text


def _tenant_form(client, **overrides):
    data = {"name": "丙镇劳动人事争议调解中心", "slug": "district-c", "kind": "district_center", "parent": "",
            "district": "丙镇", "address": "", "office_hours": "", "reception_window": "", "reception_contact": "",
            "reception_phone": "", "description": "", "active": "1", "_csrf_token": csrf_token(client)}
    data.update(overrides)
    return data


async def test_nul_bytes_are_refused_beside_the_field_and_not_stored(client, world):
    from tenants.tables import Tenant

    await login(client, world.users["city_admin"])
    data = _tenant_form(client, parent=str(world.tenants["city"]["id"]), name="丙镇\x00调解中心",
                        address="幸福路\x001号")
    resp = await client.post("/city/tenants/new", data=data, follow_redirects=False)
    assert resp.status_code == 422
    assert 'id="f-name-error"' in resp.text and 'id="f-address-error"' in resp.text
    assert "invisible control characters" in resp.text
    assert 'value="丙镇调解中心"' in resp.text  # the rest of what was typed is kept
    assert not await Tenant.exists().where(Tenant.slug == "district-c")
    # Nor can anyone sign in with (or be looked up by) such an email.
    await client.post("/logout", data={"_csrf_token": csrf_token(client)})
    await client.get("/login")
    resp = await client.post("/login", data={"email": "nul\x00@example.com", "password": "x",
                                             "_csrf_token": csrf_token(client)})
    assert resp.status_code == 400 and "invisible control characters" in resp.text


async def test_invalid_utf8_is_refused_not_stored_as_replacement_characters(client, world):
    from urllib.parse import urlencode

    from tenants.tables import Tenant

    await login(client, world.users["city_admin"])
    fields = _tenant_form(client, parent=str(world.tenants["city"]["id"]))
    body = (urlencode(fields) + "&").encode() .replace(b"address=&", b"address=%FF%FE%E4%B8&")
    assert b"%FF%FE" in body
    resp = await client.post("/city/tenants/new", content=body,
                             headers={"Content-Type": "application/x-www-form-urlencoded"}, follow_redirects=False)
    assert resp.status_code == 422
    assert 'id="f-address-error"' in resp.text and "not valid text" in resp.text
    assert not await Tenant.exists().where(Tenant.slug == "district-c")
    assert "\ufffd" not in resp.text


async def test_one_length_limit_per_field_in_the_city_form_and_the_organisation_settings(client, world):
    from tenants.tables import Tenant

    await login(client, world.users["city_admin"])
    long_text = "调" * 5001
    resp = await client.post("/city/tenants/new", data=_tenant_form(
        client, parent=str(world.tenants["city"]["id"]), description=long_text), follow_redirects=False)
    assert resp.status_code == 422 and 'id="f-description-error"' in resp.text
    assert "At most 5000 characters." in resp.text
    assert not await Tenant.exists().where(Tenant.slug == "district-c")
    ok = await client.post("/city/tenants/new", data=_tenant_form(
        client, parent=str(world.tenants["city"]["id"]), description="调" * 5000), follow_redirects=False)
    assert ok.status_code == 303
