"""Registration benchmark (issue #8): N registrations arriving at once for an event with S
seats, served the production way (``tiaojie serve``, 2 workers), on SQLite or PostgreSQL.

    .venv/bin/python -m bench.registration [--registrations 1000] [--seats 100] [--workers 2]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.registration

SQLite by default (a fresh file); with DATABASE_URL set to a PostgreSQL server it creates
and drops its own database there. REDIS_URL if set, else an embedded Redis. Every request
is a real form POST (CSRF token, validation, rate limit, outbox row); all N connections are
opened first and the requests are released together.

Checks, and exits non-zero when any fails: every answer is the 303 to the manage page (0
errors); exactly S confirmed and N - S waitlisted; the event's seat count is S; the first S
registrations (by id, the order in which they took the event's lock) hold the seats; and
that order is the order of arrival: a registration whose answer came back before another
was sent always has the smaller id.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


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
    path = Path(tempfile.mkdtemp(prefix="tiaojie-bench-")) / "registration.sqlite3"
    return f"sqlite:///{path}", lambda: None


def _wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


async def _fire(base: str, path: str, count: int) -> list[dict]:
    """Open ``count`` connections, then send every registration at the same moment."""
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=httpx.Timeout(300)) as client:
        page = await client.get(path)
        page.raise_for_status()
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
        # BASE_URL is https, so the CSRF cookie is Secure and the client would not send it
        # back over this plain-http loopback: send it by hand.
        csrf_cookie = re.search(r"tiaojie_csrf=([^;]+)", page.headers["set-cookie"]).group(1)
        client.cookies.clear()
        client.headers["Cookie"] = f"tiaojie_csrf={csrf_cookie}"
        go = asyncio.Event()
        warmed = [0]
        all_warm = asyncio.Event()

        async def one(i: int) -> dict:
            phone = f"1380{i:07d}"
            try:
                await client.get("/healthz")  # this task's own connection, opened before the start
            except httpx.HTTPError:
                pass  # the registration opens its own
            warmed[0] += 1
            if warmed[0] == count:
                all_warm.set()
            await go.wait()
            sent = time.perf_counter()
            try:
                resp = await client.post(f"{path}/register", data={
                    "name": f"压测{i}", "phone": phone, "email": "", "employer": "", "_csrf_token": token,
                }, follow_redirects=False)
                status = resp.status_code
            except httpx.HTTPError as exc:
                status = f"{type(exc).__name__}"
            return {"phone": phone, "sent": sent, "done": time.perf_counter(), "status": status}

        tasks = [asyncio.create_task(one(i)) for i in range(count)]
        # Go as soon as every connection is open: uvicorn closes one idle for 5 s (keep-alive),
        # and a POST sent on a connection closing under it would fail on the client's side.
        try:
            await asyncio.wait_for(all_warm.wait(), timeout=30)
        except asyncio.TimeoutError:
            pass
        go.set()
        return await asyncio.gather(*tasks)


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _check(results: list[dict], db: dict, seats: int) -> list[str]:
    problems = []
    errors = [r for r in results if r["status"] != 303]
    if errors:
        statuses: dict[str, int] = {}
        for r in errors:
            statuses[str(r["status"])] = statuses.get(str(r["status"]), 0) + 1
        problems.append(f"{len(errors)} errors: {statuses}")
    regs = db["registrations"]
    confirmed = [r for r in regs if r["status"] == "confirmed"]
    waiting = [r for r in regs if r["status"] == "waitlisted"]
    if len(confirmed) != seats or len(waiting) != len(results) - seats:
        problems.append(f"{len(confirmed)} confirmed and {len(waiting)} waitlisted, "
                        f"expected {seats} and {len(results) - seats}")
    if db["event"]["seats_taken"] != seats:
        problems.append(f"the event counts {db['event']['seats_taken']} seats taken, expected {seats}")
    if [r["status"] for r in regs[:seats]] != ["confirmed"] * seats:
        problems.append("the seats did not go to the first registrations in order")
    # Arrival order: a registration answered before another was sent has the smaller id.
    ids = {r["phone"]: r["id"] for r in regs}
    done_sorted = sorted((r["done"], ids.get(r["phone"], 0)) for r in results)
    late = 0
    highest, j = 0, 0
    for r in sorted(results, key=lambda r: r["sent"]):
        while j < len(done_sorted) and done_sorted[j][0] < r["sent"]:
            highest = max(highest, done_sorted[j][1])
            j += 1
        if ids.get(r["phone"], 0) < highest:
            late += 1
    if late:
        problems.append(f"{late} registrations were ordered before one answered before they were sent")
    return problems


def run(registrations: int, seats: int, workers: int) -> int:
    from app.devserver import free_port, start_embedded_redis

    database, drop = _new_database(os.environ.get("DATABASE_URL", ""))
    children: list[subprocess.Popen] = []
    env = {**os.environ, "TIAOJIE_ENV": "production", "SECRET_KEY": "bench-only-secret-" + "x" * 32,
           "DATABASE_URL": database, "TIAOJIE_VAR_DIR": tempfile.mkdtemp(prefix="tiaojie-bench-var-"),
           # production refuses development settings; nothing is delivered (no worker runs)
           "BASE_URL": "https://bench.tiaojie.invalid", "EMAIL_DELIVERY": "smtp", "SMS_GATEWAY": "http",
           "SMS_GATEWAY_URL": "http://127.0.0.1:9/unused", "SMS_GATEWAY_KEY": "unused",
           "EVENT_REGISTRATIONS_PER_ADDRESS": str(registrations * 10)}  # one client address sends them all
    try:
        if not env.get("REDIS_URL"):
            proc, env["REDIS_URL"] = start_embedded_redis()
            children.append(proc)
        seeded = json.loads(subprocess.run([PY, "-m", "bench.registration.seed", str(seats)], env=env, cwd=ROOT,
                                           check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        port = free_port()
        server_log = open(Path(env["TIAOJIE_VAR_DIR"]) / "server.log", "w")  # its access log, one line a request
        children.append(subprocess.Popen([PY, "-m", "app.cli", "serve", "--port", str(port), "--workers",
                                           str(workers)], env=env, cwd=ROOT, stdout=server_log,
                                          stderr=subprocess.STDOUT))
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base + "/healthz")
        path = f"/o/{seeded['slug']}/events/{seeded['event_id']}"
        started = time.perf_counter()
        results = asyncio.run(_fire(base, path, registrations))
        first = min(r["sent"] for r in results)
        last = max(r["done"] for r in results)
        db = json.loads(subprocess.run([PY, "-m", "bench.registration.check", str(seeded["event_id"])], env=env,
                                       cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip())
        problems = _check(results, db, seats)
        latencies = [(r["done"] - r["sent"]) * 1000 for r in results]
        kind = "PostgreSQL" if database.startswith("postgres") else "SQLite"
        load = os.getloadavg()
        print(f"\n{registrations} registrations at once for {seats} seats, {kind}, {workers} web workers "
              f"(load average 1/5/15 min, after the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})")
        print("| database | registrations/s | p50 ms | p95 ms | p99 ms | max ms | confirmed | waitlisted | errors |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        confirmed = sum(1 for r in db["registrations"] if r["status"] == "confirmed")
        waiting = sum(1 for r in db["registrations"] if r["status"] == "waitlisted")
        errors = sum(1 for r in results if r["status"] != 303)
        print(f"| {kind} | {registrations / (last - first):.0f} | {_pct(latencies, 50):.0f} | {_pct(latencies, 95):.0f} "
              f"| {_pct(latencies, 99):.0f} | {max(latencies):.0f} | {confirmed} | {waiting} | {errors} |")
        print(f"(wall time {last - first:.2f} s; whole run {time.perf_counter() - started:.1f} s)")
        if problems:
            print("FAILED:\n  " + "\n  ".join(problems))
            return 1
        print(f"OK: exactly {seats} confirmed, {registrations - seats} waitlisted in arrival order, 0 errors.")
        return 0
    finally:
        for child in reversed(children):
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        drop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registrations", type=int, default=1000)
    parser.add_argument("--seats", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    return run(args.registrations, args.seats, args.workers)


if __name__ == "__main__":
    sys.exit(main())
