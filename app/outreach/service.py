"""Rules of the outreach domain: hotlines, information cards, the outreach log, figures."""

from __future__ import annotations

import functools
import math
import re
import secrets
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from litestar.exceptions import NotFoundException

from piccolo.query.functions.aggregate import Sum

from app.core import pagecache, phones
from app.core.forms import Form
from app.core.jobs import after_commit
from app.core.prepared import prepared
from app.i18n import gettext as _
from app.outreach.counters import today
from app.undo import service as undo
from app.outreach.tables import (
    ENTRY_KIND_LABELS,
    DailyCount,
    EntryKind,
    Hotline,
    InfoCard,
    Metric,
    OutreachEntry,
)
from tenants.scope import current_tenant_id, get_in_scope, unscoped
from tenants.tables import Tenant
from tenants.tree import ancestor_ids, kind_rank

# --- hotlines -------------------------------------------------------------------

HOTLINE_FIELDS = ["label", "number", "hours", "notes", "position"]


async def validate_hotline(form: Form, editing_id: int | None = None) -> None:
    form.required("label", "number")
    form.max_length("label", 100)
    form.max_length("hours", 200)
    form.max_length("notes", 300)
    form.phone("number")
    if form["position"] and not _is_int(form["position"], 0, 999):
        form.error("position", _("Enter a whole number from 0 to 999."))
    if form["number"] and "number" not in form.errors:
        for row in await Hotline.select(Hotline.id, Hotline.label, Hotline.number):
            if row["id"] != editing_id and phones.same_number(row["number"], form["number"]):
                form.error("number", _("This number is already listed as “%(label)s”. Edit that hotline instead.",
                                       label=row["label"]))
                break


def _is_int(value: str, low: int, high: int) -> bool:
    return value.isdigit() and low <= int(value) <= high


_HOTLINES = prepared(lambda: Hotline.select().order_by(Hotline.position).order_by(Hotline.id))
_PUBLISHED_CARDS = prepared(lambda: InfoCard.select().where(
    InfoCard.deleted_at.is_null() & (InfoCard.published == True)).order_by(InfoCard.id))  # noqa: E712
_CARDS = prepared(lambda: InfoCard.select().where(InfoCard.deleted_at.is_null()).order_by(InfoCard.id))


async def hotlines() -> list[dict[str, Any]]:
    return await _HOTLINES.run()


_LAST_POSITION = prepared(lambda: Hotline.select(Hotline.position).order_by(Hotline.position, ascending=False).limit(1))


async def next_hotline_position() -> int:
    rows = await _LAST_POSITION.run()
    return (rows[0]["position"] + 10) if rows else 10


def _hotline_values(form: Form) -> dict[str, Any]:
    return {
        "label": form["label"],
        "number": form["number"],
        "hours": form["hours"],
        "notes": form["notes"],
        "position": int(form["position"] or 0),
    }


async def create_hotline(form: Form) -> int:
    row = Hotline(tenant=current_tenant_id(), **_hotline_values(form))
    await row.save()
    await after_commit(pagecache.bump)
    return row.id


async def update_hotline(hotline_id: int, form: Form) -> None:
    values = _hotline_values(form)
    await Hotline.update({getattr(Hotline, k): v for k, v in values.items()}).where(Hotline.id == hotline_id)
    await after_commit(pagecache.bump)


def hotline_name(row: Hotline | dict[str, Any]) -> str:
    """How staff name a hotline: its label and number."""
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    return f"{get('label')} · {phones.display(get('number'))}"


async def delete_hotline(row: Hotline, user_id: int | None) -> int:
    """Remove a hotline, restorable for a while; returns the id to restore it with."""
    removed_id = await undo.remove(row, label=hotline_name(row), user_id=user_id)
    await after_commit(pagecache.bump)
    return removed_id


async def restore_hotline(removed_id: Any) -> int:
    data = await undo.removed_data(Hotline, removed_id)
    for row in await Hotline.select(Hotline.label, Hotline.number):
        if phones.same_number(row["number"], data.get("number", "")):
            raise undo.UndoError(_("Its number is listed again, as “%(label)s”.", label=row["label"]))
    hotline_id = await undo.restore(Hotline, removed_id)
    await after_commit(pagecache.bump)
    return hotline_id


