"""The rules of events: validation, capacity, the waitlist and its order, groups that are
never split, moving and cancelling, check-in, all with a clock the test sets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.core.forms import Form
from app.events import schemas, service
from app.events.schemas import EventError
from app.events.tables import Attendee, Event, Registration
from app.notifications.tables import Notification
from tenants.scope import tenant_scope, unscoped
from tests.events.helpers import T0, Clock, make_event


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def _form(**values) -> Form:
    base = {"title": "劳动合同讲座", "kind": "seminar", "summary": "", "body": "", "audience": "workers", "industry": "",
            "starts_at": "2030-03-10T14:00", "ends_at": "2030-03-10T16:00", "venue": "二楼会议室", "online_url": "",
            "capacity": "30", "registration_opens_at": "", "registration_closes_at": "", "groups_allowed": "1",
            "topics": "contracts|wages"}
    base.update(values)
    return Form(values=base)


# --- validation ----------------------------------------------------------------------


def test_a_valid_form_gives_times_in_utc_and_topic_codes(clock):
    values = schemas.validate_event(form := _form(), T0)
    assert form.ok and values is not None
    assert values.starts_at.isoformat() == "2030-03-10T06:00:00+00:00"  # 14:00 in Shanghai
    assert values.columns()["topics"] == "|contracts|wages|"
    assert values.capacity == 30 and values.groups_allowed


@pytest.mark.parametrize("changes,field,message", [
    ({"starts_at": "2030-03-01T14:00", "ends_at": "2030-03-01T16:00"}, "starts_at", "The start must be in the future."),
    ({"ends_at": "2030-03-10T13:00"}, "ends_at", "The end must be after the start."),
    ({"ends_at": "2030-03-10T14:00"}, "ends_at", "The end must be after the start."),
    ({"capacity": "0"}, "capacity", "Enter a whole number of seats from 1 to 100000."),
    ({"capacity": "-5"}, "capacity", "Enter a whole number of seats from 1 to 100000."),
    ({"capacity": "many"}, "capacity", "Enter a whole number of seats from 1 to 100000."),
    ({"starts_at": "next tuesday"}, "starts_at", "Enter a date and time like 2024-05-16 14:00."),
    ({"venue": ""}, "venue", "Give a venue, an online link, or both."),
    ({"online_url": "javascript:alert(1)"}, "online_url", "Enter a web address starting with https:// or http://."),
    ({"registration_opens_at": "2030-03-08T09:00", "registration_closes_at": "2030-03-07T09:00"},
     "registration_closes_at", "Registration must close after it opens."),
    ({"registration_closes_at": "2030-03-10T15:00"}, "registration_closes_at",
     "Registration must close by the start of the event."),
    ({"ends_at": "2030-03-20T16:00"}, "ends_at", "An event lasts at most 7 days."),
    ({"kind": "party"}, "kind", "Choose one of the options."),
    ({"topics": "wages|gossip"}, "topics", "Choose one of the options."),
])
def test_bad_event_input_gets_a_message_beside_its_field(clock, changes, field, message):
    form = _form(**changes)
    assert schemas.validate_event(form, T0) is None
    assert form.errors[field] == message
    for name, value in changes.items():  # nothing typed is lost
        assert form[name] == value


def test_editing_may_keep_a_start_that_has_passed_but_not_move_into_the_past(clock):
    values = schemas.validate_event(_form(), T0)
    editing = {"starts_at": values.starts_at}
    later = T0 + timedelta(days=8)  # the event started meanwhile
    assert schemas.validate_event(_form(title="改个标题"), later, editing) is not None
    form = _form(starts_at="2030-03-11T14:00", ends_at="2030-03-11T16:00")
    assert schemas.validate_event(form, T0 + timedelta(days=9), editing) is None
    assert form.errors["starts_at"] == "The start must be in the future."


# --- registering, capacity, the waitlist ----------------------------------------------------


async def _seats(tenant_id: int, event_id: int) -> tuple[int, int]:
    with tenant_scope(tenant_id):
        event = await Event.select(Event.seats_taken).where(Event.id == event_id).first()
        regs = await Registration.select(Registration.seats).where(
            (Registration.event == event_id) & (Registration.status == "confirmed")
        )
    return event["seats_taken"], sum(r["seats"] for r in regs)


async def _register(tenant_id, event_id, name, phone, **kw):
    with tenant_scope(tenant_id):
        return await service.register_individual(event_id, name, phone, **kw)


async def test_registrations_fill_seats_then_the_waitlist_in_order(world, clock):
    a = world.tenants["a"]["id"]
    event = await make_event(a, capacity=2)
    results = [await _register(a, event["id"], f"工人{i}", f"1380000000{i}") for i in range(5)]
    assert [r.status for r in results] == ["confirmed", "confirmed", "waitlisted", "waitlisted", "waitlisted"]
    assert [r.position for r in results] == [0, 0, 1, 2, 3]
    assert await _seats(a, event["id"]) == (2, 2)
    # Each registration wrote its confirmation to the outbox, with the manage link.
    with unscoped("test reads the outbox"):
        rows = await Notification.select(Notification.recipient, Notification.template_key, Notification.payload)
    assert len(rows) == 5 and {r["template_key"] for r in rows} == {"event_registered"}
    assert all("/o/district-a/registrations/" in str(r["payload"]) for r in rows)


async def test_the_same_phone_twice_for_one_event_is_refused(world, clock):
    a = world.tenants["a"]["id"]
    event = await make_event(a)
    other = await make_event(a, title="另一场")
    await _register(a, event["id"], "张三", "13800000001")
    with pytest.raises(EventError) as err:
        await _register(a, event["id"], "张三丰", "13800000001")
    assert err.value.field == "phone" and "already registered for this event" in err.value.message
    await _register(a, other["id"], "张三", "13800000001")  # another event is fine


async def test_the_unique_index_refuses_a_duplicate_that_raced_past_the_check(world, clock):
    a = world.tenants["a"]["id"]
    event = await make_event(a)
    reg = await _register(a, event["id"], "张三", "13800000001")
    with tenant_scope(a):
        with pytest.raises(Exception) as err:
            await Attendee(tenant=a, event=event["id"], registration=reg.id, name="x", phone="13800000001").save()
    assert service._is_unique_violation(err.value)


async def test_after_cancelling_the_same_phone_may_register_again(world, clock):
    a = world.tenants["a"]["id"]
    event = await make_event(a)
    first = await _register(a, event["id"], "张三", "13800000001")
    with tenant_scope(a):
        await service.cancel_registration(first.id)
    again = await _register(a, event["id"], "张三", "13800000001")
    assert again.status == "confirmed" and again.id != first.id


@pytest.mark.parametrize("setup,message", [
    ({"registration_opens_at": T0 + timedelta(days=1)}, "Registration opens on"),
    ({"registration_closes_at": T0 - timedelta(hours=1)}, "Registration closed on"),
    ({"starts_in": -timedelta(hours=1)}, "Registration closed on"),
    ({"starts_in": -timedelta(hours=5)}, "does not take registrations"),
    ({"status": "draft"}, "There is no such event."),  # not public: the same as missing
    ({"status": "cancelled"}, "This event was cancelled."),
    ({"status": "completed"}, "does not take registrations"),
])
async def test_registration_outside_the_window_is_refused(world, clock, setup, message):
    a = world.tenants["a"]["id"]
    event = await make_event(a, **setup)
    with pytest.raises(EventError) as err:
        await _register(a, event["id"], "张三", "13800000001")
    assert message in err.value.message
    assert await _seats(a, event["id"]) == (0, 0)


async def test_a_cancellation_promotes_the_first_on_the_waitlist_who_is_told(world, clock):
    a = world.tenants["a"]["id"]
    event = await make_event(a, capacity=2)
    regs = [await _register(a, event["id"], f"工人{i}", f"1390000000{i}") for i in range(4)]
    with tenant_scope(a):
        promoted = await service.cancel_registration(regs[0].id)
    assert promoted == [regs[2].id]
    with tenant_scope(a):
        statuses = {r["id"]: r["status"] for r in await Registration.select(Registration.id, Registration.status)}
        assert await service.waitlist_position(event["id"], regs[3].id) == 1
    assert statuses == {regs[0].id: "cancelled", regs[1].id: "confirmed", regs[2].id: "confirmed",
                        regs[3].id: "waitlisted"}
    assert await _seats(a, event["id"]) == (2, 2)
    with unscoped("test reads the outbox"):
        told = await Notification.select(Notification.dedupe_key).where(Notification.template_key == "event_promoted")
    assert [r["dedupe_key"] for r in told] == [f"registration:{regs[2].id}:promoted"]


async def test_a_group_is_never_split_and_the_first_that_fits_is_promoted(world, clock):
    a = world.tenants["a"]["id"]
    union = {"id": world.tenants["union"]["id"], "kind": "union"}
    rep = {"id": None, "name": "工会代表", "email": "rep@example.cn"}
    event = await make_event(a, capacity=5)
    first = [await _register(a, event["id"], f"工人{i}", f"1370000000{i}") for i in range(3)]
    people = [(f"会员{i}", "") for i in range(3)]
    group = await service.register_group(union, event["id"], 3, people, rep)
    assert group.status == "waitlisted"  # 2 seats free, 3 needed: waits whole
    late = await _register(a, event["id"], "后来者", "13600000009")
    assert late.status == "confirmed"  # 1 of the 2 free seats fits one person
    assert await _seats(a, event["id"]) == (4, 4)
    behind = await _register(a, event["id"], "排队者", "13600000008")
    assert behind.status == "confirmed"
    after = await _register(a, event["id"], "再排队", "13600000007")
    assert after.status == "waitlisted"
    # One seat frees: the group (3) does not fit, the next individual does.
    with tenant_scope(a):
        assert await service.cancel_registration(first[0].id) == [after.id]
        # Three more free: now the group fits, whole.
        await service.cancel_registration(first[1].id)
        await service.cancel_registration(first[2].id)
        promoted = await service.cancel_registration(late.id)
    assert promoted == [group.id]
    with tenant_scope(a):
        group_row = await Registration.select().where(Registration.id == group.id).first()
    assert group_row["status"] == "confirmed" and group_row["seats"] == 3
    assert await _seats(a, event["id"]) == (5, 5)


async def test_a_group_bigger_than_the_event_is_refused_and_headcount_must_match_names(world, clock):
    a = world.tenants["a"]["id"]
    union = {"id": world.tenants["union"]["id"], "kind": "union"}
    rep = {"id": None, "name": "代表", "email": "rep@example.cn"}
    event = await make_event(a, capacity=5)
    with pytest.raises(EventError) as err:
        await service.register_group(union, event["id"], 6, [("x", "")] * 6, rep)
    assert err.value.field == "headcount"
    with pytest.raises(EventError) as err:
        await service.register_group(union, event["id"], 4, [("x", "")] * 3, rep)
    assert err.value.message == "You gave 3 names for a group of 4."
    no_groups = await make_event(a, groups=False)
    with pytest.raises(EventError) as err:
        await service.register_group(union, no_groups["id"], 1, [("x", "")], rep)
    assert err.value.field == "event"
    with pytest.raises(EventError):
        await service.register_group({"id": a, "kind": "district_center"}, event["id"], 1, [("x", "")], rep)


async def test_group_phones_already_registered_are_named(world, clock):
    a = world.tenants["a"]["id"]
    union = {"id": world.tenants["union"]["id"], "kind": "union"}
    event = await make_event(a)
    await _register(a, event["id"], "张三", "13800000001")
    with pytest.raises(EventError) as err:
        await service.register_group(union, event["id"], 2, [("张三", "13800000001"), ("李四", "")],
                                     {"id": None, "name": "代表", "email": "rep@example.cn"})
    assert "13800000001" in err.value.message
    with tenant_scope(a):
        assert await Registration.count() == 1


async def test_staff_reserve_seats_that_must_fit_and_the_union_names_them(world, clock):
    a = world.tenants["a"]["id"]
    union_id = world.tenants["union"]["id"]
    event = await make_event(a, capacity=5)
    with tenant_scope(a):
        with pytest.raises(EventError) as err:
            await service.reserve_for_union(event["id"], union_id, 6, None)
        assert err.value.message == "Only 5 seats are left."
        with pytest.raises(EventError):
            await service.reserve_for_union(event["id"], world.tenants["b"]["id"], 2, None)  # not a union
        reserved = await service.reserve_for_union(event["id"], union_id, 4, None)
    assert reserved.status == "confirmed"
    found = await service.union_group(union_id, reserved.id)
    seats = found["registration"]["attendees"]
    assert [s["name"] for s in seats] == ["", "", "", ""]
    await service.substitute_attendee(union_id, reserved.id, seats[0]["id"], "王五", "13500000005")
    found = await service.union_group(union_id, reserved.id)
    assert [(s["name"], s["phone"]) for s in found["registration"]["attendees"]][0] == ("王五", "13500000005")
    # another union cannot see or change it
    assert await service.union_group(world.tenants["b"]["id"], reserved.id) is None
    with pytest.raises(EventError):
        await service.substitute_attendee(world.tenants["b"]["id"], reserved.id, seats[1]["id"], "x", "")


async def test_capacity_cannot_drop_below_the_confirmed_seats_and_a_raise_promotes(world, clock):
    a = world.tenants["a"]["id"]
    event = await make_event(a, capacity=1)
    await _register(a, event["id"], "甲", "13800000001")
    waiting = await _register(a, event["id"], "乙", "13800000002")
    with tenant_scope(a):
        row = await service.get_event(event["id"])
        form = schemas.event_form(initial=row)
        form.values["capacity"] = "0"
        assert schemas.validate_event(form, T0, row) is None  # 0 is refused by the form
        form = schemas.event_form(initial=row)
        form.values["capacity"] = "2"
        values = schemas.validate_event(form, T0, row)
        changes = await service.update_event(event["id"], values)
    assert changes == {"capacity": ["1", "2"]}
    with tenant_scope(a):
        assert (await Registration.select(Registration.status).where(Registration.id == waiting.id).first())[
            "status"] == "confirmed"


async def test_moving_a_published_event_tells_everyone_registered_with_the_new_time(world, clock):
    a = world.tenants["a"]["id"]
    event = await make_event(a, capacity=1)
    one = await _register(a, event["id"], "甲", "13800000001", email="jia@example.cn")
    two = await _register(a, event["id"], "乙", "13800000002")
    with tenant_scope(a):
        row = await service.get_event(event["id"])
        form = schemas.event_form(initial=row)
        form.values["starts_at"] = "2030-03-08T09:00"
        form.values["ends_at"] = "2030-03-08T11:00"
        await service.update_event(event["id"], schemas.validate_event(form, T0, row))
    with unscoped("test reads the outbox"):
        moved = await Notification.select(Notification.dedupe_key, Notification.recipient, Notification.channel).where(
            Notification.template_key == "event_moved").order_by(Notification.id)
    start = "2030-03-08T01:00:00+00:00"
    assert [(m["dedupe_key"], m["recipient"], m["channel"]) for m in moved] == [
        (f"event:{event['id']}:moved:{start}:reg:{one.id}", "jia@example.cn", "email"),
        (f"event:{event['id']}:moved:{start}:reg:{two.id}", "13800000002", "sms"),
    ]


async def test_cancelling_tells_everyone_once(world, clock):
    a = world.tenants["a"]["id"]
    event = await make_event(a, capacity=1)
    for i in range(3):
        await _register(a, event["id"], f"人{i}", f"1380000000{i}")
    with tenant_scope(a):
        assert await service.cancel_event(event["id"]) == 3
        with pytest.raises(EventError):
            await service.cancel_event(event["id"])
    with unscoped("test reads the outbox"):
        assert await Notification.count().where(Notification.template_key == "event_cancelled") == 3


# --- check-in ----------------------------------------------------------------------------


async def test_check_in_lists_confirmed_people_never_the_waitlist(world, clock):
    a = world.tenants["a"]["id"]
    event = await make_event(a, capacity=2, starts_in=timedelta(hours=1))
    await _register(a, event["id"], "王小明", "13811112222")
    await _register(a, event["id"], "李小红", "13833334444")
    await _register(a, event["id"], "赵等待", "13855556666")  # waitlisted
    with tenant_scope(a):
        everyone = await service.checkin_list(event["id"])
        assert [p["name"] for p in everyone] == ["王小明", "李小红"]
        assert [p["name"] for p in await service.checkin_list(event["id"], "小红")] == ["李小红"]
        assert [p["name"] for p in await service.checkin_list(event["id"], "2222")] == ["王小明"]
        assert await service.checkin_list(event["id"], "赵等待") == []
        row = await service.set_present(everyone[0]["id"], True, None)
        assert row["checked_in_at"] == T0
        await service.add_walk_in(event["id"], "路过者", "", None)
        with pytest.raises(EventError):
            await service.add_walk_in(event["id"], "冒名", "13833334444", None)
        regs = await service.event_registrations(event["id"])
    clock.move(hours=3)
    with tenant_scope(a):
        event_row = await service.get_event(event["id"])
    figures = service.event_figures(event_row, regs)
    assert figures == {"confirmed": 2, "present": 2, "walk_ins": 1, "no_shows": 1, "waitlisted": 1,
                       "waitlisted_registrations": 1, "held": True}
    assert await _seats(a, event["id"]) == (2, 2)  # the walk-in took no registered seat


async def test_check_in_opens_shortly_before_the_start(world, clock):
    a = world.tenants["a"]["id"]
    event = await make_event(a, starts_in=timedelta(days=2))
    await _register(a, event["id"], "王小明", "13811112222")
    with tenant_scope(a):
        [person] = await service.checkin_list(event["id"])
        with pytest.raises(EventError):
            await service.set_present(person["id"], True, None)
