"""Every route the app registers, tried as every kind of person.

Routes come from Litestar's route table, so a new route is covered the moment
it exists. For each one the expected answer follows from its declared access
(``opt={"access": ...}``) and the documented policy:

  anonymous                      -> redirect to sign-in (public routes: served)
  not a member / no such tenant  -> 404, the same for both
  member whose role is too low   -> 403
  the right role                 -> served (2xx/3xx, or 400/422 for an empty form)
  unsafe method without CSRF     -> 403, for everyone

A route whose path has a parameter this file cannot fill fails the test: add a
sample for it to PARAM_SAMPLES.
"""

from __future__ import annotations

from typing import Awaitable, Callable

import pytest
from litestar.testing import AsyncTestClient

from app.main import create_app
from tenants.guards import is_auto_options
from tests.support import World, csrf_token, login

# Written out here, not imported: the test states the policy independently.
ROLE_OK = {
    "member": {"admin", "staff", "union_rep"},
    "staff": {"admin", "staff"},
    "admin": {"admin"},
    "union_rep": {"admin", "union_rep"},
}

# The documented access of every route. A route missing here fails the suite:
# whoever adds a route states here who may use it.
EXPECTED_ACCESS: dict[tuple[str, str], str] = {
    ("GET", "/"): "public",
    ("GET", "/o/{slug:str}"): "public",
    ("GET", "/login"): "public",
    ("POST", "/login"): "public",
    ("GET", "/lang/{locale:str}"): "public",
    ("GET", "/healthz"): "public",
    ("GET", "/livez"): "public",
    ("GET", "/readyz"): "public",
    ("GET", "/static/{file_path:path}"): "public",
    ("POST", "/logout"): "login",
    ("GET", "/account/password"): "login",
    ("POST", "/account/password"): "login",
    ("POST", "/account/sign-out-everywhere"): "login",
    ("GET", "/invitations/{invitation_token:str}"): "public",
    ("POST", "/invitations/{invitation_token:str}"): "public",
    ("GET", "/account/organisations"): "login",
    ("GET", "/manage/{slug:str}"): "tenant:member",
    ("GET", "/manage/{slug:str}/settings"): "tenant:admin",
    ("POST", "/manage/{slug:str}/settings"): "tenant:admin",
    ("GET", "/manage/{slug:str}/audit"): "tenant:admin",
    ("GET", "/manage/{slug:str}/members"): "tenant:admin",
    ("POST", "/manage/{slug:str}/members"): "tenant:admin",
    ("POST", "/manage/{slug:str}/members/{member_id:int}/role"): "tenant:admin",
    ("POST", "/manage/{slug:str}/members/{member_id:int}/remove"): "tenant:admin",
    ("POST", "/city/tenants/{slug:str}/admins"): "city:admin",
    ("GET", "/city"): "city:staff",
    ("GET", "/city/outreach"): "city:staff",
    ("GET", "/city/notifications"): "city:staff",
    ("GET", "/manage/{slug:str}/notifications"): "tenant:staff",
    ("POST", "/manage/{slug:str}/notifications/test"): "tenant:staff",
    ("GET", "/manage/{slug:str}/notifications/{notification_id:int}"): "tenant:staff",
    ("POST", "/manage/{slug:str}/notifications/{notification_id:int}/retry"): "tenant:staff",
    ("GET", "/manage/{slug:str}/inbox"): "tenant:member",
    ("POST", "/manage/{slug:str}/inbox/read"): "tenant:member",
    ("GET", "/hotlines"): "public",
    ("GET", "/q/{code:str}"): "public",
    ("GET", "/o/{slug:str}/cards/{card_id:str}"): "public",
    ("GET", "/o/{slug:str}/cards/{card_id:str}/qr.png"): "public",
    ("GET", "/manage/{slug:str}/hotlines"): "tenant:staff",
    ("POST", "/manage/{slug:str}/hotlines"): "tenant:staff",
    ("GET", "/manage/{slug:str}/hotlines/{hotline_id:str}/edit"): "tenant:staff",
    ("POST", "/manage/{slug:str}/hotlines/{hotline_id:str}/edit"): "tenant:staff",
    ("POST", "/manage/{slug:str}/hotlines/{hotline_id:str}/delete"): "tenant:staff",
    ("GET", "/manage/{slug:str}/cards"): "tenant:staff",
    ("GET", "/manage/{slug:str}/cards/new"): "tenant:staff",
    ("POST", "/manage/{slug:str}/cards/new"): "tenant:staff",
    ("POST", "/manage/{slug:str}/cards/fit"): "tenant:staff",
    ("GET", "/manage/{slug:str}/cards/{card_id:str}/edit"): "tenant:staff",
    ("POST", "/manage/{slug:str}/cards/{card_id:str}/edit"): "tenant:staff",
    ("POST", "/manage/{slug:str}/cards/{card_id:str}/delete"): "tenant:staff",
    ("POST", "/manage/{slug:str}/cards/{card_id:str}/restore"): "tenant:staff",
    ("POST", "/manage/{slug:str}/cards/{card_id:str}/distributed"): "tenant:staff",
    ("GET", "/manage/{slug:str}/outreach"): "tenant:staff",
    ("POST", "/manage/{slug:str}/outreach"): "tenant:staff",
    ("POST", "/manage/{slug:str}/outreach/{entry_id:str}/delete"): "tenant:staff",
    ("POST", "/manage/{slug:str}/hotlines/restore/{removed_hotline_id:int}"): "tenant:staff",
    ("POST", "/manage/{slug:str}/outreach/restore/{removed_entry_id:int}"): "tenant:staff",
    ("POST", "/manage/{slug:str}/members/restore/{removed_member_id:int}"): "tenant:admin",
    ("GET", "/city/tenants/new"): "city:admin",
    ("POST", "/city/tenants/new"): "city:admin",
    ("GET", "/city/tenants/{slug:str}/edit"): "city:admin",
    ("POST", "/city/tenants/{slug:str}/edit"): "city:admin",
    ("GET", "/manage/{slug:str}/events"): "tenant:staff",
    ("GET", "/manage/{slug:str}/events/new"): "tenant:staff",
    ("POST", "/manage/{slug:str}/events/new"): "tenant:staff",
    ("GET", "/manage/{slug:str}/events/{event_id:int}"): "tenant:staff",
    ("GET", "/manage/{slug:str}/events/{event_id:int}/edit"): "tenant:staff",
    ("POST", "/manage/{slug:str}/events/{event_id:int}/edit"): "tenant:staff",
    ("POST", "/manage/{slug:str}/events/{event_id:int}/publish"): "tenant:staff",
    ("POST", "/manage/{slug:str}/events/{event_id:int}/complete"): "tenant:staff",
    ("POST", "/manage/{slug:str}/events/{event_id:int}/cancel"): "tenant:staff",
    ("POST", "/manage/{slug:str}/events/{event_id:int}/reserve"): "tenant:staff",
    ("POST", "/manage/{slug:str}/registrations/{registration_id:int}/cancel"): "tenant:staff",
    ("GET", "/manage/{slug:str}/events/{event_id:int}/checkin"): "tenant:staff",
    ("POST", "/manage/{slug:str}/attendees/{attendee_id:int}/present"): "tenant:staff",
    ("POST", "/manage/{slug:str}/events/{event_id:int}/walkins"): "tenant:staff",
    ("GET", "/manage/{slug:str}/checkin/{checkin_code:str}"): "tenant:staff",
    ("GET", "/events"): "public",
    ("GET", "/events.ics"): "public",
    ("GET", "/o/{slug:str}/events"): "public",
    ("GET", "/o/{slug:str}/events.ics"): "public",
    ("GET", "/o/{slug:str}/events/{event_id:int}"): "public",
    ("POST", "/o/{slug:str}/events/{event_id:int}/register"): "public",
    ("GET", "/o/{slug:str}/events/{event_id:int}/event.ics"): "public",
    ("GET", "/o/{slug:str}/registrations/{registration_token:str}"): "public",
    ("POST", "/o/{slug:str}/registrations/{registration_token:str}/cancel"): "public",
    ("GET", "/manage/{slug:str}/groups"): "tenant:union_rep",
    ("GET", "/manage/{slug:str}/groups/new"): "tenant:union_rep",
    ("POST", "/manage/{slug:str}/groups/new"): "tenant:union_rep",
    ("GET", "/manage/{slug:str}/groups/{group_id:int}"): "tenant:union_rep",
    ("POST", "/manage/{slug:str}/groups/{group_id:int}/substitute"): "tenant:union_rep",
    ("POST", "/manage/{slug:str}/groups/{group_id:int}/cancel"): "tenant:union_rep",
    ("GET", "/city/events"): "city:staff",
    ("GET", "/city/registry"): "city:staff",
    ("GET", "/city/registry/{register:str}"): "city:staff",
    ("GET", "/city/registry/{register:str}/export"): "city:staff",
    ("GET", "/city/registry/{register:str}/template"): "city:staff",
    ("GET", "/city/registry/{register:str}/import"): "city:admin",
    ("POST", "/city/registry/{register:str}/import"): "city:admin",
    ("GET", "/city/registry/{register:str}/import/{token:str}"): "city:admin",
    ("POST", "/city/registry/{register:str}/import/{token:str}"): "city:admin",
    ("GET", "/city/coverage"): "city:staff",
    ("GET", "/city/coverage/missing"): "city:staff",
    ("GET", "/manage/{slug:str}/coverage"): "tenant:admin",
    ("GET", "/city/health"): "city:staff",
    ("GET", "/city/broadcasts"): "city:staff",
    ("GET", "/city/broadcasts/new"): "city:admin",
    ("POST", "/city/broadcasts/new"): "city:admin",
    ("GET", "/city/broadcasts/{broadcast_id:int}"): "city:staff",
    ("GET", "/manage/{slug:str}/broadcasts"): "tenant:member",
    ("POST", "/manage/{slug:str}/broadcasts/{broadcast_id:int}/read"): "tenant:member",
    ("GET", "/o/{slug:str}/feedback"): "public",
    ("POST", "/o/{slug:str}/feedback"): "public",
    ("GET", "/track"): "public",
    ("POST", "/track"): "public",
    ("GET", "/manage/{slug:str}/feedback"): "tenant:staff",
    ("GET", "/manage/{slug:str}/feedback/settings"): "tenant:admin",
    ("POST", "/manage/{slug:str}/feedback/settings"): "tenant:admin",
    ("GET", "/manage/{slug:str}/feedback/{item_id:str}"): "tenant:staff",
    ("POST", "/manage/{slug:str}/feedback/{item_id:str}/status"): "tenant:staff",
    ("POST", "/manage/{slug:str}/feedback/{item_id:str}/assign"): "tenant:staff",
    ("POST", "/manage/{slug:str}/feedback/{item_id:str}/reply"): "tenant:staff",
    ("POST", "/manage/{slug:str}/feedback/{item_id:str}/note"): "tenant:staff",
    ("POST", "/manage/{slug:str}/feedback/{item_id:str}/escalate"): "tenant:staff",
    ("GET", "/city/feedback"): "city:staff",
    ("GET", "/city/reports"): "city:staff",
    ("GET", "/city/reports/export"): "city:staff",
    ("GET", "/manage/{slug:str}/reports"): "tenant:admin",
    ("GET", "/manage/{slug:str}/reports/export"): "tenant:admin",
    ("GET", "/manage/{slug:str}/training"): "tenant:staff",
    ("GET", "/manage/{slug:str}/training/programmes/new"): "tenant:staff",
    ("POST", "/manage/{slug:str}/training/programmes/new"): "tenant:staff",
    ("GET", "/manage/{slug:str}/training/programmes/{programme_id:int}"): "tenant:staff",
    ("GET", "/manage/{slug:str}/training/programmes/{programme_id:int}/edit"): "tenant:staff",
    ("POST", "/manage/{slug:str}/training/programmes/{programme_id:int}/edit"): "tenant:staff",
    ("POST", "/manage/{slug:str}/training/programmes/{programme_id:int}/materials"): "tenant:staff",
    ("POST", "/manage/{slug:str}/training/programmes/{programme_id:int}/assign"): "tenant:staff",
    ("POST", "/manage/{slug:str}/training/programmes/{programme_id:int}/sessions"): "tenant:staff",
    ("GET", "/manage/{slug:str}/training/materials/{material_id:int}"): "tenant:member",
    ("GET", "/manage/{slug:str}/training/assignments/{assignment_id:int}"): "tenant:staff",
    ("POST", "/manage/{slug:str}/training/assignments/{assignment_id:int}/pass-down"): "tenant:staff",
    ("POST", "/manage/{slug:str}/training/assignments/{assignment_id:int}/participants"): "tenant:staff",
    ("POST", "/manage/{slug:str}/training/assignments/{assignment_id:int}/completions"): "tenant:staff",
    ("GET", "/manage/{slug:str}/training/evidence/{completion_id:int}"): "tenant:staff",
    ("GET", "/manage/{slug:str}/training/overview"): "tenant:staff",
    ("GET", "/manage/{slug:str}/training/overview.csv"): "tenant:staff",
    ("GET", "/manage/{slug:str}/training/overview.xlsx"): "tenant:staff",
    ("GET", "/manage/{slug:str}/subtree"): "tenant:staff",
    ("GET", "/city/training"): "city:staff",
    ("GET", "/city/training/areas"): "city:staff",
    ("POST", "/city/training/areas"): "city:admin",
    ("GET", "/city/reports"): "city:staff",
    ("GET", "/city/reports/export"): "city:staff",
    ("GET", "/manage/{slug:str}/reports"): "tenant:admin",
    ("GET", "/manage/{slug:str}/reports/export"): "tenant:admin",
}

