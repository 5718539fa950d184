"""Redis clients for sessions, rate limits and counters.

One client per event loop: a client's connections belong to the loop that made
them, and tests (and the worker) run more than one loop in a process.

Every call is bounded: connecting and each reply wait at most ``REDIS_TIMEOUT``
seconds (0.3 s unless set), with no retry, so a Redis that is down, restarting or
hung costs a request a fraction of a second, never the 2-4 s (and 500s) it used to.
Callers treat a failure as "Redis unavailable" (see README, "When Redis is down").
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.settings import get_settings

log = logging.getLogger(__name__)

_clients: dict[int, Redis] = {}

# After a failed call, Redis counts as down for COOL_OFF seconds: calls in that time fail
# at once instead of each waiting REDIS_TIMEOUT (one request may make several). The
# first call after it tries again, so Redis is used as soon as it is back.
COOL_OFF = 2.0
_down_until = 0.0


class RedisUnavailable(RedisConnectionError):
    """Redis failed a moment ago; not tried again until the cool-off ends."""


def redis_down() -> bool:
    return time.monotonic() < _down_until


def mark_redis_down() -> None:
    global _down_until
    if not redis_down():
        log.warning("Redis unavailable; working without it for %.0f s before trying again", COOL_OFF)
    _down_until = time.monotonic() + COOL_OFF


def mark_redis_up() -> None:
    global _down_until
    _down_until = 0.0


_FAILURES = (RedisConnectionError, RedisTimeoutError, OSError, asyncio.TimeoutError)


class _BoundedPipeline(Pipeline):
    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        if redis_down():
            await self.reset()
            raise RedisUnavailable("Redis is unavailable")
        try:
            return await super().execute(raise_on_error)
        except _FAILURES:
            mark_redis_down()
            raise


class BoundedRedis(Redis):
    """A client that fails fast while Redis is known to be down (see COOL_OFF)."""

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        if redis_down():
            raise RedisUnavailable("Redis is unavailable")
        try:
            return await super().execute_command(*args, **options)
        except _FAILURES:
            mark_redis_down()
            raise

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Pipeline:
        return _BoundedPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)


def redis_timeout() -> float:
    """Seconds a Redis connect or reply may take (env REDIS_TIMEOUT, default 0.3)."""
    try:
        return max(0.05, float(os.environ.get("REDIS_TIMEOUT", "0.3")))
    except ValueError:
        return 0.3


def new_redis(socket_timeout: float | None = -1.0) -> Redis:
    """A client whose every call is bounded (``socket_timeout=None`` only for a
    subscription that waits for messages on purpose)."""
    url = get_settings().redis_url
    if not url:
        raise RuntimeError("REDIS_URL is not set (make run starts an embedded Redis for you)")
    bound = redis_timeout()
    return BoundedRedis.from_url(url, socket_timeout=bound if socket_timeout == -1.0 else socket_timeout,
                          socket_connect_timeout=bound, retry_on_timeout=False, retry=None)


def get_redis() -> Redis:
    key = id(asyncio.get_running_loop())
    client = _clients.get(key)
    if client is None:
        client = _clients[key] = new_redis()
    return client


async def close_redis() -> None:
    client = _clients.pop(id(asyncio.get_running_loop()), None)
    if client is not None:
        await client.aclose()
