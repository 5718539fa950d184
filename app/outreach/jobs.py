"""Worker jobs of the outreach domain."""

from __future__ import annotations

from typing import Any

from app.outreach.counters import flush_counts


async def flush_outreach_counts(ctx: dict[str, Any]) -> dict[str, int]:
    """Cron: add the page views and QR scans counted in Redis to the daily rows."""
    return await flush_counts()
