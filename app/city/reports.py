"""Network reports (DESIGN §3.6): what the network did, by district and month.

Figures of one month and one district (the district of the organisation that held the
event, recorded the outreach or received the feedback; "" is city level), counted over
every organisation, active or not (a report of March does not shrink when an
organisation closes in June):

- ``events_held``: events that started in the month (Asia/Shanghai), are over, and were
  not cancelled; ``registered``: their confirmed seats booked ahead (walk-ins not
  counted); ``attended``: their attendees checked in (walk-ins included);
- ``outreach_entries``: outreach entries recorded for a day of the month, and
  ``outreach_<kind>``: their quantities by kind;
- ``feedback_received``: items received in the month by organisations of the district
  (by the one they were sent to, wherever they were escalated later);
  ``feedback_in_time``: of those, first answered by the first deadline;
  ``feedback_overdue``: first deadline passed and answered late or not yet answered
  (an item closed unanswered is neither); ``feedback_escalated``: escalated at least once.
  So received = in time + overdue + still within the deadline (+ closed unanswered).
- ``training_completed`` / ``training_required``: filled by the training domain when it
  exists (``app.training.reports.monthly_completion``, see ``training_rows``); until then
  the report shows "—".

The figures are read from ``ReportFigure``, pre-aggregated per (month, district,
measure): a worker recomputes the current and previous month every ten minutes and
the last 24 months nightly; a page recomputes a month it has no figures for, and the
current month when its figures are older than ``FRESH_SECONDS``.
"""

from __future__ import annotations

import importlib.util
import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable

from piccolo.query.functions.aggregate import Count, Sum

from app.city.tables import ReportFigure, ReportMonth
from app.db import write_transaction
from app.i18n import lazy_gettext as _l
from app.i18n import tz
from app.outreach.tables import ENTRY_KIND_LABELS, OutreachEntry
from tenants.scope import unscoped
from tenants.tables import Tenant

log = logging.getLogger("tiaojie.city.reports")

CITY_LEVEL = "-"  # the district choice meaning city-level organisations (district "")
FRESH_SECONDS = 300  # the current month is recomputed on a page view when older than this
MAX_MONTHS = 36  # the longest range a page or export shows
LOCK_KEY = "tiaojie:reports:computing:"


@dataclass(frozen=True)
class Column:
    key: str
    label: Any


# The columns of the main tables, in order.
MAIN_COLUMNS: list[Column] = [
    Column("events_held", _l("Events held")),
    Column("registered", _l("Registered ahead")),
    Column("attended", _l("Attended")),
    Column("outreach_entries", _l("Outreach activities")),
    Column("feedback_received", _l("Feedback received")),
    Column("feedback_in_time", _l("Answered within the deadline")),
    Column("feedback_overdue", _l("Overdue")),
    Column("feedback_escalated", _l("Escalated")),
]
OUTREACH_COLUMNS: list[Column] = [Column(f"outreach_{k}", v) for k, v in ENTRY_KIND_LABELS.items()]
TRAINING_COLUMNS = ("training_completed", "training_required")
MEASURES: list[str] = [c.key for c in MAIN_COLUMNS] + [c.key for c in OUTREACH_COLUMNS] + list(TRAINING_COLUMNS)


def training_available() -> bool:
    """True once the training domain reports completion (the hook ``training_rows`` reads)."""
    try:
        return importlib.util.find_spec("app.training.reports") is not None
    except ModuleNotFoundError:
        return False


# --- months --------------------------------------------------------------------


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def month_of(moment: datetime) -> str:
    return moment.astimezone(tz()).strftime("%Y-%m")


def current_month(now: datetime | None = None) -> str:
    return month_of(now or now_utc())


def valid_month(value: str) -> bool:
    if len(value) != 7 or value[4] != "-":
        return False
    try:
        year, month = int(value[:4]), int(value[5:])
    except ValueError:
        return False
    return 2000 <= year <= 2100 and 1 <= month <= 12