def _public_hotlines() -> Any:
    return Hotline.select(
        Hotline.label, Hotline.number, Hotline.hours, Hotline.notes, Hotline.position,
        Hotline.tenant.slug.as_alias("slug"), Hotline.tenant.name.as_alias("org_name"),
        Hotline.tenant.kind.as_alias("org_kind"), Hotline.tenant.district.as_alias("district"),
    ).where(Hotline.tenant.active == True)  # noqa: E712


_ALL_HOTLINES = prepared(_public_hotlines)
_DISTRICT_HOTLINES = prepared(lambda district: _public_hotlines().where(Hotline.tenant.district == district))
_CITY_HOTLINES = prepared(lambda: Hotline.select(
    Hotline.label, Hotline.number, Hotline.hours, Hotline.tenant.name.as_alias("org_name"),
    Hotline.tenant.slug.as_alias("slug"),
).where(
    (Hotline.tenant.kind == "city_center") & (Hotline.tenant.active == True)  # noqa: E712
).order_by(Hotline.position).order_by(Hotline.id))


async def all_public_hotlines(district: str = "") -> "OrderedDict[str, list[dict[str, Any]]]":
    """Every active organisation's hotlines, city level first, then by district."""
    with unscoped("the public hotline list spans every organisation"):
        rows = await (_DISTRICT_HOTLINES.run(district=district) if district else _ALL_HOTLINES.run())
    rows.sort(key=lambda r: (r["district"] != "", r["district"], kind_rank(r["org_kind"]), r["org_name"],
                             r["position"]))
    groups: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
    for row in rows:
        groups.setdefault(row["district"], []).append(row)
    return groups


async def city_hotlines() -> list[dict[str, Any]]:
    """The city center's hotlines, shown on the portal."""
    with unscoped("the portal shows the city center's hotlines"):
        return await _CITY_HOTLINES.run()


# --- information cards ----------------------------------------------------------

CARD_FIELDS = ["title", "body", "contact_lines", "audience", "published"]
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # nothing a printer or an eye confuses
CODE_LENGTH = 8


def card_form(data: Any | None = None, initial: dict[str, Any] | None = None) -> Form:
    if data is not None:
        form = Form.from_data(data, CARD_FIELDS)
        form.values["published"] = "1" if data.get("published") else ""
        return form
    initial = initial or {}
    values = {k: str(initial.get(k) or "") for k in CARD_FIELDS}
    values["published"] = "1" if initial.get("published") else ""
    return Form(values=values)


# --- does a card fit on A6? -------------------------------------------------------
#
# The print CSS (static/css/site.css, @media print) lays a card out on 105 x 148 mm with 8 mm
# margins: the organisation's name (8.5 pt), the title (14 pt), the audience, the text and
# the contact lines (10 pt, line height 1.5), then a 38 mm QR code at the bottom that the
# text never pushes off. This model estimates the text's height from the same sizes,
# erring on the long side (Latin letters and digits counted wide, a line lost per
# paragraph to word wrapping), so what the form accepts fits; tests/browser/
# test_printed_cards.py prints the longest accepted cards in Chromium and checks it.

_PT = 25.4 / 72  # mm per point
_TEXT_WIDTH_MM = 105 - 2 * 8
_TEXT_HEIGHT_MM = 148 - 2 * 8 - 38 - 2  # above the QR code and its 2 mm gap
_PARAGRAPH_GAP_MM = 1.5
_SAFETY_MM = 3.0


@dataclass(frozen=True)
class _Style:
    size_pt: float
    line_height: float
    indent_mm: float = 0.0
    latin_em: float = 0.7  # a Latin letter or digit, counted wide; bold is wider still

    @property
    def line_mm(self) -> float:
        return self.size_pt * self.line_height * _PT

    @property
    def ems_per_line(self) -> float:
        return (_TEXT_WIDTH_MM - self.indent_mm) / (self.size_pt * _PT)


_ORG, _TITLE, _TEXT = _Style(8.5, 1.5), _Style(14, 1.3, latin_em=0.78), _Style(10, 1.5)
_LINE = _Style(10, 1.5, indent_mm=4)


