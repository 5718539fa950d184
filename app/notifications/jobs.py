"""arq jobs that deliver the outbox. Each job works inside one tenant's scope.

``deliver_notification(ctx, notification_id, tenant_id)`` is enqueued by
``notify()`` after commit; ``deliver_due_notifications(ctx, tenant_id)`` drains a
tenant's due messages in batches (enqueued by the sweep); ``sweep_notifications``
is the cron job that finds what was lost or stuck.
"""

from __future__ import annotations

import asyncio
import logging
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


async def deliver_claimed(ctx: dict[str, Any], row: dict[str, Any], *, record_sent: bool = True) -> str:
    """Deliver a message this worker has claimed; record what happened (a "sent"
    only when ``record_sent``: the batch path records a chunk at once)."""
    kind = service.message_kind(row["template_key"])
    try:
        if kind.still_applies is not None and not await kind.still_applies(row):
            await service.mark_cancelled(row, service.NO_LONGER_APPLIES)
            return "cancelled"
        if row["channel"] == Channel.sms.value and not row["urgent"]:
            until = service.quiet_until(service.utcnow())
            if until is not None:
                await service.postpone(row, until)
                return "postponed"
        await _send(ctx, row)
    except Exception as exc:  # noqa: BLE001 - every failure is kept on the row
        error = f"{type(exc).__name__}: {exc}"
        retry_at = await service.record_failure(row, error, final=isinstance(exc, BadAddress))
        DELIVERY_FAILURES.labels(row["channel"]).inc()
        log.warning("notification %s attempt %s failed: %s", row["id"], row["attempts"], error)
        return "retry" if retry_at else "failed"
    if record_sent:
        await service.mark_sent(row)
    return "sent"


async def deliver_notification(ctx: dict[str, Any], notification_id: int, tenant_id: int) -> str:
    with tenant_scope(tenant_id):
        row = await service.claim(notification_id)
        if row is None:
            return "skipped"  # another worker has it, or it was handled already
        return await deliver_claimed(ctx, row)


async def deliver_due_notifications(ctx: dict[str, Any], tenant_id: int) -> dict[str, int]:
    outcomes: dict[str, int] = {}
    with tenant_scope(tenant_id):
        while True:
            batch = await service.claim_batch()
            if not batch:
                break
            for start in range(0, len(batch), service.SEND_CHUNK):
                chunk = batch[start : start + service.SEND_CHUNK]
                results = await asyncio.gather(*(deliver_claimed(ctx, r, record_sent=False) for r in chunk))
                await service.mark_sent_many([r for r, out in zip(chunk, results) if out == "sent"])
                for outcome in results:
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


async def sweep_notifications(ctx: dict[str, Any]) -> dict[str, int]:
    return await service.sweep()


async def close_mailer(ctx: dict[str, Any]) -> None:
    mailer = ctx.pop("mailer", None)
    if mailer is not None:
        await mailer.close()
