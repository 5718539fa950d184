"""One Redis client per process, for sessions, rate limits and counters."""

from __future__ import annotations

from redis.asyncio import Redis

from app.settings import get_settings

_client: Redis | None = None


def get_redis() -> Redis:
    global _client
    if _client is None:
        url = get_settings().redis_url
        if not url:
            raise RuntimeError("REDIS_URL is not set (make run starts an embedded Redis for you)")
        _client = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return _client


async def close_redis() -> None:
    global _client
    if _client is not None:
        await _client.aclose()
        _client = None
