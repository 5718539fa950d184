"""arq work of the events domain: the reminder cron (24 h and 2 h before an event)."""

from __future__ import annotations

from typing import Any

from app.events import service


async def send_event_reminders(ctx: dict[str, Any]) -> dict[str, int]:
    """Write the reminders that are due now to the outbox (idempotent; see the service)."""
    return await service.send_due_reminders()
