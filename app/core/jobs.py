"""Enqueue arq jobs by name with ids only, and never before the transaction commits.

Inside ``app.db.atomic()`` an enqueue is held back and sent after COMMIT; a rolled
back transaction sends nothing. If Redis is unreachable the job is logged and
dropped: whatever must be delivered is also written to the database first, and
periodic sweeps pick it up (DESIGN §3.7).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Awaitable, Callable

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings

from app.core.redis import mark_redis_down, redis_down, redis_timeout
from app.settings import get_settings

log = logging.getLogger(__name__)

_pools: dict[int, ArqRedis] = {}  # one per event loop, like app.core.redis


@dataclass
class _Pending:
    jobs: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)
    callbacks: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)

    async def flush(self) -> None:
        jobs, self.jobs = self.jobs, []
        callbacks, self.callbacks = self.callbacks, []
        for callback in callbacks:
            await callback()
        for name, args, kwargs in jobs:
            await _send(name, *args, **kwargs)


_pending: ContextVar[_Pending | None] = ContextVar("pending_jobs", default=None)


async def get_pool() -> ArqRedis:
    key = id(asyncio.get_running_loop())
    pool = _pools.get(key)
    if pool is None:
        settings = RedisSettings.from_dsn(get_settings().redis_url)
        settings.conn_timeout = max(1, round(redis_timeout()))  # arq wants whole seconds; _send bounds the rest
        settings.conn_retries = 0
        pool = _pools[key] = await create_pool(settings)
    return pool


async def close_pool() -> None:
    pool = _pools.pop(id(asyncio.get_running_loop()), None)
    if pool is not None:
        await pool.aclose()


async def _enqueue(name: str, *args: Any, **kwargs: Any) -> None:
    pool = await get_pool()
    await pool.enqueue_job(name, *args, **kwargs)


async def _send(name: str, *args: Any, **kwargs: Any) -> bool:
    if redis_down():  # failed a moment ago: do not make this request wait as well
        log.warning("Redis unavailable; job %s%r left for the sweep", name, args)
        return False
    try:
        # Bounded like every Redis call (app.core.redis): a hung Redis must not hold the
        # request; the row is already in the database and the sweep enqueues it later.
        await asyncio.wait_for(_enqueue(name, *args, **kwargs), 2 * redis_timeout())
        return True
    except Exception:  # Redis down: the sweep re-enqueues from the database later.
        mark_redis_down()
        log.warning("could not enqueue job %s%r", name, args, exc_info=True)
        return False


async def enqueue(name: str, *args: Any, **kwargs: Any) -> None:
    """Enqueue job ``name`` (ids as args); deferred until commit inside ``atomic()``."""
    pending = _pending.get()
    if pending is not None:
        pending.jobs.append((name, args, kwargs))
    else:
        await _send(name, *args, **kwargs)


async def after_commit(callback: Callable[[], Awaitable[Any]]) -> None:
    """Run ``callback`` once the current ``atomic()`` commits (now, outside one)."""
    pending = _pending.get()
    if pending is not None:
        if callback not in pending.callbacks:
            pending.callbacks.append(callback)
    else:
        await callback()


@asynccontextmanager
async def deferred() -> AsyncIterator[_Pending]:
    outer = _pending.get()
    if outer is not None:
        # Nested transaction: the outermost one decides when jobs go out.
        yield _Pending()
        return
    pending = _Pending()
    token = _pending.set(pending)
    try:
        yield pending
    finally:
        _pending.reset(token)
