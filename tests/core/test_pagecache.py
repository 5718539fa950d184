"""Public pages are cached for anonymous visitors and a change shows on the next request."""

from __future__ import annotations

from app.core.pagecache import VERSION_KEY
from app.main import create_app
from tests.support import csrf_token, login, redis_sync


async def test_anonymous_page_is_served_from_cache_until_a_change(client, world):
    first = await client.get("/o/district-a/")
    second = await client.get("/o/district-a/")
    assert "x-page-cache" not in first.headers
    assert second.headers.get("x-page-cache") == "hit"
    assert second.text == first.text
    assert second.headers["content-type"] == "text/html; charset=utf-8"

    # A staff edit through the app shows on the very next anonymous request.
    staff = client.__class__(app=create_app(), base_url="http://testserver.local")
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


async def test_a_redis_restart_starts_over_instead_of_serving_stale(client, world):
    import asyncio

    await client.get("/o/district-a/")
    assert (await client.get("/o/district-a/")).headers.get("x-page-cache") == "hit"
    # Redis restarts empty: the token is gone and every connection is dropped.
    r = redis_sync()
    r.delete(VERSION_KEY)
    r.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
    for _ in range(50):
        resp = await client.get("/o/district-a/")
        if "x-page-cache" not in resp.headers:
            break
        await asyncio.sleep(0.1)
    assert "x-page-cache" not in resp.headers


