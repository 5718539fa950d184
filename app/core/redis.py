"""Redis clients for sessions, rate limits and counters.

One client per event loop: a client's connections belong to the loop that made
them, and tests (and the worker) run more than one loop in a process.
"""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from app.settings import get_settings

_clients: dict[int, Redis] = {}


def new_redis(socket_timeout: float | None = 2) -> Redis:
    url = get_settings().redis_url
    if not url:
        raise RuntimeError("REDIS_URL is not set (make run starts an embedded Redis for you)")
    return Redis.from_url(url, socket_timeout=socket_timeout, socket_connect_timeout=2)


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
