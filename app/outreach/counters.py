"""Page views and QR scans: counted in Redis on the request, added to DailyCount by a cron.

A hit is one ``HINCRBY`` on the live hash (field ``<day>|<tenant>|<metric>|<ref>``);
a failing Redis is logged and the page is served anyway. Page views, by far the
most frequent hits, are first added up in the web process and written as one
pipeline of ``HINCRBY`` every ``VIEW_FLUSH_SECONDS`` (and when the process
stops): a Redis round trip on every public page doubled its tail latency under
load. The price is that a process killed outright loses the views of its last
fraction of a second; QR scans are still written one by one. ``flush_counts`` moves
the live hash aside with an atomic ``RENAME`` to a batch key, adds the batch to
``DailyCount`` and records the batch id in ``CounterFlush`` in one transaction,
and deletes the batch key only after COMMIT. So:

* two flushes never take the same counts: RENAME hands the live hash to one;
* a batch left behind by a crash (before or after COMMIT) is found by the next
  flush; ``CounterFlush`` tells whether it was already added, and its unique
  batch id makes a second, concurrent addition of the same batch fail and roll back.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections import Counter
from datetime import date, datetime

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.core.redis import get_redis
from app.db import write_transaction
from app.i18n import tz
from app.outreach.tables import CounterFlush, DailyCount, Metric
from tenants.tables import Tenant

log = logging.getLogger("tiaojie.outreach")

LIVE_KEY = "tiaojie:counts:live"
BATCH_PREFIX = "tiaojie:counts:batch:"
_FIELD = re.compile(r"^(\d{4}-\d{2}-\d{2})\|(\d+)\|([a-z_]+)\|(\d+)$")
METRICS = frozenset(m.value for m in Metric)


def today() -> date:
    return datetime.now(tz()).date()


async def count_hit(tenant_id: int, metric: str, ref: int = 0) -> None:
    """Count one page view or scan; never lets Redis trouble break the page."""
    field = f"{today().isoformat()}|{int(tenant_id)}|{metric}|{int(ref)}"
    try:
        await get_redis().hincrby(LIVE_KEY, field, 1)
    except Exception:  # noqa: BLE001 - a lost page view must not cost the visitor the page
        log.warning("could not count %s for tenant %s", metric, tenant_id, exc_info=True)


VIEW_FLUSH_SECONDS = 0.5
MAX_BUFFERED_FIELDS = 10_000  # while Redis is down, keep at most this many counters

_views: Counter[str] = Counter()
_view_flushers: dict[int, asyncio.Task] = {}


def count_view(tenant_id: int) -> None:
    """Count a page view in this process; a background task writes them to Redis."""
    _views[f"{today().isoformat()}|{int(tenant_id)}|{Metric.page_view.value}|0"] += 1
    loop = asyncio.get_running_loop()
    task = _view_flushers.get(id(loop))
    if task is None or task.done():
        _view_flushers[id(loop)] = loop.create_task(_flush_views_forever())


async def _flush_views_forever() -> None:
    while True:
        await asyncio.sleep(VIEW_FLUSH_SECONDS)
        await drain_views()


async def drain_views() -> None:
    """Write this process's buffered page views to Redis now."""
    if not _views:
        return
    batch = dict(_views)
    _views.subtract(batch)
    for field in [f for f, n in _views.items() if n <= 0]:
        del _views[field]
    try:
        pipe = get_redis().pipeline(transaction=False)
        for field, hits in batch.items():
            pipe.hincrby(LIVE_KEY, field, hits)
        await pipe.execute()
    except Exception:  # noqa: BLE001 - keep them for the next try, within a bound
        if len(_views) < MAX_BUFFERED_FIELDS:
            _views.update(batch)
        log.warning("could not write %d page view counters", len(batch), exc_info=True)


async def stop_view_counting() -> None:
    """On shutdown: stop the background writer and write what is left."""
    task = _view_flushers.pop(id(asyncio.get_running_loop()), None)
    if task is not None:
        task.cancel()
    await drain_views()


