"""arq jobs that deliver the outbox. Each job works inside one tenant's scope.

``deliver_due_notifications(ctx, tenant_id)`` drains a tenant's due messages in
chunks; ``notify()`` wakes it after commit (``service.wake``: one job per tenant and
second), and so do retries and the sweep. ``deliver_notification(ctx,
notification_id, tenant_id)`` delivers one message (jobs queued by older versions).
``sweep_notifications`` is the cron job that finds what was lost or stuck.

Every send holds one of the worker process's ``SEND_SLOTS`` from before it is handed
to the mail server or gateway until the row says ``sent``; that is what bounds the
duplicates of a worker killed mid-batch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import Any

from app.notifications import service
from app.notifications.email import BadAddress, Mailer, build_email
from app.notifications.messages import render_message
from app.notifications.sms import get_gateway
from app.notifications.tables import Channel
from tenants.scope import tenant_scope
from tenants.tables import Tenant
from app.ops.metrics import DELIVERY_FAILURES

log = logging.getLogger("tiaojie.notifications")


def _mailer(ctx: dict[str, Any]) -> Mailer:
    mailer = ctx.get("mailer")
    if mailer is None:
        mailer = ctx["mailer"] = Mailer()
    return mailer


async def _tenant_name(ctx: dict[str, Any], tenant_id: int) -> str:
    names = ctx.setdefault("tenant_names", {})
    if tenant_id not in names:
        row = await Tenant.select(Tenant.name).where(Tenant.id == tenant_id).first()
        names[tenant_id] = row["name"] if row else ""
    return names[tenant_id]


async def _send(ctx: dict[str, Any], row: dict[str, Any]) -> None:
    """Hand the message to its channel; raises if the channel did not take it."""
    if row["channel"] == Channel.inapp.value:
        return  # delivered by being marked sent: the inbox shows sent in-app rows
    tenant_name = await _tenant_name(ctx, row["tenant"])
    rendered = render_message(row, tenant_name)
    if row["channel"] == Channel.email.value:
        msg = build_email(rendered, to=row["recipient"], tenant_name=tenant_name,
                          notification_id=row["id"], settings=_mailer(ctx).settings)
        await _mailer(ctx).send(msg)
    elif row["channel"] == Channel.sms.value:
        await get_gateway().send(row["recipient"], rendered.sms, reference=f"notification-{row['id']}")
    else:
        raise ValueError(f"unknown channel {row['channel']!r}")


_slots: dict[int, asyncio.Semaphore] = {}


def send_slots() -> asyncio.Semaphore:
    """This worker process's send slots (one set per event loop)."""
    loop = id(asyncio.get_running_loop())
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = asyncio.Semaphore(service.SEND_SLOTS)
    return slots


class SentRecorder:
    """Records accepted messages as sent in small groups: whoever finds no write under
    way writes every row accepted so far in one UPDATE, the others wait for it. A
    sender keeps its slot until its row is written."""

    def __init__(self) -> None:
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._writing = False

    async def record(self, row: dict[str, Any]) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, done))
        if not self._writing:
            self._writing = True
            try:
                while self._waiting:
                    group, self._waiting = self._waiting, []
                    try:
                        await service.mark_sent_many([r for r, _ in group])
                    except BaseException as exc:
                        for _, fut in group:
                            if not fut.done():
                                fut.set_exception(exc)
                        raise
                    for _, fut in group:
                        if not fut.done():
                            fut.set_result(None)
            finally:
                self._writing = False
        await done


async def deliver_claimed(ctx: dict[str, Any], row: dict[str, Any], recorder: SentRecorder | None = None) -> str:
    """Deliver a message this worker has claimed and record what happened, holding a
    send slot throughout (with ``recorder``, the "sent" is written in a group)."""
    async with send_slots():
        return await _deliver(ctx, row, recorder)


async def _deliver(ctx: dict[str, Any], row: dict[str, Any], recorder: SentRecorder | None) -> str:
    kind = service.message_kind(row["template_key"])
    try:
        if service.lease_left(row) < service.LEASE / 2 and not await service.renew(row):
            return "skipped"  # our lease ran out and another worker has the row now
        if kind.still_applies is not None and not await kind.still_applies(row):
            await service.mark_cancelled(row, service.NO_LONGER_APPLIES)
            return "cancelled"
        if row["channel"] == Channel.sms.value and not row["urgent"]:
            until = service.quiet_until(service.utcnow())
            if until is not None:
                await service.postpone(row, until)
                return "postponed"
        # The send must be over before the lease could run out (less a margin), or
        # another worker could take the row while it is on the wire.
        budget = (service.lease_left(row) - service.LEASE / 10).total_seconds()
        async with asyncio.timeout(max(budget, 0.1)):
            await _send(ctx, row)
    except Exception as exc:  # noqa: BLE001 - every failure is kept on the row
        error = f"{type(exc).__name__}: {exc}"
        retry_at = await service.record_failure(row, error, final=isinstance(exc, BadAddress))
        DELIVERY_FAILURES.labels(row["channel"]).inc()
        log.warning("notification %s attempt %s failed: %s", row["id"], row["attempts"], error)
        return "retry" if retry_at else "failed"
    if recorder is not None:
        await recorder.record(row)
    else:
        await service.mark_sent(row)
    return "sent"


async def deliver_notification(ctx: dict[str, Any], notification_id: int, tenant_id: int) -> str:
    with tenant_scope(tenant_id):
        row = await service.claim(notification_id)
        if row is None:
            return "skipped"  # another worker has it, or it was handled already
        return await deliver_claimed(ctx, row)


# A batch job hands over to a new one after this long (arq's job timeout is 300 s).
JOB_BUDGET = 60.0


async def deliver_due_notifications(ctx: dict[str, Any], tenant_id: int) -> dict[str, int]:
    """Claim the tenant's due messages a chunk at a time and send each chunk through
    the worker's send slots; stop when none is left (or after JOB_BUDGET, waking a
    successor). Memory stays flat: one chunk of rows at a time."""
    outcomes: dict[str, int] = {}
    started = time.monotonic()
    recorder = SentRecorder()
    with tenant_scope(tenant_id):
        while True:
            batch = await service.claim_batch()
            if not batch:
                break
            results = await asyncio.gather(*(deliver_claimed(ctx, r, recorder) for r in batch))
            for outcome in results:
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if time.monotonic() - started > JOB_BUDGET:
                await service.wake(tenant_id)
                break
    return outcomes


async def sweep_notifications(ctx: dict[str, Any]) -> dict[str, int]:
    # The first sweep of a worker process (run at start-up) wakes every tenant with due
    # messages at once: after a crash and restart, delivery goes on without waiting.
    first = not ctx.get("outbox_swept")
    ctx["outbox_swept"] = True
    return await service.sweep(grace=timedelta(0) if first else None)


async def close_mailer(ctx: dict[str, Any]) -> None:
    mailer = ctx.pop("mailer", None)
    if mailer is not None:
        await mailer.close()