def add_months(month: str, n: int) -> str:
    index = int(month[:4]) * 12 + int(month[5:]) - 1 + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    months = []
    m = first
    while m <= last and len(months) < MAX_MONTHS:
        months.append(m)
        m = add_months(m, 1)
    return months


def month_start(month: str) -> datetime:
    """The first moment of ``month`` in Asia/Shanghai."""
    return datetime(int(month[:4]), int(month[5:]), 1, tzinfo=tz())


def month_days(month: str) -> tuple[date, date]:
    """[first day, first day of the next month)."""
    nxt = add_months(month, 1)
    return date(int(month[:4]), int(month[5:]), 1), date(int(nxt[:4]), int(nxt[5:]), 1)


@dataclass(frozen=True)
class Period:
    first: str
    last: str

    @property
    def months(self) -> list[str]:
        return months_between(self.first, self.last)


def period_from(first: str, last: str, now: datetime | None = None) -> Period:
    """The asked month range, made sensible: default the last 12 months, at most MAX_MONTHS,
    never after the current month."""
    today = current_month(now)
    last = last if valid_month(last) and last <= today else today
    first = first if valid_month(first) else add_months(last, -11)
    if first > last:
        first, last = last, first
    if len(months_between(first, last)) >= MAX_MONTHS and add_months(first, MAX_MONTHS - 1) < last:
        first = add_months(last, -(MAX_MONTHS - 1))
    return Period(first, last)


# --- computing one month ---------------------------------------------------------------


async def training_rows(start: datetime, end: datetime) -> list[tuple[int, int, int]]:
    """(tenant id, completed, required) of training in [start, end), from the training domain.

    The hook for ``app.training``: when it ships ``app/training/reports.py`` with
    ``async def monthly_completion(start, end) -> list[tuple[int, int, int]]`` (per
    organisation: people who completed training assigned to it in the period, and people
    required), its figures fill the report's training column; until then it shows "—"."""
    if not training_available():
        return []
    from importlib import import_module

    module = import_module("app.training.reports")
    return list(await module.monthly_completion(start, end))


