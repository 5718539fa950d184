"""Real processes for the operations tests: servers, workers, databases and a browser-like client."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
TIAOJIE = [PYTHON, "-m", "app.cli"]
SECRET = "ops-test-secret-key-0123456789-abcdefghijklmnop"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_async(coro):
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


# --- databases ------------------------------------------------------------------------------


def pg_server() -> str | None:
    """The PostgreSQL server of this run (TEST_DATABASE_URL), else the machine's, if it answers."""
    import asyncpg

    url = os.environ.get("TEST_DATABASE_URL") or PG_DEFAULT
    if not url.startswith(("postgres://", "postgresql://")):
        url = PG_DEFAULT

    async def ping() -> None:
        conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1), timeout=3)
        await conn.close()

    try:
        run_async(ping())
        return url
    except Exception:  # noqa: BLE001
        return None


def require_pg_server(what: str) -> str:
    """The PostgreSQL server (pg_server()). Without one the test fails under CI (which
    always has one) and elsewhere is skipped saying what went untested."""
    import pytest

    server = pg_server()
    if server is None:
        message = f"PostgreSQL at 127.0.0.1:5432 (or TEST_DATABASE_URL) is unreachable: {what} NOT TESTED"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return server


class PgDatabase:
    """A database created for one test and dropped after it."""

    def __init__(self, server: str, label: str = "ops") -> None:
        self.server = server.replace("postgres://", "postgresql://", 1)
        self.name = f"tiaojie_{label}_{uuid.uuid4().hex[:8]}"
        self.url = self.server.rsplit("/", 1)[0] + "/" + self.name

    async def _admin(self, sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.server)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def create(self) -> "PgDatabase":
        run_async(self._admin(f'CREATE DATABASE "{self.name}"'))
        return self

    def drop(self) -> None:
        run_async(self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


def query(database_url: str, sql: str, *args: Any) -> list[tuple]:
    """Rows of one query, straight from the database (not through the app)."""
    if database_url.startswith("sqlite"):
        path = database_url.split("sqlite:///", 1)[1]
        with sqlite3.connect(path, timeout=30) as conn:
            return conn.execute(sql.replace("$1", "?").replace("$2", "?"), args).fetchall()

    import asyncpg

    async def go() -> list[tuple]:
        conn = await asyncpg.connect(database_url)
        try:
            return [tuple(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    return run_async(go())


# --- processes ------------------------------------------------------------------------------


def tiaojie(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*TIAOJIE, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def production_env(var_dir: Path, database_url: str, redis_url: str, smtp_port: int, sms_url: str,
                   base_url: str = "https://tiaojie.test") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROMETHEUS_", "TEST_"))}
    env.update({
        "TIAOJIE_ENV": "production",
        "SECRET_KEY": SECRET,
        "BASE_URL": base_url,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TIAOJIE_VAR_DIR": str(var_dir),
        "EMAIL_DELIVERY": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMS_GATEWAY": "http",
        "SMS_GATEWAY_URL": sms_url,
        "SMS_GATEWAY_KEY": "test-sms-key",
        "LOG_FORMAT": "json",
    })
    env.pop("TIAOJIE_EMBEDDED_REDIS", None)
    return env


class Service:
    """A long-running child process in its own process group, its output in a log file."""

    def __init__(self, name: str, args: list[str], env: dict, log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_http(self, url: str, timeout: float = 45, want: int = 200) -> None:
        deadline = time.time() + timeout
        while True:
            try:
                if httpx.get(url, timeout=2).status_code == want:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise AssertionError(f"{self.name} did not answer {url}:\n{self.log()[-4000:]}")
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown handlers run."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


def json_lines(text: str) -> list[dict]:
    """Every line of a JSON log; a line that is not JSON fails the caller's assertion."""
    entries = []
    for line in text.splitlines():
        if line.strip():
            entries.append(json.loads(line))
    return entries


# --- a browser-like client --------------------------------------------------------------------


class Visitor:
    """One person's cookies, usable against any of the web servers (like a browser behind
    the proxy): Secure cookies are kept and sent over plain http to the test servers."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}
        self.client = httpx.Client(timeout=10, follow_redirects=False)

    def _remember(self, resp: httpx.Response) -> None:
        for header in resp.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value in ("", "null") or "expires=thu, 01 jan 1970" in header.lower() or "max-age=0" in header.lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value

    def _headers(self) -> dict[str, str]:
        headers = {"Accept-Language": "en"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def get(self, url: str) -> httpx.Response:
        resp = self.client.get(url, headers=self._headers())
        self._remember(resp)
        return resp

    def post(self, url: str, data: dict[str, str]) -> httpx.Response:
        resp = self.client.post(url, data={**data, "_csrf_token": self.cookies.get("tiaojie_csrf", "")},
                                headers=self._headers())
        self._remember(resp)
        return resp

    def login(self, base: str, email: str, password: str) -> httpx.Response:
        self.get(base + "/login")
        return self.post(base + "/login", {"email": email, "password": password})
