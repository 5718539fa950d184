"""Submission benchmark of the feedback mailbox: anonymous messages POSTed to the public
form of the demo's district centers, served the production way, under wrk.

    .venv/bin/python -m bench.feedback [--duration 10] [--connections 16] [--workers 2]

Then it loads the form page itself, from the page cache and (a new query string
each time) rendered on every request.

Each request is a whole submission (CSRF check, validation, spam limits counted in
Redis, the item, its access row and history, outbox rows for the staff, the receipt
page); each carries its own form token, so none is a duplicate. The spam limits are
raised for the run (every request comes from 127.0.0.1). Afterwards the database must
hold exactly one item per answered request, and every answer must be a 200: the
benchmark fails otherwise. SQLite by default (a new file); with DATABASE_URL set to a
PostgreSQL server it creates and drops its own database there. Needs `wrk`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx

from bench.pages.__main__ import wait_ready

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
MESSAGE = ("我在城东工业园一家电子厂做普工，九月和十月的工资到现在还没发，厂里说等客户回款。"
           "我们车间有二十多个人都是这种情况，请问应该怎么办？能不能帮我们和厂里协商？") * 2

LUA = r"""
local slugs = {%(slugs)s}
local counter = 0
local id = 0
function setup(thread)
  thread:set("id", tostring(math.random(1, 1000000000)) .. "-" .. tostring(os.time()))
end
function init(args)
  id = wrk.thread:get("id")
end
request = function()
  counter = counter + 1
  local body = "_csrf_token=%(token)s&category=wage_arrears&identity=anonymous&form_token=" .. id .. "-" .. counter
            .. "&message=%(message)s"
  local path = "/o/" .. slugs[(counter %% #slugs) + 1] .. "/feedback"
  return wrk.format("POST", path, {["Content-Type"] = "application/x-www-form-urlencoded",
                                    ["Cookie"] = "tiaojie_csrf=%(token)s"}, body)
end
"""


# Every request a new query string: each one misses the public page cache.
UNCACHED_LUA = r"""
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/o/chengdong/feedback?nocache=" .. counter)
end
"""


def new_database(base: str) -> tuple[str, object]:
    if base.startswith(("postgres://", "postgresql://")):
        import asyncpg

        name = f"tiaojie_bench_fb_{uuid.uuid4().hex[:8]}"
        admin = base.replace("postgres://", "postgresql://", 1)

        async def run(sql: str) -> None:
            conn = await asyncpg.connect(admin)
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        asyncio.run(run(f'CREATE DATABASE "{name}"'))
        return admin.rsplit("/", 1)[0] + "/" + name, lambda: asyncio.run(run(f'DROP DATABASE "{name}" WITH (FORCE)'))
    path = Path(tempfile.mkdtemp(prefix="tiaojie-bench-fb-")) / "bench.sqlite3"
    return f"sqlite:///{path}", lambda: None


def run_wrk(url: str, script: Path | None, duration: int, connections: int) -> dict[str, object]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "30s", "--latency", url]
    if script is not None:
        cmd[-1:-1] = ["-s", str(script)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {"requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": ms("50"), "p99": ms("99"), "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "errors": errors.group(0) if errors else "", "raw": out}


def count_items(env: dict[str, str]) -> int:
    code = ("from app.feedback.tables import FeedbackItem; from tenants.scope import unscoped\n"
            "with unscoped('bench'): print(FeedbackItem.count().run_sync())")
    return int(subprocess.run([PY, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2

    from app.devserver import free_port, start_embedded_redis
    from app.directory.demo import DISTRICTS

    env = dict(os.environ)
    children: list[subprocess.Popen] = []
    database_url, drop = new_database(env.get("DATABASE_URL", "sqlite"))
    try:
        if not env.get("REDIS_URL"):
            proc, env["REDIS_URL"] = start_embedded_redis()
            children.append(proc)
        env.update(TIAOJIE_ENV="production", SECRET_KEY="bench-only-secret", DATABASE_URL=database_url,
                   TIAOJIE_VAR_DIR=tempfile.mkdtemp(prefix="tiaojie-bench-var-"),
                   FEEDBACK_MAX_PER_ADDRESS="1000000000", FEEDBACK_MAX_PER_TENANT="1000000000")
        for cmd in (["db", "migrate", "--quiet"], ["demo", "seed"]):
            subprocess.run([PY, "-m", "app.cli", *cmd], env=env, check=True, capture_output=True, cwd=ROOT)
        before = count_items(env)
        port = free_port()
        children.append(subprocess.Popen(
            [PY, "-m", "app.cli", "serve", "--port", str(port), "--workers", str(args.workers)], env=env, cwd=ROOT))
        base = f"http://127.0.0.1:{port}"
        wait_ready(base + "/healthz")
        form = httpx.get(base + "/o/chengdong/feedback")
        form.raise_for_status()
        token = form.cookies["tiaojie_csrf"]
        slugs = [slug for slug, _district, _road in DISTRICTS]
        script = Path(tempfile.mkdtemp(prefix="tiaojie-bench-wrk-")) / "submit.lua"
        script.write_text(LUA % {"slugs": ", ".join(f'"{s}"' for s in slugs), "token": token,
                                 "message": quote(MESSAGE)})
        result = run_wrk(base, script, args.duration, args.connections)
        stored = count_items(env) - before
        uncached_script = script.with_name("uncached.lua")
        uncached_script.write_text(UNCACHED_LUA)
        form_cached = run_wrk(base + "/o/chengdong/feedback", None, args.duration, args.connections)
        form_uncached = run_wrk(base, uncached_script, args.duration, args.connections)
        db_kind = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
        load = os.getloadavg()
        print(f"\n{db_kind}, {args.workers} workers, wrk -t2 -c{args.connections} -d{args.duration}s, "
              f"{len(slugs)} mailboxes, a {len(MESSAGE)}-character message\n")
        print("| submissions/s | p50 ms | p99 ms | requests | stored | non-2xx | socket errors |")
        print("|---:|---:|---:|---:|---:|---:|---|")
        print(f"| {result['rps']:.0f} | {result['p50']:.1f} | {result['p99']:.1f} | {result['requests']} | {stored} "
              f"| {result['non2xx']} | {result['errors'] or 'none'} |")
        print("\n| the form page `/o/chengdong/feedback` | requests/s | p50 ms | p99 ms | non-2xx |")
        print("|---|---:|---:|---:|---:|")
        for label, r in (("from the page cache (per-visitor tokens put in)", form_cached),
                         ("rendered every time (cache missed)", form_uncached)):
            print(f"| {label} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['non2xx']} |")
        print(f"\nload average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        # wrk counts a request only once its answer arrived; one cut off at the end may be stored, not counted.
        ok = (result["non2xx"] == 0 and not result["errors"]
              and result["requests"] <= stored <= result["requests"] + args.connections
              and form_cached["non2xx"] == form_uncached["non2xx"] == 0)
        if not ok:
            print("FAILED: every submission must be answered 200 and stored exactly once", file=sys.stderr)
            print(result["raw"], file=sys.stderr)
        return 0 if ok else 1
    finally:
        for child in reversed(children):
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        drop()


if __name__ == "__main__":
    sys.exit(main())
