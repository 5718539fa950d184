"""The outbox: write a message with the change that caused it, deliver it (at least) once.

``notify()`` writes a row inside the caller's transaction (its dedupe key makes a
second write of the same cause a no-op) and, after commit, *wakes* the tenant's batch
job: ``deliver_due_notifications(tenant_id)`` under a job id that names the tenant and
a one-second slot (``wake()``), so thousands of ``notify()`` calls make a few
jobs, not one each. A batch job claims due rows in chunks with one conditional UPDATE
(pending and due -> sending; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so two workers
can never both hold a row. A claim is a *lease*: ``claimed_at`` + ``LEASE``; a worker
renews it before each send while it still holds the row, and a row whose lease ran out
(its worker died) is claimed again by the next batch of its tenant. Each message is
marked sent as soon as the mail server or gateway accepted it (a few at a time, in one
UPDATE, while their send slots are still held), so a worker killed with SIGKILL leaves
at most ``SEND_SLOTS`` messages that were accepted but not yet recorded: those are the
only ones that can go out twice. Failures are retried with exponential backoff, then
kept as failed with the error. The sweep (a cron job) releases expired leases and
wakes tenants whose due rows have no job (Redis lost it), so an outage of Redis or of
the mail server delays messages but never loses them.
"""

from __future__ import annotations

import asyncio
import functools
import math
import os
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any, AsyncIterator, Awaitable, Callable
from zoneinfo import ZoneInfo

from piccolo.query.functions.aggregate import Count, Max

from app.accounts.tables import User
from app.core import jobs
from app.core.prepared import Prepared, prepared
from app.db import atomic, get_engine
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.notifications.tables import Channel, Notification, Status
from tenants.scope import TenancyError, current_tenant_id, tenant_scope, unscoped
from tenants.tables import Tenant

MAX_ATTEMPTS = 6
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=2)
# A claim is a lease: a row still "sending" this long after its claim (or its last
# renewal) belongs to a worker that died, and is claimed again. OUTBOX_LEASE_SECONDS
# shortens it for tests; a send never starts with less than half of it left.
LEASE = timedelta(seconds=float(os.environ.get("OUTBOX_LEASE_SECONDS", "") or 120))
STUCK_AFTER = LEASE  # the old name
# A due row whose job should have run this long ago has lost its job (Redis restart).
SWEEP_GRACE = timedelta(seconds=60)
# A batch job claims this many rows at a time (few enough to be sent well within a lease).
BATCH_SIZE = 48
# At most this many messages of one worker process are between "handed to the mail
# server or gateway" and "recorded as sent" at any moment: the duplicate bound of a
# worker killed with SIGKILL (see the README).
SEND_SLOTS = 8
# notify() calls within one slot of this length share one batch job.
WAKE_SLOT = 1.0
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
            await wake(tenant_id, due)
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
                await wake(tenant_id, now)
    return written


def wake_job_id(tenant_id: int, slot: int) -> str:
    return f"{DELIVER_DUE_JOB}:{tenant_id}:{slot}"


async def wake(tenant_id: int, due: datetime | None = None) -> None:
    """Make sure a batch job of ``tenant_id`` runs once ``due`` (default: now) has come.

    The job's id names the tenant and the WAKE_SLOT-long slot of the due time, and the
    job is deferred to the end of that slot (plus a little): every wake of the slot is
    the same queued job (arq adds a job id once), and that job starts only after the
    slot is over, so it sees every row whose wake fell in the slot. (A wake while its
    job runs would be dropped by arq; none can come, the slot is over by then.)
    Inside ``atomic()`` the enqueue waits for the commit."""
    at = max(due or utcnow(), utcnow()).timestamp()
    slot = math.floor(at / WAKE_SLOT)
    start = datetime.fromtimestamp((slot + 1) * WAKE_SLOT + 0.05, timezone.utc)
    await jobs.enqueue(DELIVER_DUE_JOB, tenant_id, _job_id=wake_job_id(tenant_id, slot), _defer_until=start)