# Routes that exist only for some kinds of organisation: for any other kind they answer
# 404, like a missing tenant (a district's coverage exists for district centers only).
ONLY_FOR_KINDS: dict[tuple[str, str], set[str]] = {
    ("GET", "/manage/{slug:str}/coverage"): {"district_center"},
    ("GET", "/manage/{slug:str}/reports"): {"district_center"},
    ("GET", "/manage/{slug:str}/reports/export"): {"district_center"},
    # Only the city center and district centers define, assign and pass down training.
    **{(m, p): {"city_center", "district_center"} for m, p in [
        ("GET", "/manage/{slug:str}/training/programmes/new"),
        ("POST", "/manage/{slug:str}/training/programmes/new"),
        ("GET", "/manage/{slug:str}/training/programmes/{programme_id:int}"),
        ("GET", "/manage/{slug:str}/training/programmes/{programme_id:int}/edit"),
        ("POST", "/manage/{slug:str}/training/programmes/{programme_id:int}/edit"),
        ("POST", "/manage/{slug:str}/training/programmes/{programme_id:int}/materials"),
        ("POST", "/manage/{slug:str}/training/programmes/{programme_id:int}/assign"),
        ("POST", "/manage/{slug:str}/training/assignments/{assignment_id:int}/pass-down"),
        ("GET", "/manage/{slug:str}/training/overview"),
        ("GET", "/manage/{slug:str}/training/overview.csv"),
        ("GET", "/manage/{slug:str}/training/overview.xlsx"),
    ]},
    ("GET", "/manage/{slug:str}/subtree"): {"district_center"},
    ("GET", "/manage/{slug:str}/reports"): {"district_center"},
    ("GET", "/manage/{slug:str}/reports/export"): {"district_center"},
}

