"""Sign-in limits, counted in the database before any password is checked.

The scheme (README, "Security"):

* Every attempt is counted, atomically, *before* its password is checked: a burst of
  parallel attempts cannot slip past the limit, since each takes the next number in a
  write transaction (BEGIN IMMEDIATE on SQLite, a row lock on PostgreSQL).
* Per account *and* address: ``LOGIN_MAX_ATTEMPTS`` attempts in ``LOGIN_WINDOW_SECONDS``,
  then that address waits before it may try that account again; the wait grows with each
  round (1, 2, 4, 8 minutes, … up to the window) and is forgotten after a day without one, or at
  the next successful sign-in. Other addresses are not affected, so nobody can lock the
  owner out by guessing at a known email from elsewhere.
* Per address: ``4 × LOGIN_MAX_ATTEMPTS`` failed attempts in the window, across all accounts,
  so one address cannot try a password on many accounts.
* A success clears the account-and-address count and gives its attempt back to the address.

Rows are keyed by a SHA-256 of the email and address (the table holds neither) and are
dropped two days after their last use. Not in Redis: limits hold while Redis restarts, and
tests set the clock (``app.accounts.clock``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from app.accounts import clock
from app.accounts.tables import LoginThrottle
from app.db import atomic, get_engine
from app.settings import get_settings

FIRST_DELAY = 60  # seconds of the first wait; it doubles with each round
FORGET_STRIKES_AFTER = timedelta(days=1)
DROP_ROWS_AFTER = timedelta(days=2)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0  # seconds


def _key(kind: str, *parts: str) -> str:
    return hashlib.sha256("|".join((kind, *parts)).encode()).hexdigest()


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def delay_for(strikes: int) -> int:
    """The wait after the ``strikes``-th round of failed attempts."""
    window = get_settings().login_window_seconds
    return int(min(FIRST_DELAY * 2 ** max(strikes - 1, 0), max(window, FIRST_DELAY)))


async def _row(key: str, now: datetime) -> LoginThrottle:
    """The row of ``key``, created if need be and locked until the transaction ends."""
    await LoginThrottle.insert(LoginThrottle(key_hash=key, window_start=now, updated_at=now)).on_conflict(
        target=LoginThrottle.key_hash, action="DO NOTHING")
    query = LoginThrottle.objects().where(LoginThrottle.key_hash == key)
    if get_engine().engine_type == "postgres":
        query = query.lock_rows()
    return await query.first()


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))


async def reserve(email: str, ip: str) -> Decision:
    """Count one attempt; refused (without counting) while this address must wait."""
    settings = get_settings()
    limit = settings.login_attempts
    window = timedelta(seconds=settings.login_window_seconds)
    now = clock.now()
    async with atomic():
        pair = await _row(_key("pair", email, ip), now)
        address = await _row(_key("address", ip), now)
        for row in (pair, address):
            if _aware(row.window_start) + window <= now:
                row.attempts, row.window_start = 0, now
        blocked_until = _aware(pair.blocked_until)
        if blocked_until and blocked_until > now:
            return Decision(False, _seconds(blocked_until - now))
        if blocked_until and now - blocked_until > FORGET_STRIKES_AFTER:
            pair.strikes, pair.blocked_until = 0, None
        if pair.attempts >= limit:  # the last allowed attempts are still being checked
            return Decision(False, delay_for(pair.strikes + 1))
        if address.attempts >= limit * 4:
            return Decision(False, _seconds(_aware(address.window_start) + window - now))
        for row in (pair, address):
            row.attempts += 1
            row.updated_at = now
            await row.save()
    return Decision(True)


async def failed(email: str, ip: str) -> None:
    """The password was wrong: after the last allowed attempt, this address waits."""
    limit = get_settings().login_attempts
    now = clock.now()
    async with atomic():
        pair = await _row(_key("pair", email, ip), now)
        blocked_until = _aware(pair.blocked_until)
        if pair.attempts >= limit and not (blocked_until and blocked_until > now):
            pair.strikes += 1
            pair.blocked_until = now + timedelta(seconds=delay_for(pair.strikes))
            pair.attempts, pair.window_start = 0, now
        pair.updated_at = now
        await pair.save()


async def succeeded(email: str, ip: str) -> None:
    now = clock.now()
    async with atomic():
        await LoginThrottle.delete().where(LoginThrottle.key_hash == _key("pair", email, ip))
        address = await _row(_key("address", ip), now)
        address.attempts = max(0, address.attempts - 1)
        await address.save()
        await LoginThrottle.delete().where(LoginThrottle.updated_at < now - DROP_ROWS_AFTER)
