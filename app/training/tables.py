"""Training across the network (DESIGN §3.4): programmes, their materials, assignments
passed down the tree, the people nominated and what they completed."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.accounts.tables import User
from app.events.tables import Event
from tenants.scope import TenantScoped
from tenants.tables import Tenant


class Result(str, Enum):
    passed = "passed"  # attended in full / passed: the hours count
    partial = "partial"  # left early, missed part: never counts
    failed = "failed"  # failed the assessment: never counts


class Programme(TenantScoped, Table, tablename="training_programme"):
    """A training programme defined by ``tenant`` (the city center, or a district center
    for its own subtree)."""

    tenant = ForeignKey(Tenant, index=True)
    title = Varchar(length=200)
    content = Text(default="")
    required_minutes = Integer(default=60)
    audience = Varchar(length=200, default="")
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=TimestamptzNow().python)


class Material(TenantScoped, Table, tablename="training_material"):
    """A link or an uploaded file of a programme; files live under the uploads directory
    by a random name and are served only to those allowed (``service.material_for``)."""

    tenant = ForeignKey(Tenant, index=True)
    programme = ForeignKey(Programme, index=True, on_delete=OnDelete.cascade)
    title = Varchar(length=200)
    url = Varchar(length=500, default="")
    file_name = Varchar(length=200, default="")
    stored_name = Varchar(length=80, default="")
    content_type = Varchar(length=100, default="")
    size = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class Assignment(TenantScoped, Table, tablename="training_assignment"):
    """A programme assigned to ``tenant`` by ``assigner``; ``parent`` is the assignment a
    district center passed down (its completion rolls up into the parent's). One per
    programme and organisation."""

    tenant = ForeignKey(Tenant, index=True)
    programme = ForeignKey(Programme, index=True, on_delete=OnDelete.cascade)
    assigner = ForeignKey(Tenant, index=True)
    parent = ForeignKey("self", null=True, default=None, index=True, on_delete=OnDelete.cascade)
    due_date = Date()
    required_people = Integer(default=1)
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    completed_at = Timestamptz(null=True, default=None)
    reminded_soon_at = Timestamptz(null=True, default=None)
    reminded_overdue_at = Timestamptz(null=True, default=None)


class Participant(TenantScoped, Table, tablename="training_participant"):
    """A person the assignee nominated: a member (``user``) or a named person."""

    tenant = ForeignKey(Tenant, index=True)
    assignment = ForeignKey(Assignment, index=True, on_delete=OnDelete.cascade)
    name = Varchar(length=100)
    phone = Varchar(length=20, default="")
    user = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class Completion(TenantScoped, Table, tablename="training_completion"):
    """Hours one participant completed: recorded by staff, or from attendance at a
    training event linked to the programme (``event``)."""

    tenant = ForeignKey(Tenant, index=True)
    assignment = ForeignKey(Assignment, index=True, on_delete=OnDelete.cascade)
    participant = ForeignKey(Participant, index=True, on_delete=OnDelete.cascade)
    minutes = Integer(default=0)
    day = Date()
    result = Varchar(length=16, choices=Result, default=Result.passed.value)
    note = Text(default="")
    evidence_name = Varchar(length=200, default="")
    evidence_stored = Varchar(length=80, default="")
    evidence_type = Varchar(length=100, default="")
    evidence_size = Integer(default=0)
    event = ForeignKey(Event, null=True, default=None, index=True, on_delete=OnDelete.set_null)
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class TrainingSession(TenantScoped, Table, tablename="training_session"):
    """A training event of ``tenant`` (its organiser) held for a programme: when it is
    marked as held, its checked-in attendees become completions."""

    tenant = ForeignKey(Tenant, index=True)
    event = ForeignKey(Event, unique=True, on_delete=OnDelete.cascade)
    programme = ForeignKey(Programme, index=True, on_delete=OnDelete.cascade)
    credited_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class GuidanceArea(TenantScoped, Table, tablename="training_guidance_area"):
    """包片: a district one city staff member guides (``tenant`` is the city center)."""

    tenant = ForeignKey(Tenant, index=True)
    user = ForeignKey(User, index=True, on_delete=OnDelete.cascade)
    district = Varchar(length=100)
    active = Boolean(default=True)
