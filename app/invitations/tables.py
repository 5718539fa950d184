"""Invitations to join an organisation: adding a person sends a link they accept."""

from __future__ import annotations

from piccolo.columns import ForeignKey, LazyTableReference, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from tenants.scope import TenantScoped


class Invitation(TenantScoped, Table, tablename="invitation"):
    """One person (by email) invited to a role. Only the SHA-256 of the link's token is kept."""

    tenant = ForeignKey(LazyTableReference("Tenant", module_path="tenants.tables"), index=True,
                        on_delete=OnDelete.cascade)
    email = Varchar(length=254, index=True)
    role = Varchar(length=20)
    token_hash = Varchar(length=64, unique=True)
    invited_by = ForeignKey(LazyTableReference("User", module_path="app.accounts.tables"), null=True,
                            on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)