# Tenants each tenant route is tried against: a district, a union, and none.
TARGETS = ["a", "union", None]
MISSING_SLUG = "no-such-tenant"

# path parameter -> coroutine(world, target tenant key) giving a value for it.
PARAM_SAMPLES: dict[str, Callable[[World, str | None], Awaitable[str]]] = {}


async def _slug(world: World, target: str | None) -> str:
    return world.tenants[target]["slug"] if target else MISSING_SLUG


async def _locale(world: World, target: str | None) -> str:
    return "en"


async def _member_id(world: World, target: str | None) -> str:
    """A fresh membership of the target tenant (district-b's when the tenant is missing),
    of a person who is not one of the actors, so changing it disturbs no one."""
    import uuid

    from app.accounts.service import add_membership, create_user
    from tenants.members import roles_for, tenant_members
    from tenants.scope import tenant_scope

    tenant = world.tenants[target or "b"]
    user_id = await create_user(f"sample-{uuid.uuid4().hex[:8]}@test.tiaojie.cn", World.PASSWORD, "sample")
    await add_membership(user_id, tenant["id"], roles_for(tenant["kind"])[-1])
    with tenant_scope(tenant["id"]):
        return str(next(r["id"] for r in await tenant_members() if r["user_id"] == user_id))


async def _in_target(world: World, target: str | None, make):
    """Create a row in the target tenant (district-b's when the tenant is missing)."""
    from tenants.scope import tenant_scope

    tenant_id = world.tenants[target or "b"]["id"]
    with tenant_scope(tenant_id):
        return await make(tenant_id)


