"""Resolve the user and the tenant of a request, and enter that tenant's scope.

Runs after the session middleware. Puts ``user`` (a ``CurrentUser`` or None) in
the ASGI scope and the tenant of ``/o/<slug>/…`` or ``/manage/<slug>/…`` (or None
when no such tenant exists) in ``scope["state"]["tenant"]``. Guards decide what
a missing tenant means (404, or a login redirect for anonymous users first).
"""

from __future__ import annotations

import re

from litestar.types import ASGIApp, Receive, Scope, Send

from tenants.context import CurrentUser, MembershipRef, TenantRef
from tenants.scope import tenant_scope
from tenants.tables import Tenant

_TENANT_PATH = re.compile(r"^/(?:o|manage)/([a-z0-9][a-z0-9-]{0,63})(?:/|$)")


# The person and their memberships in one statement (one round trip, and no query to
# build per request: Piccolo's join selects cost more to compose than to run).
_CURRENT_USER_SQL = """
SELECT u.id AS id, u.email AS email, u.name AS name, u.locale AS locale,
       m.role AS role, t.id AS tenant_id, t.slug AS tenant_slug, t.name AS tenant_name,
       t.kind AS tenant_kind, t.active AS tenant_active
FROM account_user u
LEFT JOIN membership m ON m."user" = u.id
LEFT JOIN tenant t ON t.id = m.tenant
WHERE u.id = {} AND u.is_active = TRUE
ORDER BY m.id
"""


# The same person and memberships joined to the session row, read by the session middleware
# in the statement that loads the session (app/core/sessions.py): a signed-in request then
# costs one statement before the page's own instead of two.
SESSION_WITH_USER_SQL = """
SELECT s.data AS session_data, s.expires_at AS session_expires_at, s."user" AS session_user,
       u.id AS id, u.email AS email, u.name AS name, u.locale AS locale,
       m.role AS role, t.id AS tenant_id, t.slug AS tenant_slug, t.name AS tenant_name,
       t.kind AS tenant_kind, t.active AS tenant_active
FROM account_session s
LEFT JOIN account_user u ON u.id = s."user" AND u.is_active = TRUE
LEFT JOIN membership m ON m."user" = u.id
LEFT JOIN tenant t ON t.id = m.tenant
WHERE s.key_hash = {}
ORDER BY m.id
"""
PRELOADED_USER = "_preloaded_user"  # scope["state"] key: (user id, rows of SESSION_WITH_USER_SQL)


async def load_current_user(user_id: int, preloaded: tuple[int, list[dict]] | None = None) -> CurrentUser | None:
    """The signed-in person with their memberships; ``preloaded`` is what the session's own
    statement read for the session's user (used when it is the same person)."""
    from app.accounts.tables import User

    if preloaded is not None and preloaded[0] == user_id:
        rows = [r for r in preloaded[1] if r["id"] is not None]
    else:
        # A person's own memberships span tenants (what unscoped() is for; raw SQL is not scoped).
        rows = await User.raw(_CURRENT_USER_SQL, user_id)
    if not rows:
        return None
    user = rows[0]
    memberships = tuple(
        MembershipRef(
            tenant=TenantRef(id=r["tenant_id"], slug=r["tenant_slug"], name=r["tenant_name"], kind=r["tenant_kind"]),
            role=r["role"],
        )
        for r in rows
        if r["tenant_id"] is not None and r["tenant_active"]
    )
    return CurrentUser(
        id=user["id"], email=user["email"], name=user["name"], locale=user["locale"], memberships=memberships
    )


_tenants: dict[tuple[str, str], dict | None] = {}


async def load_tenant(slug: str, scope: dict | None = None) -> dict | None:
    """The tenant row by slug, cached per public version (tenant edits bump it)."""
    from app.core.pagecache import current_version

    version = await current_version(scope) if scope is not None else None
    if version is not None and (version, slug) in _tenants:
        return _tenants[(version, slug)]
    tenant = await Tenant.select().where(Tenant.slug == slug).first()
    if version is not None:
        if len(_tenants) > 4096:
            _tenants.clear()
        _tenants[(version, slug)] = tenant
    return tenant


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session = scope.get("session") or {}
        user_id = session.get("user_id") if isinstance(session, dict) else None
        state = scope.setdefault("state", {})
        scope["user"] = await load_current_user(int(user_id), state.pop(PRELOADED_USER, None)) if user_id else None
        match = _TENANT_PATH.match(scope["path"])
        tenant = await load_tenant(match.group(1), scope) if match else None
        state["tenant"] = tenant
        if tenant is None:
            await self.app(scope, receive, send)
            return
        with tenant_scope(tenant["id"]):
            await self.app(scope, receive, send)
