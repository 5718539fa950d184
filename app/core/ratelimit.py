"""Fixed-window rate limits in Redis, for login and public forms."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.redis import get_redis

PREFIX = "tiaojie:rl:"


@dataclass(frozen=True)
class Limit:
    allowed: bool
    retry_after: int  # seconds until the window ends


async def count(key: str) -> tuple[int, int]:
    r = get_redis()
    pipe = r.pipeline()
    pipe.get(PREFIX + key)
    pipe.ttl(PREFIX + key)
    value, ttl = await pipe.execute()
    return int(value or 0), max(int(ttl or 0), 0)


async def check(key: str, limit: int) -> Limit:
    used, ttl = await count(key)
    return Limit(allowed=used < limit, retry_after=ttl if used >= limit else 0)


async def hit(key: str, window: int) -> int:
    r = get_redis()
    pipe = r.pipeline()
    pipe.incr(PREFIX + key)
    pipe.expire(PREFIX + key, window, nx=True)
    used, _ = await pipe.execute()
    return int(used)


async def consume(key: str, limit: int, window: int) -> Limit:
    """Count one use; refused once more than ``limit`` uses fall in the window."""
    used = await hit(key, window)
    if used > limit:
        _, ttl = await count(key)
        return Limit(allowed=False, retry_after=ttl or window)
    return Limit(allowed=True, retry_after=0)


async def reset(key: str) -> None:
    await get_redis().delete(PREFIX + key)
