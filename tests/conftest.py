"""Test harness: a fresh database (SQLite file, or a new PostgreSQL database when
TEST_DATABASE_URL is set) and Redis (an embedded Valkey, or TEST_REDIS_URL).

Environment is fixed here, before any application module is imported, because
the Piccolo engine is chosen at import time.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from tests.support import World, redis_sync

ROOT = Path(__file__).resolve().parent.parent
_TMP = Path(tempfile.mkdtemp(prefix="tiaojie-test-"))
atexit.register(shutil.rmtree, _TMP, True)


def run_async(coro):
    """Run a coroutine to completion from sync code, whatever loop is running here."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _start_valkey() -> str:
    from app.devserver import start_embedded_redis

    proc, url = start_embedded_redis()
    atexit.register(proc.kill)
    return url


def _create_pg_database(base_url: str) -> str:
    import asyncpg

    name = f"tiaojie_test_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        conn = await asyncpg.connect(base_url.replace("postgres://", "postgresql://", 1))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(base_url.replace("postgres://", "postgresql://", 1))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    run_async(create())  # may be called while Playwright's loop runs (live_server)
    atexit.register(lambda: asyncio.run(drop()))  # no loop runs at exit
    prefix = base_url.rsplit("/", 1)[0]
    return f"{prefix}/{name}"


def new_database_url(label: str) -> str:
    """A new, empty database of the kind this run uses."""
    base = os.environ.get("TEST_DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        return _create_pg_database(base)
    return f"sqlite:///{_TMP / (label + '.sqlite3')}"


os.environ["TIAOJIE_ENV"] = "test"
os.environ["TIAOJIE_VAR_DIR"] = str(_TMP / "var")
os.environ["SECRET_KEY"] = "test-secret-key-not-for-production"
os.environ["DATABASE_URL"] = new_database_url("main")
REDIS_BASE = os.environ.get("TEST_REDIS_URL") or _start_valkey()
# Database 0 of the embedded server, or the given one, for in-process tests;
# the live server of browser tests gets its own database number.
os.environ["REDIS_URL"] = REDIS_BASE
os.environ.pop("BASE_URL", None)

from app.cli import migrate  # noqa: E402  (after the environment is set)
asyncio.run(migrate(quiet=True))


def _all_tables():
    from piccolo.conf.apps import Finder

    return Finder().get_table_classes()


@functools.cache
def _wipe_sql() -> str:
    """DELETE every table, children before parents, as one script."""
    from piccolo.table import sort_table_classes

    tables = sort_table_classes(_all_tables())
    return "".join(f'DELETE FROM "{t._meta.tablename}";' for t in reversed(tables))


def _wipe_tables() -> None:
    """Empty every table on one connection in one transaction (a query per table
    through the app's engine costs a connection each on PostgreSQL)."""
    script = _wipe_sql()
    url = os.environ["DATABASE_URL"]
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url.split("sqlite:///", 1)[1], timeout=30, isolation_level=None)
        try:
            conn.executescript("BEGIN IMMEDIATE;" + script + "COMMIT;")
        finally:
            conn.close()
        return

    async def wipe() -> None:
        import asyncpg

        conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
        try:
            async with conn.transaction():
                await conn.execute(script)
        finally:
            await conn.close()

    run_async(wipe())


@pytest.fixture(autouse=True)
def clean_state(request):
    """Every test starts with empty tables and an empty Redis database.

    Browser tests use the live server's own database, seeded once, and skip this."""
    yield
    if request.node.get_closest_marker("browser"):
        return
    _wipe_tables()
    redis_sync().flushdb()


@pytest.fixture(scope="session", autouse=True)
async def database_pool():
    """The test loop's own pool (PostgreSQL; SQLite's pool serves every loop).

    Fixtures and assertions query on this loop; the app under the test client runs on
    the client's loop and starts a pool of its own there."""
    from app.db import start_db, stop_db

    await start_db()
    yield
    try:
        await stop_db()
    except RuntimeError:  # the session ends while Playwright's loop runs in this thread
        pass


@pytest.fixture
async def client():
    from litestar.testing import AsyncTestClient

    from app.main import create_app

    # English by default so assertions read naturally; Chinese is tested explicitly.
    async with AsyncTestClient(app=create_app(), base_url="http://testserver.local") as c:
        c.headers["Accept-Language"] = "en"
        yield c


@pytest.fixture
async def world() -> World:
    return await World().build()


# --- a real server for browser tests ------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_LIVE: dict[str, str] = {}


@pytest.fixture(scope="session")
def live_database(live_server) -> str:
    """The live server's database URL, for a browser test that reads what the server wrote
    where no page shows it (a secret link sent by message)."""
    return _LIVE["database_url"]


@pytest.fixture(scope="session")
def live_server():
    """The app served by uvicorn on the demo data, in its own database."""
    import httpx

    env = dict(os.environ)
    env["DATABASE_URL"] = _LIVE["database_url"] = new_database_url("live")
    env["REDIS_URL"] = REDIS_BASE.rsplit("/", 1)[0] + "/" + str(int(REDIS_BASE.rsplit("/", 1)[1] or 0) + 1)
    redis_sync(env["REDIS_URL"]).flushdb()
    port = _free_port()
    python = sys.executable
    for args in (["db", "migrate", "--quiet"], ["demo", "seed"]):
        subprocess.run([python, "-m", "app.cli", *args], env=env, cwd=ROOT, check=True, capture_output=True)
    log = open(_TMP / "live_server.log", "w")
    proc = subprocess.Popen(
        [python, "-m", "uvicorn", "app.main:create_app", "--factory", "--port", str(port), "--log-level", "warning"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120  # a loaded 2-core machine (parallel test runs) can take a while to import the app
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code in (200, 503):
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            log.flush()
            raise RuntimeError("live server did not start:\n" + (_TMP / "live_server.log").read_text())
        time.sleep(0.2)
    yield base
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    from tests.quality import CHROMIUM_ARGS, require_chromium

    return {**browser_type_launch_args, "executable_path": require_chromium(), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # The people we build for browse in Chinese (Accept-Language: zh-CN).
    return {**browser_context_args, "locale": "zh-CN"}


def pytest_collection_modifyitems(config, items):
    """Browser tests run last: Playwright's sync API keeps an event loop running
    for the rest of the session, which async tests cannot share."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
