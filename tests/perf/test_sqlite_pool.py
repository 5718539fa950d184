"""The SQLite engine keeps a few connections open instead of one per statement, and
stays correct: writes outside a transaction are committed at once, transactions
still take the write lock on their own connection, errors and cancellations do not
leak connections. Runs on its own SQLite file whatever database the suite uses."""

from __future__ import annotations

import asyncio

import aiosqlite
import pytest

from app.db import PooledSQLiteEngine


@pytest.fixture
async def engine(tmp_path, monkeypatch):
    opened = []
    real_connect = aiosqlite.connect

    def counting_connect(*args, **kwargs):
        opened.append(1)
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(aiosqlite, "connect", counting_connect)
    engine = PooledSQLiteEngine(path=str(tmp_path / "pool.sqlite3"), pool_size=3, timeout=30)
    await engine.run_ddl("PRAGMA journal_mode=WAL")
    await engine.run_ddl("CREATE TABLE item (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
    engine.pool.connects = opened  # every aiosqlite.connect() since the fixture started
    yield engine
    await engine.pool.close()


async def test_many_statements_share_a_few_connections(engine):
    from piccolo.querystring import QueryString

    before = len(engine.pool.connects)
    await asyncio.gather(*(engine.run_querystring(QueryString("INSERT INTO item (n) VALUES ({})", i))
                           for i in range(60)))
    rows = await asyncio.gather(*(engine.run_querystring(QueryString("SELECT COUNT(*) AS c FROM item"))
                                  for _ in range(60)))
    assert {r[0]["c"] for r in rows[-5:]} == {60}
    # 120 statements, 64 at once: at most the pool's 3 connections were ever opened.
    assert len(engine.pool.connects) - before <= 3
    assert engine.pool.opened <= 3


async def test_a_write_outside_a_transaction_is_committed_for_every_other_connection(engine, tmp_path):
    from piccolo.querystring import QueryString

    await engine.run_querystring(QueryString("INSERT INTO item (n) VALUES (7)"))
    async with aiosqlite.connect(str(tmp_path / "pool.sqlite3")) as other:
        async with other.execute("SELECT n FROM item") as cursor:
            assert await cursor.fetchall() == [(7,)]
    # No pooled connection is left inside a transaction (which would hold a snapshot or a lock).
    assert not any(c.in_transaction for c in engine.pool.idle)


async def test_transactions_take_the_write_lock_on_their_own_connection(engine):
    from piccolo.engine.sqlite import TransactionType
    from piccolo.querystring import QueryString

    await engine.run_querystring(QueryString("INSERT INTO item (n) VALUES (1)"))

    async def add_one() -> None:
        async with engine.transaction(transaction_type=TransactionType.immediate):
            row = await engine.run_querystring(QueryString("SELECT MAX(n) AS m FROM item"))
            await asyncio.sleep(0.01)  # others wait for the lock meanwhile
            await engine.run_querystring(QueryString("INSERT INTO item (n) VALUES ({})", row[0]["m"] + 1))

    reads = [engine.run_querystring(QueryString("SELECT COUNT(*) AS c FROM item")) for _ in range(20)]
    await asyncio.gather(*(add_one() for _ in range(10)), *reads)
    rows = await engine.run_querystring(QueryString("SELECT n FROM item ORDER BY n"))
    assert [r["n"] for r in rows] == list(range(1, 12))  # no lost update, no "database is locked"


async def test_errors_and_cancellations_do_not_leak_connections(engine):
    from piccolo.querystring import QueryString

    for _ in range(10):
        with pytest.raises(Exception):
            await engine.run_querystring(QueryString("SELECT * FROM no_such_table"))
    slow = QueryString("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) "
                       "SELECT COUNT(*) AS n FROM c")
    tasks = [asyncio.create_task(engine.run_querystring(slow)) for _ in range(6)]
    await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    rows = await asyncio.wait_for(asyncio.gather(
        *(engine.run_querystring(QueryString("SELECT 1 AS one")) for _ in range(10))), timeout=30)
    assert all(r == [{"one": 1}] for r in rows)
    assert engine.pool.opened <= 3
