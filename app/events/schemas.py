"""Input of the events domain: labels, the forms staff and the public fill in, and
their validation into plain values (times as UTC datetimes, topics as codes)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from app.core.forms import Form, normalize_cn_phone
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.i18n import tz
from app.events.tables import EventKind, EventStatus

KIND_LABELS = {
    EventKind.seminar.value: _l("Seminar"),
    EventKind.salon.value: _l("Salon"),
    EventKind.case_explanation.value: _l("Case explanation (以案释法)"),
    EventKind.special_session.value: _l("Special session"),
    EventKind.training.value: _l("Training session"),
}

STATUS_LABELS = {
    EventStatus.draft.value: _l("Draft"),
    EventStatus.published.value: _l("Published"),
    EventStatus.completed.value: _l("Completed"),
    EventStatus.cancelled.value: _l("Cancelled"),
}

AUDIENCE_LABELS = {
    "everyone": _l("Everyone"),
    "workers": _l("Workers"),
    "migrant_workers": _l("Migrant workers"),
    "employers": _l("Employers and HR"),
    "union_members": _l("Union members"),
    "mediators": _l("Mediators"),
}

# The same subjects as the feedback mailbox's categories, plus two of outreach's own.
TOPIC_LABELS = {
    "wages": _l("Wages and arrears"),
    "contracts": _l("Labour contracts"),
    "social_insurance": _l("Social insurance"),
    "working_hours": _l("Working hours and leave"),
    "dismissal": _l("Dismissal"),
    "injury": _l("Occupational injury"),
    "mediation": _l("How mediation works"),
    "law": _l("Labour law"),
}

REGISTRATION_STATUS_LABELS = {
    "confirmed": _l("Confirmed"),
    "waitlisted": _l("On the waitlist"),
    "cancelled": _l("Cancelled"),
}

MAX_CAPACITY = 100_000
MAX_GROUP = 200
MAX_DURATION = timedelta(days=7)


class EventError(Exception):
    """A rule of the domain refused the request; ``field`` is where to say so."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class EventMissing(EventError):
    """No such event for the public (missing, another tenant's, or a draft): a 404."""

    def __init__(self) -> None:
        super().__init__("event", _("There is no such event."))


def labels(mapping: Mapping[str, Any]) -> dict[str, str]:
    """Translated once per render."""
    return {code: str(label) for code, label in mapping.items()}


# --- times --------------------------------------------------------------------------

_LOCAL_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")


def parse_local(value: str) -> datetime | None:
    """A time typed in the city's time zone (datetime-local input) as UTC; None if unreadable."""
    value = value.strip()
    for fmt in _LOCAL_FORMATS:
        try:
            naive = datetime.strptime(value, fmt)
        except ValueError:
            continue
        if naive.year < 2000 or naive.year > 2100:
            return None
        return naive.replace(tzinfo=tz()).astimezone(timezone.utc)
    return None


def local_input(value: datetime | None) -> str:
    """The value a datetime-local input shows for a stored time."""
    return value.astimezone(tz()).strftime("%Y-%m-%dT%H:%M") if value else ""


# --- the event form -------------------------------------------------------------------

EVENT_FIELDS = [
    "title", "kind", "summary", "body", "audience", "industry", "starts_at", "ends_at", "venue", "online_url",
    "capacity", "registration_opens_at", "registration_closes_at", "groups_allowed",
]
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.I)


@dataclass
class EventValues:
    title: str
    kind: str
    summary: str
    body: str
    topics: list[str]
    audience: str
    industry: str
    starts_at: datetime
    ends_at: datetime
    venue: str
    online_url: str
    capacity: int
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    groups_allowed: bool

    def columns(self) -> dict[str, Any]:
        values = dict(self.__dict__)
        values["topics"] = "|" + "|".join(self.topics) + "|" if self.topics else ""
        return values


def event_form(data: Any | None = None, initial: dict[str, Any] | None = None) -> Form:
    """The form as typed (``data``), or filled from a stored event (``initial``)."""
    if data is not None:
        form = Form.from_data(data, EVENT_FIELDS)
        form.values["groups_allowed"] = "1" if data.get("groups_allowed") else ""
        try:
            topics = data.getall("topics") if hasattr(data, "getall") else data.get("topics", [])
        except KeyError:  # no topic ticked
            topics = []
        if isinstance(topics, str):
            topics = [topics]
        form.values["topics"] = "|".join(t for t in topics if isinstance(t, str))
        return form
    initial = initial or {}
    values = {name: "" for name in EVENT_FIELDS}
    for name in ("title", "kind", "summary", "body", "audience", "industry", "venue", "online_url"):
        values[name] = str(initial.get(name) or "")
    for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
        values[name] = local_input(initial.get(name))
    values["capacity"] = str(initial["capacity"]) if initial.get("capacity") else ""
    values["groups_allowed"] = "1" if initial.get("groups_allowed") else ""
    values["topics"] = (initial.get("topics") or "").strip("|")
    values["audience"] = values["audience"] or "everyone"
    return Form(values=values)