async def _hotline_id(world: World, target: str | None) -> str:
    from app.outreach.tables import Hotline

    async def make(tenant_id):
        row = Hotline(tenant=tenant_id, label="sample", number="12333")
        await row.save()
        return str(row.id)

    return await _in_target(world, target, make)


async def _card(world: World, target: str | None):
    from app.outreach.service import new_card_code
    from app.outreach.tables import InfoCard

    async def make(tenant_id):
        row = InfoCard(tenant=tenant_id, code=new_card_code(), title="sample", published=True)
        await row.save()
        return row

    return await _in_target(world, target, make)


async def _card_id(world: World, target: str | None) -> str:
    return str((await _card(world, target)).id)


async def _card_code(world: World, target: str | None) -> str:
    return (await _card(world, target)).code


async def _entry_id(world: World, target: str | None) -> str:
    import datetime

    from app.outreach.tables import OutreachEntry

    async def make(tenant_id):
        row = OutreachEntry(tenant=tenant_id, day=datetime.date(2026, 1, 5), kind="visit", quantity=1)
        await row.save()
        return str(row.id)

    return await _in_target(world, target, make)


async def _notification_id(world: World, target: str | None) -> str:
    import uuid

    from app.notifications.service import notify

    async def make(tenant_id):
        return str(await notify(tenant_id, "staff_notice", f"matrix-{uuid.uuid4().hex}",
                                email="someone@test.tiaojie.cn", payload={"subject": "s", "body": "b"}))

    return await _in_target(world, target, make)


