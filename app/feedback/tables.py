"""The feedback mailbox (意见信箱): items, who may read them, their history, settings.

Visibility follows the tenant tree. An item is *held* by one organisation at a time
(``FeedbackItem.tenant``): the one that acts on it (replies, assigns, escalates).
Every organisation that ever held it has a ``FeedbackAccess`` row in its own scope,
so the organisation it was sent to keeps read access after an escalation, and
nobody else ever gets one. Staff reads start from ``FeedbackAccess`` (scoped),
writes from ``FeedbackItem`` (scoped to the holder).
"""

from __future__ import annotations

from enum import Enum

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.accounts.tables import User
from app.i18n import lazy_gettext as _l
from tenants.scope import TenantScoped
from tenants.tables import Tenant


class Category(str, Enum):
    wage_arrears = "wage_arrears"
    labour_contract = "labour_contract"
    social_insurance = "social_insurance"
    working_hours = "working_hours"
    dismissal = "dismissal"
    occupational_injury = "occupational_injury"
    other = "other"


CATEGORY_LABELS = {
    Category.wage_arrears.value: _l("Wage arrears"),
    Category.labour_contract.value: _l("Labour contract"),
    Category.social_insurance.value: _l("Social insurance"),
    Category.working_hours.value: _l("Working hours and leave"),
    Category.dismissal.value: _l("Dismissal"),
    Category.occupational_injury.value: _l("Occupational injury"),
    Category.other.value: _l("Other"),
}


class Status(str, Enum):
    new = "new"
    acknowledged = "acknowledged"
    in_progress = "in_progress"
    answered = "answered"
    closed = "closed"


STATUS_LABELS = {
    Status.new.value: _l("New"),
    Status.acknowledged.value: _l("Acknowledged"),
    Status.in_progress.value: _l("In progress"),
    Status.answered.value: _l("Answered"),
    Status.closed.value: _l("Closed"),
}

# Waiting for an answer: these have a deadline.
OPEN_STATUSES = (Status.new.value, Status.acknowledged.value, Status.in_progress.value)


class FeedbackItem(TenantScoped, Table, tablename="feedback_item"):
    """One message left in a mailbox. ``tenant`` holds it now; ``origin`` received it."""

    tenant = ForeignKey(Tenant, index=True)
    origin = ForeignKey(Tenant, index=True)
    # Read aloud by the submitter (9 characters, shown in groups of three); also the
    # item's number for staff and the audit log.
    code = Varchar(length=12, unique=True, index=True)
    secret_salt = Varchar(length=32, secret=True)
    secret_hash = Varchar(length=64, secret=True)
    # The random token of the form that was sent: a second tap on "send" is one item.
    form_token = Varchar(length=40, null=True, default=None, unique=True)
    category = Varchar(length=32, choices=Category)
    message = Text()
    anonymous = Boolean(default=True)
    contact_name = Varchar(length=50, default="")
    contact_phone = Varchar(length=40, default="")
    locale = Varchar(length=16, default="zh_Hans")
    status = Varchar(length=16, choices=Status, default=Status.new.value, index=True)
    assignee = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    received_at = Timestamptz(default=TimestamptzNow(), index=True)
    # The current deadline of the holder, and when to remind, alert and escalate.
    due_at = Timestamptz(null=True, default=None, index=True)
    remind_at = Timestamptz(null=True, default=None)
    escalate_at = Timestamptz(null=True, default=None)
    alert_stage = Integer(default=0)  # 0 nothing sent, 1 reminded, 2 overdue alert sent
    first_due_at = Timestamptz(null=True, default=None)
    first_reply_at = Timestamptz(null=True, default=None)
    answered_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None, index=True)
    escalations = Integer(default=0)
    reopenings = Integer(default=0)
    contact_erased_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class AccessReason(str, Enum):
    received = "received"
    escalated = "escalated"


class FeedbackAccess(TenantScoped, Table, tablename="feedback_access"):
    """This organisation may read this item (it received it, or it was escalated here)."""

    tenant = ForeignKey(Tenant, index=True)
    item = ForeignKey(FeedbackItem, index=True, on_delete=OnDelete.cascade)
    reason = Varchar(length=16, choices=AccessReason)
    created_at = Timestamptz(default=TimestamptzNow())


class EventKind(str, Enum):
    received = "received"
    status = "status"
    assigned = "assigned"
    reply = "reply"
    note = "note"
    escalated = "escalated"
    reopened = "reopened"
    contact_erased = "contact_erased"


class FeedbackEvent(TenantScoped, Table, tablename="feedback_event"):
    """The history of an item. ``tenant`` is the organisation whose staff acted (the
    holder at that moment); ``public`` events are shown to the submitter."""

    tenant = ForeignKey(Tenant, index=True)
    item = ForeignKey(FeedbackItem, index=True, on_delete=OnDelete.cascade)
    kind = Varchar(length=24, choices=EventKind)
    actor = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    body = Text(default="")
    public = Boolean(default=False)
    detail = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class FeedbackSettings(TenantScoped, Table, tablename="feedback_settings"):
    """A tenant's mailbox rules, edited by its admin. No row means the defaults."""

    tenant = ForeignKey(Tenant, unique=True, index=True)
    response_days = Integer(default=5)
    escalate_after_days = Integer(default=3)
    retention_days = Integer(default=180)
    updated_at = Timestamptz(default=TimestamptzNow())
