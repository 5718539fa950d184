"""No member of one tenant reaches another tenant's console, in any role."""

from __future__ import annotations

import pytest

from tests.support import csrf_token, login

MANAGE_PAGES = ["/manage/{slug}/", "/manage/{slug}/settings", "/manage/{slug}/audit",
                "/manage/{slug}/notifications", "/manage/{slug}/notifications/1", "/manage/{slug}/inbox"]
B_MEMBERS = ["b_admin", "b_staff"]
def _main(html: str) -> str:
    return html[html.index("<main"): html.index("</main>")]


OUTSIDERS = ["b_admin", "b_staff", "ent_a_admin", "ent_a_staff", "union_admin", "union_rep", "city_staff"]


@pytest.mark.parametrize("who", OUTSIDERS)
async def test_outsiders_get_404_on_every_manage_page_of_district_a(client, world, who):
    assert (await login(client, world.users[who])).status_code == 303
    for page in MANAGE_PAGES:
        foreign = await client.get(page.format(slug="district-a"), follow_redirects=False)
        missing = await client.get(page.format(slug="no-such-tenant"), follow_redirects=False)
        assert foreign.status_code == 404, (who, page)
        assert missing.status_code == 404, (who, page)
        # The same answer: nothing tells a foreign tenant from a missing one.
        assert _main(foreign.text) == _main(missing.text)


@pytest.mark.parametrize("who", OUTSIDERS)
async def test_outsiders_cannot_change_district_a_settings(client, world, who):
    await login(client, world.users[who])
    resp = await client.post(
        "/manage/district-a/settings",
        data={"address": "taken over", "_csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert resp.status_code == 404
    await client.post("/logout", data={"_csrf_token": csrf_token(client)})
    await login(client, world.users["a_admin"])
    page = await client.get("/manage/district-a/settings")
    assert "taken over" not in page.text


async def test_anonymous_is_sent_to_login_even_for_missing_tenants(client, world):
    for slug in ("district-a", "no-such-tenant"):
        resp = await client.get(f"/manage/{slug}/", follow_redirects=False)
        assert resp.status_code == 303
        assert resp.headers["location"] == f"/login?next=/manage/{slug}/"


async def test_staff_is_refused_admin_pages_of_own_tenant_with_403(client, world):
    await login(client, world.users["a_staff"])
    assert (await client.get("/manage/district-a/")).status_code == 200
    assert (await client.get("/manage/district-a/settings")).status_code == 403
    assert (await client.get("/manage/district-a/audit")).status_code == 403
    resp = await client.post("/manage/district-a/settings", data={"address": "x", "_csrf_token": csrf_token(client)})
    assert resp.status_code == 403


async def test_city_console_is_only_for_city_members(client, world):
    await login(client, world.users["a_admin"])
    assert (await client.get("/city/")).status_code == 404
    await client.post("/logout", data={"_csrf_token": csrf_token(client)})
    await login(client, world.users["city_staff"])
    assert (await client.get("/city/")).status_code == 200
    assert (await client.get("/city/tenants/new")).status_code == 403
