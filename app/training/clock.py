"""The time the training domain reads. One place, so tests can set the clock."""

from __future__ import annotations

from datetime import date, datetime, timezone

from app.i18n import tz


def now() -> datetime:
    return datetime.now(timezone.utc)


def today() -> date:
    """Today in the city's time zone: due dates are calendar days there."""
    return now().astimezone(tz()).date()
