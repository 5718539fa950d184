"""Bad input answers 4xx with a clear message, never 500 and never stored: ids beyond
64 bits or written with other digits, NUL bytes, invalid UTF-8; one length limit per field."""

from __future__ import annotations

import re

import pytest
from litestar.testing import AsyncTestClient

from app.main import create_app
from tests.support import csrf_token, login

BAD_IDS = [str(2**64), str(2**63), "9" * 40, "²", "٣", "１２", "-0", "+1"]


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
            for bad in BAD_IDS:
                url = _fill(template, bad)
                for c in (anonymous, staff, city):
                    if method == "GET":
                        resp = await c.get(url, follow_redirects=False)
                    else:
                        await c.get("/login" if c is anonymous else "/account/password")
                        resp = await c.post(url, data={"_csrf_token": csrf_token(c)}, follow_redirects=False)
                    if resp.status_code >= 500:
                        failures.append((method, url, resp.status_code))
    assert not failures, failures


@pytest.mark.parametrize("bad", ["18446744073709551616", "²", "٣"])
async def test_public_card_pages_answer_404(client, world, bad):
    for path in (f"/o/district-a/cards/{bad}", f"/o/district-a/cards/{bad}/qr.png"):
        resp = await client.get(path)
        assert resp.status_code == 404, (path, resp.status_code)
        assert "Page not found" in resp.text