def _parse(raw: dict[bytes, bytes]) -> list[tuple[int, date, str, int, int]]:
    rows = []
    for key, value in raw.items():
        match = _FIELD.match(key.decode() if isinstance(key, bytes) else key)
        count = int(value)
        if match is None or match.group(3) not in METRICS or count <= 0:
            log.warning("dropping malformed counter %r=%r", key, value)
            continue
        day, tenant_id, metric, ref = match.groups()
        rows.append((int(tenant_id), date.fromisoformat(day), metric, int(ref), count))
    return rows


_UPSERT = (
    'INSERT INTO daily_count ("tenant", "day", "metric", "ref", "hits") VALUES ({}, {}, {}, {}, {}) '
    'ON CONFLICT ("tenant", "day", "metric", "ref") DO UPDATE SET "hits" = daily_count."hits" + excluded."hits"'
)


async def _add_batch(batch_id: str, rows: list[tuple[int, date, str, int, int]]) -> bool:
    """Add one batch to DailyCount; False when it had already been added."""
    try:
        async with write_transaction():
            if await CounterFlush.exists().where(CounterFlush.batch == batch_id):
                return False
            await CounterFlush.insert(CounterFlush(batch=batch_id))
            wanted = list({r[0] for r in rows})
            known = {r["id"] for r in await Tenant.select(Tenant.id).where(Tenant.id.is_in(wanted))} if wanted else set()
            for tenant_id, day, metric, ref, count in rows:
                if tenant_id not in known:  # a hit for a tenant that is gone must not block the batch
                    log.warning("dropping %s %s for unknown tenant %s", count, metric, tenant_id)
                    continue
                # Raw SQL: Piccolo's on_conflict cannot add to the existing count.
                await DailyCount.raw(_UPSERT, tenant_id, day, metric, ref, count)
    except Exception:
        if await CounterFlush.exists().where(CounterFlush.batch == batch_id):
            return False  # a concurrent flush added this batch first
        raise
    return True


async def flush_counts() -> dict[str, int]:
    """Move counted hits from Redis into DailyCount; safe to run twice or concurrently."""
    redis = get_redis()
    fresh = BATCH_PREFIX + uuid.uuid4().hex
    try:
        await redis.rename(LIVE_KEY, fresh)
    except Exception as exc:  # no live hash: nothing counted since the last flush
        if "no such key" not in str(exc).lower():
            raise
    batches = sorted([k.decode() if isinstance(k, bytes) else k async for k in redis.scan_iter(match=BATCH_PREFIX + "*")])
    summary = {"batches": 0, "rows": 0, "hits": 0, "skipped": 0, "failed": 0}
    for key in batches:
        rows = _parse(await redis.hgetall(key))
        batch_id = key[len(BATCH_PREFIX):]
        try:
            added = await _add_batch(batch_id, rows)
        except Exception:  # noqa: BLE001 - keep the batch for the next run; don't hold up the others
            log.exception("counter batch %s failed; kept for the next flush", batch_id)
            summary["failed"] += 1
            continue
        if added:
            summary["batches"] += 1
            summary["rows"] += len(rows)
            summary["hits"] += sum(r[4] for r in rows)
        else:
            summary["skipped"] += 1
        await redis.delete(key)
    return summary


_PUBLIC_PAGE = re.compile(r"^/o/[a-z0-9][a-z0-9-]{0,63}(?:/|$)")  # Litestar strips the trailing slash


class PageViewMiddleware:
    """Counts a page view for every public page of a tenant served as a whole HTML page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET" or not _PUBLIC_PAGE.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        seen: dict[str, bool] = {}

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = {k.lower(): v for k, v in message.get("headers", [])}
                seen["page"] = message["status"] == 200 and headers.get(b"content-type", b"").startswith(b"text/html")
            await send(message)

        await self.app(scope, receive, watch)
        tenant = scope.get("state", {}).get("tenant")
        htmx = any(k == b"hx-request" for k, _v in scope.get("headers", []))
        if seen.get("page") and tenant and not htmx:
            count_view(tenant["id"])
