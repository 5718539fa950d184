"""The city console: who the city center is for a request, and its scope.

The tabs every /city/ page shows are in ``templates/city/_console_nav.html`` (a new
page of the console, such as reports, is one more tab there)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from litestar import Request
from litestar.exceptions import NotFoundException

from tenants.scope import tenant_scope


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