async def compute_month(month: str, now: datetime | None = None) -> dict[str, dict[str, int]]:
    """{district: {measure: value}} of one month, counted from the domains' own tables."""
    from app.events.service import HELD
    from app.events.tables import Attendee, Event, Registration, RegistrationKind, RegistrationStatus
    from app.feedback.tables import OPEN_STATUSES, FeedbackItem

    now = now or now_utc()
    start, end = month_start(month), month_start(add_months(month, 1))
    first_day, next_day = month_days(month)
    result: dict[str, dict[str, int]] = {}
    with unscoped("the city's network report counts every organisation's work, never contents"):
        district_of = {r["id"]: r["district"] for r in await Tenant.select(Tenant.id, Tenant.district)}

        def add(tenant_id: int, measure: str, value: int) -> None:
            if value and tenant_id in district_of:
                row = result.setdefault(district_of[tenant_id], {})
                row[measure] = row.get(measure, 0) + int(value)

        held = (Event.status.is_in(HELD)) & (Event.starts_at >= start) & (Event.starts_at < end) & (Event.ends_at <= now)
        for r in await Event.select(Event.tenant, Count(Event.id, alias="n")).where(held).group_by(Event.tenant):
            add(r["tenant"], "events_held", r["n"])
        for r in await Registration.select(Registration.tenant, Sum(Registration.seats).as_alias("n")).where(
            (Registration.status == RegistrationStatus.confirmed.value)
            & (Registration.kind != RegistrationKind.walk_in.value)
            & Registration.event.status.is_in(HELD) & (Registration.event.starts_at >= start)
            & (Registration.event.starts_at < end) & (Registration.event.ends_at <= now)
        ).group_by(Registration.tenant):
            add(r["tenant"], "registered", r["n"] or 0)
        for r in await Attendee.select(Attendee.tenant, Count(Attendee.id, alias="n")).where(
            Attendee.checked_in_at.is_not_null() & Attendee.event.status.is_in(HELD)
            & (Attendee.event.starts_at >= start) & (Attendee.event.starts_at < end) & (Attendee.event.ends_at <= now)
        ).group_by(Attendee.tenant):
            add(r["tenant"], "attended", r["n"])
        for r in await OutreachEntry.select(
            OutreachEntry.tenant, OutreachEntry.kind, Count(OutreachEntry.id, alias="n"),
            Sum(OutreachEntry.quantity).as_alias("q"),
        ).where((OutreachEntry.day >= first_day) & (OutreachEntry.day < next_day)).group_by(
            OutreachEntry.tenant, OutreachEntry.kind
        ):
            add(r["tenant"], "outreach_entries", r["n"])
            add(r["tenant"], f"outreach_{r['kind']}", r["q"] or 0)
        items = await FeedbackItem.select(
            FeedbackItem.origin, FeedbackItem.status, FeedbackItem.first_due_at, FeedbackItem.first_reply_at,
            FeedbackItem.escalations,
        ).where((FeedbackItem.received_at >= start) & (FeedbackItem.received_at < end))
    counts: dict[int, dict[str, int]] = {}
    for r in items:
        c = counts.setdefault(r["origin"], {"feedback_received": 0, "feedback_in_time": 0, "feedback_overdue": 0,
                                            "feedback_escalated": 0})
        c["feedback_received"] += 1
        due, replied = r["first_due_at"], r["first_reply_at"]
        if replied is not None and (due is None or replied <= due):
            c["feedback_in_time"] += 1
        elif due is not None and due < now and (replied is not None or r["status"] in OPEN_STATUSES):
            c["feedback_overdue"] += 1
        if r["escalations"]:
            c["feedback_escalated"] += 1
    for tenant_id, c in counts.items():
        for k, v in c.items():
            add(tenant_id, k, v)
    for tenant_id, completed, required in await training_rows(start, end):
        add(tenant_id, "training_completed", completed)
        add(tenant_id, "training_required", required)
    return result


async def store_month(month: str, figures: dict[str, dict[str, int]], now: datetime | None = None) -> int:
    """Replace the stored figures of ``month`` (zeros are not stored)."""
    now = now or now_utc()
    rows = [ReportFigure(month=month, district=d, measure=k, value=v)
            for d, values in figures.items() for k, v in values.items() if v]
    async with write_transaction():
        await ReportFigure.delete().where(ReportFigure.month == month)
        if rows:
            await ReportFigure.insert(*rows)
        await ReportMonth.insert(ReportMonth(month=month, computed_at=now)).on_conflict(
            target=ReportMonth.month, action="DO UPDATE", values=[ReportMonth.computed_at])
    return len(rows)


async def refresh_month(month: str, now: datetime | None = None) -> int:
    """Recompute and store one month; returns the number of figures written."""
    now = now or now_utc()
    return await store_month(month, await compute_month(month, now), now)


async def _take_lock(month: str) -> bool:
    """Only one process recomputes a month at a time; without Redis, every one may."""
    from app.core.redis import get_redis

    try:
        return bool(await get_redis().set(LOCK_KEY + month, "1", nx=True, ex=120))
    except Exception:  # noqa: BLE001 - a report must not fail because Redis does
        log.warning("report lock unavailable; computing %s anyway", month, exc_info=True)
        return True


async def _drop_lock(month: str) -> None:
    from app.core.redis import get_redis

    try:
        await get_redis().delete(LOCK_KEY + month)
    except Exception:  # noqa: BLE001
        pass


