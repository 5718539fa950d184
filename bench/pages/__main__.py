"""Page-speed benchmark (issue #3): our public pages served the production way vs
the framework's ceiling, under wrk from the same machine.

    .venv/bin/python -m bench.pages [--duration 10] [--connections 64]

Uses DATABASE_URL if set (PostgreSQL), else a fresh SQLite file under var/bench/;
REDIS_URL if set, else an embedded Redis. Seeds the demo data plus a larger
network (200 more organisations). Needs `wrk` (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


def wait_ready(url: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def wrk(url: str, duration: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url],
        capture_output=True, text=True, check=True,
    ).stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {"rps": rps, "p50": ms("50"), "p99": ms("99"), "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "errors": errors.group(0) if errors else ""}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2

    from app.devserver import free_port, start_embedded_redis

    env = dict(os.environ)
    children: list[subprocess.Popen] = []
    try:
        if not env.get("REDIS_URL"):
            proc, env["REDIS_URL"] = start_embedded_redis()
            children.append(proc)
        if not env.get("DATABASE_URL"):
            db = ROOT / "var" / "bench" / "bench.sqlite3"
            db.parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("", "-wal", "-shm"):
                Path(str(db) + suffix).unlink(missing_ok=True)
            env["DATABASE_URL"] = f"sqlite:///{db}"
        env.update(TIAOJIE_ENV="production", SECRET_KEY=env.get("SECRET_KEY", "bench-secret-key-" + "x" * 32))
        # Production start-up refuses development settings (app/ops/checks.py); nothing is sent here.
        env.setdefault("BASE_URL", "https://bench.tiaojie.invalid")
        env.update(EMAIL_DELIVERY="smtp", SMS_GATEWAY="http", SMS_GATEWAY_URL="http://127.0.0.1:9/unused")
        for cmd in (["db", "migrate", "--quiet"], ["demo", "seed"]):
            subprocess.run([PY, "-m", "app.cli", *cmd], env=env, check=True, capture_output=True)
        subprocess.run([PY, "-m", "bench.pages.seed_large"], env=env, check=True, cwd=ROOT)

        # The ceiling renders as many items as the unfiltered portal lists.
        count = subprocess.run(
            [PY, "-c", "from tenants.tables import Tenant; "
             "print(Tenant.count().where(Tenant.active == True).run_sync())"],
            env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        env["CEILING_ITEMS"] = count
        port, ceiling_port = free_port(), free_port()
        children.append(subprocess.Popen(
            [PY, "-m", "app.cli", "serve", "--port", str(port), "--workers", str(args.workers)], env=env, cwd=ROOT))
        small_port = free_port()
        for ceiling_env, listen in ((env, ceiling_port), ({**env, "CEILING_ITEMS": "20"}, small_port)):
            children.append(subprocess.Popen(
                [PY, "-m", "uvicorn", "bench.pages.ceiling:app", "--port", str(listen), "--workers",
                 str(args.workers), "--log-level", "warning", "--no-access-log"], env=ceiling_env, cwd=ROOT))
        base, ceiling = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{ceiling_port}"
        small = f"http://127.0.0.1:{small_port}"
        wait_ready(base + "/healthz")
        wait_ready(ceiling + "/")
        wait_ready(small + "/")

        from bench.pages.targets import PUBLIC_PAGES

        results = [(f"ceiling (Litestar + Jinja, {count} items, no database)", wrk(ceiling + "/", args.duration, args.connections))]
        small_ceiling = wrk(small + "/", args.duration, args.connections)
        for label, path in PUBLIC_PAGES:
            if path.startswith("FIRST_CARD_OF:"):
                listing = httpx.get(base + path.split(":", 1)[1]).text
                path = re.search(r'href="(/o/[^/"]+/cards/[^/"?]+)"', listing).group(1)
            if path.startswith("FIRST_EVENT_OF:"):
                listing = httpx.get(base + path.split(":", 1)[1]).text
                path = re.search(r'href="(/o/[^/"]+/events/\d+)"', listing).group(1)
            httpx.get(base + path).raise_for_status()
            results.append((f"{label} `{path}`", wrk(base + path, args.duration, args.connections)))
        top = results[0][1]["rps"]
        db_kind = "PostgreSQL" if env["DATABASE_URL"].startswith("postgres") else "SQLite"
        print(f"\n{args.workers} workers, wrk -t2 -c{args.connections} -d{args.duration}s, {db_kind}\n")
        print("| page | requests/s | p50 ms | p99 ms | ours/ceiling | ours/small ceiling |")
        print("|---|---:|---:|---:|---:|---:|")
        for label, r in results:
            flag = " (non-2xx: %d)" % r["non2xx"] if r["non2xx"] else ""
            print(f"| {label} | {r['rps']:.0f}{flag} | {r['p50']:.1f} | {r['p99']:.1f} | {r['rps'] / top:.0%} "
                  f"| {r['rps'] / small_ceiling['rps']:.0%} |")
        print(f"\nSmall ceiling (20 items): {small_ceiling['rps']:.0f} requests/s, p50 {small_ceiling['p50']:.1f} ms, "
              f"p99 {small_ceiling['p99']:.1f} ms.")
        return 0
    finally:
        # Servers first, Redis (the first child, if embedded) last.
        for child in reversed(children):
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


if __name__ == "__main__":
    sys.exit(main())
