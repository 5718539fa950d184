from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.accounts.tables import User
from tenants.scope import TenantScoped
from tenants.tables import Tenant


class AuditEntry(TenantScoped, Table):
    """One staff action that changed data. Tenant-owned; account events have no tenant."""

    tenant = ForeignKey(Tenant, null=True, default=None, index=True)
    user = ForeignKey(User, null=True, default=None, index=True)
    action = Varchar(length=64, index=True)
    target = Varchar(length=200, default="")
    detail = JSON(default="{}")
    ip = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
