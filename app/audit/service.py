"""The audit log of staff actions that change data."""

from __future__ import annotations

import functools
from typing import Any

from app.audit.tables import AuditEntry
from app.core.prepared import Prepared, prepared
from tenants.context import CurrentUser
from tenants.scope import tenant_scope, unscoped


def client_ip(request: Any) -> str:
    """The address a request came from (behind a proxy: as uvicorn's proxy headers set it)."""
    return request.client.host if request.client else ""


async def record(
    actor: CurrentUser | None,
    action: str,
    *,
    tenant_id: int | None,
    target: str = "",
    detail: dict[str, Any] | None = None,
    ip: str = "",
) -> None:
    entry = AuditEntry(
        tenant=tenant_id,
        user=actor.id if actor else None,
        action=action,
        target=target[:200],
        detail=detail or {},
        ip=ip[:64],
    )
    if tenant_id is None:
        with unscoped("account events belong to no tenant"):
            await entry.save()
    else:
        with tenant_scope(tenant_id):
            await entry.save()


async def recent_for_tenant(limit: int = 100) -> list[dict[str, Any]]:
    """Entries of the active tenant scope, newest first."""
    return await _recent(limit).run()


@functools.lru_cache(maxsize=8)
def _recent(limit: int) -> Prepared:
    return prepared(lambda: AuditEntry.select(
        AuditEntry.id,
        AuditEntry.action,
        AuditEntry.target,
        AuditEntry.detail,
        AuditEntry.created_at,
        AuditEntry.user.name.as_alias("user_name"),
    ).order_by(AuditEntry.id, ascending=False).limit(limit))
