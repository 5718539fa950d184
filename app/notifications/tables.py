"""The outbox: every message the platform sends is a row here first (DESIGN §3.7)."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.accounts.tables import User
from tenants.scope import TenantScoped
from tenants.tables import Tenant


class Channel(str, Enum):
    email = "email"
    sms = "sms"
    inapp = "inapp"


class Status(str, Enum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    cancelled = "cancelled"


class Notification(TenantScoped, Table):
    """One message to one recipient over one channel, sent on behalf of ``tenant``."""

    tenant = ForeignKey(Tenant, index=True)
    channel = Varchar(length=8, choices=Channel)
    # An email address, a phone number, or (in-app) the user's email for display.
    recipient = Varchar(length=254)
    recipient_user = ForeignKey(User, null=True, default=None, index=True)
    template_key = Varchar(length=64, index=True)
    locale = Varchar(length=16, default="zh_Hans")
    payload = JSON(default="{}")
    # Unique across the outbox: the same cause written twice is one message.
    dedupe_key = Varchar(length=200, unique=True)
    urgent = Boolean(default=False)
    status = Varchar(length=10, choices=Status, default=Status.pending.value, index=True)
    attempts = Integer(default=0)
    last_error = Text(default="")
    scheduled_for = Timestamptz(default=TimestamptzNow(), index=True)
    claimed_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    read_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