def _ems(text: str, latin_em: float = 0.7) -> float:
    """Width in ems: CJK and full-width forms 1, Latin letters and digits ``latin_em``, the rest 0.45."""
    width = 0.0
    for ch in text:
        if unicodedata.east_asian_width(ch) in ("W", "F"):
            width += 1.0
        elif ch.isalnum():
            width += 1.0 if ord(ch) > 0x2FF else latin_em
        elif ch.isspace():
            width += 0.35
        else:
            width += 0.45
    return width


# A CJK character may end a line anywhere; a run of Latin letters, digits or punctuation
# wraps whole (or, longer than a line, is broken where it must).
_TOKENS = re.compile(r"\s+|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]+|.")


def _lines(text: str, style: _Style) -> int:
    """Lines ``text`` takes when wrapped greedily, as a browser does, a little narrower."""
    capacity = style.ems_per_line * 0.97
    total = 0
    for paragraph in text.splitlines():
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        lines, room = 1, capacity
        for token in _TOKENS.findall(paragraph):
            width = _ems(token, style.latin_em)
            if token.isspace():
                room -= width
                continue
            if width <= room:
                room -= width
                continue
            if width <= capacity:  # to the next line
                lines, room = lines + 1, capacity - width
                continue
            # Longer than a line: it starts a line of its own and is broken where it must.
            if room < capacity:
                lines += 1
            extra = math.ceil(width / capacity)
            lines += extra - 1
            room = capacity * extra - width
        total += lines
    return total


@dataclass(frozen=True)
class CardFit:
    used_mm: float
    available_mm: float
    chars_per_line: float

    @property
    def fits(self) -> bool:
        return self.used_mm <= self.available_mm

    @property
    def percent(self) -> int:
        return round(100 * self.used_mm / self.available_mm)

    @property
    def chars_over(self) -> int:
        """About how many characters of body text would have to go."""
        over_lines = math.ceil((self.used_mm - self.available_mm) / _TEXT.line_mm)
        return max(0, over_lines * int(self.chars_per_line))


def card_fit(org_name: str, title: str, audience: str, body: str, contact_lines: list[str]) -> CardFit:
    """How much of an A6 card's text space a card needs, as printed."""
    used = _lines(org_name, _ORG) * _ORG.line_mm + _PARAGRAPH_GAP_MM
    used += _lines(title, _TITLE) * _TITLE.line_mm + _PARAGRAPH_GAP_MM
    if audience:
        used += _lines(_("For: %(audience)s", audience=audience), _TEXT) * _TEXT.line_mm + _PARAGRAPH_GAP_MM
    if body.strip():
        used += _lines(body, _TEXT) * _TEXT.line_mm + _PARAGRAPH_GAP_MM
    if contact_lines:
        used += 1 + sum(_lines(line, _LINE) for line in contact_lines) * _LINE.line_mm
    return CardFit(round(used, 1), _TEXT_HEIGHT_MM - _SAFETY_MM, _TEXT.ems_per_line)


def _contact_lines(form: Form) -> list[str]:
    return [line for line in form["contact_lines"].splitlines() if line.strip()]


def card_fit_of_form(form: Form, org_name: str) -> CardFit:
    return card_fit(org_name, form["title"], form["audience"], form["body"], _contact_lines(form))


def validate_card(form: Form, org_name: str = "") -> CardFit:
    form.required("title")
    form.max_length("title", 100)
    form.max_length("body", 400)
    form.max_length("contact_lines", 400)
    form.max_length("audience", 100)
    lines = _contact_lines(form)
    if len(lines) > 6:
        form.error("contact_lines", _("At most 6 contact lines fit on a card."))
    fit = card_fit_of_form(form, org_name)
    if not fit.fits and not form.errors:
        field = "body" if form["body"] else "contact_lines" if lines else "title"
        form.error(field, _("This is too long for an A6 card with its QR code: shorten the text, the title or the "
                            "contact lines by about %(chars)s characters.", chars=max(fit.chars_over, 5)))
    return fit


def new_card_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _card_values(form: Form) -> dict[str, Any]:
    lines = "\n".join(line.strip() for line in form["contact_lines"].splitlines() if line.strip())
    return {
        "title": form["title"],
        "body": form["body"],
        "contact_lines": lines,
        "audience": form["audience"],
        "published": bool(form["published"]),
    }


