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


@get("/livez", opt={"access": PUBLIC}, name="livez", cache=False)
async def livez() -> Response:
    """Liveness: the process answers. Nothing else is checked, so a database or Redis
    outage never makes a supervisor restart healthy processes."""
    return Response(content={"status": "ok"}, status_code=200)


@get("/readyz", opt={"access": PUBLIC}, name="readyz", cache=False)
async def readyz() -> Response:
    """Readiness: database reachable, every migration applied, Redis reachable.
    The proxy sends requests only to processes that answer 200 here."""
    from app.ops.health import readiness

    ready, report = await readiness()
    return Response(content={"status": "ok" if ready else "error", **report}, status_code=200 if ready else 503)


ROUTES = [healthz, livez, readyz]
