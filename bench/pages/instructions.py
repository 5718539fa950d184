"""Instructions per request of every page, counted by valgrind's callgrind (issue #14).

    .venv/bin/python -m bench.pages.instructions [--requests 40] [--only TEXT[,TEXT...]]

CPU time per request (bench.pages.cpu) moved by up to 40% between runs of the same code on
this shared host. callgrind counts the instructions the process executes (every thread: the
event loop and SQLite's connection threads), which do not depend on what else the machine
is doing: the same code gives the same count to within a few per cent, so a change of 5% is
visible. It is a count, not a time: an instruction that waits on memory counts as one, and
PostgreSQL's own work happens in its server, outside the count.

Each page runs in a child process under ``valgrind --tool=callgrind --instr-atstart=no``:
start-up, sign-in and 30 warming requests run uninstrumented, then counting is switched on
(``callgrind_control -i on``) for ``--requests`` requests, 8 in flight, and off again.
Needs valgrind (``apt-get install valgrind``); about 40 s a page. Uses DATABASE_URL if set
(its own database, dropped after), else a fresh SQLite file under var/bench/.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys

from bench.pages.__main__ import PY, ROOT
from bench.pages.cpu import seeded

CHILD = """
import asyncio, os, subprocess, sys, uvloop
from bench.pages.cpu import _call, _resolve, _sign_in

async def main(path, email, requests):
    from app.directory.demo import PASSWORD
    from app.main import create_app
    app = create_app()
    async with app.lifespan():
        cookie = await _sign_in(app, email, PASSWORD) if email else b""
        path = await _resolve(app, path)
        for _ in range(30):
            status, _headers, content = await _call(app, path, cookie)
            if status != 200:
                raise SystemExit(f"{path} answered {status}")
        subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)

        async def worker(count):
            for _ in range(count):
                await _call(app, path, cookie)

        await asyncio.gather(*(worker(requests // 8) for _ in range(8)))
        subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)
        print("SIZE", len(content), path)

uvloop.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


def count(env: dict[str, str], path: str, email: str, requests: int) -> tuple[float, int, str]:
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null",
         PY, "-c", CHILD, path, email, str(requests)],
        env=env, cwd=ROOT, capture_output=True, text=True)
    collected = re.search(r"Collected : (\d+)", run.stderr)
    size = re.search(r"^SIZE (\d+) (\S+)", run.stdout, re.M)
    if run.returncode or not collected or not size:
        raise RuntimeError(f"{path}: exit {run.returncode}\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    return int(collected.group(1)) / (requests // 8 * 8), int(size.group(1)), size.group(2)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--only", default="", help="pages whose label or path contains one of these (comma-separated)")
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        print("valgrind is needed: apt-get install valgrind", file=sys.stderr)
        return 2

    from bench.pages.targets import PUBLIC_PAGES, STAFF_PAGES

    with seeded("instructions") as (env, database):
        kind = "PostgreSQL" if database.startswith("postgres") else "SQLite"
        print(f"\nInstructions per request (callgrind, every thread of the process), {kind}, "
              f"{args.requests} requests, 8 in flight\n")
        print("| page | size | million instructions per request |\n|---|---:|---:|", flush=True)
        pages = [(label, "", path) for label, path in PUBLIC_PAGES] + list(STAFF_PAGES)
        for label, email, path in pages:
            if args.only and not any(o in label or o in path for o in args.only.split(",")):
                continue
            per_request, size, resolved = count(env, path, email, args.requests)
            print(f"| {label} `{resolved}` | {size / 1024:.0f} KB | {per_request / 1e6:.2f} |", flush=True)
        return 0


if __name__ == "__main__":
    sys.exit(main())
