"""Capacity holds under simultaneous registrations from separate OS processes, on SQLite
and on PostgreSQL (whichever this run uses): never more seats than the capacity, no error,
groups seated whole or waiting whole, the same phone never twice."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from app.events.tables import Attendee, Event, Registration
from tenants.scope import tenant_scope
from tests.events.helpers import make_event

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 6


def _race(specs: list[dict]) -> list[dict]:
    """Start one process per spec, wait until all are ready, then let them all go at once."""
    procs = [subprocess.Popen([sys.executable, "-m", "tests.events.concurrent_registrar", json.dumps(spec)],
                              cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for spec in specs]
    try:
        for proc in procs:
            line = proc.stdout.readline()
            assert line.strip() == "ready", (line, proc.stderr.read() if proc.poll() is not None else "")
        for proc in procs:  # the start line
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outcomes = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            outcomes.extend(json.loads(out.strip().splitlines()[-1]))
        return outcomes
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()


async def test_simultaneous_registrations_from_separate_processes_never_exceed_capacity(world):
    a = world.tenants["a"]["id"]
    now = datetime.now(timezone.utc)
    event = await make_event(a, capacity=12, now=now, starts_in=timedelta(days=2))
    specs = []
    for p in range(PROCESSES):
        jobs = [{"kind": "individual", "name": f"p{p}-{i}", "phone": f"1380{p:03d}{i:04d}"} for i in range(6)]
        jobs.append({"kind": "group", "name": f"group{p}", "seats": 3})
        # every process also tries a phone another process tries: exactly one may win
        jobs.append({"kind": "individual", "name": f"dup-{p}", "phone": "13999999999"})
        specs.append({"event_id": event["id"], "tenant_id": a, "union_id": world.tenants["union"]["id"], "jobs": jobs})
    outcomes = _race(specs)

    errors = [o for o in outcomes if not o["ok"] and "refused" not in o]
    assert errors == []  # nothing turned into an error ("database is locked" included)
    refused = [o for o in outcomes if "refused" in o]
    assert len(refused) == PROCESSES - 1 and all(o["job"].startswith("dup-") for o in refused)
    with tenant_scope(a):
        seats_taken = (await Event.select(Event.seats_taken).where(Event.id == event["id"]).first())["seats_taken"]
        regs = await Registration.select().where(Registration.event == event["id"]).order_by(Registration.id)
        attendees = await Attendee.select(Attendee.registration, Attendee.phone).where(Attendee.event == event["id"])
    confirmed = [r for r in regs if r["status"] == "confirmed"]
    assert sum(r["seats"] for r in confirmed) == seats_taken <= 12
    assert len(regs) == PROCESSES * 8 - (PROCESSES - 1)
    # Groups are whole: three attendees each, all seated or all waiting with their registration.
    per_reg: dict[int, int] = {}
    for att in attendees:
        per_reg[att["registration"]] = per_reg.get(att["registration"], 0) + 1
    assert all(per_reg[r["id"]] == r["seats"] for r in regs)
    # Seats went in order of arrival: once a one-seat registration had to wait, no later one
    # got a seat (only a smaller registration may pass a waiting group).
    first_waiting_single = next((r["id"] for r in regs if r["status"] == "waitlisted" and r["seats"] == 1), None)
    if first_waiting_single is not None:
        assert all(r["id"] < first_waiting_single for r in confirmed)
    assert seats_taken >= 12 - 2  # full, up to what no waiting registration fits into
    assert sum(1 for a_ in attendees if a_["phone"] == "13999999999") == 1