async def ensure_months(months: Iterable[str], now: datetime | None = None) -> list[str]:
    """Compute the months that have no figures yet, and the current month when its figures
    are older than FRESH_SECONDS; returns the months computed."""
    now = now or now_utc()
    months = list(months)
    if not months:
        return []
    done = {r["month"]: r["computed_at"] for r in await ReportMonth.select(
        ReportMonth.month, ReportMonth.computed_at).where(ReportMonth.month.is_in(months))}
    this_month = current_month(now)
    computed = []
    for m in months:
        at = done.get(m)
        if at is not None and (m != this_month or (now - at).total_seconds() < FRESH_SECONDS):
            continue
        if m > this_month:
            continue
        if not await _take_lock(m):
            if at is not None:
                continue  # another process is recomputing it; these figures are minutes old
        try:
            await refresh_month(m, now)
            computed.append(m)
        except Exception:
            if at is None:
                raise
            log.exception("could not refresh the report of %s; showing the figures of %s", m, at)
        finally:
            await _drop_lock(m)
    return computed


async def refresh_recent(months: int = 2, now: datetime | None = None) -> dict[str, Any]:
    """The worker's roll-up: recompute the last ``months`` months (the current one included)."""
    now = now or now_utc()
    last = current_month(now)
    done = []
    for m in months_between(add_months(last, -(months - 1)), last):
        await refresh_month(m, now)
        done.append(m)
    return {"months": done}


# --- reading -----------------------------------------------------------------------


def _district_key(choice: str) -> str | None:
    """The stored district of a filter choice: None for the whole city."""
    if not choice:
        return None
    return "" if choice == CITY_LEVEL else choice


def _empty() -> dict[str, int]:
    return {k: 0 for k in MEASURES}


def _in_time_share(values: dict[str, int]) -> int | None:
    return round(100 * values["feedback_in_time"] / values["feedback_received"]) if values["feedback_received"] else None


def _decorate(values: dict[str, int]) -> dict[str, Any]:
    return {**values, "in_time_share": _in_time_share(values),
            "training_share": (round(100 * values["training_completed"] / values["training_required"])
                               if values["training_required"] else None)}


async def network_report(period: Period, district: str = "", now: datetime | None = None,
                         districts: Iterable[str] = ()) -> dict[str, Any]:
    """The report of ``period``: by district (totals over the period), by month (for the
    chosen district or the whole city), and the detail (month × district) exports use.

    ``district`` is a filter choice ("" whole city, CITY_LEVEL, or a district name);
    ``districts`` are the districts to list even without figures."""
    months = period.months
    await ensure_months(months, now)
    wanted = _district_key(district)
    query = ReportFigure.select(ReportFigure.month, ReportFigure.district, ReportFigure.measure,
                                ReportFigure.value).where(ReportFigure.month.is_in(months))
    if wanted is not None:
        query = query.where(ReportFigure.district == wanted)
    rows = await query
    names = set(districts) if wanted is None else {wanted}
    names |= {r["district"] for r in rows}
    order = sorted(names, key=lambda d: (d == "", d))  # districts by name, city level last
    by_district: OrderedDict[str, dict[str, int]] = OrderedDict((d, _empty()) for d in order)
    by_month: OrderedDict[str, dict[str, int]] = OrderedDict((m, _empty()) for m in months)
    detail: dict[tuple[str, str], dict[str, int]] = {}
    total = _empty()
    for r in rows:
        if r["measure"] not in total:
            continue
        by_district[r["district"]][r["measure"]] += r["value"]
        by_month[r["month"]][r["measure"]] += r["value"]
        detail.setdefault((r["month"], r["district"]), _empty())[r["measure"]] += r["value"]
        total[r["measure"]] += r["value"]
    return {
        "months": months,
        "by_district": [{"district": d, **_decorate(v)} for d, v in by_district.items()],
        "by_month": [{"month": m, **_decorate(v)} for m, v in by_month.items()],
        "detail": [{"month": m, "district": d, **_decorate(detail.get((m, d), _empty()))}
                   for m in months for d in order],
        "total": _decorate(total),
        "training": training_available(),
        "computed_at": await _computed_at(months),
    }


