from __future__ import annotations

import time

from litestar import Response, get

from app.core.redis import get_redis
from tenants.tables import Tenant
from tenants.guards import PUBLIC
from workers.heartbeat import HEARTBEAT_KEY, STALE_AFTER


@get("/healthz", opt={"access": PUBLIC}, name="healthz", cache=False)
async def healthz() -> Response:
    body: dict = {"database": "ok", "redis": "ok", "worker": {"status": "unknown", "last_heartbeat": None}}
    healthy = True
    try:
        await Tenant.raw("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        body["database"] = f"error: {type(exc).__name__}"
        healthy = False
    try:
        redis = get_redis()
        await redis.ping()
        beat = await redis.get(HEARTBEAT_KEY)
        if beat:
            age = time.time() - float(beat)
            body["worker"] = {"status": "ok" if age < STALE_AFTER else "stale", "last_heartbeat": float(beat),
                              "age_seconds": round(age, 1)}
    except Exception as exc:  # noqa: BLE001
        body["redis"] = f"error: {type(exc).__name__}"
        healthy = False
    body["status"] = "ok" if healthy else "error"
    return Response(content=body, status_code=200 if healthy else 503)


ROUTES = [healthz]
