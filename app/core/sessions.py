"""Server-side sessions in the database, bound CSRF tokens, ending sessions.

* A session lives in ``account_session`` (app/accounts/tables.py), so a Redis restart signs
  nobody out. The cookie holds a random id; the table keeps only its SHA-256.
* Cost per request: nothing for a visitor without a session cookie; one lookup by the unique
  ``key_hash`` index for everyone else, joined to the signed-in person and their memberships
  (``tenants.middleware.SESSION_WITH_USER_SQL``: the tenancy middleware needs no statement of its own). A row is written only when the session's data changed,
  and its expiry is pushed forward at most once a day (sliding 14 days).
* An id the server did not issue is never adopted: data for an unknown id goes under a new id.
  A session ended elsewhere (password changed, "sign out everywhere") stays ended: an in-flight
  request of that session updates nothing and cannot bring it back.
* ``rotate_session()`` gives a new id when the response is sent (at sign-in and password change).
* CSRF: Litestar's double-submit cookie is kept, and a signed-in session holds its own token
  (``bind_csrf()`` at sign-in). ``BoundCsrfMiddleware`` refuses an unsafe request of a signed-in
  session whose CSRF cookie is not that token, so a token obtained anywhere else (an anonymous
  page, another session) is worthless against this session.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.exceptions import PermissionDeniedException
from litestar.config.csrf import CSRFConfig
from litestar.middleware.csrf import CSRFMiddleware, generate_csrf_token
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import ASGIApp, Empty, Message, Receive, Scope, ScopeSession, Send
from litestar.utils.dataclass import extract_dataclass_items
from litestar.utils.scope.state import ScopeState

from app.settings import get_settings
from tenants.middleware import PRELOADED_USER, SESSION_WITH_USER_SQL

log = logging.getLogger(__name__)

_LOADED = "_session_loaded"
_FOUND = "_session_found"
_RENEW = "_session_renew"
_ROTATE = "_session_rotate"
_COOKIE_ID = "_session_cookie_id"

CSRF_COOKIE = "tiaojie_csrf"
CSRF_KEY = "csrf"
RENEW_AFTER = timedelta(days=1)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _user_of(data: dict[str, Any]) -> int | None:
    try:
        return int(data["user_id"]) if data.get("user_id") else None
    except (TypeError, ValueError):
        return None


def rotate_session(request: Any) -> None:
    """Give the session a new id when this response is sent (at sign-in, so an id
    known before signing in is worthless after it)."""
    request.scope.setdefault("state", {})[_ROTATE] = True


def current_session_id(request: Any) -> str | None:
    return request.scope.get("state", {}).get(_COOKIE_ID)


async def end_other_sessions(request: Any, user_id: int) -> int:
    """End every session of this person but the one making the request; how many ended."""
    from app.accounts.tables import Session

    own = current_session_id(request)
    query = Session.delete().where(Session.user == user_id)
    if own:
        query = query.where(Session.key_hash != _hash(own))
    before = await Session.count().where(Session.user == user_id)
    await query
    after = await Session.count().where(Session.user == user_id)
    return before - after


async def end_all_sessions(request: Any, user_id: int) -> None:
    """Sign this person out everywhere, this browser included."""
    from app.accounts.tables import Session

    await Session.delete().where(Session.user == user_id)
    request.clear_session()


async def delete_expired_sessions(now: datetime | None = None) -> int:
    """Delete every session row whose expiry has passed; how many went. (A session that
    comes back expired is also deleted then; this catches the ones that never come back.)"""
    from app.accounts.tables import Session

    deleted = await Session.delete().where(Session.expires_at <= (now or _now())).returning(Session.id)
    return len(deleted)


def bind_csrf(request: Any) -> Cookie:
    """A new CSRF token for this (just signed-in) session; the cookie to send with the response."""
    settings = get_settings()
    token = generate_csrf_token(settings.secret_key)
    request.scope["session"][CSRF_KEY] = token
    ScopeState.from_scope(request.scope).csrf_token = token
    return csrf_cookie(token)


def csrf_cookie(token: str) -> Cookie:
    return Cookie(key=CSRF_COOKIE, value=token, path="/", secure=get_settings().secure_cookies, httponly=False,
                  samesite="lax")


class DatabaseSessionBackend(ServerSideSessionBackend):
    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        from app.accounts.tables import Session

        state = connection.scope.setdefault("state", {})
        session_id = connection.cookies.get(self.config.key)
        data: dict[str, Any] = {}
        if session_id and session_id != "null":
            state[_COOKIE_ID] = session_id
            # The session and its person with their memberships, in one statement.
            rows = await Session.raw(SESSION_WITH_USER_SQL, _hash(session_id))
            row = rows[0] if rows else None
            now = _now()
            if row is not None and _aware(row["session_expires_at"]) > now:
                try:
                    data = json.loads(row["session_data"]) or {}
                except ValueError:
                    data = {}
                state[_FOUND] = True
                lifetime = timedelta(seconds=int(self.config.max_age))
                state[_RENEW] = _aware(row["session_expires_at"]) - now < lifetime - RENEW_AFTER
                if row["session_user"] is not None:
                    state[PRELOADED_USER] = (row["session_user"], rows)
        state[_LOADED] = json.dumps(data, sort_keys=True, default=str)
        return data

    def _cookie_params(self) -> dict[str, Any]:
        return dict(extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys()))

    def _set_cookie(self, message: Message, value: str, **extra: Any) -> None:
        MutableScopeHeaders.from_message(message).add(
            "Set-Cookie", Cookie(value=value, key=self.config.key, **{**self._cookie_params(), **extra}).to_header(header="")
        )

    async def _insert(self, data: dict[str, Any]) -> str:
        from app.accounts.tables import Session

        session_id = self.generate_session_id()
        await Session.insert(Session(
            key_hash=_hash(session_id), user=_user_of(data), data=json.dumps(data, default=str),
            expires_at=_now() + timedelta(seconds=int(self.config.max_age)),
        ))
        return session_id

    async def store_in_message(self, scope_session: ScopeSession, message: Message, connection: ASGIConnection) -> None:
        from app.accounts.tables import Session

        state = connection.scope.setdefault("state", {})
        cookie_id = state.get(_COOKIE_ID)
        empty = scope_session is Empty or not scope_session
        data = {} if empty else dict(scope_session)  # type: ignore[arg-type]
        if state.pop(_ROTATE, False) or (not empty and not state.get(_FOUND)):
            # A new id: at sign-in, or for data of a visitor without a (valid) session.
            if cookie_id:
                await Session.delete().where(Session.key_hash == _hash(cookie_id))
            if not empty:
                self._set_cookie(message, await self._insert(data))
                return
        if empty:
            if cookie_id:
                await Session.delete().where(Session.key_hash == _hash(cookie_id))
                self._set_cookie(message, "null", expires=0)
            return
        assert cookie_id is not None
        changed = json.dumps(data, sort_keys=True, default=str) != state.get(_LOADED)
        renew = state.get(_RENEW)
        if not changed and not renew:
            return
        values: dict[Any, Any] = {}
        if changed:
            values[Session.data] = json.dumps(data, default=str)
            values[Session.user] = _user_of(data)
        if renew:
            values[Session.expires_at] = _now() + timedelta(seconds=int(self.config.max_age))
        # Update only: a session ended meanwhile (elsewhere) is not brought back.
        await Session.update(values).where(Session.key_hash == _hash(cookie_id))
        if renew:
            self._set_cookie(message, cookie_id)


@dataclass
class DatabaseSessionConfig(ServerSideSessionConfig):
    _backend_class = DatabaseSessionBackend  # type: ignore[assignment]


LeanSessionConfig = DatabaseSessionConfig  # the name main.py imported before


def _replace_cookie(scope: Scope, name: str, value: str) -> None:
    """Make the rest of this request see ``name=value`` as the request's cookie."""
    from http.cookies import SimpleCookie

    headers = [(k, v) for k, v in scope.get("headers", []) if k != b"cookie"]
    jar: dict[str, str] = {}
    for key, raw in scope.get("headers", []):
        if key == b"cookie":
            parsed = SimpleCookie()
            try:
                parsed.load(raw.decode("latin-1"))
            except Exception:  # noqa: BLE001
                continue
            jar.update({k: m.value for k, m in parsed.items()})
    jar[name] = value
    headers.append((b"cookie", "; ".join(f"{k}={v}" for k, v in jar.items()).encode("latin-1")))
    scope["headers"] = headers
    state = ScopeState.from_scope(scope)
    state.headers = Empty
    state.cookies = Empty


