"""Training rules: assigning inside one's subtree, passing down and rolling up, completion."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.core.forms import Form
from app.training import service
from app.training.service import TrainingError
from tenants.scope import tenant_scope
from tests.training.helpers import TODAY, assign, assignment_of, complete, make_programme, nominate


async def test_city_assigns_to_every_district_center_and_skips_those_that_have_it(world, clock):
    city = world.tenants["city"]["id"]
    programme = await make_programme(city)
    done = await assign(city, programme, kind="district_center")
    assert len(done.created) == 2 and done.skipped == 0
    again = await assign(city, programme, kind="district_center")
    assert again.created == [] and again.skipped == 2


async def test_assigning_outside_ones_subtree_is_refused(world, clock):
    a = world.tenants["a"]["id"]
    programme = await make_programme(a)
    with pytest.raises(TrainingError) as exc:
        await assign(a, programme, targets=[world.tenants["b"]["id"]])
    assert exc.value.field == "tenants" and "below yours" in exc.value.message
    with pytest.raises(TrainingError):
        await assign(a, programme, targets=[a])  # not to itself either
    done = await assign(a, programme, targets=[world.tenants["ent_a"]["id"]])
    assert len(done.created) == 1


@pytest.mark.parametrize("values,field,message", [
    ({"due_date": "2030-03-04", "required_people": "2"}, "due_date", "after today"),
    ({"due_date": "2030-03-01", "required_people": "2"}, "due_date", "after today"),
    ({"due_date": "2030-04-01", "required_people": "0"}, "required_people", "At least one"),
    ({"due_date": "not a date", "required_people": "2"}, "due_date", "Enter a date"),
    ({"due_date": "2030-04-01", "required_people": "two"}, "required_people", "whole number"),
])
def test_bad_assignment_input_gets_a_message_beside_the_field(clock, values, field, message):
    form = Form(values={"kind": "district_center", **values})
    service.validate_assignment(form, [])
    assert message in form.errors[field]


def test_passing_down_cannot_be_due_later_than_ones_own(clock):
    form = Form(values={"kind": "enterprise_committee", "due_date": "2030-05-01", "required_people": "1"})
    service.validate_assignment(form, [], latest_due=TODAY + timedelta(days=30))
    assert "cannot be later" in form.errors["due_date"]


@pytest.mark.parametrize("hours,ok", [("2", True), ("1.5", True), ("0", False), ("-1", False), ("abc", False),
                                      ("0.2", False), ("500", False)])
def test_programme_hours(hours, ok):
    form = Form(values={"title": "t", "hours": hours})
    minutes = service.validate_programme(form)
    assert (minutes is not None and form.ok) is ok


async def test_cascade_rolls_up_and_partial_attendance_never_counts(world, clock):
    city, a, ent = (world.tenants[k]["id"] for k in ("city", "a", "ent_a"))
    programme = await make_programme(city, hours="2")
    await assign(city, programme, targets=[a], required=3)
    top = await assignment_of(a, programme)
    with tenant_scope(a):
        parent = {"id": top}
        await service.assign(programme, [str(ent)], "", TODAY + timedelta(days=20), 2, None, parent=parent)
    child = await assignment_of(ent, programme)

    p1 = await nominate(ent, child, "王芳", "13900000001")
    p2 = await nominate(ent, child, "李雷", "13900000002")
    own = await nominate(a, top, "赵敏", "13900000003")
    await complete(ent, child, p1, hours="2")
    await complete(ent, child, p2, hours="2", result="partial")  # left early: no
    await complete(ent, child, p2, hours="1")  # half the hours: not yet
    progress = await service.progress_of([top, child])
    assert progress[child]["done"] == 1 and not progress[child]["complete"]
    assert progress[top]["done"] == 1

    await complete(ent, child, p2, hours="1")  # now 2 passed hours
    await complete(a, top, own, hours="3")
    progress = await service.progress_of([top, child])
    assert progress[child] | {"percent": 0} == {"own": 2, "done": 2, "required": 2, "complete": True, "percent": 0}
    assert progress[top]["own"] == 1 and progress[top]["done"] == 3 and progress[top]["complete"]
    with tenant_scope(a):
        assert (await service.own_assignment(top)).completed_at is not None
    with tenant_scope(ent):
        assert (await service.own_assignment(child)).completed_at is not None


async def test_completion_input_is_checked(world, clock):
    city, a = world.tenants["city"]["id"], world.tenants["a"]["id"]
    programme = await make_programme(city)
    await assign(city, programme, targets=[a])
    top = await assignment_of(a, programme)
    person = await nominate(a, top, "赵敏")
    done, form = await complete(a, top, person, day="2030-03-05")
    assert done is None and "future" in form.errors["day"]
    done, form = await complete(a, top, person, result="great")
    assert done is None and "options" in form.errors["result"]
    done, form = await complete(a, top, 999999)
    assert done is None and "nominated" in form.errors["participant"]


async def test_another_organisations_assignment_is_not_found_in_scope(world, clock):
    from litestar.exceptions import NotFoundException

    city, a, b = (world.tenants[k]["id"] for k in ("city", "a", "b"))
    programme = await make_programme(city)
    await assign(city, programme, kind="district_center")
    of_b = await assignment_of(b, programme)
    with tenant_scope(a), pytest.raises(NotFoundException):
        await service.own_assignment(of_b)
    assert await service.assignment_view(a, of_b) is None  # a sibling sees nothing
    assert (await service.assignment_view(city, of_b))["own"] is False  # the city reads it


async def test_every_committee_of_a_kind_within_one_district(world, clock):
    city, a = world.tenants["city"]["id"], world.tenants["a"]["id"]
    programme = await make_programme(city)
    with tenant_scope(city):
        done = await service.assign(programme, [], "enterprise_committee", TODAY + timedelta(days=9), 1, None,
                                    within=str(a))
    assert len(done.created) == 1
    assert await service.assignment_view(city, done.created[0])
    with tenant_scope(a), pytest.raises(TrainingError) as exc:
        await service.assign(programme, [], "district_center", TODAY + timedelta(days=9), 1, None,
                             within=str(world.tenants["b"]["id"]))
    assert exc.value.field == "within"
