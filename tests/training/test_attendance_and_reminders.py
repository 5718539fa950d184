"""Attendance at a held training event becomes completion (checked-in only, once), and
reminders go out once per stage with a clock the test sets, none once complete."""

from __future__ import annotations

from datetime import timedelta

from app.events import service as events
from app.events.tables import Attendee
from app.notifications.tables import Notification
from app.training import service
from app.training.tables import Assignment, Completion
from tenants.scope import tenant_scope, unscoped
from tests.events.helpers import make_event
from tests.training.helpers import T0, TODAY, assign, assignment_of, make_programme, nominate


async def _setup(world, required=2):
    """The city assigns to district-a, which passes it down to ent-a; ent-a nominates two people."""
    city, a, ent = (world.tenants[k]["id"] for k in ("city", "a", "ent_a"))
    programme = await make_programme(city, hours="2")
    await assign(city, programme, targets=[a], required=required)
    top = await assignment_of(a, programme)
    await assign(a, programme, targets=[ent], required=required, parent={"id": top})
    child = await assignment_of(ent, programme)
    await nominate(ent, child, "王芳", "13900000001")
    await nominate(ent, child, "李雷", "13900000002")
    return programme, top, child


async def test_checked_in_attendees_of_a_held_training_event_complete_the_training(world, clock):
    programme, top, child = await _setup(world, required=1)
    a = world.tenants["a"]["id"]
    event = await make_event(a, kind="training", title="调解员技能培训", starts_in=timedelta(minutes=30), hours=2)
    with tenant_scope(a):
        await service.link_event(programme, event["id"])
        wang = await events.register_individual(event["id"], "王芳", "139 0000 0001")
        li = await events.register_individual(event["id"], "李雷", "13900000002")
        wang_attendee = await Attendee.select(Attendee.id).where(Attendee.registration == wang.id).first()
        await events.set_present(wang_attendee["id"], True, None)  # 李雷 never checks in
        clock.move(minutes=40)
        await events.complete_event(event["id"])  # the hook credits attendance
    with unscoped("test reads completions"):
        rows = await Completion.select(Completion.participant.name.as_alias("name"), Completion.minutes,
                                       Completion.event).where(Completion.assignment == child)
    assert rows == [{"name": "王芳", "minutes": 120, "event": event["id"]}]
    assert li  # registered but absent: no completion
    progress = await service.progress_of([top, child])
    assert progress[child]["complete"] and progress[top]["complete"]
    # Crediting again (the sweep) adds nothing.
    assert (await service.credit_held_sessions())["credited"] == 0
    assert await service.credit_attendance(event["id"]) == 0


async def test_a_too_short_session_gives_its_hours_but_does_not_complete(world, clock):
    programme, top, child = await _setup(world, required=1)
    a = world.tenants["a"]["id"]
    event = await make_event(a, kind="training", title="短课", starts_in=timedelta(minutes=30), hours=1)
    with tenant_scope(a):
        await service.link_event(programme, event["id"])
        reg = await events.register_individual(event["id"], "王芳", "13900000001")
        attendee = await Attendee.select(Attendee.id).where(Attendee.registration == reg.id).first()
        await events.set_present(attendee["id"], True, None)
        clock.move(minutes=40)
        await events.complete_event(event["id"])
    progress = await service.progress_of([child])
    assert progress[child]["done"] == 0 and not progress[child]["complete"]


async def test_only_training_events_of_ones_own_can_be_linked(world, clock):
    import pytest

    from app.training.service import TrainingError

    programme, _top, _child = await _setup(world)
    a = world.tenants["a"]["id"]
    seminar = await make_event(a, kind="seminar")
    with tenant_scope(a), pytest.raises(TrainingError):
        await service.link_event(programme, seminar["id"])
    other = await make_event(world.tenants["b"]["id"], kind="training")
    with tenant_scope(a), pytest.raises(TrainingError):
        await service.link_event(programme, other["id"])  # another organisation's event: not found here


async def _sent(template: str) -> list[str]:
    with unscoped("test reads the outbox"):
        rows = await Notification.select(Notification.dedupe_key, Notification.recipient).where(
            Notification.template_key == template).order_by(Notification.id)
    return [r["recipient"] for r in rows]


async def test_reminders_once_per_stage_to_the_assignees_admins_and_none_once_complete(world, clock):
    city, a, b = (world.tenants[k]["id"] for k in ("city", "a", "b"))
    programme = await make_programme(city, hours="2")
    await assign(city, programme, kind="district_center", due=TODAY + timedelta(days=10), required=1)

    assert (await service.send_due_reminders())["written"] == 0  # 10 days ahead: not yet
    clock.move(days=3)  # 7 days before
    first = await service.send_due_reminders()
    assert first["written"] == 4  # two districts × (in-app + email) to their one admin each
    assert await service.send_due_reminders() == {"assignments": 0, "written": 0}  # once per stage
    assert sorted(await _sent("training_due_soon")) == sorted([world.users["a_admin"], world.users["b_admin"]] * 2)

    # District-b completes; only district-a is reminded when overdue.
    of_b = await assignment_of(b, programme)
    person = await nominate(b, of_b, "张三")
    from tests.training.helpers import complete

    clock.move(days=1)
    await complete(b, of_b, person, hours="2", day=clock.current.date().isoformat())
    clock.move(days=7)  # the due date has passed
    overdue = await service.send_due_reminders()
    assert overdue["written"] == 2
    assert await _sent("training_overdue") == [world.users["a_admin"]] * 2
    assert (await service.send_due_reminders())["written"] == 0
    with unscoped("test reads assignments"):
        reminded = {r["tenant"]: r for r in await Assignment.select()}
    assert reminded[a]["reminded_soon_at"] and reminded[a]["reminded_overdue_at"]
    assert reminded[b]["reminded_soon_at"] and reminded[b]["reminded_overdue_at"] is None


async def test_a_reminder_written_before_completion_is_not_sent_after_it(world, clock):
    from app.notifications.service import message_kind

    city, a = world.tenants["city"]["id"], world.tenants["a"]["id"]
    programme = await make_programme(city, hours="1")
    await assign(city, programme, targets=[a], due=TODAY + timedelta(days=2), required=1)
    await service.send_due_reminders()
    with unscoped("test reads the outbox"):
        row = await Notification.select().where(Notification.template_key == "training_due_soon").first()
    top = await assignment_of(a, programme)
    person = await nominate(a, top, "赵敏")
    from tests.training.helpers import complete

    with tenant_scope(a):
        assert await message_kind("training_due_soon").still_applies(row)
    await complete(a, top, person, hours="1", day=TODAY.isoformat())
    with tenant_scope(a):
        assert not await message_kind("training_due_soon").still_applies(row)


def test_clock_starts_on_a_monday_morning():
    assert T0.weekday() == 0
