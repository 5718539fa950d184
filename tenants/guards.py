"""Every route declares who may use it in ``opt={"access": ...}``; one guard enforces it.

Access values:
  ``public``                anyone
  ``login``                 any signed-in person
  ``tenant:<role>``         a member of the URL's tenant holding <role>
                            (member, staff, admin, union_rep; see ROLE_SATISFIES)
  ``city:<role>``           a member of the city center holding <role>

Outcomes: anonymous -> login redirect (401, turned into a redirect); signed in but
not a member, or the tenant does not exist -> the same 404; a member whose role is
too low -> 403. A route without a declaration is refused (fail-closed).
"""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.exceptions import (
    ImproperlyConfiguredException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.handlers.base import BaseRouteHandler

from tenants.context import ROLE_SATISFIES, CurrentUser, role_allows

PUBLIC = "public"
LOGIN = "login"


def tenant_access(role: str) -> dict[str, str]:
    assert role in ROLE_SATISFIES, role
    return {"access": f"tenant:{role}"}


def city_access(role: str) -> dict[str, str]:
    assert role in ROLE_SATISFIES, role
    return {"access": f"city:{role}"}


def parse_access(access: object) -> tuple[str, str | None]:
    if access in (PUBLIC, LOGIN):
        return str(access), None
    if isinstance(access, str) and ":" in access:
        kind, role = access.split(":", 1)
        if kind in ("tenant", "city") and role in ROLE_SATISFIES:
            return kind, role
    raise ImproperlyConfiguredException(f"invalid access declaration {access!r}")


def is_auto_options(handler: BaseRouteHandler) -> bool:
    """Litestar's generated OPTIONS handler: answers with an Allow header, reads nothing."""
    methods = getattr(handler, "http_methods", set())
    return set(methods) == {"OPTIONS"} and "access" not in handler.opt


def undeclared_routes(app) -> list[str]:
    """Route handlers that declare no access (the app refuses to start with any)."""
    missing = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if "access" not in handler.opt and not is_auto_options(handler):
                missing.append(f"{route.path} {sorted(getattr(handler, 'http_methods', []))}")
            elif "access" in handler.opt:
                parse_access(handler.opt["access"])
    return missing


async def enforce_access(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    if is_auto_options(handler):
        return
    if "access" not in handler.opt:
        raise ImproperlyConfiguredException(f"route {handler} declares no access")
    kind, role = parse_access(handler.opt["access"])
    if kind == PUBLIC:
        return
    user: CurrentUser | None = connection.scope.get("user")
    if user is None:
        raise NotAuthorizedException()
    if kind == LOGIN:
        return
    assert role is not None
    if kind == "tenant":
        tenant = connection.scope.get("state", {}).get("tenant")
        held = user.role_in(tenant["id"]) if tenant else None
        if held is None:
            raise NotFoundException()
        if not role_allows(held, role):
            raise PermissionDeniedException()
        return
    city = user.city_membership
    if city is None:
        raise NotFoundException()
    if not role_allows(city.role, role):
        raise PermissionDeniedException()
