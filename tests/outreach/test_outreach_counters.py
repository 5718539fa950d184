"""The counter flush: page views and QR scans move from Redis to DailyCount, never lost or doubled."""

from __future__ import annotations

import asyncio
from datetime import date

from app.outreach import counters
from app.outreach.counters import BATCH_PREFIX, LIVE_KEY, count_hit, drain_views, flush_counts, today
from app.outreach.jobs import flush_outreach_counts
from app.outreach.tables import CounterFlush, DailyCount
from tenants.scope import unscoped
from tests.support import redis_sync


async def _totals() -> dict[tuple[int, str, int], int]:
    with unscoped("test reads every tenant's counts"):
        rows = await DailyCount.select(DailyCount.tenant, DailyCount.metric, DailyCount.ref, DailyCount.hits)
    return {(r["tenant"], r["metric"], r["ref"]): r["hits"] for r in rows}


async def _hits(tenant_id: int, metric: str, n: int, ref: int = 0) -> None:
    for _ in range(n):
        await count_hit(tenant_id, metric, ref)


async def test_flush_adds_counts_and_a_second_flush_adds_nothing(world):
    a, b = world.tenants["a"]["id"], world.tenants["b"]["id"]
    await _hits(a, "page_view", 5)
    await _hits(b, "page_view", 2)
    await _hits(a, "qr_scan", 3, ref=7)
    summary = await flush_counts()
    assert summary == {"batches": 1, "rows": 3, "hits": 10, "skipped": 0, "failed": 0}
    expected = {(a, "page_view", 0): 5, (b, "page_view", 0): 2, (a, "qr_scan", 7): 3}
    assert await _totals() == expected
    assert (await flush_counts())["hits"] == 0
    assert await _totals() == expected
    assert not redis_sync().keys("tiaojie:counts:*")
    # Later hits are added to the same daily rows.
    await _hits(a, "page_view", 4)
    await flush_counts()
    assert (await _totals())[(a, "page_view", 0)] == 9
    with unscoped("test"):
        row = await DailyCount.select(DailyCount.day).first()
    assert row["day"] == today()


async def test_concurrent_flushes_neither_lose_nor_double(world):
    a = world.tenants["a"]["id"]
    await _hits(a, "page_view", 20)
    results = await asyncio.gather(flush_counts(), flush_counts(), flush_counts())
    assert sum(r["hits"] for r in results) == 20
    assert await _totals() == {(a, "page_view", 0): 20}
    # Hits counted while flushes run are kept for the next one.
    await asyncio.gather(flush_counts(), _hits(a, "page_view", 10), flush_counts())
    await flush_counts()
    assert await _totals() == {(a, "page_view", 0): 30}


async def test_a_batch_left_by_a_crash_after_commit_is_not_added_twice(world):
    a = world.tenants["a"]["id"]
    await _hits(a, "page_view", 6)
    r = redis_sync()
    r.rename(LIVE_KEY, BATCH_PREFIX + "crashed")
    rows = counters._parse(r.hgetall(BATCH_PREFIX + "crashed"))
    assert await counters._add_batch("crashed", rows)  # committed, then the worker "died" before DEL
    assert await _totals() == {(a, "page_view", 0): 6}
    summary = await flush_counts()
    assert summary["skipped"] == 1 and summary["hits"] == 0
    assert await _totals() == {(a, "page_view", 0): 6}
    assert not r.exists(BATCH_PREFIX + "crashed")


async def test_a_batch_left_by_a_crash_before_commit_is_added_next_time(world):
    a = world.tenants["a"]["id"]
    await _hits(a, "qr_scan", 4, ref=3)
    redis_sync().rename(LIVE_KEY, BATCH_PREFIX + "interrupted")
    await _hits(a, "qr_scan", 1, ref=3)
    summary = await flush_counts()
    assert summary["batches"] == 2 and summary["hits"] == 5
    assert await _totals() == {(a, "qr_scan", 3): 5}
    with unscoped("test"):
        assert await CounterFlush.count() == 2