async def _event(world: World, target: str | None, starts_in_minutes: int = 3 * 24 * 60) -> dict:
    """A published event of the target tenant (district-b's when the tenant is missing)."""
    from datetime import datetime, timedelta, timezone

    from app.events.tables import Event

    async def make(tenant_id):
        starts = datetime.now(timezone.utc) + timedelta(minutes=starts_in_minutes)
        row = Event(tenant=tenant_id, kind="seminar", title="sample", starts_at=starts,
                    ends_at=starts + timedelta(hours=2), venue="room 1", capacity=50, groups_allowed=True,
                    status="published")
        await row.save()
        return {"id": row.id, "tenant": tenant_id}

    return await _in_target(world, target, make)


async def _event_id(world: World, target: str | None) -> str:
    return str((await _event(world, target))["id"])


async def _registration(world: World, target: str | None, starts_in_minutes: int = 3 * 24 * 60):
    import random

    from app.events import service

    event = await _event(world, target, starts_in_minutes)

    async def make(tenant_id):
        return await service.register_individual(event["id"], "sample", f"139{random.randrange(10**8):08d}")

    return await _in_target(world, target, make)


async def _registration_id(world: World, target: str | None) -> str:
    return str((await _registration(world, target)).id)


async def _registration_token(world: World, target: str | None) -> str:
    return (await _registration(world, target)).token


async def _checkin_code(world: World, target: str | None) -> str:
    from app.events.tables import Registration

    reg = await _registration(world, target)

    async def read(tenant_id):
        row = await Registration.select(Registration.checkin_code).where(Registration.id == reg.id).first()
        return row["checkin_code"]

    return await _in_target(world, target, read)


async def _attendee_id(world: World, target: str | None) -> str:
    from app.events.tables import Attendee

    reg = await _registration(world, target, starts_in_minutes=30)  # check-in is open

    async def read(tenant_id):
        row = await Attendee.select(Attendee.id).where(Attendee.registration == reg.id).first()
        return str(row["id"])

    return await _in_target(world, target, read)


async def _group_id(world: World, target: str | None) -> str:
    """A group of the target tenant as its union (any tenant, so that a role check and not
    the missing group decides), at an event of district-b."""
    from app.events import service
    from app.events.tables import Registration

    event = await _event(world, "b")
    union = world.tenants[target or "b"]

    async def make(tenant_id):
        row = Registration(tenant=tenant_id, event=event["id"], kind="group", status="confirmed", seats=1,
                           name="sample", union_tenant=union["id"], token=service.new_token(),
                           checkin_code=service.new_checkin_code())
        await row.save()
        return str(row.id)

    return await _in_target(world, "b", make)


PARAM_SAMPLES["event_id"] = _event_id
PARAM_SAMPLES["registration_id"] = _registration_id
PARAM_SAMPLES["registration_token"] = _registration_token
PARAM_SAMPLES["checkin_code"] = _checkin_code
PARAM_SAMPLES["attendee_id"] = _attendee_id
PARAM_SAMPLES["group_id"] = _group_id


