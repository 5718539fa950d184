"""Request id, locale and security headers for every response."""

from __future__ import annotations

import functools
import secrets
from http.cookies import SimpleCookie

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app import i18n
from app.settings import get_settings

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

LOCALE_COOKIE = "lang"

# Added to every response, as raw ASGI headers built once.
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000")


def _with_headers(message: Message, added: list[tuple[bytes, bytes]]) -> None:
    """Sets ``added`` on a response start message: appended when the response has no header
    of that name (nearly always: one pass over its headers), replacing it when it has."""
    headers = list(message.get("headers") or ())
    present = {name.lower() for name, _value in headers}
    for name, value in added:
        if name in present:
            headers = [(n, v) for n, v in headers if n.lower() != name]
        headers.append((name, value))
    message["headers"] = headers


@functools.lru_cache(maxsize=1024)
def _parsed_cookies(header: bytes) -> dict[str, str] | None:
    """A Cookie header's values (None: a header SimpleCookie refuses), parsed once per
    distinct header: a browser sends the same header with every request of a visit, and
    parsing it again was 2–5% of a request. Read only."""
    jar = SimpleCookie()
    try:
        jar.load(header.decode("latin-1"))
    except Exception:  # noqa: BLE001 - a malformed header from a client
        return None
    return {name: morsel.value for name, morsel in jar.items()}


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            cookies = _parsed_cookies(value)
            if cookies is None:
                return None
            if name in cookies:
                return cookies[name]
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


class RequestBasicsMiddleware:
    """Outermost: request id, locale from cookie/Accept-Language, security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = SECURITY_HEADERS + ([HSTS] if get_settings().secure_cookies else [])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(6)
        scope.setdefault("state", {})["request_id"] = request_id
        locale = i18n.negotiate(_cookie(scope, LOCALE_COOKIE), _header(scope, b"accept-language"))
        token = i18n.set_locale(locale)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _with_headers(message, [(b"x-request-id", request_id.encode()), *self.headers])
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            i18n.reset_locale(token)
