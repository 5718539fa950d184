"""Readiness: may this process be sent requests? (Liveness needs nothing: the process answers.)"""

from __future__ import annotations

import asyncio

_migrations_seen_current = False


async def readiness() -> tuple[bool, dict[str, str]]:
    """The database answers, every migration has run, Redis answers."""
    global _migrations_seen_current
    from app.core.redis import get_redis
    from app.db import get_engine
    from app.ops.data import pending_migrations

    report: dict[str, str] = {}
    try:
        await asyncio.wait_for(get_engine().run_ddl("SELECT 1"), timeout=3)
        report["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        report["database"] = f"error: {type(exc).__name__}"
    if report["database"] == "ok":
        if _migrations_seen_current:  # migrations are never un-applied under a running process
            report["migrations"] = "ok"
        else:
            try:
                pending = await asyncio.wait_for(pending_migrations(), timeout=5)
                report["migrations"] = "ok" if not pending else f"error: {len(pending)} not applied"
                _migrations_seen_current = not pending
            except Exception as exc:  # noqa: BLE001
                report["migrations"] = f"error: {type(exc).__name__}"
    else:
        report["migrations"] = "unknown"
    try:
        await asyncio.wait_for(get_redis().ping(), timeout=3)
        report["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001
        report["redis"] = f"error: {type(exc).__name__}"
    return all(v == "ok" for v in report.values()), report
