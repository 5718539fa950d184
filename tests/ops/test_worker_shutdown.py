"""A worker stops on SIGTERM; one that cannot says what it waited on and exits anyway."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.ops.procs import ROOT, require_pg_server

STUCK_WORKER = textwrap.dedent("""
    import asyncio, signal
    from workers.shutdown import on_stop

    async def wait_for_a_connection_that_never_comes():
        await asyncio.Event().wait()

    async def main(cancel_on_signal):
        loop = asyncio.get_running_loop()
        stuck = asyncio.create_task(wait_for_a_connection_that_never_comes())
        deadline = on_stop(loop, grace=0.5)

        def handle(signum):
            deadline(signum)
            if cancel_on_signal:
                stuck.cancel()

        loop.add_signal_handler(signal.SIGTERM, handle, signal.SIGTERM)
        print("ready", flush=True)
        try:
            await stuck
        except asyncio.CancelledError:
            await asyncio.sleep(0.2)  # closing connections

    asyncio.run(main(CANCEL))

""")


def _signalled(cancel_on_signal: bool) -> tuple[int, str]:
    script = STUCK_WORKER.replace("CANCEL", repr(cancel_on_signal))
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err


def test_a_worker_still_alive_after_the_grace_logs_its_tasks_and_exits_1():
    status, err = _signalled(cancel_on_signal=False)
    assert status == 1, err
    assert "did not stop within 0.5 s of the signal" in err
    # the log names the coroutine it waits in, and the threads' stacks follow
    assert "wait_for_a_connection_that_never_comes" in err
    assert "Thread 0x" in err or "Current thread 0x" in err


def test_a_worker_that_stops_in_time_exits_cleanly_without_waiting_for_the_deadline():
    status, err = _signalled(cancel_on_signal=True)
    assert status == 0, err
    assert "did not stop" not in err


async def test_closing_the_pool_does_not_wait_for_ever_for_a_connection_never_given_back(monkeypatch):
    server = require_pg_server("pool close")
    import app.db as db

    import asyncpg

    name = f"tiaojie-close-test-{os.getpid()}"
    engine = db.LoopPooledPostgresEngine(config={"dsn": server, "server_settings": {"application_name": name}})
    monkeypatch.setattr(db, "get_engine", lambda: engine)
    monkeypatch.setattr(db, "POOL_CLOSE_TIMEOUT", 0.5)

    async def open_connections() -> int:
        conn = await asyncpg.connect(server)
        try:
            return await conn.fetchval("select count(*) from pg_stat_activity where application_name = $1", name)
        finally:
            await conn.close()

    await engine.start_connection_pool(min_size=1, max_size=2)
    held = await engine.pool.acquire()  # as by a task cancelled mid-query that never gives it back
    assert await held.fetchval("select 1") == 1 and await open_connections() == 1
    await asyncio.wait_for(db.stop_db(), 10)
    assert engine.pool is None
    for _ in range(50):  # the server notices the closed socket at once; give it a moment
        if await open_connections() == 0:
            break
        await asyncio.sleep(0.1)
    assert await open_connections() == 0


CLOSING_WORKER = textwrap.dedent("""
    import asyncio, os, sys
    from arq.connections import RedisSettings, create_pool
    from arq.worker import Worker as ArqWorker
    from workers.shutdown import Worker

    async def noop(ctx):
        return None

    async def main(cls):
        shut_down = []

        async def on_shutdown(ctx):
            shut_down.append(True)

        settings = RedisSettings.from_dsn(os.environ["REDIS_URL"])
        worker = cls(functions=[noop], redis_settings=settings, on_shutdown=on_shutdown)
        worker._pool = await create_pool(settings)
        # A job the signal cancelled while it recorded its result: its task ends cancelled.
        recording = asyncio.ensure_future(asyncio.sleep(60))
        worker.tasks["job"] = recording
        recording.cancel()
        try:
            await worker.close()
            print("closed", bool(shut_down))
        except asyncio.CancelledError:
            print("raised", bool(shut_down))

    asyncio.run(main(Worker if sys.argv[1] == "ours" else ArqWorker))
""")


@pytest.mark.parametrize("worker, printed", [("ours", "closed True"), ("arq", "raised False")])
def test_closing_runs_on_shutdown_when_a_cancelled_job_ended_with_cancelled_error(worker, printed):
    """arq's own close() (the second case, kept to show the cause) stops before on_shutdown."""
    proc = subprocess.run([sys.executable, "-c", CLOSING_WORKER, worker], cwd=ROOT, capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == printed
