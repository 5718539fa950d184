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


async def roll_up_reports(ctx: dict[str, Any]) -> dict[str, Any]:
    """Cron (every ten minutes): the network report's figures of this month and the last
    (late check-ins, replies and backdated outreach entries land in the previous month)."""
    from app.city import reports

    return await reports.refresh_recent(2)


async def roll_up_reports_nightly(ctx: dict[str, Any]) -> dict[str, Any]:
    """Cron (nightly): the last 24 months, so a late answer to an old item is counted too."""
    from app.city import reports

    return await reports.refresh_recent(24)
