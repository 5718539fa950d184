"""Events for tests: made directly in the tables (the service's own rules are tested
through the service), and a clock the test sets."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from app.events.tables import Event
from tenants.scope import tenant_scope

T0 = datetime(2030, 3, 4, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai, a Monday


class Clock:
    """Replaces app.events.clock.now for a test; move it with ``clock.at`` / ``clock.move``."""

    def __init__(self, monkeypatch, start: datetime = T0) -> None:
        from app.events import clock

        self.current = start
        monkeypatch.setattr(clock, "now", lambda: self.current)

    def at(self, when: datetime) -> datetime:
        self.current = when
        return when

    def move(self, **delta) -> datetime:
        self.current = self.current + timedelta(**delta)
        return self.current


async def make_event(tenant_id: int, *, starts_in=timedelta(days=3), hours: int = 2, capacity: int = 10,
                     status: str = "published", groups: bool = True, now: datetime = T0, **values) -> dict:
    starts = now + starts_in
    row = dict(kind="case_explanation", title="以案释法：欠薪怎么办", summary="讲解典型案例", topics="|wages|",
               starts_at=starts, ends_at=starts + timedelta(hours=hours), venue="城东镇便民服务中心二楼",
               capacity=capacity, groups_allowed=groups, status=status, created_at=now, updated_at=now)
    row.update(values)
    with tenant_scope(tenant_id):
        event = Event(tenant=tenant_id, **row)
        await event.save()
    return {"id": event.id, **row, "tenant": tenant_id}
