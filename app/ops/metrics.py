"""Prometheus metrics, served on a separate address that the proxy never exposes.

- The web server (``tiaojie serve --metrics-address 127.0.0.1:9100`` or
  ``METRICS_ADDRESS``) runs uvicorn in several processes. Each writes its
  counters to files in ``var/metrics/web-<port>/`` (prometheus_client's
  multiprocess mode, the directory is emptied when ``tiaojie serve`` starts),
  and the endpoint, served by the supervising process, adds them up.
- The worker (``tiaojie worker --metrics-address 127.0.0.1:9101`` or
  ``WORKER_METRICS_ADDRESS``) is one process and serves its own.
- Both endpoints also report the outbox, read from the database at scrape time.

Routes are labelled by their template (``/o/{slug:str}``), never the raw path,
so the number of series stays bounded and no one's data ends up in a label.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import time
from datetime import datetime, timezone
from typing import Any, Iterable

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from app.ops.logs import request_id_var

access_log = logging.getLogger("tiaojie.access")
log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "tiaojie_http_requests_total", "HTTP requests answered, by route template and status code",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "tiaojie_http_request_duration_seconds", "Time from receiving a request to its last byte, by route template",
    ["method", "route"], buckets=LATENCY_BUCKETS,
)
HTTP_ERRORS = Counter(
    "tiaojie_http_server_errors_total", "Requests answered with a 5xx status (or failed before answering)",
    ["method", "route"],
)
JOBS = Counter("tiaojie_worker_jobs_total", "Background jobs run, by job and outcome (ok, error, retry)",
               ["job", "outcome"])
JOB_SECONDS = Histogram("tiaojie_worker_job_duration_seconds", "Background job run time", ["job"],
                        buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0, 600.0))
DELIVERY_FAILURES = Counter("tiaojie_delivery_failures_total",
                            "Message delivery attempts that failed (each is retried, up to the last)", ["channel"])


# --- web requests ---------------------------------------------------------------------------


class RequestMetricsMiddleware:
    """Counts and times every request by route template and writes one access log line."""

    def __init__(self, app: Any) -> None:
        self.app = app
        # (method, route, status) -> the request counter's and latency histogram's children:
        # ``labels()`` takes a lock and builds its key on every call. Bounded by the routes.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def _series(self, method: str, route: str, status: int) -> tuple[Any, Any]:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (HTTP_REQUESTS.labels(method, route, str(status)), HTTP_LATENCY.labels(method, route))
            if len(self._children) < 4096:  # unknown methods and statuses must not grow it forever
                self._children[key] = children
        return children

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = request_id_var.set(scope.get("state", {}).get("request_id"))
        start = time.perf_counter()
        status = 500

        async def send_and_note(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("path_template") or "unmatched"
            method = scope.get("method", "GET")
            requests, latency = self._series(method, route, status)
            requests.inc()
            latency.observe(elapsed)
            if status >= 500:
                HTTP_ERRORS.labels(method, route).inc()
            access_log.info("%s %s %s %.1fms", method, route, status, elapsed * 1000,
                            extra={"event": "request", "method": method, "route": route, "status": status,
                                   "duration_ms": round(elapsed * 1000, 2)})
            request_id_var.reset(token)


# --- the outbox, read at scrape time ----------------------------------------------------------


def _parse_time(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class OutboxCollector(Collector):
    """Messages by status, and how long the oldest due pending message has waited.

    It opens its own connection per scrape (it runs in the metrics server's thread,
    away from the event loop and pool of the process)."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    def _query(self) -> tuple[dict[str, int], Any]:
        counts_sql = "SELECT status, COUNT(*) FROM notification GROUP BY status"
        if self.database_url.startswith("sqlite"):
            import sqlite3

            path = self.database_url.split("sqlite:///", 1)[1]
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
                counts = dict(conn.execute(counts_sql).fetchall())
                pending = conn.execute("SELECT scheduled_for FROM notification WHERE status = 'pending'").fetchall()
            now = datetime.now(timezone.utc)
            due = [t for t in (_parse_time(r[0]) for r in pending) if t is not None and t <= now]
            return counts, min(due) if due else None

        import asyncpg

        async def read() -> tuple[dict[str, int], Any]:
            conn = await asyncpg.connect(self.database_url.replace("postgres://", "postgresql://", 1), timeout=5)
            try:
                rows = await conn.fetch(counts_sql)
                oldest = await conn.fetchval(
                    "SELECT MIN(scheduled_for) FROM notification WHERE status = 'pending' AND scheduled_for <= now()")
                return {r[0]: r[1] for r in rows}, oldest
            finally:
                await conn.close()

        return asyncio.run(read())

    def collect(self) -> Iterable[GaugeMetricFamily]:
        up = GaugeMetricFamily("tiaojie_outbox_readable", "1 when the outbox could be read for this scrape")
        try:
            counts, oldest = self._query()
        except Exception:  # noqa: BLE001 - a scrape must not fail because the database is away
            log.warning("could not read the outbox for metrics", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        by_status = GaugeMetricFamily("tiaojie_outbox_messages", "Messages in the outbox by status", labels=["status"])
        for status in ("pending", "sending", "sent", "failed", "cancelled"):
            by_status.add_metric([status], counts.get(status, 0))
        yield by_status
        depth = GaugeMetricFamily("tiaojie_outbox_depth", "Messages waiting to be sent (pending or sending)")
        depth.add_metric([], counts.get("pending", 0) + counts.get("sending", 0))
        yield depth
        age = GaugeMetricFamily("tiaojie_outbox_oldest_pending_age_seconds",
                                "How long the oldest pending message has been due (0 when none is waiting)")
        oldest_time = _parse_time(oldest)
        age.add_metric([], max(0.0, (datetime.now(timezone.utc) - oldest_time).total_seconds()) if oldest_time else 0.0)
        yield age


# --- serving ------------------------------------------------------------------------------------


def parse_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not port.isdigit():
        raise ValueError(f"a metrics address is host:port, not {address!r}")
    return (host or "127.0.0.1").strip("[]"), int(port)


def serve_web_metrics(address: str, database_url: str) -> None:
    """The endpoint for all of this server's processes (multiprocess mode)."""
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(OutboxCollector(database_url))
    host, port = parse_address(address)
    start_http_server(port, addr=host, registry=registry)


def serve_worker_metrics(address: str, database_url: str) -> None:
    REGISTRY.register(OutboxCollector(database_url))
    host, port = parse_address(address)
    start_http_server(port, addr=host, registry=REGISTRY)


# --- worker jobs ---------------------------------------------------------------------------------


def _instrumented(name: str, coroutine: Any) -> Any:
    from arq.worker import Retry

    @functools.wraps(coroutine)
    async def run(ctx: dict, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        outcome = "error"
        try:
            result = await coroutine(ctx, *args, **kwargs)
            outcome = "ok"
            return result
        except Retry:
            outcome = "retry"
            raise
        finally:
            JOBS.labels(name, outcome).inc()
            JOB_SECONDS.labels(name).observe(time.perf_counter() - start)

    return run


def instrument_worker_settings(settings_cls: type) -> dict[str, Any]:
    """WorkerSettings (as the dict arq also takes) whose every job and cron job is counted and timed."""
    from arq.worker import func

    functions = []
    for item in settings_cls.functions:
        function = func(item)
        functions.append(dataclasses.replace(function, coroutine=_instrumented(function.name, function.coroutine)))
    cron_jobs = [dataclasses.replace(job, coroutine=_instrumented(job.name, job.coroutine))
                 for job in getattr(settings_cls, "cron_jobs", None) or []]
    settings = {name: getattr(settings_cls, name) for name in dir(settings_cls) if not name.startswith("__")}
    return {**settings, "functions": functions, "cron_jobs": cron_jobs}
