"""The outbox: write a message with the change that caused it, deliver it exactly once.

``notify()`` writes a row inside the caller's transaction (its dedupe key makes a
second write of the same cause a no-op) and enqueues ``deliver_notification``
after commit. A delivery first *claims* the row with one conditional UPDATE
(pending and due -> sending), so two workers can never both send it; the batch
claim of the sweep path adds ``FOR UPDATE SKIP LOCKED`` on PostgreSQL. Failures
are retried with exponential backoff, then kept as failed with the error. The
sweep (a cron job) releases rows stuck in sending and re-enqueues due rows whose
job was lost, so an outage of Redis or of the mail server delays messages but
never loses them.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any, AsyncIterator, Awaitable, Callable
from zoneinfo import ZoneInfo

from piccolo.query.functions.aggregate import Count

from app.accounts.tables import User
from app.core import jobs
from app.db import atomic, get_engine
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.notifications.tables import Channel, Notification, Status
from tenants.scope import TenancyError, current_tenant_id, tenant_scope, unscoped
from tenants.tables import Tenant

MAX_ATTEMPTS = 6
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=2)
# A row claimed longer ago than this belongs to a worker that died.
STUCK_AFTER = timedelta(minutes=10)
# A due row whose job should have run this long ago has lost its job (Redis restart).
SWEEP_GRACE = timedelta(seconds=60)
BATCH_SIZE = 200
# The batch path sends this many at once and then marks them sent in one UPDATE: a
# worker killed in between re-sends at most these (after STUCK_AFTER).
SEND_CHUNK = 25
PAGE_SIZE = 50

QUIET_TZ = ZoneInfo("Asia/Shanghai")
QUIET_START = time(21, 0)
QUIET_END = time(8, 0)

DELIVER_JOB = "deliver_notification"
DELIVER_DUE_JOB = "deliver_due_notifications"


class NoRecipient(ValueError):
    """Neither an email address, a phone number nor an account to write to."""


_write_locks: dict[int, asyncio.Lock] = {}


@asynccontextmanager
async def _writing() -> AsyncIterator[None]:
    """On SQLite, one outbox write at a time per worker process: concurrent jobs
    would otherwise meet in SQLite's busy handler, which sleeps up to 100 ms a try.
    PostgreSQL takes row locks and needs none of this."""
    if get_engine().engine_type != "sqlite":
        yield
        return
    lock = _write_locks.setdefault(id(asyncio.get_running_loop()), asyncio.Lock())
    async with lock:
        yield


async def _write(query: Any) -> Any:
    async with _writing():
        return await query


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# --- which messages still apply -----------------------------------------------

StillApplies = Callable[[dict[str, Any]], Awaitable[bool]]


@dataclass(frozen=True)
class MessageKind:
    template_key: str
    still_applies: StillApplies | None = None
    label: Any = None  # what staff call this kind of message (lazy_gettext)


_REGISTRY: dict[str, MessageKind] = {}


def register(template_key: str, still_applies: StillApplies | None = None, label: Any = None) -> None:
    """Declare a message template; ``still_applies(row)`` is asked right before sending
    (inside the tenant's scope) and a False cancels the message instead. ``label`` names
    the kind for staff ("Reminder the day before an event")."""
    _REGISTRY[template_key] = MessageKind(template_key, still_applies, label)


def kind_label(template_key: str) -> str:
    kind = _REGISTRY.get(template_key)
    return str(kind.label) if kind and kind.label else ""


# Why a message was not sent or not yet sent, as staff read it. ``last_error`` keeps the
# machine's words (data); these turn them into sentences in the reader's language.
NO_LONGER_APPLIES = "no longer applies"
_CANCEL_REASONS: dict[str, Any] = {
    NO_LONGER_APPLIES: _l("Not sent: what it was about was cancelled or changed before it was due."),
}
_ERROR_SENTENCES: list[tuple[str, Any]] = [
    ("SMTPRecipientsRefused", _l("The mail server refused this address: it may be mistyped or no longer exist.")),
    ("SMTPSenderRefused", _l("The mail server refused the platform's sender address.")),
    ("SMTPAuthenticationError", _l("The platform could not sign in to the mail server.")),
    ("SMTPConnect", _l("The mail server could not be reached.")),
    ("ConnectionRefusedError", _l("The mail server could not be reached.")),
    ("TimeoutError", _l("The mail or SMS server did not answer in time.")),
    ("HTTPStatusError", _l("The SMS gateway refused the message.")),
    ("NoRecipient", _l("There is no email address, phone number or account to send it to.")),
]


def register_cancel_reason(reason: str, sentence: Any) -> None:
    """Say how staff read a reason passed to ``mark_cancelled``."""
    _CANCEL_REASONS[reason] = sentence


def explain(status: str, last_error: str) -> str:
    """A sentence for what went wrong (failed, retrying) or why it was not sent (cancelled)."""
    if status == Status.cancelled.value:
        sentence = _CANCEL_REASONS.get(last_error)
        return str(sentence) if sentence else _("Not sent: it no longer applied when it was due.")
    if not last_error:
        return ""
    for marker, sentence in _ERROR_SENTENCES:
        if marker in last_error:
            return str(sentence)
    return _("Sending did not work; the technical details are on the message’s page.")


def message_kind(template_key: str) -> MessageKind:
    try:
        return _REGISTRY[template_key]
    except KeyError:
        raise ValueError(f"no message template {template_key!r} is registered") from None


register("staff_notice", label=_l("Notice to staff"))


# --- quiet hours and backoff ---------------------------------------------------


def quiet_until(at: datetime) -> datetime | None:
    """When quiet hours (21:00–08:00 Asia/Shanghai) end, if ``at`` falls inside them."""
    local = at.astimezone(QUIET_TZ)
    if QUIET_END <= local.time() < QUIET_START:
        return None
    day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_END, tzinfo=QUIET_TZ).astimezone(timezone.utc)


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failed ones: 30 s, 1 min, 2 min, …"""
    return min(BACKOFF_BASE * (2 ** min(max(attempts - 1, 0), 20)), BACKOFF_CAP)


# --- writing -------------------------------------------------------------------


def _choose_channel(channel: str, email: str, phone: str, user_id: int | None) -> tuple[str, str]:
    """The channel actually used and its recipient: email falls back to SMS and the
    reverse; a person with neither gets an in-app message if they have an account."""
    preferred = {
        Channel.email.value: [(Channel.email.value, email), (Channel.sms.value, phone)],
        Channel.sms.value: [(Channel.sms.value, phone), (Channel.email.value, email)],
        Channel.inapp.value: [],
    }[channel]
    for name, address in preferred:
        if address:
            return name, address
    if user_id is not None:
        return Channel.inapp.value, email or phone or f"user:{user_id}"
    raise NoRecipient("no email, phone or account to send to")


async def notify(
    tenant_id: int,
    template_key: str,
    dedupe_key: str,
    *,
    channel: str = Channel.email.value,
    email: str = "",
    phone: str = "",
    user_id: int | None = None,
    payload: dict[str, Any] | None = None,
    locale: str = "zh_Hans",
    urgent: bool = False,
    scheduled_for: datetime | None = None,
) -> int:
    """Write one message to the outbox (in the caller's transaction, if any) and
    enqueue its delivery after commit. The same ``dedupe_key`` twice is one message:
    the second call returns the first one's id and sends nothing."""
    message_kind(template_key)
    if not dedupe_key or len(dedupe_key) > 200:
        raise ValueError("a dedupe key of 1–200 characters is required")
    try:
        active = current_tenant_id()
    except TenancyError:
        active = tenant_id
    if active != tenant_id:
        raise TenancyError("notify() for another tenant than the active scope")
    chosen, recipient = _choose_channel(channel, email.strip(), phone.strip(), user_id)
    now = utcnow()
    # Always UTC: SQLite compares stored times as text.
    due = max(scheduled_for.astimezone(timezone.utc) if scheduled_for else now, now)
    if chosen == Channel.sms.value and not urgent:
        due = quiet_until(due) or due
    row = Notification(
        tenant=tenant_id,
        channel=chosen,
        recipient=recipient[:254],
        recipient_user=user_id,
        template_key=template_key,
        locale=locale,
        payload=payload or {},
        dedupe_key=dedupe_key,
        urgent=urgent,
        status=Status.pending.value,
        scheduled_for=due,
        created_at=now,
    )
    with tenant_scope(tenant_id):
        async with atomic():
            inserted = await (
                Notification.insert(row)
                .on_conflict(target=Notification.dedupe_key, action="DO NOTHING")
                .returning(Notification.id)
            )
            if not inserted:
                existing = await Notification.select(Notification.id).where(
                    Notification.dedupe_key == dedupe_key
                ).first()
                if existing is None:
                    raise TenancyError("dedupe key is taken by another tenant's message")
                return existing["id"]
            notification_id = inserted[0]["id"]
            await enqueue_delivery(notification_id, tenant_id, due)
    return notification_id


@dataclass(frozen=True)
class Outgoing:
    """One message of a ``notify_many()`` batch."""

    dedupe_key: str
    email: str = ""
    phone: str = ""
    user_id: int | None = None
    payload: dict[str, Any] | None = None
    locale: str = "zh_Hans"


INSERT_CHUNK = 500


async def notify_many(
    tenant_id: int,
    template_key: str,
    messages: list[Outgoing],
    *,
    channel: str = Channel.email.value,
    urgent: bool = False,
) -> int:
    """Write many messages at once, for a notice to thousands: one multi-row INSERT per
    500 (a dedupe key already written is skipped), in the caller's transaction, and one
    batch delivery job for the tenant after commit instead of a job per message.
    Recipients with no way to be reached are left out. Returns how many were written."""
    message_kind(template_key)
    try:
        active = current_tenant_id()
    except TenancyError:
        active = tenant_id
    if active != tenant_id:
        raise TenancyError("notify_many() for another tenant than the active scope")
    now = utcnow()
    rows = []
    for m in messages:
        if not m.dedupe_key or len(m.dedupe_key) > 200:
            raise ValueError("a dedupe key of 1–200 characters is required")
        try:
            chosen, recipient = _choose_channel(channel, m.email.strip(), m.phone.strip(), m.user_id)
        except NoRecipient:
            continue
        due = now
        if chosen == Channel.sms.value and not urgent:
            due = quiet_until(due) or due
        rows.append(Notification(
            tenant=tenant_id, channel=chosen, recipient=recipient[:254], recipient_user=m.user_id,
            template_key=template_key, locale=m.locale, payload=m.payload or {}, dedupe_key=m.dedupe_key,
            urgent=urgent, status=Status.pending.value, scheduled_for=due, created_at=now,
        ))
    written = 0
    with tenant_scope(tenant_id):
        async with atomic():
            for start in range(0, len(rows), INSERT_CHUNK):
                inserted = await (
                    Notification.insert(*rows[start:start + INSERT_CHUNK])
                    .on_conflict(target=Notification.dedupe_key, action="DO NOTHING")
                    .returning(Notification.id)
                )
                written += len(inserted)
            if written:
                await jobs.enqueue(DELIVER_DUE_JOB, tenant_id, _job_id=f"{DELIVER_DUE_JOB}:{tenant_id}")
    return written


async def enqueue_delivery(notification_id: int, tenant_id: int, due: datetime | None = None) -> None:
    # A job must not run before its row is due: the claim would skip it.
    if due is not None and due > utcnow():
        await jobs.enqueue(DELIVER_JOB, notification_id, tenant_id, _defer_until=due)
    else:
        await jobs.enqueue(DELIVER_JOB, notification_id, tenant_id)


# --- claiming and outcomes (inside the tenant's scope) --------------------------

ROW_COLUMNS = (
    Notification.id,
    Notification.tenant,
    Notification.channel,
    Notification.recipient,
    Notification.recipient_user,
    Notification.template_key,
    Notification.locale,
    Notification.payload,
    Notification.dedupe_key,
    Notification.urgent,
    Notification.attempts,
    Notification.claimed_at,
)


async def claim(notification_id: int) -> dict[str, Any] | None:
    """Atomically take a due pending message (pending -> sending); None if another
    worker has it, it was already handled, or it is not due yet."""
    now = utcnow()
    rows = await _write(
        Notification.update(
            {
                Notification.status: Status.sending.value,
                Notification.claimed_at: now,
                Notification.attempts: Notification.attempts + 1,
            }
        )
        .where(
            (Notification.id == notification_id)
            & (Notification.status == Status.pending.value)
            & (Notification.scheduled_for <= now)
        )
        .returning(*ROW_COLUMNS)
    )
    return rows[0] if rows else None


async def claim_batch(limit: int = BATCH_SIZE) -> list[dict[str, Any]]:
    """Atomically take up to ``limit`` due pending messages of the active tenant.

    PostgreSQL: rows locked by another worker's claim are skipped, not waited for.
    SQLite: writers are serialised, so the conditional UPDATE alone is atomic."""
    tenant_id = current_tenant_id()
    now = utcnow()
    engine = get_engine()
    lock = " FOR UPDATE SKIP LOCKED" if engine.engine_type == "postgres" else ""
    claimed = await _write(Notification.raw(
        "UPDATE notification SET status = 'sending', claimed_at = {}, attempts = attempts + 1 "
        "WHERE status = 'pending' AND id IN ("
        "SELECT id FROM notification WHERE tenant = {} AND status = 'pending' AND scheduled_for <= {} "
        "ORDER BY scheduled_for, id LIMIT {}" + lock + ") RETURNING id",
        now, tenant_id, now, limit,
    ))
    if not claimed:
        return []
    ids = [r["id"] for r in claimed]
    return await Notification.select(*ROW_COLUMNS).where(Notification.id.is_in(ids)).order_by(Notification.id)


def _mine(row: dict[str, Any]) -> Any:
    """Our claim and nobody else's: a row released by the sweep and claimed again
    has a newer ``claimed_at``."""
    return (
        (Notification.id == row["id"])
        & (Notification.status == Status.sending.value)
        & (Notification.claimed_at == row["claimed_at"])
    )


async def mark_sent(row: dict[str, Any]) -> None:
    await _write(Notification.update(
        {Notification.status: Status.sent.value, Notification.sent_at: utcnow(), Notification.last_error: ""}
    ).where(_mine(row)))


async def mark_sent_many(rows: list[dict[str, Any]]) -> None:
    """Mark a chunk of one batch claim as sent in one statement (they share ``claimed_at``)."""
    for claimed_at in {r["claimed_at"] for r in rows}:
        ids = [r["id"] for r in rows if r["claimed_at"] == claimed_at]
        await _write(Notification.update(
            {Notification.status: Status.sent.value, Notification.sent_at: utcnow(), Notification.last_error: ""}
        ).where(
            Notification.id.is_in(ids)
            & (Notification.status == Status.sending.value)
            & (Notification.claimed_at == claimed_at)
        ))


async def mark_cancelled(row: dict[str, Any], reason: str) -> None:
    await _write(Notification.update(
        {Notification.status: Status.cancelled.value, Notification.last_error: reason}
    ).where(_mine(row)))


async def postpone(row: dict[str, Any], until: datetime) -> None:
    """Back to pending until ``until`` (quiet hours); this try does not count."""
    await _write(Notification.update(
        {
            Notification.status: Status.pending.value,
            Notification.scheduled_for: until,
            Notification.attempts: Notification.attempts - 1,
        }
    ).where(_mine(row)))
    await enqueue_delivery(row["id"], row["tenant"], until)


async def record_failure(row: dict[str, Any], error: str, *, final: bool = False) -> datetime | None:
    """Retry later with backoff, or give up after MAX_ATTEMPTS (at once when ``final``:
    trying again cannot help). Returns the retry time."""
    error = error[:2000]
    if final or row["attempts"] >= MAX_ATTEMPTS:
        await _write(Notification.update(
            {Notification.status: Status.failed.value, Notification.last_error: error}
        ).where(_mine(row)))
        return None
    retry_at = utcnow() + backoff(row["attempts"])
    await _write(Notification.update(
        {
            Notification.status: Status.pending.value,
            Notification.scheduled_for: retry_at,
            Notification.last_error: error,
        }
    ).where(_mine(row)))
    await enqueue_delivery(row["id"], row["tenant"], retry_at)
    return retry_at


# --- the sweep (across tenants) ------------------------------------------------


async def sweep(now: datetime | None = None) -> dict[str, int]:
    """Release rows stuck in sending and re-enqueue due rows whose job was lost."""
    now = now or utcnow()
    with unscoped("the outbox sweep looks after every tenant's messages"):
        released = await (
            Notification.update({Notification.status: Status.pending.value})
            .where(
                (Notification.status == Status.sending.value)
                & (Notification.claimed_at < now - STUCK_AFTER)
            )
            .returning(Notification.id)
        )
        tenants = await (
            Notification.select(Notification.tenant)
            .where(
                (Notification.status == Status.pending.value)
                & (Notification.scheduled_for <= now - SWEEP_GRACE)
            )
            .distinct()
        )
    for t in tenants:
        # One batch job per tenant; a job id already queued or running is not added twice.
        await jobs.enqueue(DELIVER_DUE_JOB, t["tenant"], _job_id=f"{DELIVER_DUE_JOB}:{t['tenant']}")
    return {"released": len(released), "tenants": len(tenants)}


# --- staff views ---------------------------------------------------------------

STATUSES = [s.value for s in Status]


async def list_for_tenant(status: str = "", limit: int = 100, before: int | None = None) -> list[dict[str, Any]]:
    """Messages of the active tenant, newest first, optionally of one status."""
    query = Notification.select(
        Notification.id,
        Notification.channel,
        Notification.recipient,
        Notification.template_key,
        Notification.locale,
        Notification.payload,
        Notification.status,
        Notification.attempts,
        Notification.last_error,
        Notification.scheduled_for,
        Notification.sent_at,
        Notification.created_at,
    ).order_by(Notification.id, ascending=False).limit(limit)
    if status in STATUSES:
        query = query.where(Notification.status == status)
    if before:
        query = query.where(Notification.id < before)
    return await query


async def status_counts() -> dict[str, int]:
    """Messages of the active tenant by status."""
    rows = await Notification.select(Notification.status, Count(Notification.id, alias="n")).group_by(
        Notification.status
    )
    counts = {s: 0 for s in STATUSES}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


async def city_counts() -> list[dict[str, Any]]:
    """Per tenant: messages by status (aggregates only, no contents)."""
    with unscoped("the city center sees outbox counts of every tenant"):
        rows = await Notification.select(
            Notification.tenant, Notification.status, Count(Notification.id, alias="n")
        ).group_by(Notification.tenant, Notification.status)
    by_tenant: dict[int, dict[str, int]] = {}
    for r in rows:
        by_tenant.setdefault(r["tenant"], {s: 0 for s in STATUSES})[r["status"]] = r["n"]
    if not by_tenant:
        return []
    tenants = await Tenant.select(Tenant.id, Tenant.slug, Tenant.name).where(Tenant.id.is_in(list(by_tenant)))
    result = [{**t, "counts": by_tenant[t["id"]], "total": sum(by_tenant[t["id"]].values())} for t in tenants]
    return sorted(result, key=lambda t: (-t["counts"]["failed"], -t["total"], t["name"]))


async def retry_failed(notification_id: int) -> bool:
    """A failed message goes back to pending with fresh attempts (the old error stays
    visible until the next outcome). False if it is not failed (any more)."""
    now = utcnow()
    async with atomic():
        rows = await (
            Notification.update(
                {Notification.status: Status.pending.value, Notification.attempts: 0, Notification.scheduled_for: now}
            )
            .where((Notification.id == notification_id) & (Notification.status == Status.failed.value))
            .returning(Notification.id, Notification.tenant)
        )
        if rows:
            await enqueue_delivery(rows[0]["id"], rows[0]["tenant"])
    return bool(rows)


async def inbox(user_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """In-app messages of the active tenant delivered to this person, newest first."""
    return await (
        Notification.select(
            Notification.id, Notification.template_key, Notification.locale, Notification.payload,
            Notification.sent_at, Notification.read_at,
        )
        .where(
            (Notification.recipient_user == user_id)
            & (Notification.channel == Channel.inapp.value)
            & (Notification.status == Status.sent.value)
        )
        .order_by(Notification.id, ascending=False)
        .limit(limit)
    )


async def mark_read(user_id: int) -> None:
    await Notification.update({Notification.read_at: utcnow()}).where(
        (Notification.recipient_user == user_id)
        & (Notification.channel == Channel.inapp.value)
        & (Notification.read_at.is_null())
    )


async def unread_count(user_id: int) -> int:
    return await Notification.count().where(
        (Notification.recipient_user == user_id)
        & (Notification.channel == Channel.inapp.value)
        & (Notification.status == Status.sent.value)
        & (Notification.read_at.is_null())
    )


async def user_contact(user_id: int) -> dict[str, Any] | None:
    return await User.select(User.id, User.email, User.phone, User.locale, User.name).where(
        User.id == user_id
    ).first()
