"""Every response carries the security headers, a request id and the visitor's language,
including the framework's own 404 (no route) and 405 (wrong method); cookies carry their flags."""

from __future__ import annotations

import pytest

from tests.support import csrf_token, login

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def assert_hardened(resp) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert value in resp.headers.get(name, ""), (resp.status_code, name, dict(resp.headers))
    assert "'unsafe-inline'" not in resp.headers["content-security-policy"]
    assert len(resp.headers.get("x-request-id", "")) >= 8


@pytest.mark.parametrize(
    "language,not_found,not_allowed",
    [("zh-CN", "页面不存在", "该网址不支持此类请求"), ("en", "Page not found", "This address does not accept that kind of request.")],
)
async def test_framework_404_and_405_are_hardened_and_translated(client, language, not_found, not_allowed):
    client.headers["Accept-Language"] = language
    unknown = await client.get("/no/such/path/at/all")
    assert unknown.status_code == 404 and not_found in unknown.text
    assert_hardened(unknown)
    wrong_method = await client.put("/login")
    assert wrong_method.status_code == 405 and not_allowed in wrong_method.text
    assert_hardened(wrong_method)
    also_wrong = await client.delete("/")
    assert also_wrong.status_code == 405
    assert_hardened(also_wrong)


async def test_ordinary_pages_errors_and_static_files_are_hardened(client, world):
    for path in ("/", "/login", "/o/district-a/", "/o/nowhere/", "/static/css/site.css"):
        resp = await client.get(path)
        assert resp.status_code in (200, 404), path
        assert_hardened(resp)
    ids = {(await client.get("/")).headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3  # one per request


async def test_session_and_csrf_cookies_carry_their_flags(client, world):
    page = await client.get("/login")
    csrf_cookie = page.headers["set-cookie"]
    assert "tiaojie_csrf=" in csrf_cookie and "SameSite=lax" in csrf_cookie and "Path=/" in csrf_cookie
    resp = await login(client, world.users["a_staff"])
    assert resp.status_code == 303
    session_cookie = next(c for c in resp.headers.get_list("set-cookie") if c.startswith("tiaojie_session="))
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie and "Path=/" in session_cookie
    assert "Secure" not in session_cookie  # plain http here; see the https test below
    assert_hardened(resp)


async def test_cookies_are_secure_under_an_https_base_url(monkeypatch, world):
    from litestar.testing import AsyncTestClient

    from app import settings

    monkeypatch.setenv("BASE_URL", "https://tiaojie.example.cn")
    settings.get_settings.cache_clear()
    try:
        from app.main import create_app

        async with AsyncTestClient(app=create_app(), base_url="https://testserver.local") as c:
            c.headers["Accept-Language"] = "en"
            page = await c.get("/login")
            assert "Secure" in page.headers["set-cookie"]
            assert page.headers["strict-transport-security"].startswith("max-age=")
            resp = await c.post("/login", data={"email": world.users["a_staff"], "password": world.PASSWORD,
                                                "_csrf_token": csrf_token(c)}, follow_redirects=False)
            assert resp.status_code == 303
            session_cookie = next(x for x in resp.headers.get_list("set-cookie") if x.startswith("tiaojie_session="))
            assert "Secure" in session_cookie and "HttpOnly" in session_cookie
    finally:
        monkeypatch.undo()
        settings.get_settings.cache_clear()


def test_a_header_the_response_already_has_is_replaced_not_repeated():
    from app.core.middleware import SECURITY_HEADERS, _with_headers

    message = {"type": "http.response.start", "status": 200,
               "headers": [(b"content-type", b"text/plain"), (b"X-Frame-Options", b"SAMEORIGIN"),
                           (b"x-content-type-options", b"nosniff")]}
    _with_headers(message, [(b"x-request-id", b"abc"), *SECURITY_HEADERS])
    names = [name.lower() for name, _value in message["headers"]]
    assert len(names) == len(set(names)), names
    headers = dict(message["headers"])
    assert headers[b"x-frame-options"] == b"DENY" and headers[b"content-type"] == b"text/plain"
    assert headers[b"x-request-id"] == b"abc"
    assert set(names) == {b"content-type", b"x-request-id", *(name for name, _value in SECURITY_HEADERS)}
    bare = {"type": "http.response.start", "status": 204}
    _with_headers(bare, SECURITY_HEADERS)
    assert bare["headers"] == SECURITY_HEADERS


@pytest.mark.parametrize("secure", [False, True])
def test_the_csrf_cookie_header_is_what_litestar_writes(secure):
    from litestar.config.csrf import CSRFConfig
    from litestar.datastructures import Cookie
    from litestar.middleware.csrf import generate_csrf_token

    from app.core.sessions import CsrfMiddleware

    config = CSRFConfig(secret="s" * 32, cookie_name="tiaojie_csrf", cookie_secure=secure, cookie_samesite="lax")
    middleware = CsrfMiddleware(app=None, config=config)
    token = generate_csrf_token("s" * 32)
    message = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]}
    middleware._set_cookie_if_needed(message, token)
    expected = Cookie(key="tiaojie_csrf", value=token, path=config.cookie_path, secure=secure,
                      httponly=config.cookie_httponly, samesite="lax", domain=None).to_header(header="")
    assert message["headers"] == [(b"content-type", b"text/html"), (b"set-cookie", expected.encode())]
    assert ("Secure" in expected) is secure


async def test_a_post_without_the_csrf_cookie_is_refused(client, world):
    resp = await client.post("/login", data={"email": "x@example.com", "password": "y"})
    assert resp.status_code == 403


def test_cookies_are_read_as_simplecookie_reads_them():
    from app.core.middleware import _cookie

    def scope(*headers):
        return {"headers": [(b"cookie", h) for h in headers]}

    assert _cookie(scope(b"lang=en; tiaojie_csrf=abc"), "lang") == "en"
    assert _cookie(scope(b'lang="zh_Hans"'), "lang") == "zh_Hans"
    assert _cookie(scope(b"a=1", b"lang=en"), "lang") == "en"  # split over two headers
    assert _cookie(scope(b"a=1"), "lang") is None and _cookie(scope(), "lang") is None
    for _ in range(2):  # the second read comes from the parsed header, the same answer
        assert _cookie(scope(b"x=1; lang=en"), "x") == "1"