async def create_card(form: Form, code: str | None = None) -> int:
    card = InfoCard(tenant=current_tenant_id(), code=code or new_card_code(), **_card_values(form))
    await card.save()
    await after_commit(pagecache.bump)
    return card.id


async def update_card(card_id: int, form: Form) -> None:
    values = _card_values(form)
    await InfoCard.update({getattr(InfoCard, k): v for k, v in values.items()}).where(InfoCard.id == card_id)
    await after_commit(pagecache.bump)


async def live_card(card_id: Any) -> InfoCard:
    """A card of the active tenant that has not been deleted; 404 otherwise."""
    card = await get_in_scope(InfoCard, card_id)
    if card.deleted_at is not None:
        raise NotFoundException()
    return card


async def delete_card(card_id: int) -> None:
    """Take a card off the pages. The row stays: copies already handed out keep leading to the
    organisation through their QR code (no longer counted), the outreach log keeps its
    "cards handed out", and staff can restore the card."""
    await InfoCard.update({InfoCard.deleted_at: datetime.now(timezone.utc)}).where(InfoCard.id == card_id)
    await after_commit(pagecache.bump)


async def restore_card(card_id: int) -> None:
    """Bring a deleted card back as it was (published or draft)."""
    await InfoCard.update({InfoCard.deleted_at: None}).where(InfoCard.id == card_id)
    await after_commit(pagecache.bump)


_DELETED_CARDS = prepared(lambda: InfoCard.select(InfoCard.id, InfoCard.title, InfoCard.code, InfoCard.deleted_at).where(
    InfoCard.deleted_at.is_not_null()
).order_by(InfoCard.deleted_at, ascending=False))
_HANDED_OUT = prepared(lambda: OutreachEntry.select(OutreachEntry.card, Sum(OutreachEntry.quantity).as_alias("total")).where(
    OutreachEntry.card.is_not_null()
).group_by(OutreachEntry.card))
_SCANS = prepared(lambda: DailyCount.select(DailyCount.ref, Sum(DailyCount.hits).as_alias("total")).where(
    DailyCount.metric == Metric.qr_scan.value
).group_by(DailyCount.ref))


async def deleted_cards() -> list[dict[str, Any]]:
    return await _DELETED_CARDS.run()


async def cards(published_only: bool = False) -> list[dict[str, Any]]:
    rows = await (_PUBLISHED_CARDS if published_only else _CARDS).run()
    if not published_only and rows:
        handed = await _HANDED_OUT.run()
        scans = await _SCANS.run()
        handed_by = {r["card"]: r["total"] or 0 for r in handed}
        scans_by = {r["ref"]: r["total"] or 0 for r in scans}
        for row in rows:
            row["handed_out"] = handed_by.get(row["id"], 0)
            row["scans"] = scans_by.get(row["id"], 0)
    for row in rows:
        row["lines"] = [line for line in row["contact_lines"].splitlines() if line.strip()]
    return rows


async def card_for_scan(code: str) -> dict[str, Any] | None:
    """The card behind a printed QR code, with its organisation (any tenant), also when the
    card was unpublished or deleted or its organisation deactivated: paper lives long.
    ``counts`` says whether the scan is counted (a published card of an active organisation)."""
    code = code.strip().upper()
    if not (0 < len(code) <= 16) or any(ch not in CODE_ALPHABET for ch in code):
        return None
    with unscoped("a printed QR code names its card, whichever tenant it belongs to"):
        card = await InfoCard.select(
            InfoCard.id, InfoCard.tenant, InfoCard.published, InfoCard.deleted_at,
            InfoCard.tenant.slug.as_alias("slug"), InfoCard.tenant.active.as_alias("active"),
        ).where(InfoCard.code == code).first()
    if card is None:
        return None
    card["counts"] = bool(card["active"] and card["published"] and card["deleted_at"] is None)
    return card


