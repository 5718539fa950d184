"""Rows staff removed, kept for a while so the removal can be undone (Piccolo app "undo")."""

from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.accounts.tables import User
from tenants.scope import TenantScoped
from tenants.tables import Tenant


class RemovedRow(TenantScoped, Table):
    """A copy of a tenant-owned row taken out of its table by ``app.undo.service.remove``."""

    tenant = ForeignKey(Tenant, index=True)
    table_name = Varchar(length=64, index=True)
    row_id = Integer()
    data = JSON(default="{}")
    label = Varchar(length=200, default="")  # how staff name it: "调解咨询电话 · 0513-8820 0111"
    removed_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    removed_at = Timestamptz(default=TimestamptzNow(), index=True)
