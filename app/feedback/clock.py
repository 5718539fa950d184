"""The mailbox's clock: deadlines, reminders and retention ask it for the time, so
tests can set it (``clock.set(...)``) instead of waiting for days to pass."""

from __future__ import annotations

from datetime import datetime, timezone

_fixed: datetime | None = None


def now() -> datetime:
    return _fixed if _fixed is not None else datetime.now(timezone.utc)


def set(at: datetime | None) -> None:  # noqa: A001 - clock.set reads naturally
    """Fix the time (aware datetime), or None to follow the real clock again."""
    global _fixed
    if at is not None and at.tzinfo is None:
        raise ValueError("clock.set() needs an aware datetime")
    _fixed = at.astimezone(timezone.utc) if at is not None else None
