"""The time sign-in limits read. One function, so tests can set the clock."""

from __future__ import annotations

from datetime import datetime, timezone


def now() -> datetime:
    return datetime.now(timezone.utc)
