"""Rules of events: staff create and run them, people and unions register, seats are
counted under the event's lock, the waitlist is promoted in order, staff check people in.

Capacity. Every change to who holds a seat runs in ``atomic()`` and starts with
``locked_event()``: on SQLite ``atomic()`` has taken the database's write lock
(BEGIN IMMEDIATE), so concurrent registrations wait their turn; on PostgreSQL the
event row is locked (SELECT … FOR UPDATE), so registrations for one event wait for
each other while other events go on. Inside the lock the seats are counted, the
registration written and ``event.seats_taken`` moved in one transaction, so the
count is never raced. A partial unique index (one active attendee per phone and
event) is the backstop of the duplicate check.

Notifications go through the outbox in the same transaction (``notify``); a
cancelled or moved event makes its stale reminders cancel themselves at delivery
(``still_applies``).
"""

from __future__ import annotations

import asyncio
import calendar as _calendar
import functools
import secrets
from collections import OrderedDict
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, AsyncIterator, Awaitable, Callable

from piccolo.query.functions.aggregate import Count

from app import i18n
from app.core import pagecache
from app.core.jobs import after_commit
from app.core.piccolo_speed import through
from app.core.prepared import Prepared, prepared
from app.db import atomic, get_engine
from app.events import clock
from app.events.schemas import (
    KIND_LABELS,
    MAX_GROUP,
    TOPIC_LABELS,
    EventError,
    EventMissing,
    EventValues,
)
from app.events.tables import (
    Attendee,
    Event,
    EventStatus,
    Registration,
    RegistrationKind,
    RegistrationStatus,
)
from app.i18n import gettext as _
from app.notifications import service as outbox
from app.notifications.tables import Notification
from tenants.scope import current_tenant_id, tenant_scope, unscoped
from tenants.tables import Membership, Tenant
from tenants.tree import kind_rank

CONFIRMED = RegistrationStatus.confirmed.value
WAITLISTED = RegistrationStatus.waitlisted.value
CANCELLED = RegistrationStatus.cancelled.value
PUBLISHED = EventStatus.published.value

REMINDERS = (("24h", timedelta(hours=24)), ("2h", timedelta(hours=2)))


def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat(timespec="seconds")


def _local(value: datetime) -> datetime:
    return value.astimezone(i18n.tz())


def span_text(starts: datetime, ends: datetime) -> str:
    """'2026年11月28日周六 14:00–16:00' in the current language (the city's time zone)."""
    return _span_text(starts, ends, i18n.get_locale(), i18n.tz())


@functools.lru_cache(maxsize=8192)
def _span_text(starts: datetime, ends: datetime, locale: str, zone: Any) -> str:
    """Made once per event time and language: Babel's skeleton matching is slow and every
    event listing shows each event's time."""
    from babel.dates import format_skeleton

    loc = i18n._babel_locale(locale)
    day = format_skeleton("yMMMEd", starts, tzinfo=zone, locale=loc)
    start_time = format_skeleton("Hm", starts, tzinfo=zone, locale=loc)
    if _local(starts).date() == _local(ends).date():
        return f"{day} {start_time}–{format_skeleton('Hm', ends, tzinfo=zone, locale=loc)}"
    return f"{day} {start_time} – {format_skeleton('yMMMEd', ends, tzinfo=zone, locale=loc)} " \
           f"{format_skeleton('Hm', ends, tzinfo=zone, locale=loc)}"


def in_locale(locale: str, fn, *args: Any) -> Any:
    token = i18n.set_locale(locale)
    try:
        return fn(*args)
    finally:
        i18n.reset_locale(token)


def new_token() -> str:
    return secrets.token_urlsafe(24)


CHECKIN_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_checkin_code() -> str:
    return "".join(secrets.choice(CHECKIN_ALPHABET) for _i in range(10))


def _is_unique_violation(exc: BaseException) -> bool:
    name = type(exc).__name__
    return "IntegrityError" in name or "UniqueViolation" in name


_seat_locks: dict[int, asyncio.Lock] = {}


@asynccontextmanager
async def seat_transaction() -> AsyncIterator[None]:
    """``atomic()`` for a change of who holds a seat.

    On SQLite such changes also go one at a time within a web process: SQLite admits one
    writer anyway, and concurrent BEGIN IMMEDIATEs of one process would otherwise queue in
    SQLite's busy handler, which sleeps up to 100 ms a try. Inside a transaction that is
    already open (it holds the write lock) no second lock is taken, so nothing waits on itself."""
    engine = get_engine()
    if engine.engine_type != "sqlite" or engine.current_transaction.get() is not None:
        async with atomic():
            yield
        return
    lock = _seat_locks.setdefault(id(asyncio.get_running_loop()), asyncio.Lock())
    async with lock:
        async with atomic():
            yield


# --- reading events -------------------------------------------------------------------


def topics_of(row: dict[str, Any]) -> list[str]:
    return [t for t in (row.get("topics") or "").split("|") if t in TOPIC_LABELS]


def registration_window(event: dict[str, Any]) -> tuple[datetime | None, datetime]:
    return event["registration_opens_at"], event["registration_closes_at"] or event["starts_at"]


def registration_state(event: dict[str, Any], now: datetime) -> str:
    """open, not_yet, closed, full (open, waitlist only), cancelled, draft, over."""
    if event["status"] == EventStatus.cancelled.value:
        return "cancelled"
    if event["status"] == EventStatus.draft.value:
        return "draft"
    if event["status"] == EventStatus.completed.value or event["ends_at"] <= now:
        return "over"
    opens, closes = registration_window(event)
    if opens and now < opens:
        return "not_yet"
    if now >= closes:
        return "closed"
    if event["seats_taken"] >= event["capacity"]:
        return "full"
    return "open"


def check_registration_open(event: dict[str, Any], now: datetime) -> None:
    state = registration_state(event, now)
    opens, closes = registration_window(event)
    if state == "cancelled":
        raise EventError("event", _("This event was cancelled."))
    if state in ("draft", "over"):
        raise EventError("event", _("This event does not take registrations."))
    if state == "not_yet":
        raise EventError("event", _("Registration opens on %(when)s.", when=i18n.format_datetime(opens, "short")))
    if state == "closed":
        raise EventError("event", _("Registration closed on %(when)s.", when=i18n.format_datetime(closes, "short")))


