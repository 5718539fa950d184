"""Working days on China's calendar (协商回应制度 deadlines are counted in them).

``chinese-calendar`` knows the State Council's holiday schedule, make-up workdays
included, for the years it was released with (2004 up to the year after its
release is announced). For a date outside those years it raises; we then count
Monday to Friday as working days, minus the statutory holidays that fall on fixed
dates (1 January, 1–2 May, 1–3 October). Lunar holidays (Spring Festival, Qingming,
Dragon Boat, Mid-Autumn) and make-up days of such a year are then unknown, so a
deadline there may fall a few days early: update the package when the next year's
schedule is published (each November or December).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

SH = ZoneInfo("Asia/Shanghai")

# Statutory holidays on fixed dates (全国年节及纪念日放假办法, 2024 revision).
FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}

REMIND_AT = time(8, 30)  # reminders go out at the start of a working day


@functools.lru_cache(maxsize=4096)
def is_workday(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS


def calendar_known(day: date) -> bool:
    """Whether the official schedule of ``day``'s year is known (else: the fallback)."""
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


def known_until() -> int:
    """The last year whose official schedule the installed package knows."""
    from chinese_calendar import constants

    return max(day.year for day in constants.holidays)


def local_day(at: datetime) -> date:
    return at.astimezone(SH).date()


def start_of(day: date, at: time = time(0, 0)) -> datetime:
    return datetime.combine(day, at, tzinfo=SH)


def nth_workday_after(day: date, n: int) -> date:
    """The n-th working day after ``day`` (``day`` itself does not count)."""
    found = 0
    while found < n:
        day += timedelta(days=1)
        if is_workday(day):
            found += 1
    return day


def workdays_between(first: date, last: date) -> int:
    """Working days in (first, last]: 0 when ``last`` is not after ``first``."""
    count = 0
    day = first
    while day < last:
        day += timedelta(days=1)
        if is_workday(day):
            count += 1
    return count


@dataclass(frozen=True)
class Deadline:
    due_day: date  # the last working day to answer on
    due_at: datetime  # the end of that day (Asia/Shanghai)
    remind_at: datetime  # the start of the working day before it (or of the due day)
    escalate_at: datetime | None  # the end of the margin's last working day, if any


def deadline(start: datetime, days: int, escalate_after: int = 0) -> Deadline:
    """A deadline of ``days`` working days from ``start``; the day it starts does not count.

    Answered by the end of the ``days``-th working day after the day of ``start``; a
    reminder on the working day before; automatic escalation once ``escalate_after``
    more working days have passed (0: never)."""
    begin = local_day(start)
    due_day = nth_workday_after(begin, days)
    remind_day = nth_workday_after(begin, days - 1) if days > 1 else due_day
    escalate_at = None
    if escalate_after > 0:
        escalate_at = start_of(nth_workday_after(due_day, escalate_after) + timedelta(days=1))
    return Deadline(
        due_day=due_day,
        due_at=start_of(due_day + timedelta(days=1)),
        remind_at=max(start_of(remind_day, REMIND_AT), start),
        escalate_at=escalate_at,
    )


@dataclass(frozen=True)
class TimeLeft:
    overdue: bool
    days: int  # working days left after today, or working days overdue
    due_day: date
    due_today: bool = False


def time_left(due_at: datetime, now: datetime) -> TimeLeft:
    """Working days left after today until the due day (0 on the due day itself, so a
    5-day deadline shows 5 on the day a message arrives); once past the end of the due
    day, the working days it is overdue by (at least 1)."""
    due_day = local_day(due_at - timedelta(seconds=1))
    today = local_day(now)
    if now < due_at:
        return TimeLeft(overdue=False, days=workdays_between(today, due_day), due_day=due_day,
                        due_today=today == due_day)
    return TimeLeft(overdue=True, days=max(workdays_between(due_day, today), 1), due_day=due_day)
