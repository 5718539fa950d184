"""Benchmark: N pending email notifications delivered to a local SMTP sink by one worker.

    .venv/bin/python -m bench.notifications [--count 10000] [--mode notify|sweep|both]

SQLite by default (a new file under /tmp); PostgreSQL when DATABASE_URL is given
(a new database is created on that server and dropped afterwards). Redis: REDIS_URL,
or an embedded one. This process seeds the outbox and runs the SMTP sink (aiosmtpd,
in a thread); the worker is a separate process (an arq Worker with the real jobs),
which reports its delivery time and its peak RSS (VmHWM).

Modes: ``notify`` writes every message with ``notify()`` itself, one call (and one
transaction) each, which wakes the tenant's coalesced batch job: the path every
feature takes; ``sweep`` writes the rows directly with no job (as after a Redis
restart) and lets the sweep wake the batch job.

The worker runs with the production ``WorkerSettings`` (its functions, ``max_jobs``,
``poll_delay``, ``keep_result``, job timeout): only ``burst`` (stop when the queue is
empty) is added. Cron jobs are left out so that only delivery is timed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


# --- the worker process ----------------------------------------------------------


def _rss_mb(field: str) -> float:
    """VmRSS / VmHWM of this process in MB. (Not getrusage's ru_maxrss: on Linux it
    carries the parent's peak over fork and exec.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _work() -> dict:
    from arq.connections import RedisSettings
    from arq.worker import Worker

    from workers.settings import WorkerSettings, shutdown, startup

    marks: dict[str, float] = {}

    async def ready(ctx: dict) -> None:
        # Timed from here: the worker's start-up (imports, database) is not delivery.
        await startup(ctx)
        marks["start"], marks["cpu"] = time.perf_counter(), time.process_time()

    production = {name: getattr(WorkerSettings, name) for name in
                  ("max_jobs", "poll_delay", "keep_result", "job_timeout", "max_tries")
                  if hasattr(WorkerSettings, name)}
    worker = Worker(
        functions=WorkerSettings.functions,
        redis_settings=RedisSettings.from_dsn(os.environ["REDIS_URL"]),
        burst=True,
        handle_signals=False,
        on_startup=ready,
        on_shutdown=shutdown,
        log_results=False,
        **production,
    )
    if os.environ.get("BENCH_VERBOSE"):
        import logging

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    rss_before = _rss_mb("VmRSS")
    await worker.main()
    elapsed = time.perf_counter() - marks["start"]
    cpu = time.process_time() - marks["cpu"]
    await worker.close()
    return {
        "elapsed": elapsed,
        "cpu": cpu,
        "rss_start_mb": rss_before,
        "peak_rss_mb": _rss_mb("VmHWM"),
        "jobs": worker.jobs_complete,
    }


# --- the driver ------------------------------------------------------------------


class Sink:
    def __init__(self) -> None:
        self.count = 0
        self.ids: set[str] = set()

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        for line in envelope.original_content.split(b"\r\n", 40):
            if line.startswith(b"X-Tiaojie-Notification:"):
                self.ids.add(line.split(b":", 1)[1].strip().decode())
                break
        return "250 OK"


def _new_database(base: str) -> tuple[str, object]:
    if base.startswith(("postgres://", "postgresql://")):
        import asyncpg

        name = f"tiaojie_bench_{uuid.uuid4().hex[:8]}"
        admin = base.replace("postgres://", "postgresql://", 1)

        async def run(sql: str) -> None:
            conn = await asyncpg.connect(admin)
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        asyncio.run(run(f'CREATE DATABASE "{name}"'))
        return admin.rsplit("/", 1)[0] + "/" + name, lambda: asyncio.run(run(f'DROP DATABASE "{name}" WITH (FORCE)'))
    path = Path(tempfile.mkdtemp(prefix="tiaojie-bench-")) / "bench.sqlite3"
    return f"sqlite:///{path}", lambda: None


def _env(database_url: str, redis_url: str, smtp_port: int) -> dict[str, str]:
    return {
        **os.environ,
        "TIAOJIE_ENV": "production",
        "SECRET_KEY": "bench-only-secret",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_SECURITY": "none",
        "EMAIL_DELIVERY": "smtp",
        "TIAOJIE_VAR_DIR": tempfile.mkdtemp(prefix="tiaojie-bench-var-"),
    }


def _seed(env: dict[str, str], count: int, mode: str) -> float:
    """Migrate, create a tenant, write ``count`` pending messages; returns the seconds
    the writing took (``notify`` mode: one notify() call and transaction per message)."""
    code = f"""
import asyncio, json, time
from datetime import timedelta
from app.cli import migrate
async def main():
    await migrate(quiet=True)
    from app.db import atomic
    from app.notifications import service
    from app.notifications.tables import Notification
    from app.core.jobs import close_pool
    from app.core.redis import get_redis
    from tenants.scope import tenant_scope
    from tenants.tables import Tenant
    await get_redis().flushdb()
    t = Tenant(slug="bench", name="海安市城东镇劳动人事争议调解中心", kind="district_center"); await t.save()
    now = service.utcnow()
    start = time.perf_counter()
    def payload(i):
        return {{"subject": f"讲座提醒 {{i}}", "body": "您报名的讲座将于明天下午两点开始。"}}
    if "{mode}" == "notify":
        for i in range({count}):
            async with atomic():
                await service.notify(t.id, "staff_notice", f"bench:{{i}}", email=f"worker{{i}}@example.cn",
                                     payload=payload(i))
    else:
        with tenant_scope(t.id):
            for start_at in range(0, {count}, 1000):
                rows = [Notification(tenant=t.id, channel="email", recipient=f"worker{{i}}@example.cn",
                                     template_key="staff_notice", locale="zh_Hans", payload=payload(i),
                                     dedupe_key=f"bench:{{i}}", status="pending",
                                     scheduled_for=now - timedelta(minutes=5))
                        for i in range(start_at, min(start_at + 1000, {count}))]
                await Notification.insert(*rows)
        await service.sweep()
    elapsed = time.perf_counter() - start
    jobs = await get_redis().zcard("arq:queue")
    await close_pool()
    print(json.dumps({{"seed_seconds": elapsed, "queued_jobs": jobs}}))
asyncio.run(main())
"""
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_one(count: int, mode: str, database: str, redis_url: str) -> dict:
    from aiosmtpd.controller import Controller

    from tests.notifications.helpers import free_port

    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    database_url, drop = _new_database(database)
    try:
        env = _env(database_url, redis_url, port)
        seeded = _seed(env, count, mode)
        sink_cpu = time.process_time()
        out = subprocess.run([sys.executable, "-m", "bench.notifications", "--worker"], env=env, cwd=ROOT,
                             check=True, capture_output=True, text=True)
        if os.environ.get("BENCH_VERBOSE"):
            sys.stderr.write(out.stderr)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["sink_cpu"] = time.process_time() - sink_cpu
        result.update(seeded)
    finally:
        controller.stop()
        drop()
    result.update(count=count, mode=mode, delivered=sink.count, unique=len(sink.ids),
                  per_second=sink.count / result["elapsed"],
                  database="postgresql" if database.startswith("postgres") else "sqlite")
    assert sink.count == count == len(sink.ids), result
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--mode", choices=["notify", "sweep", "both"], default="both")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(asyncio.run(_work())))
        return

    sys.path.insert(0, str(ROOT))
    redis_url = os.environ.get("REDIS_URL", "")
    proc = None
    if not redis_url:
        from app.devserver import start_embedded_redis

        proc, redis_url = start_embedded_redis()
    try:
        database = os.environ.get("DATABASE_URL", "sqlite")
        modes = ["notify", "sweep"] if args.mode == "both" else [args.mode]
        print(f"load average at start: {os.getloadavg()[0]:.1f}")
        print(f"{'database':10} {'mode':6} {'messages':>8} {'jobs':>5} {'seconds':>8} {'msg/s':>7} {'RSS start':>9} {'peak RSS':>9} {'worker CPU':>10} {'sink CPU':>8} {'load':>5}")
        for mode in modes:
            for count in sorted({max(args.count // 10, 1), args.count}):
                r = run_one(count, mode, database, redis_url)
                print(f"{r['database']:10} {mode:6} {count:8d} {r['queued_jobs']:5d} {r['elapsed']:8.2f} {r['per_second']:7.0f} "
                      f"{r['rss_start_mb']:7.1f}MB {r['peak_rss_mb']:7.1f}MB {100 * r['cpu'] / r['elapsed']:9.0f}% "
                      f"{100 * r['sink_cpu'] / r['elapsed']:7.0f}% {os.getloadavg()[0]:5.1f}", flush=True)
    finally:
        if proc is not None:
            proc.kill()


if __name__ == "__main__":
    main()