def describe(row: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """Plain data for templates: labels, times as text, seats left, registration state."""
    now = now or clock.now()
    data = dict(row)
    data["kind_label"] = str(KIND_LABELS.get(row["kind"], row["kind"]))
    data["topic_codes"] = topics_of(row)
    data["topic_labels"] = [str(TOPIC_LABELS[t]) for t in data["topic_codes"]]
    data["when"] = span_text(row["starts_at"], row["ends_at"])
    data["seats_left"] = max(row["capacity"] - row["seats_taken"], 0)
    data["state"] = registration_state(row, now)
    data["local_date"] = _local(row["starts_at"]).date()
    data["is_past"] = row["ends_at"] <= now
    return data


EVENT_COLUMNS = (
    Event.id, Event.tenant, Event.kind, Event.title, Event.summary, Event.topics, Event.audience, Event.industry,
    Event.starts_at, Event.ends_at, Event.venue, Event.online_url, Event.capacity, Event.seats_taken,
    Event.registration_opens_at, Event.registration_closes_at, Event.groups_allowed, Event.status,
)

# An event with its organisation's name and slug, for listings; with its text and times, for feeds.
PUBLIC_EVENT_COLUMNS = (
    *EVENT_COLUMNS, through(Event, "tenant").name.as_alias("org_name"), through(Event, "tenant").slug.as_alias("org_slug"),
)
FEED_COLUMNS = (*PUBLIC_EVENT_COLUMNS, Event.body, Event.created_at, Event.updated_at)


async def get_event(event_id: int) -> dict[str, Any] | None:
    """An event of the active tenant, every column."""
    return await Event.select().where(Event.id == event_id).first()


async def locked_event(event_id: int) -> dict[str, Any]:
    """Inside ``atomic()``: the event of the active tenant, locked for the rest of the
    transaction (PostgreSQL: FOR UPDATE; SQLite: atomic() holds the write lock)."""
    # The organisation's slug comes along for the messages' links: one round trip less
    # while the lock is held (only the event row is locked).
    query = Event.select(*Event.all_columns(), through(Event, "tenant").slug.as_alias("tenant_slug")).where(
        Event.id == event_id)
    if get_engine().engine_type == "postgres":
        query = query.lock_rows("UPDATE", of=(Event,))
    row = await query.first()
    if row is None:
        raise EventMissing()
    return row


async def staff_events() -> dict[str, list[dict[str, Any]]]:
    """The active tenant's events: drafts, upcoming, and past (latest first), with counts."""
    now = clock.now()
    rows = await _STAFF_EVENTS.run()
    waiting = await _waitlist_counts([r["id"] for r in rows])
    groups: dict[str, list[dict[str, Any]]] = {"drafts": [], "upcoming": [], "past": []}
    for row in rows:
        data = describe(row, now)
        data["waitlisted"] = waiting.get(row["id"], 0)
        if row["status"] == EventStatus.draft.value:
            groups["drafts"].append(data)
        elif row["ends_at"] > now and row["status"] == PUBLISHED:
            groups["upcoming"].append(data)
        else:
            groups["past"].append(data)
    groups["past"].reverse()
    return groups


_STAFF_EVENTS = prepared(lambda: Event.select(*EVENT_COLUMNS).order_by(Event.starts_at))
# The active tenant's waiting lists: one statement whatever the number of its events.
_WAITLISTS = prepared(lambda: Registration.select(Registration.event, Count(Registration.id, alias="n")).where(
    Registration.status == WAITLISTED).group_by(Registration.event))


async def _waitlist_counts(event_ids: list[int]) -> dict[int, int]:
    if not event_ids:
        return {}
    wanted = set(event_ids)
    return {r["event"]: r["n"] for r in await _WAITLISTS.run() if r["event"] in wanted}


# --- creating and changing events (staff, inside the tenant's scope) ---------------------


async def create_event(values: EventValues, user_id: int | None) -> int:
    event = Event(tenant=current_tenant_id(), status=EventStatus.draft.value, created_by=user_id,
                  **values.columns())
    await event.save()
    return event.id


async def update_event(event_id: int, values: EventValues) -> dict[str, Any]:
    """Apply the form under the event's lock. A new time of a published event notifies
    everyone registered; more seats promote the waitlist. Returns the changed fields."""
    now = clock.now()
    event = await locked_event(event_id)
    if event["status"] in (EventStatus.completed.value, EventStatus.cancelled.value):
        raise EventError("event", _("A completed or cancelled event cannot be changed."))
    if values.capacity < event["seats_taken"]:
        raise EventError("capacity", _("%(num)s seats are already confirmed: the capacity cannot be lower.",
                                       num=event["seats_taken"]))
    new = values.columns()
    changes = {k: [str(event[k]), str(v)] for k, v in new.items() if event[k] != v}
    if not changes:
        return {}
    await Event.update({getattr(Event, k): v for k, v in new.items()}).where(Event.id == event_id)
    event = {**event, **new}
    if event["status"] == PUBLISHED:
        if "starts_at" in changes or "ends_at" in changes:
            await _notify_moved(event)
        await promote_waitlist(event, now)
        await after_commit(pagecache.bump)
    return changes


async def publish_event(event_id: int) -> None:
    event = await locked_event(event_id)
    if event["status"] != EventStatus.draft.value:
        raise EventError("event", _("Only a draft can be published."))
    if event["starts_at"] <= clock.now():
        raise EventError("starts_at", _("The start must be in the future."))
    await Event.update({Event.status: PUBLISHED, Event.published_at: clock.now()}).where(Event.id == event_id)
    await after_commit(pagecache.bump)


async def complete_event(event_id: int) -> None:
    event = await locked_event(event_id)
    if event["status"] != PUBLISHED:
        raise EventError("event", _("Only a published event can be marked as held."))
    if event["starts_at"] > clock.now():
        raise EventError("event", _("An event can be marked as held once it has started."))
    await Event.update({Event.status: EventStatus.completed.value}).where(Event.id == event_id)
    for hook in HELD_HOOKS:
        await hook(event)
    await after_commit(pagecache.bump)


# Called with the event, in the same transaction, when it is marked as held (training
# turns the attendance of a training session into completion: app.training).
HELD_HOOKS: list[Callable[[dict[str, Any]], Awaitable[None]]] = []


async def cancel_event(event_id: int) -> int:
    """Cancel and tell everyone registered or waiting, once. Returns how many were told."""
    event = await locked_event(event_id)
    if event["status"] in (EventStatus.completed.value, EventStatus.cancelled.value):
        raise EventError("event", _("This event is already completed or cancelled."))
    was_published = event["status"] == PUBLISHED
    await Event.update({Event.status: EventStatus.cancelled.value, Event.cancelled_at: clock.now()}).where(
        Event.id == event_id
    )
    told = 0
    if was_published:
        for reg in await _open_registrations(event_id):
            told += await _notify_contact(event, reg, "event_cancelled", f"event:{event_id}:cancelled:reg:{reg['id']}")
    await after_commit(pagecache.bump)
    return told


async def _open_registrations(event_id: int) -> list[dict[str, Any]]:
    return await Registration.select().where(
        (Registration.event == event_id) & (Registration.status.is_in([CONFIRMED, WAITLISTED]))
        & (Registration.kind != RegistrationKind.walk_in.value)
    ).order_by(Registration.id)


async def _notify_moved(event: dict[str, Any]) -> None:
    start = _iso(event["starts_at"])
    for reg in await _open_registrations(event["id"]):
        await _notify_contact(event, reg, "event_moved", f"event:{event['id']}:moved:{start}:reg:{reg['id']}")


# --- messages -------------------------------------------------------------------------


def manage_path(tenant_slug: str, token: str) -> str:
    return f"/o/{tenant_slug}/registrations/{token}"


async def _tenant_slug(tenant_id: int) -> str:
    row = await Tenant.select(Tenant.slug).where(Tenant.id == tenant_id).first()
    return row["slug"] if row else ""


def _payload(event: dict[str, Any], reg: dict[str, Any], slug: str, **extra: Any) -> dict[str, Any]:
    locale = reg.get("locale") or "zh_Hans"
    return {
        "event_id": event["id"],
        "registration_id": reg["id"],
        "title": event["title"],
        "starts_at": _iso(event["starts_at"]),
        "when": in_locale(locale, span_text, event["starts_at"], event["ends_at"]),
        "venue": event["venue"],
        "online_url": event["online_url"],
        "name": reg["name"],
        "seats": reg["seats"],
        "group": reg["kind"] == RegistrationKind.group.value,
        "status": reg["status"],
        "manage_path": manage_path(slug, reg["token"]),
        "event_path": f"/o/{slug}/events/{event['id']}",
        **extra,
    }


async def _notify_contact(event: dict[str, Any], reg: dict[str, Any], key: str, dedupe: str,
                          **extra: Any) -> int:
    """One message to a registration's contact; 0 when there is nobody to write to."""
    if not (reg.get("email") or reg.get("phone") or reg.get("created_by")):
        return 0
    slug = event.get("tenant_slug") or await _tenant_slug(event["tenant"])
    user_id = reg.get("created_by") if reg["kind"] == RegistrationKind.group.value else None
    try:
        await outbox.notify(event["tenant"], key, dedupe, email=reg.get("email") or "", phone=reg.get("phone") or "",
                            user_id=user_id, payload=_payload(event, reg, slug, **extra),
                            locale=reg.get("locale") or "zh_Hans")
    except outbox.NoRecipient:
        return 0
    return 1


async def _registration_of(row: dict[str, Any]) -> dict[str, Any] | None:
    payload = _payload_of(row)
    reg = await Registration.select().where(Registration.id == payload.get("registration_id", 0)).first()
    event = await Event.select().where(Event.id == payload.get("event_id", 0)).first()
    if reg is None or event is None:
        return None
    return {"reg": reg, "event": event, "payload": payload}


def _payload_of(row: dict[str, Any]) -> dict[str, Any]:
    from app.notifications.messages import payload_of

    return payload_of(row)


async def _reminder_applies(row: dict[str, Any]) -> bool:
    found = await _registration_of(row)
    if found is None:
        return False
    event, reg, payload = found["event"], found["reg"], found["payload"]
    return (event["status"] == PUBLISHED and _iso(event["starts_at"]) == payload["starts_at"]
            and reg["status"] == CONFIRMED and clock.now() < event["starts_at"])


async def _moved_applies(row: dict[str, Any]) -> bool:
    found = await _registration_of(row)
    if found is None:
        return False
    event, reg, payload = found["event"], found["reg"], found["payload"]
    # A later move supersedes this one: only the message with the current time goes out.
    return (event["status"] == PUBLISHED and _iso(event["starts_at"]) == payload["starts_at"]
            and reg["status"] != CANCELLED)


async def _registration_applies(row: dict[str, Any]) -> bool:
    found = await _registration_of(row)
    return found is not None and found["reg"]["status"] != CANCELLED and found["event"]["status"] == PUBLISHED


async def _promotion_applies(row: dict[str, Any]) -> bool:
    found = await _registration_of(row)
    return found is not None and found["reg"]["status"] == CONFIRMED and found["event"]["status"] == PUBLISHED


outbox.register("event_registered", still_applies=_registration_applies)
outbox.register("event_promoted", still_applies=_promotion_applies)
outbox.register("event_moved", still_applies=_moved_applies)
outbox.register("event_cancelled")
outbox.register("event_reminder", still_applies=_reminder_applies)


# --- registering -------------------------------------------------------------------------


@dataclass(frozen=True)
class Registered:
    id: int
    token: str
    status: str
    position: int  # on the waitlist; 0 when confirmed


async def _phones_taken(event_id: int, phones: list[str]) -> set[str]:
    phones = [p for p in phones if p]
    if not phones:
        return set()
    rows = await Attendee.select(Attendee.phone).where(
        (Attendee.event == event_id) & (Attendee.active == True) & (Attendee.phone.is_in(phones))  # noqa: E712
    )
    return {r["phone"] for r in rows}


async def waitlist_position(event_id: int, registration_id: int) -> int:
    return await Registration.count().where(
        (Registration.event == event_id) & (Registration.status == WAITLISTED) & (Registration.id <= registration_id)
    )


async def _add_registration(event: dict[str, Any], *, kind: str, seats: int, people: list[tuple[str, str]],
                            contact: dict[str, Any], now: datetime, union_id: int | None = None,
                            reserved: bool = False, user_id: int | None = None, must_fit: bool = False,
                            locale: str = "zh_Hans") -> Registered:
    """Under the event's lock: seat the registration whole, or put it on the waitlist whole."""
    fits = event["seats_taken"] + seats <= event["capacity"]
    if must_fit and not fits:
        raise EventError("seats", _("Only %(num)s seats are left.", num=max(event["capacity"] - event["seats_taken"], 0)))
    status = CONFIRMED if fits else WAITLISTED
    reg = Registration(
        tenant=event["tenant"], event=event["id"], kind=kind, status=status, seats=seats,
        name=contact.get("name", "")[:100], phone=contact.get("phone", ""), email=contact.get("email", ""),
        employer=contact.get("employer", ""), union_tenant=union_id, reserved=reserved, created_by=user_id,
        token=new_token(), checkin_code=new_checkin_code(), locale=locale,
        confirmed_at=now if fits else None, created_at=now,
    )
    await reg.save()
    attendees = [
        Attendee(tenant=event["tenant"], event=event["id"], registration=reg.id, name=name[:100], phone=phone,
                 position=i)
        for i, (name, phone) in enumerate(people, start=1)
    ]
    if attendees:
        await Attendee.insert(*attendees)
    if fits:
        await Event.update({Event.seats_taken: Event.seats_taken + seats}).where(Event.id == event["id"])
        event["seats_taken"] += seats
    position = 0 if fits else await waitlist_position(event["id"], reg.id)
    data = {**reg.to_dict(), "id": reg.id}
    await _notify_contact(event, data, "event_registered", f"registration:{reg.id}:registered", position=position)
    return Registered(id=reg.id, token=reg.token, status=status, position=position)


async def register_individual(event_id: int, name: str, phone: str, email: str = "", employer: str = "",
                              locale: str = "zh_Hans") -> Registered:
    """A person registers for a published event of the active tenant (no account)."""
    now = clock.now()
    try:
        async with seat_transaction():
            event = await locked_event(event_id)
            if event["status"] == EventStatus.draft.value:
                raise EventMissing()  # not public yet
            check_registration_open(event, now)
            if await _phones_taken(event_id, [phone]):
                raise EventError("phone", _("This mobile number is already registered for this event. "
                                            "Use the link in your confirmation message to see or cancel it."))
            return await _add_registration(
                event, kind=RegistrationKind.individual.value, seats=1, people=[(name, phone)],
                contact={"name": name, "phone": phone, "email": email, "employer": employer}, now=now, locale=locale,
            )
    except Exception as exc:
        if _is_unique_violation(exc):  # the index caught what raced past the check
            raise EventError("phone", _("This mobile number is already registered for this event. "
                                        "Use the link in your confirmation message to see or cancel it.")) from None
        raise


async def open_group_events(union_id: int) -> list[dict[str, Any]]:
    """Published events of any organisation that take groups and are open now."""
    now = clock.now()
    with unscoped("a union registers groups for any organisation's published events"):
        rows = await Event.select(*PUBLIC_EVENT_COLUMNS).where(
            (Event.status == PUBLISHED) & (Event.groups_allowed == True) & (Event.starts_at > now)  # noqa: E712
            & (through(Event, "tenant").active == True)  # noqa: E712
        ).order_by(Event.starts_at)
    return [describe(r, now) for r in rows if registration_state(r, now) in ("open", "full")]


async def group_event(event_id: int) -> dict[str, Any] | None:
    with unscoped("a union registers groups for any organisation's published events"):
        return await Event.select(*PUBLIC_EVENT_COLUMNS).where(
            (Event.id == event_id) & (Event.status == PUBLISHED) & (Event.groups_allowed == True)  # noqa: E712
            & (through(Event, "tenant").active == True)  # noqa: E712
        ).first()


async def register_group(union: dict[str, Any], event_id: int, headcount: int, people: list[tuple[str, str]],
                         rep: dict[str, Any], locale: str = "zh_Hans") -> Registered:
    """A union representative registers a group: all seated, or all on the waitlist.

    ``people`` are (name, mobile or "") of every attendee; ``rep`` is the representative
    (id, name, email, phone), who receives the messages."""
    if union["kind"] != "union":
        raise EventError("event", _("Only a trade union registers groups."))
    event = await group_event(event_id)
    if event is None:
        raise EventError("event", _("Choose an event that takes group registrations."))
    if len(people) != headcount:
        raise EventError("names", _("You gave %(names)s names for a group of %(num)s.", names=len(people),
                                    num=headcount))
    if headcount > min(event["capacity"], MAX_GROUP):
        raise EventError("headcount", _("This event has %(cap)s seats: a group of %(num)s cannot be seated.",
                                        cap=event["capacity"], num=headcount))
    now = clock.now()
    with tenant_scope(event["tenant"]):
        try:
            async with seat_transaction():
                locked = await locked_event(event_id)
                check_registration_open(locked, now)
                taken = await _phones_taken(event_id, [p for _n, p in people])
                if taken:
                    raise EventError("names", _("Already registered for this event: %(phones)s.",
                                                phones="、".join(sorted(taken))))
                return await _add_registration(
                    locked, kind=RegistrationKind.group.value, seats=headcount, people=people,
                    contact={"name": rep["name"], "email": rep.get("email", ""), "phone": rep.get("phone", "")},
                    now=now, union_id=union["id"], user_id=rep["id"], locale=locale,
                )
        except Exception as exc:
            if _is_unique_violation(exc):
                raise EventError("names", _("Someone in this list was registered for this event meanwhile. "
                                            "Check the numbers and send the list again.")) from None
            raise


async def union_choices() -> list[dict[str, Any]]:
    return await Tenant.select(Tenant.id, Tenant.name).where(
        (Tenant.kind == "union") & (Tenant.active == True)  # noqa: E712
    ).order_by(Tenant.name)


async def reserve_for_union(event_id: int, union_id: int, seats: int, user_id: int | None) -> Registered:
    """Staff set seats aside for a union; its representatives fill in the names later.
    Reserved seats must fit now: a reservation never waits."""
    union = await Tenant.select(Tenant.id, Tenant.name).where(
        (Tenant.id == union_id) & (Tenant.kind == "union") & (Tenant.active == True)  # noqa: E712
    ).first()
    if union is None:
        raise EventError("union", _("Choose a trade union."))
    now = clock.now()
    event = await locked_event(event_id)
    if event["status"] not in (EventStatus.draft.value, PUBLISHED) or event["ends_at"] <= now:
        raise EventError("event", _("Seats can be reserved only for a draft or an upcoming published event."))
    with unscoped("staff reserving seats write to the union's representatives"):
        rep = await Membership.select(
            Membership.user.id.as_alias("id"), Membership.user.name.as_alias("name"),
            Membership.user.email.as_alias("email"),
        ).where((Membership.tenant == union_id) & (Membership.role.is_in(["union_rep", "admin"]))).order_by(
            Membership.role, ascending=False
        ).order_by(Membership.id).first()
    contact = {"name": union["name"], "email": rep["email"] if rep else ""}
    people = [("", "")] * seats
    return await _add_registration(
        event, kind=RegistrationKind.group.value, seats=seats, people=people, contact=contact, now=now,
        union_id=union_id, reserved=True, user_id=rep["id"] if rep else None, must_fit=True,
    )


# --- cancelling and the waitlist ----------------------------------------------------------


async def promote_waitlist(event: dict[str, Any], now: datetime) -> list[int]:
    """Under the event's lock: give free seats to the waitlist in order, each to the first
    registration that fits whole. Only before the event starts."""
    if event["status"] != PUBLISHED or now >= event["starts_at"]:
        return []
    free = event["capacity"] - event["seats_taken"]
    promoted: list[int] = []
    if free <= 0:
        return promoted
    waiting = await Registration.select().where(
        (Registration.event == event["id"]) & (Registration.status == WAITLISTED)
    ).order_by(Registration.id)
    for reg in waiting:
        if free <= 0:
            break
        if reg["seats"] > free:
            continue
        await Registration.update(
            {Registration.status: CONFIRMED, Registration.confirmed_at: now, Registration.promoted_at: now}
        ).where((Registration.id == reg["id"]) & (Registration.status == WAITLISTED))
        free -= reg["seats"]
        promoted.append(reg["id"])
        await _notify_contact(event, {**reg, "status": CONFIRMED}, "event_promoted", f"registration:{reg['id']}:promoted")
    if promoted:
        taken = event["capacity"] - free
        await Event.update({Event.seats_taken: taken}).where(Event.id == event["id"])
        event["seats_taken"] = taken
    return promoted


async def cancel_registration(registration_id: int) -> list[int]:
    """Give up a place (a person via the manage link, a union, or staff). A freed seat
    goes to the waitlist at once. Returns the ids promoted."""
    now = clock.now()
    reg = await Registration.select(Registration.event).where(Registration.id == registration_id).first()
    if reg is None:
        raise EventError("registration", _("There is no such registration."))
    async with seat_transaction():
        event = await locked_event(reg["event"])
        row = await Registration.select().where(Registration.id == registration_id).first()
        if row["status"] == CANCELLED:
            return []
        if event["status"] in (EventStatus.completed.value, EventStatus.cancelled.value) or event["starts_at"] <= now:
            raise EventError("registration", _("This event has started or is over: the registration stays as it is."))
        await Registration.update({Registration.status: CANCELLED, Registration.cancelled_at: now}).where(
            Registration.id == registration_id
        )
        await Attendee.update({Attendee.active: False}).where(Attendee.registration == registration_id)
        if row["status"] == CONFIRMED:
            event["seats_taken"] -= row["seats"]
            await Event.update({Event.seats_taken: Event.seats_taken - row["seats"]}).where(Event.id == event["id"])
        return await promote_waitlist(event, now)


# --- what a registrant sees (private manage link) -------------------------------------------


async def registration_by_token(token: str) -> dict[str, Any] | None:
    if not (10 <= len(token) <= 64):
        return None
    reg = await Registration.select().where(Registration.token == token).first()
    if reg is None or reg["kind"] == RegistrationKind.walk_in.value:
        return None
    event = await Event.select().where(Event.id == reg["event"]).first()
    reg["position"] = await waitlist_position(event["id"], reg["id"]) if reg["status"] == WAITLISTED else 0
    reg["attendees"] = await Attendee.select(Attendee.name, Attendee.checked_in_at).where(
        Attendee.registration == reg["id"]
    ).order_by(Attendee.position)
    return {"registration": reg, "event": describe(event)}


# --- union groups ----------------------------------------------------------------------------


async def union_groups(union_id: int) -> list[dict[str, Any]]:
    """Every group of this union at every organisation, with its attendance."""
    now = clock.now()
    with unscoped("a union sees its own groups at every organisation"):
        event, organisation = through(Registration, "event"), through(Registration, "tenant")
        regs = await Registration.select(
            Registration.id, Registration.status, Registration.seats, Registration.reserved, Registration.created_at,
            event.id.as_alias("event_id"), event.title.as_alias("title"),
            event.starts_at.as_alias("starts_at"), event.ends_at.as_alias("ends_at"),
            event.status.as_alias("event_status"), organisation.name.as_alias("org_name"),
            organisation.slug.as_alias("org_slug"),
        ).where(
            (Registration.union_tenant == union_id) & (Registration.kind == RegistrationKind.group.value)
        ).order_by(event.starts_at, ascending=False)
        counts = await _attendance_by_registration([r["id"] for r in regs])
    for r in regs:
        c = counts.get(r["id"], {"named": 0, "present": 0})
        r.update(c)
        r["when"] = span_text(r["starts_at"], r["ends_at"])
        r["held"] = r["ends_at"] <= now and r["event_status"] in (PUBLISHED, EventStatus.completed.value)
        r["no_shows"] = (r["seats"] - r["present"]) if r["held"] and r["status"] == CONFIRMED else 0
    return regs


async def _attendance_by_registration(reg_ids: list[int]) -> dict[int, dict[str, int]]:
    if not reg_ids:
        return {}
    rows = await Attendee.select(Attendee.registration, Attendee.name, Attendee.checked_in_at).where(
        Attendee.registration.is_in(reg_ids)
    )
    result: dict[int, dict[str, int]] = {}
    for row in rows:
        c = result.setdefault(row["registration"], {"named": 0, "present": 0})
        c["named"] += 1 if row["name"] else 0
        c["present"] += 1 if row["checked_in_at"] else 0
    return result


async def union_group(union_id: int, group_id: int) -> dict[str, Any] | None:
    """One group of this union (None when missing or another union's: the same 404)."""
    with unscoped("a union reads its own group at the organising tenant"):
        reg = await Registration.select().where(
            (Registration.id == group_id) & (Registration.union_tenant == union_id)
            & (Registration.kind == RegistrationKind.group.value)
        ).first()
    if reg is None:
        return None
    with tenant_scope(reg["tenant"]):
        event = await Event.select().where(Event.id == reg["event"]).first()
        reg["attendees"] = await Attendee.select().where(Attendee.registration == reg["id"]).order_by(Attendee.position)
        reg["position"] = await waitlist_position(event["id"], reg["id"]) if reg["status"] == WAITLISTED else 0
    org = await Tenant.select(Tenant.name, Tenant.slug).where(Tenant.id == reg["tenant"]).first()
    return {"registration": reg, "event": describe(event), "org": org}


async def substitute_attendee(union_id: int, group_id: int, attendee_id: int, name: str, phone: str) -> dict[str, Any]:
    """Put another person in one seat of a union's group (or name a reserved seat)."""
    found = await union_group(union_id, group_id)
    if found is None:
        raise EventError("attendee", _("There is no such group."))
    reg, event = found["registration"], found["event"]
    if reg["status"] == CANCELLED or event["status"] not in (PUBLISHED, EventStatus.draft.value) or event["is_past"]:
        raise EventError("attendee", _("This group can no longer be changed."))
    seat = next((a for a in reg["attendees"] if a["id"] == attendee_id), None)
    if seat is None:
        raise EventError("attendee", _("Choose a seat of this group."))
    if seat["checked_in_at"]:
        raise EventError("attendee", _("This person has already been checked in."))
    with tenant_scope(reg["tenant"]):
        try:
            async with seat_transaction():
                await locked_event(event["id"])
                if phone and phone != seat["phone"] and await _phones_taken(event["id"], [phone]):
                    raise EventError("phone", _("This mobile number is already registered for this event."))
                await Attendee.update({Attendee.name: name, Attendee.phone: phone}).where(Attendee.id == attendee_id)
        except Exception as exc:
            if _is_unique_violation(exc):
                raise EventError("phone", _("This mobile number is already registered for this event.")) from None
            raise
    return {"before": seat["name"], "after": name, "event": event["title"]}


async def cancel_union_group(union_id: int, group_id: int) -> list[int]:
    found = await union_group(union_id, group_id)
    if found is None:
        raise EventError("registration", _("There is no such group."))
    with tenant_scope(found["registration"]["tenant"]):
        return await cancel_registration(group_id)


# --- staff view of one event, check-in ---------------------------------------------------------


async def event_registrations(event_id: int) -> dict[str, Any]:
    """Confirmed and waitlisted registrations of an event (staff), with figures."""
    regs = await Registration.select(
        *(c for c in Registration._meta.columns if c._meta.name not in ("token",)),
        through(Registration, "union_tenant").name.as_alias("union_name"),
    ).where(Registration.event == event_id).order_by(Registration.id)
    counts = await _attendance_by_registration([r["id"] for r in regs])
    confirmed, waitlist, cancelled = [], [], []
    for r in regs:
        r.update(counts.get(r["id"], {"named": 0, "present": 0}))
        {CONFIRMED: confirmed, WAITLISTED: waitlist}.get(r["status"], cancelled).append(r)
    for i, r in enumerate(waitlist, start=1):
        r["position"] = i
    return {"confirmed": confirmed, "waitlist": waitlist, "cancelled": cancelled}


def event_figures(event: dict[str, Any], regs: dict[str, Any], now: datetime | None = None) -> dict[str, int]:
    """Attendance of one event: seats confirmed, present, no-shows (once held), walk-ins, waiting."""
    now = now or clock.now()
    booked = [r for r in regs["confirmed"] if r["kind"] != RegistrationKind.walk_in.value]
    walk_ins = [r for r in regs["confirmed"] if r["kind"] == RegistrationKind.walk_in.value]
    present_booked = sum(r["present"] for r in booked)
    held = event["starts_at"] <= now and event["status"] in (PUBLISHED, EventStatus.completed.value)
    seats = sum(r["seats"] for r in booked)
    return {
        "confirmed": seats,
        "present": present_booked + sum(r["present"] for r in walk_ins),
        "walk_ins": sum(r["present"] for r in walk_ins),
        "no_shows": (seats - present_booked) if held else 0,
        "waitlisted": sum(r["seats"] for r in regs["waitlist"]),
        "waitlisted_registrations": len(regs["waitlist"]),
        "held": held,
    }


def _like(text: str) -> str:
    return "%" + text.replace("%", "").replace("_", "").replace("\\", "") + "%"


CHECKIN_COLUMNS = (
    Attendee.id, Attendee.name, Attendee.phone, Attendee.position, Attendee.checked_in_at,
    through(Attendee, "registration").id.as_alias("registration_id"),
    through(Attendee, "registration").kind.as_alias("kind"),
    through(Attendee, "registration.union_tenant").name.as_alias("union_name"),
)


async def checkin_list(event_id: int, q: str = "", limit: int = 300) -> list[dict[str, Any]]:
    """Attendees of confirmed places (never the waitlist), found by name or the end of a phone."""
    query = Attendee.select(*CHECKIN_COLUMNS).where(
        (Attendee.event == event_id) & (Attendee.active == True)  # noqa: E712
        & (through(Attendee, "registration").status == CONFIRMED)
    )
    q = q.strip()[:50]
    if q:
        digits = "".join(ch for ch in q if ch.isdigit())
        # SQLite's LIKE ignores ASCII case already; PostgreSQL needs ILIKE.
        pattern = _like(q)
        condition = Attendee.name.ilike(pattern) if get_engine().engine_type == "postgres" else Attendee.name.like(pattern)
        if digits and len(digits) == len(q):
            condition = condition | Attendee.phone.like("%" + digits)
        query = query.where(condition)
    rows = await query.order_by(through(Attendee, "registration").id).order_by(Attendee.position).limit(limit)
    for r in rows:
        r["phone_tail"] = r["phone"][-4:] if r["phone"] else ""
    return rows


async def set_present(attendee_id: int, present: bool, user_id: int | None) -> dict[str, Any]:
    """Tap to mark present (or undo a mistaken tap). Only confirmed places of an event
    that is published or completed, from an hour before the start."""
    event = through(Attendee, "event")
    row = await Attendee.select(
        Attendee.id, Attendee.event, Attendee.active, through(Attendee, "registration").status.as_alias("reg_status"),
        event.status.as_alias("event_status"), event.starts_at.as_alias("starts_at"),
    ).where(Attendee.id == attendee_id).first()
    if row is None or not row["active"] or row["reg_status"] != CONFIRMED:
        raise EventError("attendee", _("This person has no confirmed place."))
    if row["event_status"] not in (PUBLISHED, EventStatus.completed.value):
        raise EventError("attendee", _("Check-in is only for published events."))
    if present and clock.now() < row["starts_at"] - timedelta(hours=CHECKIN_OPENS_HOURS):
        raise EventError("attendee", _("Check-in opens %(hours)s hours before the start.", hours=CHECKIN_OPENS_HOURS))
    await Attendee.update({
        Attendee.checked_in_at: clock.now() if present else None,
        Attendee.checked_in_by: user_id if present else None,
    }).where(Attendee.id == attendee_id)
    return await checkin_person(attendee_id)


async def checkin_person(attendee_id: int) -> dict[str, Any] | None:
    """One row of the check-in list."""
    row = await Attendee.select(*CHECKIN_COLUMNS).where(Attendee.id == attendee_id).first()
    if row is not None:
        row["phone_tail"] = row["phone"][-4:] if row["phone"] else ""
    return row


CHECKIN_OPENS_HOURS = 3


async def registration_for_scan(code: str) -> dict[str, Any] | None:
    """The place behind a confirmation's QR code (in the active tenant)."""
    code = code.strip().upper()
    if not (4 <= len(code) <= 16) or any(ch not in CHECKIN_ALPHABET for ch in code):
        return None
    reg = await Registration.select(
        Registration.id, Registration.event, Registration.status, Registration.kind, Registration.name,
        Registration.seats, through(Registration, "union_tenant").name.as_alias("union_name"),
    ).where(Registration.checkin_code == code).first()
    if reg is None:
        return None
    reg["attendees"] = [a for a in await checkin_list(reg["event"]) if a["registration_id"] == reg["id"]]
    return reg


async def add_walk_in(event_id: int, name: str, phone: str, user_id: int | None) -> int:
    """Someone who came without registering: recorded as present. Walk-ins take no
    registered seat (the count of seats is for places promised in advance)."""
    now = clock.now()
    try:
        async with seat_transaction():
            event = await locked_event(event_id)
            if event["status"] not in (PUBLISHED, EventStatus.completed.value):
                raise EventError("name", _("Check-in is only for published events."))
            if now < event["starts_at"] - timedelta(hours=CHECKIN_OPENS_HOURS):
                raise EventError("name", _("Check-in opens %(hours)s hours before the start.", hours=CHECKIN_OPENS_HOURS))
            if phone and await _phones_taken(event_id, [phone]):
                raise EventError("phone", _("This mobile number is already registered: search for it above."))
            reg = Registration(
                tenant=event["tenant"], event=event_id, kind=RegistrationKind.walk_in.value, status=CONFIRMED, seats=0,
                name=name, phone=phone, token=new_token(), checkin_code=new_checkin_code(), confirmed_at=now,
                created_by=user_id, created_at=now,
            )
            await reg.save()
            attendee = Attendee(tenant=event["tenant"], event=event_id, registration=reg.id, name=name, phone=phone,
                                position=1, checked_in_at=now, checked_in_by=user_id)
            await attendee.save()
            return attendee.id
    except Exception as exc:
        if _is_unique_violation(exc):
            raise EventError("phone", _("This mobile number is already registered: search for it above.")) from None
        raise


# --- reminders ---------------------------------------------------------------------------------


async def send_due_reminders(now: datetime | None = None) -> dict[str, int]:
    """Write the reminders that are due (24 h and 2 h before the start) to confirmed
    registrants who registered before the reminder's time. Idempotent: keys carry the
    event's start, so a moved event gets new ones and its old ones no longer apply."""
    now = now or clock.now()
    written = 0
    with unscoped("reminders look at every organisation's upcoming events"):
        events = await Event.select().where(
            (Event.status == PUBLISHED) & (Event.starts_at > now) & (Event.starts_at <= now + REMINDERS[0][1])
        )
    for event in events:
        with tenant_scope(event["tenant"]):
            for i, (label, offset) in enumerate(REMINDERS):
                due = event["starts_at"] - offset
                until = event["starts_at"] - REMINDERS[i + 1][1] if i + 1 < len(REMINDERS) else event["starts_at"]
                if not (due <= now < until):
                    continue  # not due yet, or the next reminder's turn: never a stale one
                prefix = f"event:{event['id']}:reminder:{label}:{_iso(event['starts_at'])}:reg:"
                sent = {r["dedupe_key"] for r in await Notification.select(Notification.dedupe_key).where(
                    Notification.dedupe_key.like(prefix + "%"))}
                regs = await Registration.select().where(
                    (Registration.event == event["id"]) & (Registration.status == CONFIRMED)
                    & (Registration.kind != RegistrationKind.walk_in.value) & (Registration.confirmed_at <= due)
                ).order_by(Registration.id)
                for reg in regs:
                    if prefix + str(reg["id"]) in sent:
                        continue
                    written += await _notify_contact(event, reg, "event_reminder", prefix + str(reg["id"]),
                                                     reminder=label)
    return {"events": len(events), "written": written}


# --- public listings and the calendar --------------------------------------------------------------

VISIBLE = [PUBLISHED, EventStatus.completed.value, EventStatus.cancelled.value]


def month_range(month: str) -> tuple[datetime, datetime] | None:
    """The first instant of a 'YYYY-MM' month and of the next, in the city's time zone (as UTC)."""
    try:
        first = date.fromisoformat(month + "-01")
    except ValueError:
        return None
    if not (2000 <= first.year <= 2100):
        return None
    nxt = date(first.year + (first.month == 12), 1 if first.month == 12 else first.month + 1, 1)
    zone = i18n.tz()
    return (datetime(first.year, first.month, 1, tzinfo=zone).astimezone(timezone.utc),
            datetime(nxt.year, nxt.month, 1, tzinfo=zone).astimezone(timezone.utc))


def this_month() -> str:
    return _local(clock.now()).strftime("%Y-%m")


def shift_month(month: str, delta: int) -> str:
    year, mon = int(month[:4]), int(month[5:7]) + delta
    while mon < 1:
        year, mon = year - 1, mon + 12
    while mon > 12:
        year, mon = year + 1, mon - 12
    return f"{year:04d}-{mon:02d}"


async def public_events(*, city_wide: bool, kind: str = "", topic: str = "", district: str = "",
                        month: str = "", limit: int = 200) -> list[dict[str, Any]]:
    """Published events (and cancelled ones, marked) for the public: the active tenant's,
    or the whole city's. Without a month: what has not ended yet; with one: that month."""
    now = clock.now()
    bounds = month_range(month) if month else None
    kind = kind if kind in KIND_LABELS else ""
    topic = topic if topic in TOPIC_LABELS else ""
    district = district if city_wide else ""
    statement = _public_events_statement(bool(bounds), bool(kind), bool(topic), bool(district), limit)
    with _scope(city_wide, "the city calendar lists every organisation's public events"):
        rows = await statement.run(start=bounds[0] if bounds else now, end=bounds[1] if bounds else now, now=now,
                                   kind_value=kind, topic_value=f"%|{topic}|%", district_value=district)
    return [describe(r, now) for r in rows]


@functools.cache
def _public_events_statement(in_month: bool, kind: bool, topic: bool, district: bool, limit: int) -> Prepared:
    """The calendar's statement for one combination of filters, composed once per process
    (app/core/prepared.py); the filters' values are bound at each run."""
    organiser = through(Event, "tenant")

    def build(start, end, now, kind_value, topic_value, district_value):
        query = Event.select(*PUBLIC_EVENT_COLUMNS, organiser.district.as_alias("district")).where(
            organiser.active == True)  # noqa: E712
        if in_month:
            query = query.where((Event.status.is_in(VISIBLE)) & (Event.starts_at >= start) & (Event.starts_at < end))
        else:
            query = query.where((Event.status.is_in([PUBLISHED, EventStatus.cancelled.value])) & (Event.ends_at > now))
        if kind:
            query = query.where(Event.kind == kind_value)
        if topic:
            query = query.where(Event.topics.like(topic_value))
        if district:
            query = query.where(organiser.district == district_value)
        return query.order_by(Event.starts_at).limit(limit)

    return prepared(build)


def _scope(city_wide: bool, reason: str):
    """Across every organisation (``unscoped``) or in the active tenant's scope."""
    return unscoped(reason) if city_wide else nullcontext()


def month_grid(month: str, events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Weeks (Monday first) of the month; each day with its events' ids and titles."""
    year, mon = int(month[:4]), int(month[5:7])
    by_day: dict[date, list[dict[str, Any]]] = {}
    for e in events:
        by_day.setdefault(e["local_date"], []).append(e)
    today = _local(clock.now()).date()
    weeks = []
    for week in _calendar.Calendar(firstweekday=0).monthdatescalendar(year, mon):
        weeks.append([{"date": d, "day": d.day, "in_month": d.month == mon, "today": d == today,
                       "events": by_day.get(d, []) if d.month == mon else []} for d in week])
    return weeks


def group_by_day(events: list[dict[str, Any]]) -> "OrderedDict[date, list[dict[str, Any]]]":
    days: OrderedDict[date, list[dict[str, Any]]] = OrderedDict()
    for e in events:
        days.setdefault(e["local_date"], []).append(e)
    return days


_EVENT = prepared(lambda event_id: Event.select().where(Event.id == event_id).first())


async def public_event(event_id: int, staff: bool = False) -> dict[str, Any] | None:
    """An event of the active tenant as the public sees it; drafts only for its staff."""
    row = await _EVENT.run(event_id=event_id)
    if row is None or (row["status"] == EventStatus.draft.value and not staff):
        return None
    return describe(row)


async def upcoming_for_tenant(limit: int = 3) -> list[dict[str, Any]]:
    """The next published events of the active tenant, for its public page."""
    now = clock.now()
    return [describe(r, now) for r in await _upcoming(limit).run(now=now)]


@functools.lru_cache(maxsize=8)
def _upcoming(limit: int) -> Prepared:
    return prepared(lambda now: Event.select(*EVENT_COLUMNS).where(
        (Event.status == PUBLISHED) & (Event.ends_at > now)).order_by(Event.starts_at).limit(limit))


async def feed_events(city_wide: bool) -> list[dict[str, Any]]:
    """What the iCalendar feeds carry: upcoming and the last 90 days, cancelled ones marked."""
    since = clock.now() - timedelta(days=90)
    with _scope(city_wide, "the city-wide calendar feed carries every organisation's events"):
        return await Event.select(*FEED_COLUMNS).where(
            (Event.status.is_in(VISIBLE)) & (Event.ends_at > since) & (through(Event, "tenant").active == True)  # noqa: E712
        ).order_by(Event.starts_at).limit(2000)


async def feed_event(event_id: int) -> dict[str, Any] | None:
    return await Event.select(*FEED_COLUMNS).where((Event.id == event_id) & (Event.status.is_in(VISIBLE))).first()


# --- attendance figures ----------------------------------------------------------------------

HELD = [PUBLISHED, EventStatus.completed.value]


def _held(start: datetime, end: datetime, now: datetime):
    """Attendee rows of events held in [start, end): started in it, over by now, not cancelled."""
    event = through(Attendee, "event")
    return ((event.status.is_in(HELD)) & (event.starts_at >= start) & (event.starts_at < end) & (event.ends_at <= now))


@functools.cache
def _attendance_statements(group_by: str) -> tuple[Prepared, Prepared]:
    """Attendees present (by registration kind) and no-shows, grouped by ``Attendee.<group_by>``;
    composed once per process (app/core/prepared.py)."""
    key = through(Attendee, group_by)
    registration = through(Attendee, "registration")
    present = prepared(lambda start, end, now: Attendee.select(
        key.as_alias("key"), registration.kind.as_alias("kind"), Count(Attendee.id, alias="n"),
    ).where(_held(start, end, now) & Attendee.checked_in_at.is_not_null()).group_by(key, registration.kind))
    missing = prepared(lambda start, end, now: Attendee.select(key.as_alias("key"), Count(Attendee.id, alias="n")).where(
        _held(start, end, now) & Attendee.checked_in_at.is_null() & (Attendee.active == True)  # noqa: E712
        & (registration.status == CONFIRMED) & (registration.kind != RegistrationKind.walk_in.value)
    ).group_by(key))
    return present, missing


async def _attendance_rows(start: datetime, end: datetime, group_by: str) -> dict[Any, dict[str, int]]:
    """{key: {attendees, walk_ins, no_shows}} over events held in the period, grouped by
    ``Attendee.<group_by>`` (a path such as ``"registration.union_tenant"``)."""
    now = clock.now()
    present_statement, missing_statement = _attendance_statements(group_by)
    present = await present_statement.run(start=start, end=end, now=now)
    missing = await missing_statement.run(start=start, end=end, now=now)
    result: dict[Any, dict[str, int]] = {}
    for row in present:
        figures = result.setdefault(row["key"], {"attendees": 0, "walk_ins": 0, "no_shows": 0})
        figures["attendees"] += row["n"]
        if row["kind"] == RegistrationKind.walk_in.value:
            figures["walk_ins"] += row["n"]
    for row in missing:
        result.setdefault(row["key"], {"attendees": 0, "walk_ins": 0, "no_shows": 0})["no_shows"] += row["n"]
    return result


_HELD_EVENTS = prepared(lambda start, end, now: Event.select(Event.id, Event.tenant, Event.starts_at).where(
    (Event.status.is_in(HELD)) & (Event.starts_at >= start) & (Event.starts_at < end) & (Event.ends_at <= now)
))


async def _held_events(start: datetime, end: datetime) -> list[dict[str, Any]]:
    return await _HELD_EVENTS.run(start=start, end=end, now=clock.now())


def _month_of(value: datetime) -> str:
    return _local(value).strftime("%Y-%m")


async def monthly_event_figures(start: datetime, end: datetime) -> list[tuple[str, int, str, int]]:
    """(month, tenant id, key, value) of events held and their attendees, for the outreach
    figures (keys ``events_held`` and ``event_attendees``). In the active scope, or
    across tenants inside ``unscoped``."""
    rows: list[tuple[str, int, str, int]] = []
    events = await _held_events(start, end)
    for e in events:
        rows.append((_month_of(e["starts_at"]), e["tenant"], "events_held", 1))
    attendance = await _attendance_rows(start, end, "event")
    by_id = {e["id"]: e for e in events}
    for event_id, figures in attendance.items():
        if event_id in by_id and figures["attendees"]:
            e = by_id[event_id]
            rows.append((_month_of(e["starts_at"]), e["tenant"], "event_attendees", figures["attendees"]))
    return rows


async def tenant_attendance(start: datetime, end: datetime) -> dict[str, int]:
    """The active tenant's events held in the period and their attendance."""
    events = await _held_events(start, end)
    totals = {"events_held": len(events), "attendees": 0, "walk_ins": 0, "no_shows": 0}
    for figures in (await _attendance_rows(start, end, "tenant")).values():
        for k in ("attendees", "walk_ins", "no_shows"):
            totals[k] += figures[k]
    return totals


async def city_attendance(start: datetime, end: datetime) -> dict[str, Any]:
    """Every organisation's and every union's events held, attendees and no-shows."""

    with unscoped("the city center sees every organisation's attendance figures"):
        tenants = await Tenant.select(Tenant.id, Tenant.slug, Tenant.name, Tenant.kind, Tenant.district).where(
            Tenant.active == True  # noqa: E712
        )
        events = await _held_events(start, end)
        by_tenant = await _attendance_rows(start, end, "tenant")
        by_union = await _attendance_rows(start, end, "registration.union_tenant")
        event = through(Registration, "event")
        groups = await Registration.select(
            Registration.union_tenant, Count(Registration.id, alias="n"),
        ).where(
            (Registration.kind == RegistrationKind.group.value) & (Registration.status == CONFIRMED)
            & (event.status.is_in(HELD)) & (event.starts_at >= start)
            & (event.starts_at < end) & (event.ends_at <= clock.now())
        ).group_by(Registration.union_tenant)
    held: dict[int, int] = {}
    for e in events:
        held[e["tenant"]] = held.get(e["tenant"], 0) + 1
    empty = {"attendees": 0, "walk_ins": 0, "no_shows": 0}
    tenants.sort(key=lambda t: (t["district"] != "", t["district"], kind_rank(t["kind"]), t["name"]))
    districts: OrderedDict[str, dict[str, Any]] = OrderedDict()
    total = {"events_held": 0, **empty}
    for t in tenants:
        figures = {"events_held": held.get(t["id"], 0), **by_tenant.get(t["id"], empty)}
        if not figures["events_held"]:
            continue
        group = districts.setdefault(t["district"], {"rows": [], "subtotal": {"events_held": 0, **empty}})
        group["rows"].append({**t, **figures})
        for k in total:
            group["subtotal"][k] += figures[k]
            total[k] += figures[k]
    group_counts = {r["union_tenant"]: r["n"] for r in groups}
    unions = [
        {**t, "groups": group_counts.get(t["id"], 0), **by_union.get(t["id"], empty)}
        for t in tenants if t["kind"] == "union"
    ]
    return {"districts": districts, "total": total, "unions": unions}
