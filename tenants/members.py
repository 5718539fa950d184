"""Reading a tenant's members (the membership table is keyed by tenant)."""

from __future__ import annotations

from typing import Any

from tenants.tables import Membership


async def tenant_members(tenant_id: int) -> list[dict[str, Any]]:
    return await Membership.select(
        Membership.id,
        Membership.role,
        Membership.user.name.as_alias("name"),
        Membership.user.email.as_alias("email"),
    ).where(Membership.tenant == tenant_id).order_by(Membership.role).order_by(Membership.user.name)
