"""Database engine selection and transactions (SQLite file or PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator
from urllib.parse import urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType, dict_factory

import aiosqlite

from app.core import piccolo_speed

piccolo_speed.apply()


class _ConnectionPool:
    """Open SQLite connections kept for statements outside a transaction.

    An aiosqlite connection runs its statements on a thread of its own and answers
    on whichever event loop asked, so the pool serves every loop of the process
    (tests drive the app from a second loop); a lock guards it across threads.
    Each connection is used by one statement at a time. When all are busy, a caller
    waits for the next one released, in order of arrival."""

    def __init__(self, engine: "PooledSQLiteEngine", size: int) -> None:
        self.engine = engine
        self.size = size
        self.idle: list[aiosqlite.Connection] = []
        self.opened = 0
        self.waiters: deque[asyncio.Future] = deque()
        self.lock = threading.Lock()

    async def _open(self) -> aiosqlite.Connection:
        connection = aiosqlite.connect(**self.engine.connection_kwargs)
        # Idle connections must not keep the process alive at exit (WAL: a reader
        # killed at exit loses nothing); stop_db() closes them on a clean shutdown.
        connection._thread.daemon = True
        try:
            await connection
            connection.row_factory = dict_factory  # type: ignore[assignment]
            await connection.execute("PRAGMA foreign_keys = 1")
        except BaseException:
            with self.lock:
                self.opened -= 1
            raise
        return connection

    async def acquire(self) -> aiosqlite.Connection:
        with self.lock:
            if self.idle:
                return self.idle.pop()
            if self.opened < self.size:
                self.opened += 1
                waiter = None
            else:
                waiter = asyncio.get_running_loop().create_future()
                self.waiters.append(waiter)
        if waiter is None:
            return await self._open()
        try:
            return await waiter
        except asyncio.CancelledError:
            with self.lock:
                if waiter in self.waiters:
                    self.waiters.remove(waiter)
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.release(waiter.result())  # handed over just as we were cancelled
            raise

    def release(self, connection: aiosqlite.Connection) -> None:
        with self.lock:
            while self.waiters:
                waiter = self.waiters.popleft()
                if not waiter.done():
                    waiter.get_loop().call_soon_threadsafe(_hand_over, waiter, connection, self)
                    return
            self.idle.append(connection)

    def discard(self, connection: aiosqlite.Connection) -> None:
        """A connection in an unknown state (a statement cancelled midway): close it."""
        with self.lock:
            self.opened -= 1
            waiter = None
            while self.waiters and waiter is None:
                candidate = self.waiters.popleft()
                if not candidate.done():
                    waiter = candidate
            if waiter is not None:
                self.opened += 1
        connection.stop()
        if waiter is not None:  # it waited for a connection: it may open one now
            waiter.get_loop().call_soon_threadsafe(_open_for, waiter, self)

    async def close(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
            self.opened -= len(idle)
        for connection in idle:
            await connection.close()


def _hand_over(waiter: asyncio.Future, connection: aiosqlite.Connection, pool: _ConnectionPool) -> None:
    if waiter.done():  # cancelled meanwhile: the next one gets it
        pool.release(connection)
    else:
        waiter.set_result(connection)


def _open_for(waiter: asyncio.Future, pool: _ConnectionPool) -> None:
    async def run() -> None:
        try:
            connection = await pool._open()
        except BaseException as exc:  # noqa: BLE001
            if not waiter.done():
                waiter.set_exception(exc)
            return
        _hand_over(waiter, connection, pool)

    asyncio.ensure_future(run())


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine opens a new connection (a thread, the file, the schema)
    for every statement outside a transaction; this one keeps a few open and reuses
    them. Transactions still get a connection of their own, so BEGIN IMMEDIATE and
    its busy wait work as before; a statement outside a transaction commits at once,
    as with Piccolo's engine."""

    __slots__ = ("pool",)

    def __init__(self, path: str, pool_size: int = 4, **kwargs) -> None:
        super().__init__(path=path, **kwargs)
        self.pool = _ConnectionPool(self, pool_size)

    async def get_connection(self) -> aiosqlite.Connection:
        """A transaction's own connection. Its thread is a daemon, like the pool's: a
        transaction cancelled at shutdown (arq cancels running jobs on SIGTERM) must not
        keep the process from exiting; SQLite rolls back what was never committed."""
        connection = aiosqlite.connect(**self.connection_kwargs)
        connection._thread.daemon = True
        await connection
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")
        return connection

    async def _run_in_new_connection(self, query: str, args=None, query_type: str = "generic", table=None):
        connection = await self.pool.acquire()
        try:
            if query_type == "insert" and self.get_version_sync() < 3.35:  # no RETURNING
                assert table is not None
                async with connection.execute(query, args or []) as cursor:
                    rows = [{table._meta.primary_key._meta.db_column_name: await self._get_inserted_pk(cursor, table)}]
            else:
                # One hop to the connection's thread: execute and fetch there.
                rows = list(await connection.execute_fetchall(query, args or []))
            if connection.in_transaction:  # a write outside a transaction: commit it now
                await connection.commit()
        except BaseException as exc:
            if isinstance(exc, Exception) and not connection.in_transaction:
                self.pool.release(connection)  # an SQL error: the connection is fine
            else:
                self.pool.discard(connection)
            raise
        self.pool.release(connection)
        return rows