def form_topics(form: Form) -> list[str]:
    return [t for t in form["topics"].split("|") if t]


def validate_event(form: Form, now: datetime, editing: dict[str, Any] | None = None) -> EventValues | None:
    """Check the form; None (with messages beside the fields) when something is wrong.

    A new start must lie in the future; editing may keep the start it has."""
    form.required("title", "kind", "starts_at", "ends_at", "capacity")
    form.max_length("title", 200)
    form.max_length("summary", 500)
    form.max_length("body", 5000)
    form.max_length("industry", 100)
    form.max_length("venue", 300)
    form.max_length("online_url", 500)
    form.choice("kind", KIND_LABELS)
    form.choice("audience", AUDIENCE_LABELS)
    topics = form_topics(form)
    if any(t not in TOPIC_LABELS for t in topics):
        form.error("topics", _("Choose one of the options."))
    if form["online_url"] and not URL_RE.match(form["online_url"]):
        form.error("online_url", _("Enter a web address starting with https:// or http://."))
    if not form["venue"] and not form["online_url"]:
        form.error("venue", _("Give a venue, an online link, or both."))

    times: dict[str, datetime | None] = {}
    for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
        times[name] = None
        if form[name]:
            times[name] = parse_local(form[name])
            if times[name] is None:
                form.error(name, _("Enter a date and time like 2024-05-16 14:00."))
    starts, ends = times["starts_at"], times["ends_at"]
    opens, closes = times["registration_opens_at"], times["registration_closes_at"]
    start_changed = editing is None or starts != editing.get("starts_at")
    if starts and start_changed and starts <= now:
        form.error("starts_at", _("The start must be in the future."))
    if starts and ends:
        if ends <= starts:
            form.error("ends_at", _("The end must be after the start."))
        elif ends - starts > MAX_DURATION:
            form.error("ends_at", _("An event lasts at most 7 days."))
    if opens and closes and closes <= opens:
        form.error("registration_closes_at", _("Registration must close after it opens."))
    if closes and starts and closes > starts:
        form.error("registration_closes_at", _("Registration must close by the start of the event."))
    if opens and starts and opens >= starts:
        form.error("registration_opens_at", _("Registration must open before the event starts."))

    capacity = 0
    if form["capacity"]:
        if re.fullmatch(r"-?\d+", form["capacity"]) and 1 <= int(form["capacity"]) <= MAX_CAPACITY:
            capacity = int(form["capacity"])
        else:
            form.error("capacity", _("Enter a whole number of seats from 1 to %(max)s.", max=MAX_CAPACITY))
    if not form.ok:
        return None
    assert starts is not None and ends is not None
    return EventValues(
        title=form["title"], kind=form["kind"], summary=form["summary"], body=form["body"], topics=topics,
        audience=form["audience"] or "everyone", industry=form["industry"], starts_at=starts, ends_at=ends,
        venue=form["venue"], online_url=form["online_url"], capacity=capacity, registration_opens_at=opens,
        registration_closes_at=closes, groups_allowed=bool(form["groups_allowed"]),
    )


# --- registration forms ----------------------------------------------------------------

REGISTER_FIELDS = ["name", "phone", "email", "employer"]


def normalize_mobile(value: str) -> str | None:
    """A mainland mobile number (11 digits starting with 1), else None."""
    number = normalize_cn_phone(value)
    return number if number and re.fullmatch(r"1\d{10}", number) else None


def validate_registration(form: Form) -> None:
    form.required("name", "phone")
    form.max_length("name", 100)
    form.max_length("employer", 200)
    form.max_length("email", 254)
    form.email("email")
    if form["phone"]:
        mobile = normalize_mobile(form["phone"])
        if mobile is None:
            form.error("phone", _("Enter a Chinese mobile number: 11 digits starting with 1, e.g. 13812345678."))
        else:
            form.values["phone"] = mobile


def whole_number(value: str, low: int, high: int) -> int | None:
    value = value.strip()
    return int(value) if re.fullmatch(r"\d{1,7}", value) and low <= int(value) <= high else None
