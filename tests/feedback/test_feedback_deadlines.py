"""Deadlines in working days on China's calendar, reminders and overdue alerts once per
stage, automatic escalation after the tenant's margin; all on a clock the test sets."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone

import chinese_calendar
import pytest

from app.feedback import clock, service
from app.feedback.jobs import feedback_deadlines
from app.feedback.tables import FeedbackEvent, FeedbackItem
from app.feedback.workdays import SH, calendar_known, deadline, is_workday, time_left
from app.notifications.jobs import deliver_notification
from app.notifications.tables import Notification
from tenants.scope import tenant_scope, unscoped
from tests.feedback.helpers import submit
from tests.support import csrf_token, login


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


# --- the calendar ------------------------------------------------------------------


def test_a_deadline_across_national_day_skips_the_holiday_and_counts_the_make_up_saturday():
    # Wednesday 30 September 2026; 1–7 October are holidays, Saturday 10 October is a working day.
    d = deadline(sh(2026, 9, 30, 10), 5)
    assert d.due_day == date(2026, 10, 13)  # 8, 9, 10 (Sat), 12, 13 October
    assert d.due_at == sh(2026, 10, 14) and d.remind_at == sh(2026, 10, 12, 8, 30)
    naive_weekdays = date(2026, 10, 7)  # what Monday-to-Friday counting would have said
    assert d.due_day != naive_weekdays


def test_a_make_up_sunday_is_a_working_day():
    assert not is_workday(date(2026, 9, 19)) and is_workday(date(2026, 9, 20))  # Sat off, Sun worked
    assert deadline(sh(2026, 9, 18, 16), 1).due_day == date(2026, 9, 20)
    # Mid-Autumn (25–27 September) then counts as days off.
    assert deadline(sh(2026, 9, 24, 9), 1).due_day == date(2026, 9, 28)


def test_time_left_counts_working_days_only():
    d = deadline(sh(2026, 9, 30, 10), 5)
    assert time_left(d.due_at, sh(2026, 10, 3, 12)).days == 5  # a holiday: all five still ahead
    left = time_left(d.due_at, sh(2026, 10, 9, 9))  # Friday: Saturday 10 (worked), 12 and 13 October to go
    assert (left.days, left.overdue, left.due_today) == (3, False, False)
    assert time_left(d.due_at, sh(2026, 9, 30, 10)).days == 5  # on the day it arrived
    due_day = time_left(d.due_at, sh(2026, 10, 13, 17))
    assert due_day.due_today and due_day.days == 0 and not due_day.overdue
    late = time_left(d.due_at, sh(2026, 10, 16, 9))
    assert (late.overdue, late.days) == (True, 3)


def test_escalation_comes_after_the_margin_in_working_days():
    d = deadline(sh(2026, 9, 30, 10), 5, escalate_after=3)
    assert d.escalate_at == sh(2026, 10, 17)  # 14, 15, 16 October after the due day
    assert deadline(sh(2026, 9, 30, 10), 5, escalate_after=0).escalate_at is None


def test_beyond_the_known_years_monday_to_friday_minus_fixed_holidays():
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2031, 1, 6))
    assert not calendar_known(date(2031, 1, 6)) and calendar_known(date(2026, 1, 5))
    assert is_workday(date(2031, 1, 6)) and not is_workday(date(2031, 1, 4))  # Monday / Saturday
    for day in (date(2031, 1, 1), date(2031, 5, 1), date(2031, 5, 2), date(2031, 10, 1), date(2031, 10, 3)):
        assert not is_workday(day), day
    # Tuesday 30 September 2031: 1–3 October off, 4–5 a weekend, then 6, 7, 8 October.
    assert deadline(sh(2031, 9, 30, 10), 3).due_day == date(2031, 10, 8)


# --- reminders, alerts, automatic escalation ---------------------------------------


async def _messages(template: str) -> list[dict]:
    with unscoped("test"):
        return await Notification.select(Notification.recipient, Notification.channel, Notification.id,
                                          Notification.tenant, Notification.dedupe_key).where(
            Notification.template_key == template).order_by(Notification.id)


async def _item() -> dict:
    with unscoped("test"):
        return await FeedbackItem.select().first()


async def test_a_reminder_before_the_deadline_an_alert_after_it_each_once_then_escalation(client, world):
    clock.set(sh(2026, 9, 30, 10))
    await submit(client, "ent-a")
    ent_staff = sorted(["ent_a_admin@test.tiaojie.cn", "ent_a_staff@test.tiaojie.cn"])

    clock.set(sh(2026, 10, 9, 17))
    assert await feedback_deadlines({}) == {"reminded": 0, "overdue": 0, "escalated": 0}

    clock.set(sh(2026, 10, 12, 9))  # the working day before the deadline
    assert await feedback_deadlines({}) == {"reminded": 1, "overdue": 0, "escalated": 0}
    assert await feedback_deadlines({}) == {"reminded": 0, "overdue": 0, "escalated": 0}
    reminders = await _messages("feedback_due_soon")
    assert sorted(m["recipient"] for m in reminders if m["channel"] == "email") == ent_staff
    assert len(reminders) == 4  # in-app and email, to each of the two

    clock.set(sh(2026, 10, 14, 0, 30))  # the deadline has passed
    assert await feedback_deadlines({}) == {"reminded": 0, "overdue": 1, "escalated": 0}
    for hour in (1, 9, 17):
        clock.set(sh(2026, 10, 15, hour))
        assert await feedback_deadlines({}) == {"reminded": 0, "overdue": 0, "escalated": 0}
    assert len(await _messages("feedback_overdue")) == 4 and len(await _messages("feedback_due_soon")) == 4

    clock.set(sh(2026, 10, 17, 0, 15))  # overdue by three working days: the district center takes over
    assert await feedback_deadlines({}) == {"reminded": 0, "overdue": 0, "escalated": 1}
    item = await _item()
    assert item["tenant"] == world.tenants["a"]["id"] and item["origin"] == world.tenants["ent_a"]["id"]
    assert item["status"] == "new" and item["alert_stage"] == 0 and item["escalations"] == 1
    assert item["due_at"] == sh(2026, 10, 24)  # 19–23 October are its own five working days
    told = await _messages("feedback_escalated")
    assert {m["tenant"] for m in told} == {world.tenants["a"]["id"]} and len(told) == 4
    with unscoped("test"):
        event = await FeedbackEvent.select(FeedbackEvent.detail, FeedbackEvent.actor).where(
            FeedbackEvent.kind == "escalated").first()
    assert event["actor"] is None and '"automatic": true' in event["detail"]
    assert await feedback_deadlines({}) == {"reminded": 0, "overdue": 0, "escalated": 0}


async def test_two_passes_at_once_send_each_message_once(client, world):
    clock.set(sh(2026, 9, 30, 10))
    await submit(client, "district-a")
    await submit(client, "district-b")
    clock.set(sh(2026, 10, 14, 1))
    results = await asyncio.gather(service.process_deadlines(), service.process_deadlines())
    assert sum(r["overdue"] for r in results) == 2
    assert len(await _messages("feedback_overdue")) == 8
    assert len({m["dedupe_key"] for m in await _messages("feedback_overdue")}) == 8


async def test_answering_cancels_a_reminder_not_yet_delivered(client, world):
    clock.set(sh(2026, 9, 30, 10))
    await submit(client, "district-a")
    clock.set(sh(2026, 10, 12, 9))
    await service.process_deadlines()
    reminders = await _messages("feedback_due_soon")
    assert reminders
    await login(client, world.users["a_staff"])
    item = await _item()
    await client.post(f"/manage/district-a/feedback/{item['id']}/reply",
                      data={"body": "已答复", "_csrf_token": csrf_token(client)}, follow_redirects=False)
    outcomes = [await deliver_notification({}, m["id"], m["tenant"]) for m in reminders]
    assert outcomes == ["cancelled"] * len(reminders)
    clock.set(sh(2026, 10, 20, 9))
    assert await service.process_deadlines() == {"reminded": 0, "overdue": 0, "escalated": 0}


async def test_reminders_go_to_the_assignee_and_alerts_also_to_admins(client, world):
    clock.set(sh(2026, 9, 30, 10))
    await submit(client, "district-a")
    item = await _item()
    with tenant_scope(world.tenants["a"]["id"]):
        from app.accounts.tables import User

        staff = await User.select(User.id).where(User.email == world.users["a_staff"]).first()
        await service.assign(item["id"], staff["id"], staff["id"])
    clock.set(sh(2026, 10, 12, 9))
    await service.process_deadlines()
    assert {m["recipient"] for m in await _messages("feedback_due_soon")} == {"a_staff@test.tiaojie.cn"}
    clock.set(sh(2026, 10, 14, 9))
    await service.process_deadlines()
    assert {m["recipient"] for m in await _messages("feedback_overdue")} == {"a_staff@test.tiaojie.cn",
                                                                              "a_admin@test.tiaojie.cn"}


async def test_no_automatic_escalation_with_margin_zero_or_at_the_top(client, world):
    from app.feedback.tables import FeedbackSettings

    with tenant_scope(world.tenants["a"]["id"]):
        await FeedbackSettings(tenant=world.tenants["a"]["id"], escalate_after_days=0).save()
    clock.set(sh(2026, 9, 30, 10))
    await submit(client, "district-a")
    await submit(client, "city")
    with unscoped("test"):
        rows = await FeedbackItem.select(FeedbackItem.escalate_at)
    assert [r["escalate_at"] for r in rows] == [None, None]
    clock.set(sh(2026, 12, 30, 9))
    assert (await service.process_deadlines())["escalated"] == 0


async def test_the_worker_runs_the_mailbox_jobs_on_a_schedule():
    from workers.settings import WorkerSettings

    names = {job.name for job in WorkerSettings.cron_jobs}
    assert {"cron:feedback_deadlines", "cron:erase_feedback_contacts"} <= names
    deadlines = next(job for job in WorkerSettings.cron_jobs if job.name == "cron:feedback_deadlines")
    assert deadlines.minute == {0, 15, 30, 45} and deadlines.unique
