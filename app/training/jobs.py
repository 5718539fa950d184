"""arq cron jobs of training: reminders (once per stage) and crediting held training events."""

from __future__ import annotations

from typing import Any

from app.training import service


async def training_reminders(ctx: dict[str, Any]) -> dict[str, int]:
    """Write the due-soon and overdue reminders that are due (idempotent; see the service)."""
    return await service.send_due_reminders()


async def credit_training_sessions(ctx: dict[str, Any]) -> dict[str, int]:
    """Turn the attendance of held training events into completion, if not done when held."""
    return await service.credit_held_sessions()
