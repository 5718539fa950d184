"""Events (讲座沙龙, 以案释法, 专场, training sessions), their registrations and attendees."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.accounts.tables import User
from tenants.scope import TenantScoped
from tenants.tables import Tenant


class EventKind(str, Enum):
    seminar = "seminar"
    salon = "salon"
    case_explanation = "case_explanation"
    special_session = "special_session"
    training = "training"


class EventStatus(str, Enum):
    draft = "draft"
    published = "published"
    completed = "completed"
    cancelled = "cancelled"


class RegistrationKind(str, Enum):
    individual = "individual"
    group = "group"
    walk_in = "walk_in"


class RegistrationStatus(str, Enum):
    confirmed = "confirmed"
    waitlisted = "waitlisted"
    cancelled = "cancelled"


class Event(TenantScoped, Table):
    """One session an organisation holds. ``seats_taken`` is the confirmed headcount,
    changed only under the event's write lock (see ``service.locked_event``)."""

    tenant = ForeignKey(Tenant, index=True)
    kind = Varchar(length=32, choices=EventKind)
    title = Varchar(length=200)
    summary = Varchar(length=500, default="")
    body = Text(default="")
    # Topic codes between bars ("|wages|contracts|"), so one LIKE finds a topic on any database.
    topics = Varchar(length=300, default="")
    audience = Varchar(length=32, default="everyone")
    industry = Varchar(length=100, default="")
    starts_at = Timestamptz(index=True)
    ends_at = Timestamptz()
    venue = Varchar(length=300, default="")
    online_url = Varchar(length=500, default="")
    capacity = Integer(default=0)
    seats_taken = Integer(default=0)
    registration_opens_at = Timestamptz(null=True, default=None)
    registration_closes_at = Timestamptz(null=True, default=None)
    groups_allowed = Boolean(default=False)
    status = Varchar(length=16, choices=EventStatus, default=EventStatus.draft.value, index=True)
    published_at = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=TimestamptzNow().python)


class Registration(TenantScoped, Table):
    """A place on an event for one person, a union's group, or a walk-in.

    Belongs to the organising tenant. ``name``/``phone``/``email`` are the contact who
    gets the messages (the person, or the union representative of a group). The order
    of the waitlist is the order of ``id``: rows are written under the event's lock."""

    tenant = ForeignKey(Tenant, index=True)
    event = ForeignKey(Event, index=True, on_delete=OnDelete.cascade)
    kind = Varchar(length=16, choices=RegistrationKind)
    status = Varchar(length=16, choices=RegistrationStatus, index=True)
    seats = Integer(default=1)
    name = Varchar(length=100)
    phone = Varchar(length=20, default="")
    email = Varchar(length=254, default="")
    employer = Varchar(length=200, default="")
    union_tenant = ForeignKey(Tenant, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    reserved = Boolean(default=False)  # seats staff reserved for a union
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    token = Varchar(length=64, unique=True)  # the private manage link
    checkin_code = Varchar(length=16, unique=True)  # in the confirmation's QR code
    locale = Varchar(length=16, default="zh_Hans")
    confirmed_at = Timestamptz(null=True, default=None)
    promoted_at = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Attendee(TenantScoped, Table):
    """A person expected at (or present at) an event: one per individual registration,
    one per seat of a group (an empty name is a reserved seat whose name follows).
    A phone is unique per event among active attendees (partial unique index)."""

    tenant = ForeignKey(Tenant, index=True)
    event = ForeignKey(Event, index=True, on_delete=OnDelete.cascade)
    registration = ForeignKey(Registration, index=True, on_delete=OnDelete.cascade)
    name = Varchar(length=100, default="")
    phone = Varchar(length=20, default="")
    position = Integer(default=1)
    active = Boolean(default=True)
    checked_in_at = Timestamptz(null=True, default=None)
    checked_in_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
