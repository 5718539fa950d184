"""200 more organisations on top of the demo data (idempotent), for the page benchmark."""

from __future__ import annotations

import asyncio

from app.directory.demo import DISTRICTS
from tenants.tables import Tenant

COUNT = 200


async def seed_large() -> int:
    parents = {r["slug"]: r["id"] for r in await Tenant.select(Tenant.slug, Tenant.id).where(
        Tenant.kind == "district_center")}
    made = 0
    for i in range(COUNT):
        slug, district, road = DISTRICTS[i % len(DISTRICTS)]
        bench_slug = f"bench-{i:03d}"
        if await Tenant.exists().where(Tenant.slug == bench_slug):
            continue
        await Tenant(
            slug=bench_slug, name=f"海安{district}第{i + 1}号企业劳动争议调解委员会", kind="enterprise_committee",
            parent=parents[slug], district=district, address=f"海安市{district}{road} {100 + i} 号",
            office_hours="工作日 9:00-17:00",
        ).save()
        made += 1
    return made


if __name__ == "__main__":
    print(f"bench seed: {asyncio.run(seed_large())} organisations added")