async def enqueue_delivery(notification_id: int, tenant_id: int, due: datetime | None = None) -> None:
    """Deliver this message once it is due (by its tenant's batch job)."""
    await wake(tenant_id, due)


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
    """Atomically take up to ``limit`` messages of the active tenant: due pending ones,
    and ones whose lease ran out (their worker died while sending them).

    PostgreSQL: rows locked by another worker's claim are skipped, not waited for.
    SQLite: writers are serialised, so the conditional UPDATE alone is atomic."""
    tenant_id = current_tenant_id()
    now = utcnow()
    expired = now - LEASE
    engine = get_engine()
    lock = " FOR UPDATE SKIP LOCKED" if engine.engine_type == "postgres" else ""
    claimable = "((status = 'pending' AND scheduled_for <= {}) OR (status = 'sending' AND claimed_at < {}))"
    claimed = await _write(Notification.raw(
        "UPDATE notification SET status = 'sending', claimed_at = {}, attempts = attempts + 1 "
        "WHERE " + claimable + " AND id IN ("
        "SELECT id FROM notification WHERE tenant = {} AND " + claimable + " "
        "ORDER BY scheduled_for, id LIMIT {}" + lock + ") RETURNING id",
        now, now, expired, tenant_id, now, expired, limit,
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


def lease_left(row: dict[str, Any]) -> timedelta:
    return _aware(row["claimed_at"]) + LEASE - utcnow()


async def renew(row: dict[str, Any]) -> bool:
    """Extend our lease on a row we are about to send; False if it is not ours any more
    (the lease ran out and another worker took it)."""
    now = utcnow()
    rows = await _write(Notification.update({Notification.claimed_at: now}).where(_mine(row))
                        .returning(Notification.id))
    if rows:
        row["claimed_at"] = now
    return bool(rows)


async def mark_sent(row: dict[str, Any]) -> None:
    await _write(Notification.update(
        {Notification.status: Status.sent.value, Notification.sent_at: utcnow(), Notification.last_error: ""}
    ).where(_mine(row)))


async def mark_sent_many(rows: list[dict[str, Any]]) -> None:
    """Mark several claimed rows as sent, one statement per claim time (a batch's rows
    share theirs), each only while the claim is still ours."""
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


async def sweep(now: datetime | None = None, grace: timedelta | None = None) -> dict[str, int]:
    """Release rows whose lease ran out, wake every tenant with due rows that waited
    SWEEP_GRACE (their job was lost) or with released rows, and wake tenants whose rows
    are still leased at the moment those leases end (a worker killed while sending:
    the next batch claims them then)."""
    now = now or utcnow()
    grace = SWEEP_GRACE if grace is None else grace
    with unscoped("the outbox sweep looks after every tenant's messages"):
        released = await (
            Notification.update({Notification.status: Status.pending.value})
            .where(
                (Notification.status == Status.sending.value)
                & (Notification.claimed_at < now - LEASE)
            )
            .returning(Notification.id, Notification.tenant)
        )
        due = await (
            Notification.select(Notification.tenant)
            .where(
                (Notification.status == Status.pending.value)
                & (Notification.scheduled_for <= now - grace)
            )
            .distinct()
        )
        leased = await (
            Notification.select(Notification.tenant, Max(Notification.claimed_at, alias="last"))
            .where(Notification.status == Status.sending.value)
            .group_by(Notification.tenant)
        )
    tenants = sorted({t["tenant"] for t in due} | {r["tenant"] for r in released})
    for tenant_id in tenants:
        await wake(tenant_id)
    for t in leased:
        # A job whose wake is already queued is not added twice.
        await wake(t["tenant"], _aware(t["last"]) + LEASE + timedelta(seconds=1))
    return {"released": len(released), "tenants": len(tenants), "leased": len(leased)}


def _aware(at: datetime | str) -> datetime:
    """A stored time as an aware datetime (SQLite gives aggregates of times as text)."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


# --- staff views ---------------------------------------------------------------

STATUSES = [s.value for s in Status]


@functools.cache
def _list_statement(one_status: bool, before: bool, limit: int) -> Prepared:
    """The messages list's statement for one combination of filters, composed once per
    process (app/core/prepared.py)."""

    def build(status, before_id):
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
        if one_status:
            query = query.where(Notification.status == status)
        if before:
            query = query.where(Notification.id < before_id)
        return query

    return prepared(build)


async def list_for_tenant(status: str = "", limit: int = 100, before: int | None = None) -> list[dict[str, Any]]:
    """Messages of the active tenant, newest first, optionally of one status."""
    statement = _list_statement(status in STATUSES, bool(before), limit)
    return await statement.run(status=status, before_id=before or 0)


_STATUS_COUNTS = prepared(lambda: Notification.select(Notification.status, Count(Notification.id, alias="n")).group_by(
    Notification.status))


async def status_counts() -> dict[str, int]:
    """Messages of the active tenant by status."""
    rows = await _STATUS_COUNTS.run()
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
