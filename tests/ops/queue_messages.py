"""Queue messages the way a feature does (run as a separate process against the shared database):

    python -m tests.ops.queue_messages COUNT MARKER PHONE

COUNT emails to person<i>@ops.test.tiaojie.cn and one SMS to PHONE, from 城东镇, each body
containing MARKER; prints the notification ids as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys


async def main(count: int, marker: str, phone: str) -> list[int]:
    from app.core.jobs import close_pool
    from app.db import atomic
    from app.notifications.service import notify
    from tenants.tables import Tenant

    tenant = await Tenant.select(Tenant.id).where(Tenant.slug == "chengdong").first()
    ids = []
    try:
        for i in range(count):
            async with atomic():
                ids.append(await notify(tenant["id"], "staff_notice", f"ops-test:{marker}:{i}",
                                        email=f"person{i}@ops.test.tiaojie.cn", urgent=True,
                                        payload={"subject": f"Notice {i}", "body": f"{marker} body {i}"}))
        async with atomic():
            ids.append(await notify(tenant["id"], "staff_notice", f"ops-test:{marker}:sms", channel="sms",
                                    phone=phone, urgent=True, payload={"subject": "SMS", "body": f"{marker} sms"}))
    finally:
        await close_pool()
    return ids


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))))
