"""Run with the bench's environment: migrate, then one organisation and one published event
with the given seats. Prints the event id and the organisation's slug as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime, timedelta, timezone


async def main(seats: int) -> None:
    from app.cli import migrate
    from app.events.tables import Event
    from tenants.scope import tenant_scope
    from tenants.tables import Tenant

    await migrate(quiet=True)
    tenant = Tenant(slug="bench-center", name="压测调解中心", kind="district_center", district="压测镇")
    await tenant.save()
    starts = datetime.now(timezone.utc) + timedelta(days=3)
    with tenant_scope(tenant.id):
        event = Event(tenant=tenant.id, kind="case_explanation", title="以案释法：压测专场", starts_at=starts,
                      ends_at=starts + timedelta(hours=2), venue="压测镇便民服务中心", capacity=seats,
                      groups_allowed=True, status="published")
        await event.save()
    print(json.dumps({"event_id": event.id, "slug": tenant.slug}))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