async def nearest_active_ancestor(tenant_id: int) -> dict[str, Any] | None:
    """Where a deactivated organisation's visitors are sent: its closest active parent."""
    chain = await ancestor_ids(tenant_id)
    if not chain:
        return None
    rows = await Tenant.select(Tenant.id, Tenant.slug, Tenant.name).where(
        Tenant.id.is_in(chain) & (Tenant.active == True)  # noqa: E712
    )
    by_id = {r["id"]: r for r in rows}
    return next((by_id[t] for t in chain if t in by_id), None)


async def closed_predecessor(tenant_id: int, slug: str) -> dict[str, Any] | None:
    """The deactivated organisation ``slug`` whose visitors this active organisation now
    receives (it is its nearest active ancestor), for the notice on its page; else None."""
    if not slug:
        return None
    closed = await Tenant.select(Tenant.id, Tenant.name, Tenant.active).where(Tenant.slug == slug[:64]).first()
    if closed is None or closed["active"]:
        return None
    heir = await nearest_active_ancestor(closed["id"])
    return {"name": closed["name"]} if heir and heir["id"] == tenant_id else None


DISTRIBUTION_FIELDS = ["count", "day"]


def validate_distribution(form: Form) -> None:
    form.required("count")
    if form["count"] and not _is_int(form["count"], 1, 1_000_000):
        form.error("count", _("Enter a whole number from 1 to 1000000."))
    _validate_day(form, "day")


async def record_distribution(card_id: int, form: Form, user_id: int | None) -> None:
    await _add_entry(EntryKind.cards.value, _day(form), int(form["count"]), "", user_id, card_id=card_id)


# --- the outreach log -----------------------------------------------------------

ENTRY_FIELDS = ["day", "kind", "count", "notes"]


def _validate_day(form: Form, name: str) -> None:
    value = form[name]
    if not value:
        return
    try:
        day = date.fromisoformat(value)
    except ValueError:
        form.error(name, _("Enter a date like 2024-05-16."))
        return
    if day > today():
        form.error(name, _("The date cannot be in the future."))
    elif day.year < 2000:
        form.error(name, _("Enter a date like 2024-05-16."))


def _day(form: Form) -> date:
    return date.fromisoformat(form["day"]) if form["day"] else today()


def validate_entry(form: Form) -> None:
    form.required("day", "kind", "count")
    form.choice("kind", ENTRY_KIND_LABELS)
    if form["count"] and not _is_int(form["count"], 0, 1_000_000):
        form.error("count", _("Enter a whole number from 0 to 1000000."))
    form.max_length("notes", 500)
    _validate_day(form, "day")


async def _add_entry(kind: str, day: date, count: int, notes: str, user_id: int | None,
                     card_id: int | None = None) -> int:
    row = OutreachEntry(tenant=current_tenant_id(), day=day, kind=kind, quantity=count, notes=notes,
                        card=card_id, created_by=user_id)
    await row.save()
    return row.id


async def create_entry(form: Form, user_id: int | None) -> int:
    return await _add_entry(form["kind"], _day(form), int(form["count"]), form["notes"], user_id)


def entry_name(row: OutreachEntry) -> str:
    """How staff name an outreach entry: date, kind and count."""
    return f"{row.day.isoformat()} · {ENTRY_KIND_LABELS[row.kind]} · {row.quantity}"


async def delete_entry(row: OutreachEntry, user_id: int | None) -> int:
    """Remove an entry of the outreach log, restorable for a while."""
    return await undo.remove(row, label=entry_name(row), user_id=user_id)


async def restore_entry(removed_id: Any) -> int:
    return await undo.restore(OutreachEntry, removed_id)


@functools.lru_cache(maxsize=8)
def _recent_statement(limit: int) -> Any:
    return prepared(lambda: OutreachEntry.select(
        OutreachEntry.id, OutreachEntry.day, OutreachEntry.kind, OutreachEntry.quantity, OutreachEntry.notes,
        OutreachEntry.card.title.as_alias("card_title"), OutreachEntry.created_by.name.as_alias("by"),
    ).order_by(OutreachEntry.day, ascending=False).order_by(OutreachEntry.id, ascending=False).limit(limit))


async def recent_entries(limit: int = 50) -> list[dict[str, Any]]:
    return await _recent_statement(limit).run()


# --- figures ---------------------------------------------------------------------

