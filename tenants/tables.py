"""Tenants (mediation organisations), their tree, and who belongs to them."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import (
    Boolean,
    ForeignKey,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.readable import Readable
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

from app.i18n import lazy_gettext as _l
from tenants.scope import TenantScoped


class TenantKind(str, Enum):
    city_center = "city_center"
    district_center = "district_center"
    enterprise_committee = "enterprise_committee"
    chamber_org = "chamber_org"
    union = "union"


KIND_LABELS = {
    TenantKind.city_center.value: _l("City joint mediation center"),
    TenantKind.district_center.value: _l("District / town / street mediation center"),
    TenantKind.enterprise_committee.value: _l("Enterprise mediation committee"),
    TenantKind.chamber_org.value: _l("Chamber / association mediation organisation"),
    TenantKind.union.value: _l("Trade union"),
}

# Which kinds may sit under which parent kinds (DESIGN §1).
ALLOWED_PARENTS: dict[str, tuple[str, ...]] = {
    TenantKind.city_center.value: (),
    TenantKind.district_center.value: (TenantKind.city_center.value,),
    TenantKind.enterprise_committee.value: (TenantKind.district_center.value,),
    TenantKind.chamber_org.value: (
        TenantKind.district_center.value,
        TenantKind.city_center.value,
    ),
    TenantKind.union.value: (TenantKind.city_center.value, TenantKind.district_center.value),
}


class Role(str, Enum):
    admin = "admin"
    staff = "staff"
    union_rep = "union_rep"


ROLE_LABELS = {
    Role.admin.value: _l("Administrator"),
    Role.staff.value: _l("Staff / mediator"),
    Role.union_rep.value: _l("Union representative"),
}


class Tenant(Table):
    slug = Varchar(length=64, unique=True, index=True)
    name = Varchar(length=200)
    kind = Varchar(length=32, choices=TenantKind, index=True)
    parent = ForeignKey("self", null=True, default=None, index=True)
    district = Varchar(length=100, default="", index=True)
    address = Varchar(length=300, default="")
    office_hours = Varchar(length=200, default="")
    description = Text(default="")
    logo = Varchar(length=300, default="")
    reception_window = Varchar(length=300, default="")
    reception_contact = Varchar(length=100, default="")
    reception_phone = Varchar(length=40, default="")
    active = Boolean(default=True, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=TimestamptzNow().python)

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="%s", columns=[cls.name])


class Membership(TenantScoped, Table):
    """A person's role in one tenant; a person may belong to several tenants.

    Tenant-scoped: a tenant's member list is its private data. A person's own
    memberships span tenants and are read with an explicit ``unscoped``."""

    user = ForeignKey(
        LazyTableReference("User", module_path="app.accounts.tables"), index=True
    )
    tenant = ForeignKey(Tenant, index=True)
    role = Varchar(length=16, choices=Role)
    created_at = Timestamptz(default=TimestamptzNow())