async def _register(world: World, target: str | None) -> str:
    return "enterprises"


async def _upload_token(world: World, target: str | None) -> str:
    """An upload of the city admin (uploads belong to the person who made them)."""
    from app.accounts.tables import User
    from app.registry import service
    from app.registry.creditcode import complete
    from tenants.scope import tenant_scope

    user = await User.select(User.id).where(User.email == world.users["city_admin"]).first()
    rows = [{"line": 2, "district": "甲镇", "name": "样本企业", "credit_code": complete("91320621MA0000001"),
             "employees": "150", "labour_intensive": "是", "has_committee": "否", "committee": ""}]
    with tenant_scope(world.tenants["city"]["id"]):
        return await service.store_upload(user["id"], service.REGISTERS["enterprises"], "sample.csv", "csv", rows, [])


async def _broadcast_id(world: World, target: str | None) -> str:
    """A notice of the city to the target organisation (district-b when the tenant is missing)."""
    from app.city import broadcasts
    from app.core.forms import Form

    city = world.tenants["city"]
    form = Form(values={"subject": "样本通知", "body": "正文"})
    kind_and_district = {"a": ("district_center", "甲镇"), "b": ("district_center", "乙镇"),
                         "union": ("union", broadcasts.CITY_LEVEL)}[target or "b"]
    sent = await broadcasts.send({"id": city["id"], "name": "city name"}, None, form,
                                 [kind_and_district[0]], [kind_and_district[1]])
    return str(sent["id"])


PARAM_SAMPLES["broadcast_id"] = _broadcast_id
PARAM_SAMPLES["register"] = _register
PARAM_SAMPLES["token"] = _upload_token


async def _feedback_item_id(world: World, target: str | None) -> str:
    """District-a's sample is an item sent to its enterprise committee and escalated to it:
    the receiving tenant's staff read it under their own slug, like any of their items."""
    from tests.feedback.helpers import make_item

    if target == "a":
        return str(await make_item(world.tenants["ent_a"]["id"], escalations=1))
    return str(await make_item(world.tenants[target or "b"]["id"]))


PARAM_SAMPLES["item_id"] = _feedback_item_id


async def _training(world: World, target: str | None) -> dict:
    """A programme of the target tenant (district-b's when the tenant is missing) with a link
    material, assigned to the target itself by the city, with a person and a completion whose
    evidence file exists: each route's role check, not a missing row, decides."""
    from datetime import date

    from app.training import files
    from app.training.tables import Assignment, Completion, Material, Participant, Programme
    from tenants.scope import unscoped

    tenant_id = world.tenants[target or "b"]["id"]
    with unscoped("access matrix: sample training rows"):
        programme = Programme(tenant=tenant_id, title="sample", required_minutes=60)
        await programme.save()
        material = Material(tenant=tenant_id, programme=programme.id, title="link", url="https://example.org/x.pdf")
        await material.save()
        assignment = Assignment(tenant=tenant_id, programme=programme.id, assigner=world.tenants["city"]["id"],
                                due_date=date(2099, 1, 1), required_people=1)
        await assignment.save()
        person = Participant(tenant=tenant_id, assignment=assignment.id, name="sample")
        await person.save()
        completion = Completion(tenant=tenant_id, assignment=assignment.id, participant=person.id, minutes=60,
                                day=date(2026, 1, 5), evidence_name="e.txt", evidence_type="text/plain",
                                evidence_stored=files.store(b"sample", "e.txt"))
        await completion.save()
    return {"programme_id": programme.id, "material_id": material.id, "assignment_id": assignment.id,
            "completion_id": completion.id}


for _name in ("programme_id", "material_id", "assignment_id", "completion_id"):
    async def _training_sample(world: World, target: str | None, _name: str = _name) -> str:
        return str((await _training(world, target))[_name])

    PARAM_SAMPLES[_name] = _training_sample


async def _removed(world: World, target: str | None, table, make_row) -> str:
    """A removal (app.undo) of a fresh row of the target tenant, ready to be restored."""
    from app.undo.service import remove
    from tenants.scope import tenant_scope

    row_id = int(await make_row(world, target))
    with tenant_scope(world.tenants[target or "b"]["id"]):
        row = await table.objects().where(table.id == row_id).first()
        return str(await remove(row, label="sample", user_id=None))


