"""Run with the bench's environment after seeding: what the report costs without and with
its pre-aggregated figures. Prints JSON (milliseconds).

- ``direct_month_ms``: counting one month straight from the domains' tables (the
  current month's on-demand refresh costs this);
- ``direct_12_months_ms``: the last 12 months counted directly, what a report page would
  cost without the pre-aggregated table;
- ``nightly_24_months_ms``: the nightly roll-up (writes the figures the pages read).
"""

from __future__ import annotations

import asyncio
import json
import time


async def main() -> None:
    from app.city import reports
    from app.db import start_db, stop_db

    await start_db()
    try:
        this = reports.current_month()
        months = reports.months_between(reports.add_months(this, -11), this)
        await reports.compute_month(this)  # warm the database's cache as a running server has it
        t = time.perf_counter()
        await reports.compute_month(this)
        direct_month = time.perf_counter() - t
        t = time.perf_counter()
        for m in months:
            await reports.compute_month(m)
        direct_12 = time.perf_counter() - t
        t = time.perf_counter()
        await reports.refresh_recent(24)
        nightly = time.perf_counter() - t
    finally:
        await stop_db()
    print(json.dumps({"direct_month_ms": round(direct_month * 1000), "direct_12_months_ms": round(direct_12 * 1000),
                      "nightly_24_months_ms": round(nightly * 1000)}))


if __name__ == "__main__":
    asyncio.run(main())
