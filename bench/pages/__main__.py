"""Page-speed benchmark (issues #3, #14): our pages served the production way vs the
framework's ceiling, under wrk from the same machine.

    .venv/bin/python -m bench.pages [--duration 8] [--connections 64] [--sections ...]

Sections (all by default): ``public`` (each public page from the page cache), ``uncached``
(the same pages from a second server with PAGE_CACHE=off), ``staff`` (signed-in pages,
never cached) and ``mixed`` (mostly public reads across every organisation, some
signed-in reads, a trickle of organisation edits and event registrations: hit rate,
throughput, p99). Each section is compared with the same-size render ceilings measured
in the same run. Any answer that is not a 2xx (or the 303 a form POST answers with)
fails the run.

Uses DATABASE_URL if set (PostgreSQL: its own database, dropped after), else a fresh
SQLite file under var/bench/; REDIS_URL if set, else an embedded Redis. Seeds the demo
data plus a larger network (200 more organisations). Needs `wrk` (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench.pages import mixed

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
SECTIONS = ("public", "uncached", "staff", "mixed")


def wait_ready(url: str, timeout: float = 600) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def load_average() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def wrk(url: str, duration: int, connections: int, headers: dict[str, str] | None = None,
        script: str | None = None) -> dict:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    extra = re.search(r"^MIXED (\{.*\})$", out, re.M)
    return {"rps": rps, "p50": ms("50"), "p99": ms("99"), "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "errors": errors.group(0) if errors else "", "mixed": json.loads(extra.group(1)) if extra else None,
            "load": load_average()}


def status_checker(headers: dict[str, str] | None = None) -> str:
    """A wrk script that counts answers that are not a 2xx (wrk itself lets 3xx pass)."""
    path = Path(tempfile.mkdtemp(prefix="bench-pages-")) / "status.lua"
    path.write_text(mixed.STATUS_LUA)
    return str(path)


def sign_in(base: str, email: str, password: str) -> dict[str, str]:
    """Cookie header and CSRF token of a signed-in session. BASE_URL is https, so the
    cookies are Secure and httpx would not send them over this loopback: by hand."""
    with httpx.Client(base_url=base, timeout=30) as client:
        page = client.get("/login")
        page.raise_for_status()
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
        csrf = re.search(r"tiaojie_csrf=([^;]+)", page.headers["set-cookie"]).group(1)
        client.cookies.clear()
        resp = client.post("/login", data={"email": email, "password": password, "_csrf_token": token},
                           headers={"Cookie": f"tiaojie_csrf={csrf}"}, follow_redirects=False)
        if resp.status_code != 303:
            raise RuntimeError(f"sign-in of {email} answered {resp.status_code}")
        cookies = {"tiaojie_csrf": csrf}
        for header in resp.headers.get_list("set-cookie"):
            name, value = header.split(";", 1)[0].split("=", 1)
            cookies[name] = value
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        return {"cookie": cookie, "token": token}


def form_token(base: str, path: str, cookie: str) -> str:
    page = httpx.get(base + path, headers={"Cookie": cookie}, timeout=30)
    page.raise_for_status()
    return re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)


def resolve(base: str, path: str) -> str:
    if path.startswith("FIRST_CARD_OF:"):
        listing = httpx.get(base + path.split(":", 1)[1], timeout=30).text
        return re.search(r'href="(/o/[^/"]+/cards/[^/"?]+)"', listing).group(1)
    if path.startswith("FIRST_EVENT_OF:"):
        listing = httpx.get(base + path.split(":", 1)[1], timeout=30).text
        return re.search(r'href="(/o/[^/"]+/events/\d+)"', listing).group(1)
    return path


def new_database(base: str, name: str = "bench") -> tuple[str, object]:
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
    db = ROOT / "var" / "bench" / f"{name}.sqlite3"
    db.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    return f"sqlite:///{db}", lambda: None


def row(label: str, r: dict, ceiling: float, target: float | None = None, same: dict | None = None) -> str:
    """A table row: the page's figures, its share of the 20-item ceiling and, with ``same``,
    of a ceiling rendering as many bytes as the page (the target is judged on that one)."""
    share = r["rps"] / ceiling
    bad = " **non-2xx: %d**" % r["non2xx"] if r["non2xx"] else ""
    sized = ""
    if same is not None:
        own = r["rps"] / same["rps"]
        sized = f" {same['kb']:.0f} KB | {same['rps']:.0f} | {own:.0%} |"
        share_for_target = own
    else:
        share_for_target = share
    verdict = ""
    if target is not None:
        verdict = " yes |" if share_for_target >= target and r["p99"] < 100 else " **no** |"
    return (f"| {label} | {r['rps']:.0f}{bad} | {r['p50']:.1f} | {r['p99']:.1f} | {share:.0%} |{sized}{verdict}"
            f" {r['load']} |")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sections", nargs="*", default=list(SECTIONS), choices=SECTIONS)
    parser.add_argument("--only", default="", help="load only pages whose label or path contains this")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2

    from app.devserver import free_port, start_embedded_redis
    from app.directory.demo import PASSWORD
    from bench.pages.targets import PUBLIC_PAGES, STAFF_PAGES

    env = dict(os.environ)
    children: list[subprocess.Popen] = []
    database, drop = new_database(env.get("DATABASE_URL", ""))
    failures: list[str] = []
    try:
        if not env.get("REDIS_URL"):
            proc, env["REDIS_URL"] = start_embedded_redis()
            children.append(proc)
        env["DATABASE_URL"] = database
        env.update(TIAOJIE_ENV="production", SECRET_KEY=env.get("SECRET_KEY", "bench-secret-key-" + "x" * 32))
        # Production start-up refuses development settings (app/ops/checks.py); nothing is sent here.
        env.setdefault("BASE_URL", "https://bench.tiaojie.invalid")
        env.update(EMAIL_DELIVERY="smtp", SMS_GATEWAY="http", SMS_GATEWAY_URL="http://127.0.0.1:9/unused",
                   EVENT_REGISTRATIONS_PER_ADDRESS="100000000")  # one client address registers all
        for cmd in (["db", "migrate", "--quiet"], ["demo", "seed"]):
            subprocess.run([PY, "-m", "app.cli", *cmd], env=env, check=True, capture_output=True, cwd=ROOT)
        subprocess.run([PY, "-m", "bench.pages.seed_large"], env=env, check=True, cwd=ROOT)
        if database.startswith("postgres"):
            # Planner statistics, as autovacuum keeps them on a running database: right after
            # the seed PostgreSQL still assumes one row per table and joined the city's
            # attendance figures by scanning an index per attendee (15-25 ms a statement).
            import asyncpg

            async def analyze() -> None:
                conn = await asyncpg.connect(database)
                try:
                    await conn.execute("ANALYZE")
                finally:
                    await conn.close()

            asyncio.run(analyze())
        slugs = subprocess.run(
            [PY, "-c", "from tenants.tables import Tenant; "
             "print('SLUGS', ' '.join(r['slug'] for r in Tenant.select(Tenant.slug).where(Tenant.active == True).run_sync()))"],
            env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout
        # Only the marked line: the production log (JSON lines) may share stdout.
        slugs = next(line for line in slugs.splitlines() if line.startswith("SLUGS ")).split()[1:]

        # The ceilings: a minimal Litestar route rendering a Jinja list with no database,
        # as many items as the portal lists, and 20 (the size of most of our pages).
        port, nocache_port, ceiling_port, small_port = free_port(), free_port(), free_port(), free_port()
        serve = [PY, "-m", "app.cli", "serve", "--workers", str(args.workers)]
        children.append(subprocess.Popen([*serve, "--port", str(port)], env=env, cwd=ROOT))
        if "uncached" in args.sections:
            children.append(subprocess.Popen([*serve, "--port", str(nocache_port)],
                                             env={**env, "PAGE_CACHE": "off"}, cwd=ROOT))
        for items, listen in ((str(len(slugs)), ceiling_port), ("20", small_port)):
            children.append(subprocess.Popen(
                [PY, "-m", "uvicorn", "bench.pages.ceiling:app", "--port", str(listen), "--workers",
                 str(args.workers), "--log-level", "warning", "--no-access-log", "--timeout-worker-healthcheck", "60"],
                env={**env, "CEILING_ITEMS": items}, cwd=ROOT))
        base, nocache = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{nocache_port}"
        ceiling, small = f"http://127.0.0.1:{ceiling_port}", f"http://127.0.0.1:{small_port}"
        wait_ready(base + "/healthz")
        if "uncached" in args.sections:
            wait_ready(nocache + "/healthz")
        wait_ready(ceiling + "/")
        wait_ready(small + "/")

        d, c = args.duration, args.connections
        checker = status_checker()
        db_kind = "PostgreSQL" if database.startswith("postgres") else "SQLite"
        print(f"\n{args.workers} workers, wrk -t2 -c{c} -d{d}s, {db_kind}, load average before: {load_average()}\n",
              flush=True)
        big_ceiling = wrk(ceiling + "/", d, c)
        small_ceiling = wrk(small + "/", d, c)
        print(f"| reference | requests/s | p50 ms | p99 ms | load average (1/5/15 min) |\n|---|---:|---:|---:|---|\n"
              f"| ceiling: Litestar + Jinja, {len(slugs)} items, no database | {big_ceiling['rps']:.0f} "
              f"| {big_ceiling['p50']:.1f} | {big_ceiling['p99']:.1f} | {big_ceiling['load']} |\n"
              f"| small ceiling: the same, 20 items | {small_ceiling['rps']:.0f} | {small_ceiling['p50']:.1f} "
              f"| {small_ceiling['p99']:.1f} | {small_ceiling['load']} |\n", flush=True)
        top = small_ceiling["rps"]

        # A ceiling of the page's own size: the ceiling's list with as many items as make
        # the same number of bytes (measured once per size, 8 sizes per doubling).
        empty_size = len(httpx.get(small + "/sized/0", timeout=30).content)
        per_item = (len(httpx.get(small + "/sized/100", timeout=30).content) - empty_size) / 100
        same_size_runs: dict[int, dict] = {}

        def same_size(size: int) -> dict:
            n = max(0, round((size - empty_size) / per_item))
            if n > 8:  # round to 8 steps per doubling: pages of nearly one size share a run
                step = 2 ** (n.bit_length() - 4)
                n = round(n / step) * step
            if n not in same_size_runs:
                ceiling_run = wrk(f"{small}/sized/{n}", d, c)
                same_size_runs[n] = {"rps": ceiling_run["rps"], "kb": (empty_size + n * per_item) / 1024}
            return same_size_runs[n]

        def check(label: str, r: dict) -> dict:
            if r["non2xx"] or r["errors"] and "timeout" in r["errors"] and not r["errors"].endswith("timeout 0"):
                failures.append(f"{label}: {r['non2xx']} answers not 2xx; {r['errors']}")
            return r

        def selected(*texts: str) -> bool:
            return not args.only or any(args.only in t for t in texts)

        public = [(label, resolve(base, path)) for label, path in PUBLIC_PAGES]
        header = ("| page | requests/s | p50 ms | p99 ms | of the 20-item ceiling |{} load average |\n"
                  "|---|---:|---:|---:|---:|{}---|")
        sized_header = header.format(" page size | same-size ceiling requests/s | of the same-size ceiling |"
                                     " ≥ 25% of it and p99 < 100 ms |", "---:|---:|---:|:---:|")
        if "public" in args.sections:
            print("Public pages, **from the page cache** (a cache hit; the event detail is never cached):\n")
            print(header.format("", ""))
            for label, path in public:
                if not selected(label, path):
                    continue
                httpx.get(base + path, timeout=30).raise_for_status()
                r = check(label, wrk(base + path, d, c, script=checker))
                cached = "(not cached)" if "never cached" in label else "(cache hit)"
                print(row(f"{label} `{path}` {cached}", r, top), flush=True)
            print()
        if "uncached" in args.sections:
            print("Public pages **rendered every time** (PAGE_CACHE=off):\n")
            print(sized_header)
            for label, path in public:
                if not selected(label, path):
                    continue
                first = httpx.get(nocache + path, timeout=30)
                first.raise_for_status()
                r = check(label, wrk(nocache + path, d, c, script=checker))
                print(row(f"{label} `{path}`", r, top, 0.25, same_size(len(first.content))), flush=True)
            print()
        sessions: dict[str, dict[str, str]] = {}
        if "staff" in args.sections:
            print("Signed-in pages (never cached):\n")
            print(sized_header)
            for label, email, path in STAFF_PAGES:
                if not selected(label, path):
                    continue
                session = sessions.get(email) or sessions.setdefault(email, sign_in(base, email, PASSWORD))
                cookie = {"Cookie": session["cookie"]}
                first = httpx.get(base + path, headers=cookie, timeout=30)
                if first.status_code != 200:
                    failures.append(f"{label}: {first.status_code} before the run")
                    continue
                r = check(label, wrk(base + path, d, c, headers=cookie, script=checker))
                print(row(f"{label} `{path}`", r, top, 0.25, same_size(len(first.content))), flush=True)
            print()
        if "mixed" in args.sections:
            event_path = next(p for label, p in public if "event detail" in label)
            r = run_mixed(base, slugs, event_path, d, c, PASSWORD)
            m = r["mixed"]
            print("Mixed run: " + mixed.DESCRIPTION + "\n")
            print("| requests/s | p50 ms | p99 ms | public page-cache hit rate | public reads | signed-in reads "
                  "| edits | registrations | not 2xx/303 | load average |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
            hit_rate = m["hits"] / max(1, m["public"])
            print(f"| {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {hit_rate:.0%} | {m['public']} | {m['staff']} "
                  f"| {m['edit']} | {m['register']} | {m['bad']} | {r['load']} |\n")
            if m["bad"] or m["redirects"] > m["edit"] + m["register"]:
                failures.append(f"mixed: {m['bad']} answers not 2xx or 303, statuses {m['statuses']}; "
                                f"{m['redirects']} redirects for {m['edit'] + m['register']} POSTs")
        for failure in failures:
            print("FAILED:", failure)
        return 1 if failures else 0
    finally:
        # Servers first, Redis (the first child, if embedded) last.
        for child in reversed(children):
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        drop()


def run_mixed(base: str, slugs: list[str], event_path: str, duration: int, connections: int, password: str) -> dict:
    from app.directory.demo import org_admin_email

    manage = ["/manage/chengdong/", "/manage/chengdong/events", "/manage/chengdong/feedback"]
    readers = [{"cookie": sign_in(base, email, password)["cookie"], "paths": paths}
               for email, paths in (("chengdong.admin@demo.tiaojie.cn", manage),
                                    ("chengdong.staff@demo.tiaojie.cn", manage),
                                    ("city.admin@demo.tiaojie.cn", ["/city/", "/city/events", "/city/feedback"]))]
    editors = []
    for slug in ("haian-jiedao", "sunzhuang", "kaifaqu", "qutang", "libao"):
        if slug not in slugs:
            continue
        session = sign_in(base, org_admin_email(slug), password)
        token = form_token(base, f"/manage/{slug}/settings", session["cookie"])
        editors.append({"slug": slug, "cookie": session["cookie"], "token": token})
    if not editors:  # the demo's district slugs changed: edit the featured organisation
        session = sign_in(base, "chengdong.admin@demo.tiaojie.cn", password)
        editors.append({"slug": "chengdong", "cookie": session["cookie"],
                        "token": form_token(base, "/manage/chengdong/settings", session["cookie"])})
    visitor = httpx.get(base + event_path, timeout=30)
    visitor.raise_for_status()
    register = {
        "path": event_path + "/register",
        "token": re.search(r'name="_csrf_token" value="([^"]+)"', visitor.text).group(1),
        "cookie": "tiaojie_csrf=" + re.search(r"tiaojie_csrf=([^;]+)", visitor.headers["set-cookie"]).group(1),
    }
    script = Path(tempfile.mkdtemp(prefix="bench-mixed-")) / "mixed.lua"
    script.write_text(mixed.lua(slugs, readers, editors, register))
    return wrk(base + "/", duration, connections, script=str(script))


if __name__ == "__main__":
    sys.exit(main())
