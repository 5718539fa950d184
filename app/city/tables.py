"""The city console's own tables: monthly coverage snapshots and broadcast notices."""

from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.accounts.tables import User
from tenants.scope import TenantScoped
from tenants.tables import Tenant


class CoverageSnapshot(Table):
    """One measure of one district (or of the whole city when ``district`` is "") as it
    stood in ``month`` (YYYY-MM, Asia/Shanghai). Unique on (month, district, measure):
    the monthly job writes a month once, however often it runs."""

    month = Varchar(length=7, index=True)
    district = Varchar(length=100, default="")
    measure = Varchar(length=32)
    covered = Integer(default=0)
    total = Integer(default=0)
    taken_at = Timestamptz(default=TimestamptzNow())


class Broadcast(TenantScoped, Table):
    """A notice the city center (``tenant``) sent to organisations of the network."""

    tenant = ForeignKey(Tenant, index=True)
    subject = Varchar(length=120)
    body = Text(default="")
    # {"kinds": [...], "districts": [...]}: empty lists mean every kind / district.
    audience = JSON(default="{}")
    organisations = Integer(default=0)
    people = Integer(default=0)
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class BroadcastRecipient(TenantScoped, Table):
    """A notice as one receiving organisation (``tenant``) has it: its own row, in its scope."""

    tenant = ForeignKey(Tenant, index=True)
    broadcast = ForeignKey(Broadcast, index=True, on_delete=OnDelete.cascade)
    created_at = Timestamptz(default=TimestamptzNow())


class BroadcastRead(TenantScoped, Table):
    """A read receipt: who of the receiving organisation read the notice, and when."""

    tenant = ForeignKey(Tenant, index=True)
    broadcast = ForeignKey(Broadcast, index=True, on_delete=OnDelete.cascade)
    user = ForeignKey(User, index=True, on_delete=OnDelete.cascade)
    read_at = Timestamptz(default=TimestamptzNow())


class ReportFigure(Table):
    """One figure of the network report (``app.city.reports``): ``measure`` of the
    organisations of ``district`` ("" = city level) in ``month`` (YYYY-MM, Asia/Shanghai).
    Pre-aggregated by a worker and on demand; unique on (month, district, measure)."""

    month = Varchar(length=7, index=True)
    district = Varchar(length=100, default="")
    measure = Varchar(length=32)
    value = Integer(default=0)


class ReportMonth(Table):
    """When the figures of one month were last computed (a month without a row has none yet)."""

    month = Varchar(length=7, unique=True)
    computed_at = Timestamptz(default=TimestamptzNow())
