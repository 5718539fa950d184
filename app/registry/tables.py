"""The city's register of enterprises and chambers of commerce / trade associations (DESIGN §3.6).

The register belongs to the city center that keeps it (``tenant``), so it is
tenant-scoped like any organisation's private data. Each row is identified by its
unified social credit code; imports update rows by that code.
"""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.accounts.tables import User
from tenants.scope import TenantScoped
from tenants.tables import Tenant


class Enterprise(TenantScoped, Table):
    """An enterprise of the city's register. Unique per register on ``credit_code``;
    a committee (an ``enterprise_committee`` organisation) represents at most one enterprise."""

    tenant = ForeignKey(Tenant, index=True)
    district = Varchar(length=100, index=True)
    name = Varchar(length=200)
    credit_code = Varchar(length=18)
    employees = Integer(default=0)
    labour_intensive = Boolean(default=False)
    has_committee = Boolean(default=False)
    committee = ForeignKey(Tenant, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=TimestamptzNow().python)


class Chamber(TenantScoped, Table):
    """A chamber of commerce or trade association; ``district`` is "" at city level."""

    tenant = ForeignKey(Tenant, index=True)
    district = Varchar(length=100, default="", index=True)
    name = Varchar(length=200)
    credit_code = Varchar(length=18)
    federation_member = Boolean(default=False)
    has_mediation_org = Boolean(default=False)
    mediation_org = ForeignKey(Tenant, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=TimestamptzNow().python)


class RegistryUpload(TenantScoped, Table):
    """An uploaded file between its preview and its confirmation: the rows as read,
    kept for one person of one city center until ``expires_at``."""

    tenant = ForeignKey(Tenant, index=True)
    token = Varchar(length=32, unique=True)
    user = ForeignKey(User, index=True)
    register = Varchar(length=16)
    filename = Varchar(length=200, default="")
    file_format = Varchar(length=8, default="")
    rows = JSON(default="[]")
    notes = JSON(default="[]")
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(index=True)
