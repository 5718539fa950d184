"""Run with the bench's environment: the event's seat count and every registration in id
order, as JSON, for the bench to check."""

from __future__ import annotations

import asyncio
import json
import sys


async def main(event_id: int) -> None:
    from app.events.tables import Attendee, Event, Registration
    from tenants.scope import unscoped

    with unscoped("the benchmark checks its own event"):
        event = await Event.select(Event.capacity, Event.seats_taken).where(Event.id == event_id).first()
        regs = await Registration.select(Registration.id, Registration.phone, Registration.status,
                                         Registration.seats).where(Registration.event == event_id).order_by(
            Registration.id)
        attendees = await Attendee.count().where(Attendee.event == event_id)
    print(json.dumps({"event": event, "registrations": regs, "attendees": attendees}))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