class CsrfMiddleware(CSRFMiddleware):
    """Litestar's CSRF middleware (the double-submit check, unchanged), writing its cookie
    from a header built once. Litestar builds a ``Cookie`` dataclass, converts it to a dict
    and then to ``http.cookies.SimpleCookie`` for every visitor who has no token yet: 14% of
    a bare request's time, on every request from a client that keeps no cookies. Installed
    last in the app's middleware list, it sits where ``csrf_config`` would put Litestar's."""

    def __init__(self, app: ASGIApp, config: CSRFConfig) -> None:
        super().__init__(app, config)
        placeholder = "0" * 8
        header = Cookie(
            key=config.cookie_name, value=placeholder, path=config.cookie_path, secure=config.cookie_secure,
            httponly=config.cookie_httponly, samesite=config.cookie_samesite, domain=config.cookie_domain,
        ).to_header(header="")
        self._cookie_head, self._cookie_tail = header.split(placeholder, 1)

    def _set_cookie_if_needed(self, message: Any, token: str) -> None:
        if not token.isalnum() or not token.isascii():  # never, for Litestar's hex tokens; quoting is the Cookie's job
            super()._set_cookie_if_needed(message, token)
            return
        value = f"{self._cookie_head}{token}{self._cookie_tail}".encode("latin-1")
        message["headers"] = [*(message.get("headers") or ()), (b"set-cookie", value)]


