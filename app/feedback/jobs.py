"""arq cron jobs of the mailbox: deadlines (reminders, overdue alerts, automatic
escalation) and the retention of contact data. Both return a summary of what they did."""

from __future__ import annotations

from typing import Any

from app.feedback import service


async def feedback_deadlines(ctx: dict[str, Any]) -> dict[str, int]:
    return await service.process_deadlines()


async def erase_feedback_contacts(ctx: dict[str, Any]) -> dict[str, int]:
    return {"erased": await service.erase_expired_contacts()}
