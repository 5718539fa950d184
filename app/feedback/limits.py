"""Abuse limits of the public mailbox, counted in Redis before anything is checked.

Every limit is *count first*: one INCR, then compare. Parallel requests each get
their own number, so no two can both be the last one allowed (a check followed by
a count could be raced). /track counts every attempt and gives successful ones
back (``refund``), which leaves exactly the failed attempts counted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from app.core import ratelimit
from app.core.redis import get_redis


def _env_int(name: str, default: int) -> int:
    try:
        return max(int(os.environ.get(name, default)), 0)
    except ValueError:
        return default


@dataclass(frozen=True)
class Limits:
    per_address: int  # submissions per address per window
    per_tenant: int  # submissions per mailbox per window
    window: int
    track_per_address: int  # failed /track attempts per address per track_window
    track_per_code: int  # failed /track attempts on one code per code_window
    track_window: int
    code_window: int


def limits() -> Limits:
    return Limits(
        per_address=_env_int("FEEDBACK_MAX_PER_ADDRESS", 10),
        per_tenant=_env_int("FEEDBACK_MAX_PER_TENANT", 100),
        window=3600,
        track_per_address=_env_int("TRACK_MAX_FAILURES", 10),
        track_per_code=10,
        track_window=900,
        code_window=3600,
    )


class LimitUnavailable(RuntimeError):
    """Redis could not be asked."""


@dataclass(frozen=True)
class Refusal:
    scope: str  # "address" or "tenant"
    retry_after: int


async def take_submission(address: str, tenant_id: int) -> Refusal | None:
    """Count one submission for the address and the mailbox; a Refusal if over either."""
    lim = limits()
    try:
        by_address = await ratelimit.consume(f"fb:addr:{address}", lim.per_address, lim.window)
        if not by_address.allowed:
            return Refusal("address", by_address.retry_after)
        by_tenant = await ratelimit.consume(f"fb:tenant:{tenant_id}", lim.per_tenant, lim.window)
    except Exception as exc:  # noqa: BLE001
        raise LimitUnavailable(str(exc)) from None
    if not by_tenant.allowed:
        return Refusal("tenant", by_tenant.retry_after)
    return None


def _track_keys(address: str, code: str) -> list[tuple[str, int, int]]:
    lim = limits()
    return [(f"track:addr:{address}", lim.track_per_address, lim.track_window),
            (f"track:code:{code}", lim.track_per_code, lim.code_window)]


async def take_track_attempt(address: str, code: str) -> int | None:
    """Count one /track attempt (per address and per typed code, existing or not);
    None if allowed, else seconds until the limit lifts."""
    try:
        for key, limit, window in _track_keys(address, code):
            result = await ratelimit.consume(key, limit, window)
            if not result.allowed:
                return result.retry_after
    except Exception as exc:  # noqa: BLE001
        raise LimitUnavailable(str(exc)) from None
    return None


# DECR only a counter that still exists: one that expired meanwhile is not recreated at -1.
_REFUND = "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end return 0"


async def refund_track_attempt(address: str, code: str) -> None:
    """A successful attempt is not a failure: give back what it counted."""
    try:
        redis = get_redis()
        for key, _limit, _window in _track_keys(address, code):
            await redis.eval(_REFUND, 1, ratelimit.PREFIX + key)
    except Exception:  # noqa: BLE001 - a refund lost to an outage only makes the limit stricter
        pass