# The columns of the monthly figures, in order: (key, label).
def figure_columns() -> list[tuple[str, str]]:
    return [
        (Metric.page_view.value, _("Page views")),
        (Metric.qr_scan.value, _("QR scans")),
        *((k, str(v)) for k, v in ENTRY_KIND_LABELS.items()),
        *event_figure_columns(),
    ]


def event_figure_columns() -> list[tuple[str, str]]:
    """Recorded by the events domain: events held and their checked-in attendees."""
    return [("events_held", _("Events held")), ("event_attendees", _("Event attendees"))]


async def _event_figures(start: date, end: date) -> list[tuple[str, int, str, int]]:
    """(month, tenant, key, value) of events held and attended, from the events domain
    (in the active scope, or across tenants inside ``unscoped``)."""
    from datetime import datetime

    from app.events.service import monthly_event_figures
    from app.i18n import tz

    return await monthly_event_figures(datetime(start.year, start.month, start.day, tzinfo=tz()),
                                       datetime(end.year, end.month, end.day, tzinfo=tz()))


CHART_KEYS = [Metric.page_view.value, Metric.qr_scan.value, EntryKind.materials.value, EntryKind.cards.value]


def last_months(n: int = 12, until: date | None = None) -> list[str]:
    """The last n months as 'YYYY-MM', oldest first, ending with the current month."""
    end = until or today()
    year, month = end.year, end.month
    months = []
    for _i in range(n):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def month_bounds(first: str, last: str) -> tuple[date, date]:
    start = date.fromisoformat(first + "-01")
    y, m = int(last[:4]), int(last[5:7])
    end = date(y + (m == 12), 1 if m == 12 else m + 1, 1)
    return start, end


_DAILY_COUNTS = prepared(lambda start, end: DailyCount.select(DailyCount.day, DailyCount.metric, DailyCount.hits).where(
    (DailyCount.day >= start) & (DailyCount.day < end)))
_ENTRIES = prepared(lambda start, end: OutreachEntry.select(
    OutreachEntry.day, OutreachEntry.kind, OutreachEntry.quantity).where(
    (OutreachEntry.day >= start) & (OutreachEntry.day < end)))


async def monthly_figures(months: list[str]) -> list[dict[str, Any]]:
    """The active tenant's figures per month: {month, page_view, qr_scan, materials, ...}."""
    start, end = month_bounds(months[0], months[-1])
    keys = [k for k, _l in figure_columns()]
    table: dict[str, dict[str, int]] = {m: dict.fromkeys(keys, 0) for m in months}
    for row in await _DAILY_COUNTS.run(start=start, end=end):
        table[_month(row["day"])][row["metric"]] += row["hits"]
    for row in await _ENTRIES.run(start=start, end=end):
        table[_month(row["day"])][row["kind"]] += row["quantity"]
    for month, _tenant, key, value in await _event_figures(start, end):
        if month in table:
            table[month][key] += value
    return [{"month": m, **table[m]} for m in months]


def _month(value: Any) -> str:
    return str(value)[:7]


def chart(figures: list[dict[str, Any]], key: str, label: str) -> dict[str, Any]:
    """Geometry of one small bar chart (server-rendered SVG, attributes only)."""
    width, height, top, bottom, left = 320, 150, 18, 24, 4
    peak = max((f[key] for f in figures), default=0)
    slot = (width - left * 2) / max(len(figures), 1)
    bars = []
    for i, f in enumerate(figures):
        value = f[key]
        h = 0 if peak == 0 else round((height - top - bottom) * value / peak, 1)
        x = round(left + i * slot + slot * 0.15, 1)
        bars.append({
            "x": x, "y": round(height - bottom - h, 1), "w": round(slot * 0.7, 1), "h": h, "value": value,
            "label": f["month"][5:], "cx": round(x + slot * 0.35, 1), "month": f["month"],
        })
    total = sum(f[key] for f in figures)
    return {"key": key, "label": label, "width": width, "height": height, "base": height - bottom,
            "bars": bars, "total": total, "peak": peak}


