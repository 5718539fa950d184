"""Worker jobs of the city console."""

from __future__ import annotations

from typing import Any

from app.city import broadcasts  # noqa: F401  (the worker renders "broadcast" messages: register the kind)
from app.city import coverage
from app.registry.service import purge_expired_uploads


async def snapshot_coverage(ctx: dict[str, Any]) -> dict[str, Any]:
    """Cron (hourly): this month's coverage snapshot, written once per month; also
    removes register uploads that were never confirmed."""
    result = await coverage.take_snapshot()
    result["expired_uploads"] = await purge_expired_uploads()
    return result
