"""A real worker process (``tiaojie worker``) killed with SIGKILL in the middle of a batch, a few
times at random points, and restarted: no message is lost, and the repeats stay within the bound
the README states (at most ``SEND_SLOTS`` per kill: the messages handed to the mail server or
gateway but not yet recorded as sent). The SMS gateway here drops a repeated ``reference``, as
the outbox expects of one that supports it, so every phone gets its SMS exactly once.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import random
import subprocess
import threading
import time

import pytest

from app.notifications.service import SEND_SLOTS
from tests.notifications.helpers import SmsGatewayServer, SmtpSink
from tests.ops.procs import PYTHON, ROOT, PgDatabase, Service, production_env, query, tiaojie

MESSAGES_PER_CHANNEL = 100
KILLS = 3
LEASE_SECONDS = 12  # short for the test; a send must finish within about 90% of it


class SlowSmtpSink(SmtpSink):
    """Takes 10 ms per message, like a real server, so that a kill lands mid-batch."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.01)
        return await super().handle_DATA(server, session, envelope)


class IdempotentGateway(SmsGatewayServer):
    """Counts every POST per reference; a reference seen before is accepted and not sent again."""

    def __init__(self) -> None:
        super().__init__()
        self.posts: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()
        gateway = self
        handler = self.server.RequestHandlerClass

        class Slow(handler):
            def do_POST(self):  # noqa: N802
                time.sleep(0.01)
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                with gateway.lock:
                    gateway.posts[body["reference"]] += 1
                    first = gateway.posts[body["reference"]] == 1
                    if first:
                        gateway.received.append(body)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")

        self.server.RequestHandlerClass = Slow


@pytest.fixture
def shared_database(tmp_path):
    base = os.environ.get("TEST_DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        db = PgDatabase(base, "kill").create()
        yield db.url
        db.drop()
    else:
        yield f"sqlite:///{tmp_path / 'shared.sqlite3'}"


@pytest.fixture
def own_redis():
    from app.devserver import start_embedded_redis

    proc, url = start_embedded_redis()
    yield url
    proc.kill()
    proc.wait()


def test_worker_killed_mid_batch_loses_nothing_and_repeats_within_the_bound(tmp_path, shared_database, own_redis):
    seed = int(os.environ.get("KILL_TEST_SEED", "0")) or random.randrange(1, 10**6)
    rng = random.Random(seed)
    print(f"seed {seed} (KILL_TEST_SEED={seed} replays these kill points)")
    smtp = SlowSmtpSink().start()
    sms = IdempotentGateway().start()
    env = production_env(tmp_path / "var", shared_database, own_redis, smtp.port, sms.url)
    env["OUTBOX_LEASE_SECONDS"] = str(LEASE_SECONDS)
    workers: list[Service] = []
    try:
        done = tiaojie(env, "db", "migrate", "--quiet")
        assert done.returncode == 0, done.stderr
        queued = subprocess.run([PYTHON, "-m", "tests.notifications.queue_for_kill", str(MESSAGES_PER_CHANNEL)],
                                env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert queued.returncode == 0, queued.stderr
        ids = json.loads(queued.stdout.strip().splitlines()[-1])
        total = len(ids)

        def handed_over() -> int:  # every message the servers took, repeats included
            return len(smtp.raw) + sum(sms.posts.values())

        # Kill points: after a random number of messages went out, spread over the run.
        points = sorted(rng.sample(range(20, total - 40), KILLS))
        for n, point in enumerate(points):
            worker = Service(f"worker-{n}", [PYTHON, "-m", "app.cli", "worker"], env, tmp_path)
            workers.append(worker)
            deadline = time.time() + 120
            while handed_over() < point:
                assert worker.proc.poll() is None, worker.log()[-3000:]
                assert time.time() < deadline, f"{handed_over()} of {point} before kill {n}:\n{worker.log()[-3000:]}"
                time.sleep(0.002)
            worker.kill()
            print(f"kill {n + 1}: SIGKILL after {handed_over()} messages handed over (aimed at {point})")

        last = Service("worker-last", [PYTHON, "-m", "app.cli", "worker"], env, tmp_path)
        workers.append(last)
        deadline = time.time() + 240
        while True:
            sent = query(shared_database, "SELECT COUNT(*) FROM notification WHERE status = 'sent'")[0][0]
            if sent == total:
                break
            if time.time() > deadline:
                states = query(shared_database, "SELECT status, attempts, last_error FROM notification "
                                                "WHERE status != 'sent'")
                raise AssertionError(f"{sent} of {total} sent; the others: {states[:10]}\n{last.log()[-3000:]}")
            time.sleep(0.2)
        time.sleep(1.0)  # a late repeat, if any, would arrive now
    finally:
        for worker in workers:
            worker.stop()
        smtp.stop()
        sms.stop()

    emails = collections.Counter(int(m["X-Tiaojie-Notification"]) for m in smtp.messages)
    sms_posts = {int(ref.removeprefix("notification-")): c for ref, c in sms.posts.items()}
    per_message = {i: emails.get(i, 0) + sms_posts.get(i, 0) for i in ids}
    lost = [i for i, c in per_message.items() if c == 0]
    repeats = sum(c - 1 for c in per_message.values() if c > 1)
    print(f"{total} messages, {KILLS} kills: {repeats} repeated hand-overs "
          f"({sum(c - 1 for c in emails.values())} emails, {sum(c - 1 for c in sms_posts.values())} SMS), "
          f"bound {KILLS * SEND_SLOTS}")
    assert not lost, f"lost: {lost}"
    assert set(emails) | set(sms_posts) == set(ids)  # nothing else was sent
    assert repeats <= KILLS * SEND_SLOTS
    assert max(per_message.values()) <= 1 + KILLS
    # The gateway's reference check makes each SMS reach its phone once.
    assert sorted(r["to"] for r in sms.received) == sorted(f"1380000{i:04d}" for i in range(MESSAGES_PER_CHANNEL))