async def city_figures(months: list[str]) -> dict[str, Any]:
    """Every active tenant's totals over ``months``, grouped by district, with subtotals."""
    start, end = month_bounds(months[0], months[-1])
    keys = [k for k, _l in figure_columns()]
    with unscoped("the city center sees every tenant's outreach figures"):
        tenants = await Tenant.select(Tenant.id, Tenant.slug, Tenant.name, Tenant.kind, Tenant.district).where(
            Tenant.active == True  # noqa: E712
        )
        counts = await DailyCount.select(
            DailyCount.tenant, DailyCount.metric, Sum(DailyCount.hits).as_alias("total")
        ).where((DailyCount.day >= start) & (DailyCount.day < end)).group_by(DailyCount.tenant, DailyCount.metric)
        entries = await OutreachEntry.select(
            OutreachEntry.tenant, OutreachEntry.kind, Sum(OutreachEntry.quantity).as_alias("total")
        ).where((OutreachEntry.day >= start) & (OutreachEntry.day < end)).group_by(
            OutreachEntry.tenant, OutreachEntry.kind
        )
        monthly = await _city_monthly(start, end)
        event_rows = await _event_figures(start, end)
    figures: dict[int, dict[str, int]] = {t["id"]: {k: 0 for k in keys} for t in tenants}
    for row in counts:
        if row["tenant"] in figures:
            figures[row["tenant"]][row["metric"]] += row["total"] or 0
    for row in entries:
        if row["tenant"] in figures:
            figures[row["tenant"]][row["kind"]] += row["total"] or 0
    for _month_key, tenant_id, key, value in event_rows:
        if tenant_id in figures:
            figures[tenant_id][key] += value
    tenants.sort(key=lambda t: (t["district"] != "", t["district"], kind_rank(t["kind"]), t["name"]))
    groups: OrderedDict[str, dict[str, Any]] = OrderedDict()
    total = {k: 0 for k in keys}
    for t in tenants:
        group = groups.setdefault(t["district"], {"rows": [], "subtotal": {k: 0 for k in keys}})
        group["rows"].append({**t, **figures[t["id"]]})
        for k in keys:
            group["subtotal"][k] += figures[t["id"]][k]
            total[k] += figures[t["id"]][k]
    by_month = {m: {k: 0 for k in keys} for m in months}
    for month, key, value in monthly + [(m, k, v) for m, t, k, v in event_rows if t in figures]:
        if month in by_month:
            by_month[month][key] += value
    return {"groups": groups, "total": total, "monthly": [{"month": m, **by_month[m]} for m in months]}


async def _city_monthly(start: date, end: date) -> list[tuple[str, str, int]]:
    """(month, key, count) rows of the whole city; grouped in Python (date functions differ by database)."""
    counts = await DailyCount.select(DailyCount.day, DailyCount.metric, Sum(DailyCount.hits).as_alias("total")).where(
        (DailyCount.day >= start) & (DailyCount.day < end) & (DailyCount.tenant.active == True)  # noqa: E712
    ).group_by(DailyCount.day, DailyCount.metric)
    entries = await OutreachEntry.select(
        OutreachEntry.day, OutreachEntry.kind, Sum(OutreachEntry.quantity).as_alias("total")
    ).where(
        (OutreachEntry.day >= start) & (OutreachEntry.day < end) & (OutreachEntry.tenant.active == True)  # noqa: E712
    ).group_by(OutreachEntry.day, OutreachEntry.kind)
    return [(_month(r["day"]), r["metric"], r["total"] or 0) for r in counts] + [
        (_month(r["day"]), r["kind"], r["total"] or 0) for r in entries
    ]


# --- QR codes ----------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def qr_svg(url: str, title: str) -> str:
    """Inline SVG without style attributes (the CSP forbids inline style). Memoised: a card's
    print page is drawn again for every visitor, and the code is the same each time."""
    import segno

    return segno.make(url, error="m", micro=False).svg_inline(
        scale=4, border=2, svgclass="qr", lineclass="qr-line", omitsize=True, title=title
    )


@functools.lru_cache(maxsize=256)
def qr_png(url: str) -> bytes:
    import io

    import segno

    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=12, border=4)
    return out.getvalue()


async def public_space() -> dict[str, Any]:
    """What the active tenant's public page shows from this domain."""
    return {"hotlines": await hotlines(), "cards": await cards(published_only=True)}
