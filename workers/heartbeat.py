"""The worker's heartbeat: a cron job writes it, /healthz reports its age."""

from __future__ import annotations

import time
from typing import Any

HEARTBEAT_KEY = "tiaojie:worker:heartbeat"
STALE_AFTER = 180  # seconds: three missed beats


async def heartbeat(ctx: dict[str, Any]) -> dict[str, Any]:
    now = time.time()
    await ctx["redis"].set(HEARTBEAT_KEY, str(now))
    return {"heartbeat": now}
