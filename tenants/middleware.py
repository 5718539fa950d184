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
from tenants.scope import tenant_scope, unscoped
from tenants.tables import Membership, Tenant

_TENANT_PATH = re.compile(r"^/(?:o|manage)/([a-z0-9][a-z0-9-]{0,63})(?:/|$)")


async def load_current_user(user_id: int) -> CurrentUser | None:
    from app.accounts.tables import User

    user = (
        await User.select(User.id, User.email, User.name, User.locale)
        .where((User.id == user_id) & (User.is_active == True))  # noqa: E712
        .first()
    )
    if user is None:
        return None
    with unscoped("a person's own memberships span tenants"):
        rows = (
            await Membership.select(
                Membership.role,
                Membership.tenant.id,
                Membership.tenant.slug,
                Membership.tenant.name,
                Membership.tenant.kind,
            )
            .where((Membership.user == user_id) & (Membership.tenant.active == True))  # noqa: E712
            .order_by(Membership.id)
        )
    memberships = tuple(
        MembershipRef(
            tenant=TenantRef(
                id=r["tenant.id"], slug=r["tenant.slug"], name=r["tenant.name"], kind=r["tenant.kind"]
            ),
            role=r["role"],
        )
        for r in rows
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
        scope["user"] = await load_current_user(int(user_id)) if user_id else None
        state = scope.setdefault("state", {})
        match = _TENANT_PATH.match(scope["path"])
        tenant = await load_tenant(match.group(1), scope) if match else None
        state["tenant"] = tenant
        if tenant is None:
            await self.app(scope, receive, send)
            return
        with tenant_scope(tenant["id"]):
            await self.app(scope, receive, send)
