"""Outreach: hotlines, information cards, the manual outreach log and daily counts."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.accounts.tables import User
from app.i18n import lazy_gettext as _l
from tenants.scope import TenantScoped
from tenants.tables import Tenant


class Hotline(TenantScoped, Table):
    """A published phone number (公布电话) of one organisation."""

    tenant = ForeignKey(Tenant, index=True)
    label = Varchar(length=100)
    number = Varchar(length=40)
    hours = Varchar(length=200, default="")
    notes = Varchar(length=300, default="")
    position = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class InfoCard(TenantScoped, Table):
    """An information card (信息公示卡); its QR code opens ``/q/<code>``."""

    tenant = ForeignKey(Tenant, index=True)
    code = Varchar(length=16, unique=True, index=True)
    title = Varchar(length=100)
    body = Text(default="")
    contact_lines = Text(default="")
    audience = Varchar(length=100, default="")
    published = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=TimestamptzNow().python)
    # A deleted card stays as a row: its printed QR code keeps leading to the
    # organisation (uncounted), and staff can restore it.
    deleted_at = Timestamptz(null=True, default=None)


class EntryKind(str, Enum):
    materials = "materials"
    cards = "cards"
    network_group = "network_group"
    visit = "visit"
    lecture = "lecture"
    other = "other"


ENTRY_KIND_LABELS = {
    EntryKind.materials.value: _l("Materials distributed"),
    EntryKind.cards.value: _l("Information cards handed out"),
    EntryKind.network_group.value: _l("Network groups"),
    EntryKind.visit.value: _l("Visits"),
    EntryKind.lecture.value: _l("Lectures and talks"),
    EntryKind.other.value: _l("Other outreach"),
}


class OutreachEntry(TenantScoped, Table):
    """Offline outreach recorded by staff (leaflets, cards handed out, visits...)."""

    tenant = ForeignKey(Tenant, index=True)
    day = Date(index=True)
    kind = Varchar(length=32, choices=EntryKind)
    quantity = Integer(default=0)  # not "count": that would hide Table.count()
    notes = Varchar(length=500, default="")
    card = ForeignKey(InfoCard, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class Metric(str, Enum):
    page_view = "page_view"
    qr_scan = "qr_scan"


class DailyCount(TenantScoped, Table):
    """What the platform counted by itself, one row per tenant, day, metric and
    subject (``ref``: the card of a QR scan, 0 otherwise). Unique on all four
    (second migration); the counter flush adds to it."""

    tenant = ForeignKey(Tenant, index=True)
    day = Date(index=True)
    metric = Varchar(length=32, choices=Metric)
    ref = Integer(default=0)
    hits = Integer(default=0)


class CounterFlush(Table):
    """Counter batches already added to DailyCount: a batch left in Redis by a
    crash after COMMIT is recognised here and not added twice."""

    batch = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