async def _removed_hotline_id(world: World, target: str | None) -> str:
    from app.outreach.tables import Hotline

    return await _removed(world, target, Hotline, _hotline_id)


async def _removed_entry_id(world: World, target: str | None) -> str:
    from app.outreach.tables import OutreachEntry

    return await _removed(world, target, OutreachEntry, _entry_id)


async def _removed_member_id(world: World, target: str | None) -> str:
    from tenants.tables import Membership

    return await _removed(world, target, Membership, _member_id)


PARAM_SAMPLES["removed_hotline_id"] = _removed_hotline_id
PARAM_SAMPLES["removed_entry_id"] = _removed_entry_id
PARAM_SAMPLES["removed_member_id"] = _removed_member_id
PARAM_SAMPLES["notification_id"] = _notification_id
PARAM_SAMPLES["hotline_id"] = _hotline_id
PARAM_SAMPLES["card_id"] = _card_id


async def _invitation_token(world: World, target: str | None) -> str:
    """A pending invitation to district A (the link's token is its only key)."""
    import hashlib
    import secrets
    from datetime import datetime, timedelta, timezone

    from app.invitations.tables import Invitation
    from tenants.scope import tenant_scope

    token = secrets.token_urlsafe(32)
    tenant_id = world.tenants["a"]["id"]
    with tenant_scope(tenant_id):
        await Invitation(tenant=tenant_id, email=f"invitee-{secrets.token_hex(4)}@test.cn", role="staff",
                         token_hash=hashlib.sha256(token.encode()).hexdigest(),
                         expires_at=datetime.now(timezone.utc) + timedelta(days=7)).save()
    return token


PARAM_SAMPLES["invitation_token"] = _invitation_token
PARAM_SAMPLES["code"] = _card_code
PARAM_SAMPLES["entry_id"] = _entry_id
PARAM_SAMPLES["slug"] = _slug
PARAM_SAMPLES["member_id"] = _member_id
PARAM_SAMPLES["locale"] = _locale


def _route_table() -> list[tuple[str, str, str, list[str]]]:
    app = create_app()
    rows = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if is_auto_options(handler):
                continue
            for method in sorted(handler.http_methods):
                if method in ("HEAD", "OPTIONS"):
                    continue
                rows.append((route.path, method, handler.opt["access"], list(route.path_parameters)))
    return rows


ROUTES = _route_table()


def _memberships(world: World) -> dict[str, dict[str, str]]:
    """actor -> {tenant key: role}, from how tests/support.py builds the world."""
    result: dict[str, dict[str, str]] = {}
    for actor in world.users:
        tenant_key, _, role = actor.rpartition("_")
        if actor == "union_rep":
            tenant_key, role = "union", "union_rep"
        result[actor] = {tenant_key: role}
    return result


def expected(access: str, actor: str | None, target: str | None, memberships) -> str:
    """What ``actor`` should get; ``target`` None means the URL names a missing tenant."""
    allowed = _allowed(access, actor, target, memberships)
    return "404" if allowed == "served" and target is None else allowed


def _allowed(access: str, actor: str | None, target: str | None, memberships) -> str:
    if access == "public":
        return "served"
    if actor is None:
        return "login"
    if access == "login":
        return "served"
    kind, role = access.split(":")
    mine = memberships[actor]
    if kind == "city":  # the slug of a city route names the organisation acted on
        held = mine.get("city")
    else:
        held = mine.get(target) if target else None
    if held is None:
        return "404"
    return "served" if held in ROLE_OK[role] else "403"


def outcome(resp) -> str:
    if resp.status_code in (302, 303) and resp.headers.get("location", "").startswith("/login?next="):
        return "login"
    if resp.status_code in (403, 404):
        return str(resp.status_code)
    if resp.status_code < 400 or resp.status_code in (400, 422):
        return "served"
    return f"unexpected {resp.status_code}"


