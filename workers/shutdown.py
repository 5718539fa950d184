"""How `tiaojie worker` stops.

On SIGTERM or SIGINT arq cancels the running jobs, waits for them to end, then runs
``on_shutdown`` (the mailer's and the database pool's close) and closes Redis; that takes
well under a second.

- **Jobs cancelled while recording their result.** arq gathers the cancelled jobs' tasks
  in ``close()``; a job cancelled while it wrote its result to Redis ends with
  ``CancelledError``, and the gather raised it: ``close()`` stopped before
  ``on_shutdown`` and the worker exited with a traceback and status 1 (seen in CI, one
  run in a few on PostgreSQL). ``Worker.close`` waits for every task first, whatever it
  ended with.
- **The deadline.** A worker still alive ``GRACE`` seconds after the signal is stuck on
  something (a connection that never answers, a pool waiting for a connection that is
  never given back, a thread that never ends): it writes every asyncio task's and every
  thread's stack to stderr, so the log says what it waited on, and exits with status 1.
  systemd's ``TimeoutStopSec`` (60 s) would kill it anyway, but without saying why.
"""

from __future__ import annotations

import asyncio
import faulthandler
import io
import logging
import os
import sys
import threading

from arq import worker as arq_worker

GRACE = 10.0  # seconds from the signal
EXIT_STATUS = 1

log = logging.getLogger("tiaojie.worker")


def arm(loop: asyncio.AbstractEventLoop, grace: float = GRACE) -> threading.Timer:
    """Start the deadline (once per process; called from arq's ``on_stop``)."""
    timer = threading.Timer(grace, give_up, args=(loop, grace))
    timer.daemon = True  # a worker that stops in time exits without waiting for it
    timer.name = "shutdown-deadline"
    timer.start()
    return timer


def task_stacks(loop: asyncio.AbstractEventLoop) -> str:
    """Every unfinished task of ``loop`` with the frames it is suspended in."""
    out = io.StringIO()
    for task in asyncio.all_tasks(loop):
        if not task.done():
            task.print_stack(limit=20, file=out)
    return out.getvalue()


def give_up(loop: asyncio.AbstractEventLoop, grace: float) -> None:
    log.error("worker did not stop within %g s of the signal; its tasks:\n%s", grace, task_stacks(loop))
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stderr.flush()
    faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
    os._exit(EXIT_STATUS)


def on_stop(loop: asyncio.AbstractEventLoop, grace: float = GRACE):
    """arq's ``Worker.on_stop`` hook: arms the deadline on the first signal only."""
    armed: list[threading.Timer] = []

    def hook(signum) -> None:
        if not armed:
            armed.append(arm(loop, grace))

    return hook


class Worker(arq_worker.Worker):
    """arq's worker with the deadline armed by the first signal, and a ``close()`` that
    runs ``on_shutdown`` whatever the cancelled jobs ended with."""

    def __init__(self, *args, shutdown_grace: float = GRACE, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.on_stop = on_stop(self.loop, shutdown_grace)

    async def close(self) -> None:
        tasks = list(self.tasks.values())
        if self._handle_signals and tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
            self.tasks.clear()  # ended; arq's close() would gather them again and re-raise
        await super().close()


def worker_from(settings: dict) -> Worker:
    """The worker for WorkerSettings (the dict ``instrument_worker_settings`` returns)."""
    return Worker(**arq_worker.get_kwargs(settings))
