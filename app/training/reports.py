"""Training figures for the city's network report (``app.city.reports.training_rows``).

Per organisation and period [start, end):
- ``completed``: people who became trained in the period, counted where they were trained:
  a participant of an assignment whose passed completions reach the programme's required
  hours on a day inside the period (a failed or partial attendance never counts);
- ``required``: people required by assignments made to the organisation directly (not
  passed down: a district center's share passed to its committees is already counted in
  the district's own assignment) that fall due inside the period.

Added up by district, the two compare like with like: what a district was asked to train
by its due dates, and how many people it trained."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from app.training.tables import Assignment, Completion, Result
from tenants.scope import unscoped

SHANGHAI = ZoneInfo("Asia/Shanghai")  # completion days and due dates are Asia/Shanghai dates


def _day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date() if moment.tzinfo else moment.date()


async def monthly_completion(start: datetime, end: datetime) -> list[tuple[int, int, int]]:
    first, after = _day(start), _day(end)
    with unscoped("the city's network report counts trained people, never who they are"):
        rows = await Completion.select(
            Completion.tenant, Completion.assignment, Completion.participant, Completion.minutes, Completion.day,
            Completion.assignment.programme.required_minutes.as_alias("need"),
        ).where((Completion.result == Result.passed.value) & (Completion.day < after)).order_by(
            Completion.day).order_by(Completion.id)
        due = await Assignment.select(Assignment.tenant, Assignment.required_people).where(
            Assignment.parent.is_null() & (Assignment.due_date >= first) & (Assignment.due_date < after))
    totals: dict[tuple[int, int], int] = {}
    completed: dict[int, int] = {}
    for r in rows:
        key = (r["assignment"], r["participant"])
        before = totals.get(key, 0)
        totals[key] = before + r["minutes"]
        if before < r["need"] <= totals[key] and r["day"] >= first:
            completed[r["tenant"]] = completed.get(r["tenant"], 0) + 1
    required: dict[int, int] = {}
    for r in due:
        required[r["tenant"]] = required.get(r["tenant"], 0) + r["required_people"]
    return [(t, completed.get(t, 0), required.get(t, 0)) for t in sorted(set(completed) | set(required))]