def test_every_route_declares_access_and_has_samples():
    assert ROUTES, "no routes found"
    problems = []
    for path, method, access, params in ROUTES:
        documented = EXPECTED_ACCESS.get((method, path))
        if documented is None:
            problems.append(f"{method} {path} declares {access!r} but has no expectation in EXPECTED_ACCESS")
        elif documented != access:
            problems.append(f"{method} {path} declares {access!r}, the documented access is {documented!r}")
        for name in params:
            if path.startswith("/static/"):
                continue
            if name not in PARAM_SAMPLES:
                problems.append(f"{method} {path}: add a sample for path parameter {name!r}")
    stale = set(EXPECTED_ACCESS) - {(m, p) for p, m, _a, _p in ROUTES}
    problems += [f"EXPECTED_ACCESS lists {m} {p}, which no longer exists" for m, p in sorted(stale)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "path,method,access,params",
    [r for r in ROUTES if not r[0].startswith("/static/")],
    ids=[f"{r[1]} {r[0]}" for r in ROUTES if not r[0].startswith("/static/")],
)
async def test_route_answers_everyone_as_documented(world, path, method, access, params):
    access = EXPECTED_ACCESS.get((method, path), access)  # behaviour is checked against the documented access
    memberships = _memberships(world)
    targets = TARGETS if "slug" in params else ["a"]
    app = create_app()
    failures = []
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        client.headers["Accept-Language"] = "en"
        for actor in [None, *world.users]:
            for target in targets:
                url = path
                for name in params:
                    url = url.replace("{" + name + ":" + _param_type(path, name) + "}", await PARAM_SAMPLES[name](world, target))
                client.cookies.clear()
                if actor:
                    assert (await login(client, world.users[actor])).status_code == 303
                else:
                    await client.get("/login")
                want = expected(access, actor, target, memberships)
                kinds = ONLY_FOR_KINDS.get((method, path))
                if want == "served" and kinds and target and world.tenants[target]["kind"] not in kinds:
                    want = "404"
                if method == "GET":
                    got = outcome(await client.get(url, follow_redirects=False))
                else:
                    bare = await client.request(method, url, data={"x": "1"}, follow_redirects=False)
                    if bare.status_code != 403:
                        failures.append(f"{actor} {method} {url} without CSRF: {bare.status_code}")
                    got = outcome(await client.request(method, url, data={"_csrf_token": csrf_token(client)},
                                                       follow_redirects=False))
                if got != want:
                    failures.append(f"{actor or 'anonymous'} {method} {url}: expected {want}, got {got}")
    assert not failures, "\n".join(failures)


def _param_type(path: str, name: str) -> str:
    start = path.index("{" + name + ":") + len(name) + 2
    return path[start: path.index("}", start)]


async def test_options_requests_are_answered_without_data(client):
    resp = await client.options("/manage/district-a/")
    assert resp.status_code in (200, 204)
    assert "allow" in {k.lower() for k in resp.headers}


# --- feedback items: visible to the tenants they were sent or escalated to, nobody else ---

# item -> (tenant it was sent to, escalations up the tree, tenants whose staff may read it)
FEEDBACK_ITEMS = {
    "sent to ent-a, escalated to district-a": ("ent_a", 1, {"ent_a", "a"}),
    "sent to ent-a, escalated to district-a and the city": ("ent_a", 2, {"ent_a", "a", "city"}),
    "sent to district-b": ("b", 0, {"b"}),
}


@pytest.mark.parametrize("item", list(FEEDBACK_ITEMS))
async def test_feedback_items_are_read_only_where_they_were_sent_or_escalated(world, item):
    from tests.feedback.helpers import make_item

    origin, escalations, readers = FEEDBACK_ITEMS[item]
    item_id = await make_item(world.tenants[origin]["id"], escalations=escalations)
    memberships = _memberships(world)
    failures = []
    async with AsyncTestClient(app=create_app(), base_url="http://testserver.local") as client:
        for actor in [None, *world.users]:
            client.cookies.clear()
            if actor:
                assert (await login(client, world.users[actor])).status_code == 303
            for tenant_key, tenant in world.tenants.items():
                held = memberships[actor].get(tenant_key) if actor else None
                if actor is None:
                    want = "login"
                elif held is None:
                    want = "404"
                elif held not in ROLE_OK["staff"]:
                    want = "403"
                else:
                    want = "served" if tenant_key in readers else "404"
                url = f"/manage/{tenant['slug']}/feedback/{item_id}"
                got = outcome(await client.get(url, follow_redirects=False))
                if got != want:
                    failures.append(f"{actor or 'anonymous'} GET {url} ({item}): expected {want}, got {got}")
    assert not failures, "\n".join(failures)