class BoundCsrfMiddleware:
    """After the session middleware, before Litestar's CSRF check (which compares the form's
    token with the cookie): a signed-in session accepts only its own token."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session = scope.get("session") if scope["type"] == "http" else None
        if not isinstance(session, dict) or not session.get("user_id"):
            await self.app(scope, receive, send)
            return
        handler = scope.get("route_handler")
        if handler is not None and (handler.opt or {}).get("exclude_from_csrf"):
            # The public forms (feedback, /track) check their own double-submit token: they act
            # for nobody's account, so a signed-in person may use them like anyone else.
            await self.app(scope, receive, send)
            return
        bound = session.get(CSRF_KEY)
        if not bound:  # a session from before tokens were bound: bind one now
            bound = session[CSRF_KEY] = generate_csrf_token(get_settings().secret_key)
        sent = ScopeState.from_scope(scope).cookies
        cookie = (sent if sent is not Empty else {}).get(CSRF_COOKIE)  # type: ignore[union-attr]
        if cookie is None:
            from app.core.middleware import _cookie

            cookie = _cookie(scope, CSRF_COOKIE)
        if cookie == bound:
            await self.app(scope, receive, send)
            return
        if scope.get("method", "GET") not in SAFE_METHODS:
            raise PermissionDeniedException("CSRF token verification failed: not this session's token")
        _replace_cookie(scope, CSRF_COOKIE, bound)
        header = csrf_cookie(bound).to_header(header="")

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message).add("Set-Cookie", header)
            await send(message)

        await self.app(scope, receive, send_with_cookie)