async def test_a_change_in_another_process_arrives_by_subscription(client, world):
    """Another web process bumps: this one hears it through Redis, not through memory."""
    import asyncio
    import os
    import subprocess
    import sys

    await client.get("/o/district-a/")
    assert (await client.get("/o/district-a/")).headers.get("x-page-cache") == "hit"
    watcher = client.app.state.page_versions
    assert watcher.live
    field = f"t:{world.tenants['a']['id']}"
    before = watcher.versions.get(field)
    # A separate OS process (same database and Redis) commits a change of district-a and bumps.
    other = await asyncio.create_subprocess_exec(
        sys.executable, "-c",
        "import asyncio, os, sys; from app.core.pagecache import bump; asyncio.run(bump(int(sys.argv[1]))); "
        "print(os.getpid())", str(world.tenants["a"]["id"]),
        env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(other.communicate(), 60)
    assert other.returncode == 0, err.decode()
    assert int(out) != os.getpid()
    for _ in range(50):
        if watcher.versions.get(field) != before:
            break
        await asyncio.sleep(0.05)
    token = redis_sync().hget(VERSION_KEY, field).decode()
    assert watcher.versions.get(field) != before and watcher.versions.get(field) == token
    assert "x-page-cache" not in (await client.get("/o/district-a/")).headers


async def test_editing_one_organisation_keeps_the_others_cached_pages(client, world):
    """An edit of district-a renders district-a's pages, its child's and the lists again;
    district-b's cached page stays a hit, in this process and in another one."""
    import asyncio

    pages = ["/o/district-a/", "/o/ent-a/", "/o/district-b/", "/", "/hotlines", "/events"]
    async with client.__class__(app=create_app(), base_url="http://testserver.local") as other:
        other.headers["Accept-Language"] = "en"  # another web process: it hears the change by subscription
        for browser in (client, other):
            for path in pages:
                await browser.get(path)
                assert (await browser.get(path)).headers.get("x-page-cache") == "hit", path
        async with client.__class__(app=create_app(), base_url="http://testserver.local") as staff:
            await login(staff, world.users["a_admin"])
            resp = await staff.post("/manage/district-a/settings",
                                    data={"address": "新地址 7 号", "_csrf_token": csrf_token(staff)},
                                    follow_redirects=False)
            assert resp.status_code == 303
        field = f"t:{world.tenants['a']['id']}"
        for _ in range(50):  # the other process switches when the message arrives
            if other.app.state.page_versions.versions.get(field) == redis_sync().hget(VERSION_KEY, field).decode():
                break
            await asyncio.sleep(0.05)
        assert other.app.state.page_versions.versions.get(field) == redis_sync().hget(VERSION_KEY, field).decode()
        # Both apps share this process's cache: the first one's misses prove what was cleared,
        # the other app's answers that it follows the new tokens.
        assert (await client.get("/o/district-b/")).headers.get("x-page-cache") == "hit"
        for path in ["/o/district-a/", "/o/ent-a/", "/", "/hotlines", "/events"]:
            assert "x-page-cache" not in (await client.get(path)).headers, path
        assert (await other.get("/o/district-b/")).headers.get("x-page-cache") == "hit"
        assert "新地址 7 号" in (await other.get("/o/district-a/")).text


async def test_htmx_variants_do_not_poison_each_other(client, world):
    """A boosted htmx request gets the whole page; it must not be served to a plain htmx
    request (which gets the fragment), whichever comes first; answers say what they vary on."""
    boosted = {"HX-Request": "true", "HX-Boosted": "true"}
    for attempt in range(2):  # the second time both come from the cache
        whole = await client.get("/", params={"q": "district"}, headers=boosted)
        fragment = await client.get("/", params={"q": "district"}, headers={"HX-Request": "true"})
        targeted = await client.get("/", params={"q": "district"},
                                    headers={"HX-Request": "true", "HX-Target": "results"})
        assert whole.text.lstrip().startswith("<!doctype html>"), attempt
        assert fragment.text.lstrip().startswith('<div id="results"'), attempt
        assert targeted.text.lstrip().startswith('<div id="results"'), attempt
    assert fragment.headers.get("x-page-cache") == "hit"
    for response in (whole, fragment, await client.get("/o/district-a/")):
        vary = {v.strip().lower() for v in response.headers["vary"].split(",")}
        assert {"hx-request", "hx-boosted", "hx-target", "accept-language", "cookie"} <= vary


async def test_the_language_cookie_gets_its_own_cached_page(client, world):
    await client.get("/o/district-a/")
    english = await client.get("/o/district-a/")
    chinese = await client.get("/o/district-a/", cookies={"lang": "zh_Hans"})
    assert english.headers.get("x-page-cache") == "hit"
    assert '<html lang="en">' in english.text and '<html lang="zh-CN">' in chinese.text


async def test_a_new_hotline_shows_on_the_next_anonymous_request(client, world):
    await client.get("/o/district-a/")
    assert (await client.get("/o/district-a/")).headers.get("x-page-cache") == "hit"
    async with client.__class__(app=create_app(), base_url="http://testserver.local") as staff:
        await login(staff, world.users["a_staff"])
        resp = await staff.post("/manage/district-a/hotlines",
                                data={"label": "夜间热线", "number": "13812345678", "hours": "", "notes": "",
                                      "position": "1", "_csrf_token": csrf_token(staff)}, follow_redirects=False)
        assert resp.status_code == 303
    page = await client.get("/o/district-a/")
    assert "x-page-cache" not in page.headers and "tel:13812345678" in page.text
    hotlines = await client.get("/hotlines")
    assert "13812345678" in hotlines.text


async def test_a_burst_of_misses_renders_the_page_once(world, monkeypatch):
    import asyncio

    from app.directory import service

    calls = 0
    real = service.find_organisations

    async def counted(*args, **kwargs):
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)  # a slow render, so the others arrive meanwhile
        return await real(*args, **kwargs)

    monkeypatch.setattr(service, "find_organisations", counted)

    class Forgetful(dict):  # stores nothing: only the single flight can spare renders
        def __setitem__(self, key, value):
            pass

    from app.core import pagecache

    monkeypatch.setattr(pagecache, "_pages", Forgetful())
    import httpx

    # The app in this test's own event loop, so the eight requests really overlap.
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as direct:
        responses = await asyncio.gather(*(direct.get("/", params={"kind": "union"}) for _ in range(8)))
    assert all(r.status_code == 200 and "union-a name" in r.text for r in responses)
    assert calls == 1
