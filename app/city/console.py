"""The city console as one place: who the city center is for a request, its scope,
and the tabs every /city/ page shows (a new page of the console is one more tab)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from litestar import Request
from litestar.exceptions import NotFoundException

from app.i18n import lazy_gettext as _l
from tenants.scope import tenant_scope

# (path, label): the console's tabs, in order. Reports will be one more entry.
CITY_TABS: list[tuple[str, object]] = [
    ("/city/", _l("Overview")),
    ("/city/coverage", _l("Coverage")),
    ("/city/health", _l("Network health")),
    ("/city/registry", _l("Registry")),
    ("/city/broadcasts", _l("Notices")),
    ("/city/outreach", _l("Outreach")),
    ("/city/notifications", _l("Messages")),
]


def city_center(request: Request):
    """The city center the signed-in person belongs to (the route's access already required it)."""
    user = request.scope.get("user")
    membership = user.city_membership if user else None
    if membership is None:
        raise NotFoundException()
    return membership.tenant


@contextmanager
def city_scope(request: Request) -> Iterator[int]:
    """Enter the city center's own tenant scope (its register, its notices)."""
    with tenant_scope(city_center(request).id) as tenant_id:
        yield tenant_id
