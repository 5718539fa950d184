"""Helpers shared by tests (import these; never import conftest)."""

from __future__ import annotations

import os


def redis_sync(url: str | None = None):
    import redis

    return redis.Redis.from_url(url or os.environ["REDIS_URL"])


def query_database(url: str, sql: str, *args) -> list[tuple]:
    """Rows of one query on a database of this run, from sync code (``$1`` placeholders,
    turned into ``?`` for SQLite)."""
    if url.startswith("sqlite"):
        import re
        import sqlite3

        conn = sqlite3.connect(url.split("sqlite:///", 1)[1], timeout=30)
        try:
            return conn.execute(re.sub(r"\$\d+", "?", sql), args).fetchall()
        finally:
            conn.close()

    async def fetch() -> list[tuple]:
        import asyncpg

        conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
        try:
            return [tuple(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # whatever loop runs here (Playwright's, in browser tests)
        return pool.submit(asyncio.run, fetch()).result()


# --- people and organisations in two tenant trees ------------------------------


class World:
    """Two districts under one city, each with an enterprise, plus a union.

    ``world.users["a_admin"]`` etc.: emails of members in every role of each tenant.
    """

    PASSWORD = "Test-pass-2024"

    def __init__(self) -> None:
        self.tenants: dict[str, dict] = {}
        self.users: dict[str, str] = {}

    async def build(self) -> "World":
        from app.accounts.service import add_membership, create_user
        from tenants.tables import Tenant

        async def tenant(key, slug, kind, parent=None, district=""):
            t = Tenant(slug=slug, name=f"{slug} name", kind=kind, parent=parent["id"] if parent else None,
                       district=district, address=f"{slug} road 1")
            await t.save()
            self.tenants[key] = {"id": t.id, "slug": slug, "kind": kind}
            return self.tenants[key]

        city = await tenant("city", "city", "city_center")
        a = await tenant("a", "district-a", "district_center", city, "甲镇")
        await tenant("b", "district-b", "district_center", city, "乙镇")
        await tenant("ent_a", "ent-a", "enterprise_committee", a, "甲镇")
        await tenant("union", "union-a", "union", city)

        async def member(key, tenant_key, role):
            email = f"{key}@test.tiaojie.cn"
            user_id = await create_user(email, self.PASSWORD, key)
            await add_membership(user_id, self.tenants[tenant_key]["id"], role)
            self.users[key] = email

        for tkey in ("city", "a", "b", "ent_a"):
            await member(f"{tkey}_admin", tkey, "admin")
            await member(f"{tkey}_staff", tkey, "staff")
        await member("union_admin", "union", "admin")
        await member("union_rep", "union", "union_rep")
        return self


async def login(client, email: str, password: str = World.PASSWORD):
    await client.get("/login")
    token = client.cookies.get("tiaojie_csrf")
    return await client.post(
        "/login", data={"email": email, "password": password, "_csrf_token": token}, follow_redirects=False
    )


def csrf_token(client) -> str:
    return client.cookies.get("tiaojie_csrf") or ""


