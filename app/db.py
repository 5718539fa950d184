"""Database engine selection and transactions (SQLite file or PostgreSQL)."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator
from urllib.parse import urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType


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
        return SQLiteEngine(path=path, timeout=30)
    if parsed.scheme in ("postgres", "postgresql"):
        return PostgresEngine(config={"dsn": url.replace("postgres://", "postgresql://", 1)})
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
    # A pool's connections belong to one event loop; tests drive the app from a
    # second loop, so under TIAOJIE_ENV=test every query opens its own connection.
    if isinstance(engine, PostgresEngine) and get_settings().env != "test":
        await engine.start_connection_pool(min_size=1, max_size=10)


async def stop_db() -> None:
    engine = get_engine()
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()
