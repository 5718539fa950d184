"""Training tests: a clock the test sets, and short ways to make programmes and assignments."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from app.core.forms import Form
from tenants.scope import tenant_scope

T0 = datetime(2030, 3, 4, 2, 0, tzinfo=timezone.utc)  # 10:00 on Monday 4 March 2030 in Shanghai
TODAY = date(2030, 3, 4)


class Clock:
    """Sets app.training.clock and app.events.clock (check-in reads the events clock)."""

    def __init__(self, monkeypatch, start: datetime = T0) -> None:
        from app.events import clock as event_clock
        from app.training import clock

        self.current = start
        monkeypatch.setattr(clock, "now", lambda: self.current)
        monkeypatch.setattr(event_clock, "now", lambda: self.current)

    def move(self, **delta) -> datetime:
        self.current = self.current + timedelta(**delta)
        return self.current


async def make_programme(tenant_id: int, title: str = "调解员技能", hours: str = "2") -> int:
    from app.training import service

    form = Form(values={"title": title, "hours": hours, "content": "调解技巧与案例", "audience": "调解员"})
    with tenant_scope(tenant_id):
        minutes = service.validate_programme(form)
        assert form.ok, form.errors
        return await service.create_programme(form, minutes, None)


async def assign(tenant_id: int, programme_id: int, targets: list[int] | None = None, kind: str = "",
                 due: date = TODAY + timedelta(days=30), required: int = 2, parent: dict | None = None):
    from app.training import service

    with tenant_scope(tenant_id):
        return await service.assign(programme_id, [str(t) for t in targets or []], kind, due, required, None,
                                    parent=parent)


async def nominate(tenant_id: int, assignment_id: int, name: str, phone: str = "") -> int:
    from app.training import service

    form = Form(values={"name": name, "phone": phone, "member": ""})
    with tenant_scope(tenant_id):
        person = await service.add_participant(assignment_id, form)
        assert form.ok, form.errors
        return person


async def complete(tenant_id: int, assignment_id: int, person: int, hours: str = "2", result: str = "passed",
                   day: str = "2030-03-01"):
    from app.training import service

    form = Form(values={"participant": str(person), "hours": hours, "day": day, "result": result, "note": ""})
    with tenant_scope(tenant_id):
        done = await service.record_completion(assignment_id, form, None, None)
    return done, form


async def assignment_of(tenant_id: int, programme_id: int) -> int:
    from app.training.tables import Assignment

    with tenant_scope(tenant_id):
        row = await Assignment.select(Assignment.id).where(Assignment.programme == programme_id).first()
    return row["id"]
