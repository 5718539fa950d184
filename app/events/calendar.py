"""iCalendar (RFC 5545) for events: feeds per organisation and for the city, one file per event.

Times are written in UTC (``…Z``), which every common calendar app reads and shows in
its own zone; each entry carries its event page as URL and in the description, a
stable UID, and a SEQUENCE that grows with every edit, so apps update what they
imported. A cancelled event stays in the feed with STATUS:CANCELLED. There is no
ORGANIZER (a calendar address makes some apps treat an entry as an invitation); the
organisation is named in the description.
"""

from __future__ import annotations

from datetime import timezone
from typing import Any
from urllib.parse import urlparse

from icalendar import Calendar
from icalendar import Event as VEvent

from app.events import clock
from app.events.schemas import KIND_LABELS

PRODID = "-//Tiaojie//Labour dispute mediation events//ZH"


def _sequence(row: dict[str, Any]) -> int:
    created, updated = row.get("created_at"), row.get("updated_at")
    if not created or not updated:
        return 0
    return max(int((updated - created).total_seconds()), 0)


def _vevent(row: dict[str, Any], base_url: str) -> VEvent:
    url = f"{base_url}/o/{row['org_slug']}/events/{row['id']}"
    host = urlparse(base_url).hostname or "tiaojie.local"
    entry = VEvent()
    entry.add("uid", f"event-{row['id']}@{host}")
    entry.add("dtstamp", clock.now().astimezone(timezone.utc).replace(microsecond=0))
    entry.add("dtstart", row["starts_at"].astimezone(timezone.utc))
    entry.add("dtend", row["ends_at"].astimezone(timezone.utc))
    entry.add("summary", row["title"])
    lines = [f"{KIND_LABELS.get(row['kind'], '')} · {row['org_name']}", row.get("summary") or ""]
    if row.get("online_url"):
        lines.append(row["online_url"])
    lines.append(url)
    entry.add("description", "\n".join(line for line in lines if line))
    location = row.get("venue") or row.get("online_url") or ""
    if location:
        entry.add("location", location)
    entry.add("url", url)
    entry.add("status", "CANCELLED" if row["status"] == "cancelled" else "CONFIRMED")
    entry.add("sequence", _sequence(row))
    if row.get("updated_at"):
        entry.add("last-modified", row["updated_at"].astimezone(timezone.utc).replace(microsecond=0))
    entry.add("categories", [str(KIND_LABELS.get(row["kind"], row["kind"]))])
    return entry


def build_calendar(rows: list[dict[str, Any]], base_url: str, name: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Asia/Shanghai")
    cal.add("x-published-ttl", "PT1H")
    for row in rows:
        cal.add_component(_vevent(row, base_url))
    return cal.to_ical()


def feed_headers(filename: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'inline; filename="{filename}"',
        "Cache-Control": "public, max-age=300",
    }


