"""Public pages are cached for anonymous visitors and a change shows on the next request."""

from __future__ import annotations

from app.core.pagecache import VERSION_KEY
from tests.support import csrf_token, login, redis_sync


async def test_anonymous_page_is_served_from_cache_until_a_change(client, world):
    first = await client.get("/o/district-a/")
    second = await client.get("/o/district-a/")
    assert "x-page-cache" not in first.headers
    assert second.headers.get("x-page-cache") == "hit"
    assert second.text == first.text
    assert second.headers["content-type"] == "text/html; charset=utf-8"

    # A staff edit through the app shows on the very next anonymous request.
    staff = client.__class__(app=client.app, base_url="http://testserver.local")
    async with staff:
        await login(staff, world.users["a_admin"])
        resp = await staff.post("/manage/district-a/settings",
                                data={"address": "新地址 99 号", "_csrf_token": csrf_token(staff)},
                                follow_redirects=False)
        assert resp.status_code == 303
    after = await client.get("/o/district-a/")
    assert "x-page-cache" not in after.headers and "新地址 99 号" in after.text


async def test_languages_and_fragments_are_cached_apart(client, world):
    await client.get("/")
    english = await client.get("/")
    chinese = await client.get("/", headers={"Accept-Language": "zh-CN"})
    fragment = await client.get("/", headers={"HX-Request": "true"})
    assert english.headers.get("x-page-cache") == "hit"
    assert '<html lang="zh-CN">' in chinese.text
    assert fragment.text.lstrip().startswith('<div id="results"')


async def test_signed_in_pages_are_never_cached(client, world):
    await login(client, world.users["a_staff"])
    await client.get("/o/district-a/")
    again = await client.get("/o/district-a/")
    assert "x-page-cache" not in again.headers
    assert world.users["a_staff"].split("@")[0] in again.text  # the nav shows who is signed in


async def test_a_lost_version_token_starts_over_instead_of_serving_stale(client, world):
    await client.get("/o/district-a/")
    redis_sync().delete(VERSION_KEY)  # e.g. Redis restarted empty
    resp = await client.get("/o/district-a/")
    assert "x-page-cache" not in resp.headers


async def test_a_new_hotline_shows_on_the_next_anonymous_request(client, world):
    await client.get("/o/district-a/")
    assert (await client.get("/o/district-a/")).headers.get("x-page-cache") == "hit"
    async with client.__class__(app=client.app, base_url="http://testserver.local") as staff:
        await login(staff, world.users["a_staff"])
        resp = await staff.post("/manage/district-a/hotlines",
                                data={"label": "夜间热线", "number": "13812345678", "hours": "", "notes": "",
                                      "position": "1", "_csrf_token": csrf_token(staff)}, follow_redirects=False)
        assert resp.status_code == 303
    page = await client.get("/o/district-a/")
    assert "x-page-cache" not in page.headers and "tel:13812345678" in page.text
    hotlines = await client.get("/hotlines")
    assert "13812345678" in hotlines.text
