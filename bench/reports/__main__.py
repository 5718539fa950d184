"""Speed of the city's coverage and report pages on a large network (issue 11, item 7).

    .venv/bin/python -m bench.reports [--requests 200] [--concurrency 4] [--workers 2]

Creates its own PostgreSQL database on BENCH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/postgres) and drops it afterwards (--keep keeps it);
seeds it with ``bench.reports.seed`` (20 districts, 5,000 enterprises, 200,000 feedback
items, 20,000 events, 1,000,000 outreach entries); times the report's direct counting and
its roll-up (``bench.reports.rollup``); then serves the app the production way
(``tiaojie serve``, 2 workers) and requests each page signed in, as a city admin and a
district admin, ``--requests`` times with ``--concurrency`` at once. Signed-in pages are
never served from the page cache, so every request renders from the database. Every
answer must be a 200 holding the page's table, or the benchmark fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx

from bench.pages.__main__ import wait_ready

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


def _cookies(resp: httpx.Response, jar: dict[str, str]) -> None:
    """Keep the cookies the server set: they are Secure, so httpx would not send them over http."""
    for header in resp.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]


def _cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())


async def sign_in(base: str, email: str, password: str) -> dict[str, str]:
    jar: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        _cookies(await client.get("/login"), jar)
        resp = await client.post("/login", data={"email": email, "password": password,
                                                 "_csrf_token": jar["tiaojie_csrf"]},
                                 headers={"Cookie": _cookie_header(jar)})
        assert resp.status_code == 303, (resp.status_code, resp.text[:300])
        _cookies(resp, jar)
    return jar


async def measure(base: str, jar: dict[str, str], path: str, marker: str, requests: int,
                  concurrency: int) -> dict[str, float]:
    headers = {"Cookie": _cookie_header(jar), "Accept-Language": "zh-CN"}
    times: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=60, headers=headers) as client:
        async def one() -> None:
            t = time.perf_counter()
            resp = await client.get(path)
            elapsed = time.perf_counter() - t
            if resp.status_code != 200 or marker not in resp.text:
                raise AssertionError(f"{path}: {resp.status_code} {resp.text[:300]}")
            times.append(elapsed * 1000)

        for _ in range(5):  # warm-up, not counted
            await one()
        times.clear()
        queue = iter(range(requests))

        async def worker() -> None:
            for _ in queue:
                await one()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    times.sort()

    def pct(p: float) -> float:
        return times[min(len(times) - 1, int(round(p / 100 * len(times))) - 1)]

    return {"n": len(times), "p50": statistics.median(times), "p95": pct(95), "p99": pct(99), "max": times[-1],
            "rps": len(times) / wall}


def _create_db(base_url: str) -> str:
    import asyncpg

    name = f"tiaojie_bench_reports_{uuid.uuid4().hex[:8]}"

    async def run() -> None:
        conn = await asyncpg.connect(base_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(run())
    return base_url.rsplit("/", 1)[0] + "/" + name


def _drop_db(base_url: str, url: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(base_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(run())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the database (its URL is printed)")
    parser.add_argument("--reuse", default="", help="measure on a database kept by an earlier --keep run")
    args = parser.parse_args()

    from app.devserver import free_port, start_embedded_redis
    from bench.reports.seed import CITY_ADMIN, DISTRICT_ADMIN, PASSWORD

    pg = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    env = dict(os.environ)
    children: list[subprocess.Popen] = []
    db_url = args.reuse or _create_db(pg)
    try:
        proc, env["REDIS_URL"] = start_embedded_redis()
        children.append(proc)
        env["DATABASE_URL"] = db_url
        env.update(TIAOJIE_ENV="production", SECRET_KEY=env.get("SECRET_KEY", "bench-secret-key-" + "x" * 32))
        # Production start-up refuses development settings (app/ops/checks.py); nothing is sent here.
        env.setdefault("BASE_URL", "https://bench.tiaojie.invalid")
        env.update(EMAIL_DELIVERY="smtp", SMS_GATEWAY="http", SMS_GATEWAY_URL="http://127.0.0.1:9/unused")
        subprocess.run([PY, "-m", "app.cli", "db", "migrate", "--quiet"], env=env, check=True, cwd=ROOT)
        if not args.reuse:
            seeded = json.loads(subprocess.run([PY, "-m", "bench.reports.seed"], env=env, check=True, cwd=ROOT,
                                               capture_output=True, text=True).stdout)
            print("seeded:", seeded, flush=True)
        costs = json.loads(subprocess.run([PY, "-m", "bench.reports.rollup"], env=env, check=True, cwd=ROOT,
                                          capture_output=True, text=True).stdout)
        print("report counting:", costs, flush=True)
        port = free_port()
        log = open(ROOT / "var" / "bench-reports-server.log", "w") if (ROOT / "var").is_dir() else subprocess.DEVNULL
        children.append(subprocess.Popen(
            [PY, "-m", "app.cli", "serve", "--port", str(port), "--workers", str(args.workers)], env=env, cwd=ROOT,
            stdout=log, stderr=subprocess.STDOUT))
        base = f"http://127.0.0.1:{port}"
        wait_ready(base + "/healthz", timeout=240)  # a loaded machine starts slowly
        district = quote("第05镇")
        pages = [
            (CITY_ADMIN, "/city/coverage", "coverage-table"),
            (CITY_ADMIN, "/city/reports", "report-by-district"),
            (CITY_ADMIN, f"/city/reports?district={district}", "report-by-month"),
            (CITY_ADMIN, "/city/reports?from=" + _months_ago(23) + "&to=" + _months_ago(0), "report-by-district"),
            (CITY_ADMIN, "/city/reports/export?format=xlsx", ""),
            (DISTRICT_ADMIN, "/manage/d01/reports", "report-by-month"),
            (DISTRICT_ADMIN, "/manage/d01/coverage", "<table"),
        ]
        jars = {who: asyncio.run(sign_in(base, who, PASSWORD)) for who in (CITY_ADMIN, DISTRICT_ADMIN)}
        results = []
        for who, path, marker in pages:
            r = asyncio.run(measure(base, jars[who], path, marker, args.requests, args.concurrency))
            results.append((who, path, r))
            print(f"{path}: p50 {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms", flush=True)
        load = os.getloadavg()
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), platform.processor())
        print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores ({cpu}), "
              f"PostgreSQL, {args.workers} web workers, {args.requests} requests per page, {args.concurrency} at once; "
              f"load average after the run {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}\n")
        print("| page (signed in as) | p50 ms | p95 ms | p99 ms | max ms | requests/s |")
        print("|---|---:|---:|---:|---:|---:|")
        for who, path, r in results:
            role = "city admin" if who == CITY_ADMIN else "district admin"
            print(f"| `{path}` ({role}) | {r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} | {r['max']:.0f} "
                  f"| {r['rps']:.1f} |")
        slow = [(path, r["p95"]) for _who, path, r in results if r["p95"] >= 300 and "export" not in path]
        if slow:
            print(f"\nabove the 300 ms p95 target: {slow}")
        return 1 if slow else 0
    finally:
        for child in reversed(children):
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
        if args.keep or args.reuse:
            print(f"database kept: {db_url}")
        else:
            _drop_db(pg, db_url)


def _months_ago(n: int) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    index = now.year * 12 + now.month - 1 - n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


if __name__ == "__main__":
    sys.exit(main())
