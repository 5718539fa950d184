"""CPU time per request of every page, measured inside one process (issue #14).

    .venv/bin/python -m bench.pages.cpu [--requests 300] [--concurrency 8] [--only TEXT]

wrk's requests/s on this shared 2-core host move by 10-30% between runs of the same code
(the ceiling too), which hides changes of that size. This benchmark drives the ASGI app
directly (no HTTP server, no socket, no wrk) on uvloop, as `tiaojie serve` runs it, and
reports the process's CPU time (every thread: the event loop and SQLite's connection
threads) divided by the number of requests: the cost of one page, which is what
requests/s at saturation is the inverse of. Best of three rounds of ``--requests``, with
``--concurrency`` requests in flight. Pages are rendered every time (PAGE_CACHE=off);
signed-in pages are signed in as in bench.pages.

It leaves out what it does not run: HTTP parsing and socket writes (uvicorn), about a
quarter of a millisecond a request here. Uses DATABASE_URL if set (PostgreSQL: its own
database, dropped after), else a fresh SQLite file under var/bench/; REDIS_URL if set,
else an embedded Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator

from bench.pages.__main__ import PY, ROOT, new_database


async def _call(app, path: str, cookie: bytes, method: str = "GET", body: bytes = b"",
                extra: list[tuple[bytes, bytes]] | None = None) -> tuple[int, list, bytes]:
    raw, _sep, query = path.partition("?")
    headers = [(b"host", b"bench.tiaojie.invalid"), (b"user-agent", b"bench-cpu")]
    if cookie:
        headers.append((b"cookie", cookie))
    headers += extra or []
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "https", "path": raw, "raw_path": raw.encode(), "query_string": query.encode(),
             "root_path": "", "headers": headers, "client": ("127.0.0.1", 50000),
             "server": ("127.0.0.1", 443), "state": {}}
    sent: list[dict] = []
    request = {"type": "http.request", "body": body, "more_body": False}

    async def receive() -> dict:
        return request

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], start.get("headers", []), content


async def _sign_in(app, email: str, password: str) -> bytes:
    from urllib.parse import urlencode

    status, headers, content = await _call(app, "/login", b"")
    assert status == 200, status
    token = re.search(rb'name="_csrf_token" value="([^"]+)"', content).group(1).decode()
    cookies = {}
    for name, value in headers:
        if name.lower() == b"set-cookie":
            key, val = value.decode().split(";", 1)[0].split("=", 1)
            cookies[key] = val
    jar = "; ".join(f"{k}={v}" for k, v in cookies.items()).encode()
    form = urlencode({"email": email, "password": password, "_csrf_token": token}).encode()
    status, headers, _content = await _call(app, "/login", jar, "POST", form,
                                            [(b"content-type", b"application/x-www-form-urlencoded")])
    assert status == 303, f"sign-in of {email} answered {status}"
    for name, value in headers:
        if name.lower() == b"set-cookie":
            key, val = value.decode().split(";", 1)[0].split("=", 1)
            cookies[key] = val
    return "; ".join(f"{k}={v}" for k, v in cookies.items()).encode()


async def _resolve(app, path: str) -> str:
    if path.startswith(("FIRST_CARD_OF:", "FIRST_EVENT_OF:")):
        kind, listing = path.split(":", 1)
        _status, _headers, content = await _call(app, listing, b"")
        pattern = rb'href="(/o/[^/"]+/cards/[^/"?]+)"' if kind == "FIRST_CARD_OF" else rb'href="(/o/[^/"]+/events/\d+)"'
        return re.search(pattern, content).group(1).decode()
    return path


async def measure(requests: int, concurrency: int, only: str) -> list[tuple[str, str, int, float, float]]:
    from app.directory.demo import PASSWORD
    from app.main import create_app
    from bench.pages.targets import PUBLIC_PAGES, STAFF_PAGES

    app = create_app()
    results = []
    async with app.lifespan():
        cookies: dict[str, bytes] = {}
        pages = [(label, "", path) for label, path in PUBLIC_PAGES] + list(STAFF_PAGES)
        for label, email, path in pages:
            if only and only not in label and only not in path:
                continue
            if email and email not in cookies:
                cookies[email] = await _sign_in(app, email, PASSWORD)
            cookie = cookies.get(email, b"")
            path = await _resolve(app, path)
            for _ in range(20):  # warm: templates compiled, caches of labels and formats filled
                status, _headers, content = await _call(app, path, cookie)
                if status != 200:
                    raise RuntimeError(f"{path} answered {status}")
            rounds = []
            for _ in range(3):
                cpu, wall = time.process_time(), time.perf_counter()

                async def worker(count: int) -> None:
                    for _ in range(count):
                        await _call(app, path, cookie)

                await asyncio.gather(*(worker(requests // concurrency) for _ in range(concurrency)))
                done = requests // concurrency * concurrency
                rounds.append(((time.process_time() - cpu) * 1000 / done, (time.perf_counter() - wall) * 1000 / done))
            results.append((label, path, len(content), min(r[0] for r in rounds), min(r[1] for r in rounds)))
            print(f"| {label} `{path}` | {len(content) / 1024:.0f} KB | {results[-1][3]:.2f} | {results[-1][4]:.2f} |",
                  flush=True)
    return results


@contextlib.contextmanager
def seeded(name: str) -> Iterator[tuple[dict[str, str], str]]:
    """The environment of a bench child process and its database: DATABASE_URL's server if
    set (a database of its own, with planner statistics, dropped after), else a fresh SQLite
    file; the demo data plus 200 organisations; the page cache off; REDIS_URL or an embedded
    Redis."""
    from app.devserver import start_embedded_redis

    env = dict(os.environ)
    database, drop = new_database(env.get("DATABASE_URL", ""), name)
    children = []
    try:
        if not env.get("REDIS_URL"):
            proc, env["REDIS_URL"] = start_embedded_redis()
            children.append(proc)
        env.update(DATABASE_URL=database, TIAOJIE_ENV="production", PAGE_CACHE="off",
                   SECRET_KEY=env.get("SECRET_KEY", "bench-secret-key-" + "x" * 32))
        env.setdefault("BASE_URL", "https://bench.tiaojie.invalid")
        env.update(EMAIL_DELIVERY="smtp", SMS_GATEWAY="http", SMS_GATEWAY_URL="http://127.0.0.1:9/unused")
        for cmd in (["db", "migrate", "--quiet"], ["demo", "seed"]):
            subprocess.run([PY, "-m", "app.cli", *cmd], env=env, check=True, capture_output=True, cwd=ROOT)
        subprocess.run([PY, "-m", "bench.pages.seed_large"], env=env, check=True, cwd=ROOT)
        if database.startswith("postgres"):
            code = ("import asyncio, asyncpg\nasync def a():\n    c = await asyncpg.connect("
                    f"{database!r})\n    await c.execute('ANALYZE')\n    await c.close()\nasyncio.run(a())\n")
            subprocess.run([PY, "-c", code], check=True, cwd=ROOT)
        yield env, database
    finally:
        for proc in children:
            proc.terminate()
        drop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--only", default="")
    args = parser.parse_args()

    with seeded("cpu") as (env, database):
        # The measuring runs in a child with the bench's environment (settings are read once).
        code = ("import asyncio, sys, uvloop; from bench.pages.cpu import measure; "
                f"uvloop.run(measure({args.requests}, {args.concurrency}, {args.only!r}))")
        kind = "PostgreSQL" if database.startswith("postgres") else "SQLite"
        print(f"\nCPU per request, in one process on uvloop, {kind}, {args.requests} requests x3, "
              f"{args.concurrency} in flight; load average before: {'/'.join(f'{x:.1f}' for x in os.getloadavg())}\n")
        print("| page | size | CPU ms per request | wall ms per request |\n|---|---:|---:|---:|", flush=True)
        # Its log lines (one per request) go to a file, not between the table's rows.
        log = ROOT / "var" / "bench" / "cpu.log"
        with open(log, "w") as errors:
            run = subprocess.run([PY, "-c", code], env=env, cwd=ROOT, stdout=sys.stdout, stderr=errors)
        if run.returncode:
            print(log.read_text()[-3000:], file=sys.stderr)
        return run.returncode


if __name__ == "__main__":
    sys.exit(main())
