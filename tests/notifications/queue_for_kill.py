"""Queue messages through notify() in a process of their own, against a shared database:

    python -m tests.notifications.queue_for_kill COUNT

COUNT emails and COUNT urgent SMS from a new organisation; prints the notification ids as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys


async def main(count: int) -> list[int]:
    from app.core.jobs import close_pool
    from app.db import atomic
    from app.notifications.service import notify
    from tenants.tables import Tenant

    tenant = Tenant(slug="killtest", name="Kill-test centre", kind="district_center")
    await tenant.save()
    ids = []
    try:
        for i in range(count):
            async with atomic():
                ids.append(await notify(tenant.id, "staff_notice", f"kill:email:{i}", email=f"k{i}@example.cn",
                                        payload={"subject": f"Notice {i}", "body": "body"}))
                ids.append(await notify(tenant.id, "staff_notice", f"kill:sms:{i}", channel="sms",
                                        phone=f"1380000{i:04d}", urgent=True,
                                        payload={"subject": f"SMS {i}", "body": "body"}))
    finally:
        await close_pool()
    return ids


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(int(sys.argv[1])))))