class LoopPooledPostgresEngine(PostgresEngine):
    """PostgreSQL with one connection pool per event loop.

    asyncpg's connections belong to the loop that opened them. A server or a worker
    runs on one loop and has one pool; the tests drive the app on a second loop (the
    test client's) while fixtures query on a third. Each loop that started a pool
    uses its own; a loop without one opens a connection per query, as Piccolo does
    with no pool at all."""

    def __init__(self, *args, **kwargs) -> None:
        self._pools: dict[asyncio.AbstractEventLoop, object] = {}
        super().__init__(*args, **kwargs)

    @staticmethod
    def _loop() -> asyncio.AbstractEventLoop | None:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            return None

    @property  # type: ignore[override]
    def pool(self):
        loop = self._loop()
        return self._pools.get(loop) if loop is not None else None

    @pool.setter
    def pool(self, value) -> None:
        loop = self._loop()
        if loop is None:
            return  # Piccolo's __init__ (no loop yet, no pool)
        if value is None:
            self._pools.pop(loop, None)
        else:
            self._pools[loop] = value


def engine_from_url(url: str) -> Engine:
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative/or/absolute path (three slashes, then the path)
        path = url.split("sqlite:///", 1)[1] if "sqlite:///" in url else parsed.path
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # aiosqlite logs every statement with its parameters at DEBUG: messages and
        # phone numbers must not reach a log, whatever level someone turns on.
        logging.getLogger("aiosqlite").setLevel(logging.INFO)
        # A generous busy timeout: the web server and the worker share the file.
        return PooledSQLiteEngine(path=path, timeout=30)
    if parsed.scheme in ("postgres", "postgresql"):
        return LoopPooledPostgresEngine(config={"dsn": url.replace("postgres://", "postgresql://", 1)})
    raise ValueError(f"Unsupported DATABASE_URL scheme: {parsed.scheme!r}")


def get_engine() -> Engine:
    from piccolo.engine.finder import engine_finder

    engine = engine_finder()
    assert engine is not None, "piccolo_conf.DB is not configured"
    return engine


def write_transaction(engine: Engine | None = None):
    """A transaction that is going to write.

    On SQLite it takes the write lock up front (BEGIN IMMEDIATE): two deferred
    transactions that both read and then write fail with "database is locked"
    instead of waiting, while an immediate one waits in the busy handler."""
    engine = engine or get_engine()
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


async def lock_for_update(table: type, row_id: int) -> None:
    """Inside a write transaction, hold one row until COMMIT so that a check-then-write
    (e.g. "is someone else still an admin?") cannot interleave with another one.

    SQLite needs nothing: BEGIN IMMEDIATE already lets one writer in at a time. On
    PostgreSQL two READ COMMITTED transactions would each see the other's old row
    (write skew); SELECT ... FOR UPDATE makes the second wait and then see the first's."""
    if isinstance(get_engine(), PostgresEngine):
        await table.raw(f'SELECT "id" FROM "{table._meta.tablename}" WHERE "id" = {{}} FOR UPDATE', row_id)


@asynccontextmanager
async def atomic() -> AsyncIterator[None]:
    """A write transaction; jobs enqueued inside it are sent only after it commits."""
    from app.core import jobs

    async with jobs.deferred() as pending:
        async with write_transaction():
            yield
        await pending.flush()


async def start_db() -> None:
    from app.settings import get_settings

    engine = get_engine()
    # A pool's connections belong to the loop that starts it (see LoopPooledPostgresEngine).
    # Its size: DATABASE_POOL_SIZE (20; with 10, p99 of signed-in pages at 64 connections
    # was up to twice as long, README "Performance").
    if isinstance(engine, PostgresEngine) and engine.pool is None:
        await engine.start_connection_pool(min_size=1, max_size=get_settings().database_pool_size)


POOL_CLOSE_TIMEOUT = 5.0  # seconds


async def stop_db() -> None:
    engine = get_engine()
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        # asyncpg's close waits for every connection to be given back; one held by a task
        # that was cancelled mid-query would keep it waiting for ever. Past the timeout the
        # connections are closed without waiting.
        pool = engine.pool
        try:
            await asyncio.wait_for(pool.close(), POOL_CLOSE_TIMEOUT)
        except asyncio.TimeoutError:
            logging.getLogger("tiaojie.db").warning(
                "database pool did not close within %g s; its connections were terminated", POOL_CLOSE_TIMEOUT)
            pool.terminate()
        engine.pool = None
    if isinstance(engine, PooledSQLiteEngine):
        await engine.pool.close()