async def test_a_failing_flush_rolls_back_and_keeps_the_batch(world, monkeypatch):
    a, b = world.tenants["a"]["id"], world.tenants["b"]["id"]
    await _hits(a, "page_view", 2)
    await _hits(b, "page_view", 3)
    good = counters._UPSERT
    monkeypatch.setattr(counters, "_UPSERT", good.replace("daily_count", "no_such_table", 1))
    assert (await flush_counts())["failed"] == 1
    assert await _totals() == {}
    with unscoped("test"):
        assert await CounterFlush.count() == 0
    assert len(redis_sync().keys(BATCH_PREFIX + "*")) == 1
    monkeypatch.setattr(counters, "_UPSERT", good)
    await flush_counts()
    assert await _totals() == {(a, "page_view", 0): 2, (b, "page_view", 0): 3}


async def test_malformed_fields_and_unknown_tenants_are_dropped_not_fatal(world):
    a = world.tenants["a"]["id"]
    r = redis_sync()
    r.hset(LIVE_KEY, mapping={"junk": 3, f"{date(2024, 5, 16)}|{a}|hack|0": 2, f"2024-05-16|{a}|page_view|0": 7,
                              "2024-05-16|999999|page_view|0": 4})
    summary = await flush_counts()
    assert summary["failed"] == 0 and summary["batches"] == 1
    assert await _totals() == {(a, "page_view", 0): 7}
    assert not r.keys("tiaojie:counts:*")


async def test_the_worker_job_flushes_and_is_scheduled(world):
    from workers.settings import WorkerSettings

    a = world.tenants["a"]["id"]
    await _hits(a, "page_view", 3)
    summary = await flush_outreach_counts({"redis": None})
    assert summary["hits"] == 3 and await _totals() == {(a, "page_view", 0): 3}
    assert flush_outreach_counts in WorkerSettings.functions
    assert any(job.coroutine is flush_outreach_counts for job in WorkerSettings.cron_jobs)


async def test_a_redis_outage_does_not_break_public_pages(client, world, monkeypatch):
    from redis.asyncio import Redis

    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2, socket_timeout=0.2)
    monkeypatch.setattr(counters, "get_redis", lambda: dead)
    await count_hit(world.tenants["a"]["id"], "page_view")  # logs, does not raise
    resp = await client.get("/o/district-a/")
    assert resp.status_code == 200 and "district-a name" in resp.text
    await dead.aclose()


async def test_public_pages_count_views_but_not_fragments_errors_or_staff_pages(client, world):
    a = world.tenants["a"]["id"]
    assert (await client.get("/o/district-a/")).status_code == 200
    await client.get("/o/district-a/", headers={"HX-Request": "true"})
    await client.get("/o/district-a/cards/9999")  # 404
    await client.get("/o/no-such-tenant/")
    await client.get("/")
    await client.get("/manage/district-a/", follow_redirects=False)
    await drain_views()  # the web process writes its buffered views
    await flush_counts()
    assert await _totals() == {(a, "page_view", 0): 1}


async def test_page_views_reach_redis_in_batches_within_a_second(client, world):
    import asyncio

    a = world.tenants["a"]["id"]
    for _ in range(5):
        assert (await client.get("/o/district-a/")).status_code == 200
    field = f"{today().isoformat()}|{a}|page_view|0".encode()
    for _ in range(30):  # the web process's writer runs every half second
        written = int(redis_sync().hget(LIVE_KEY, field) or 0)
        if written == 5:
            break
        await asyncio.sleep(0.1)
    assert written == 5


async def test_buffered_views_survive_a_redis_outage(world, monkeypatch):
    from redis.asyncio import Redis

    from app.outreach import counters

    a = world.tenants["a"]["id"]
    counters.count_view(a)
    counters.count_view(a)
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2, socket_timeout=0.2)
    monkeypatch.setattr(counters, "get_redis", lambda: dead)
    await counters.drain_views()  # fails: the views stay in the buffer
    monkeypatch.undo()
    await dead.aclose()
    await counters.drain_views()
    await flush_counts()
    assert (await _totals())[(a, "page_view", 0)] == 2