async def _computed_at(months: list[str]) -> datetime | None:
    rows = await ReportMonth.select(ReportMonth.computed_at).where(ReportMonth.month.is_in(months))
    return min((r["computed_at"] for r in rows), default=None)


# --- charts --------------------------------------------------------------------------


CHARTS = [
    ("events_held", _l("Events held")),
    ("attended", _l("Attended")),
    ("outreach_entries", _l("Outreach activities")),
    ("feedback_received", _l("Feedback received")),
]


def bar_chart(points: list[dict[str, Any]], key: str, label: Any, part: str | None = None) -> dict[str, Any]:
    """Geometry of one bar chart of ``key`` by month (server-rendered SVG, attributes only);
    ``part`` draws a second, darker bar for a share of it (answered within the deadline)."""
    width, height, top, bottom, left = 320, 150, 18, 24, 4
    peak = max((p[key] for p in points), default=0)
    slot = (width - left * 2) / max(len(points), 1)
    bars = []
    for i, p in enumerate(points):
        value = p[key]
        h = 0 if peak == 0 else round((height - top - bottom) * value / peak, 1)
        x = round(left + i * slot + slot * 0.15, 1)
        bar = {"x": x, "y": round(height - bottom - h, 1), "w": round(slot * 0.7, 1), "h": h, "value": value,
               "cx": round(x + slot * 0.35, 1), "month": p["month"],
               "label": p["month"][5:] if len(points) <= 12 or i % 2 == (len(points) - 1) % 2 else ""}
        if part:
            ph = 0 if peak == 0 else round((height - top - bottom) * p[part] / peak, 1)
            bar.update({"part": p[part], "py": round(height - bottom - ph, 1), "ph": ph})
        bars.append(bar)
    return {"key": key, "label": label, "width": width, "height": height, "base": height - bottom, "bars": bars,
            "total": sum(p[key] for p in points), "small": len(points) > 12, "part": part}


def charts(by_month: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Small multiples by month; feedback received with the part answered within the deadline."""
    made = [bar_chart(by_month, k, label) for k, label in CHARTS[:3]]
    made.append(bar_chart(by_month, "feedback_received", _l("Feedback received and answered within the deadline"),
                          part="feedback_in_time"))
    return made


# --- exports ----------------------------------------------------------------------

NO_FIGURE = "—"  # what a cell shows when there is nothing to show (training before it exists)


def export_columns() -> list[Column]:
    return [*MAIN_COLUMNS, *OUTREACH_COLUMNS, Column("training_completed", _l("Training completed")),
            Column("training_required", _l("Training required"))]


def _cells(values: dict[str, Any], training: bool) -> list[Any]:
    cells: list[Any] = [values[c.key] for c in [*MAIN_COLUMNS, *OUTREACH_COLUMNS]]
    cells += [values["training_completed"], values["training_required"]] if training else [NO_FIGURE, NO_FIGURE]
    return cells


def export_tables(report: dict[str, Any], city_label: str, month_label: str, district_heading: str,
                  total_label: str) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """(header, rows) of each exported table: ``detail`` (month × district), ``districts``, ``months``."""
    labels = [str(c.label) for c in export_columns()]
    training = report["training"]
    detail = [[r["month"], r["district"] or city_label, *_cells(r, training)] for r in report["detail"]]
    districts = [[r["district"] or city_label, *_cells(r, training)] for r in report["by_district"]]
    districts.append([total_label, *_cells(report["total"], training)])
    months = [[r["month"], *_cells(r, training)] for r in report["by_month"]]
    months.append([total_label, *_cells(report["total"], training)])
    return {
        "detail": ([month_label, district_heading, *labels], detail),
        "districts": ([district_heading, *labels], districts),
        "months": ([month_label, *labels], months),
    }
