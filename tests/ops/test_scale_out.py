"""Web processes are stateless: two web servers (two "hosts") and two workers, all separate
OS processes, share one database and one Redis.

On the PostgreSQL pass (TEST_DATABASE_URL) they share a PostgreSQL database; on the SQLite
pass they share one SQLite file, which is also a real configuration (several processes on
one machine). Redis is an embedded server started for this test alone.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.notifications.helpers import SmsGatewayServer, SmtpSink
from tests.ops.procs import (
    PYTHON, ROOT, PgDatabase, Service, Visitor, free_port, json_lines, production_env, query, tiaojie,
)

STAFF = "chengdong.staff@demo.tiaojie.cn"
PASSWORD = "Tiaojie-demo-2024"
PHONE = "13987654321"


@pytest.fixture
def shared_database(tmp_path):
    base = os.environ.get("TEST_DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        db = PgDatabase(base, "scale").create()
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


def test_two_web_servers_and_two_workers_share_one_database_and_redis(tmp_path, shared_database, own_redis):
    smtp = SmtpSink().start()
    sms = SmsGatewayServer().start()
    env = production_env(tmp_path / "var", shared_database, own_redis, smtp.port, sms.url)
    services: list[Service] = []
    try:
        for args in (["db", "migrate", "--quiet"], ["demo", "seed"]):
            done = tiaojie(env, *args)
            assert done.returncode == 0, done.stderr
        port_a, port_b, metrics_b = free_port(), free_port(), free_port()
        metrics_w1, metrics_w2 = free_port(), free_port()
        web_a = Service("web-a", [PYTHON, "-m", "app.cli", "serve", "--port", str(port_a), "--workers", "1"],
                        env, tmp_path)
        web_b = Service("web-b", [PYTHON, "-m", "app.cli", "serve", "--port", str(port_b), "--workers", "1",
                                  "--metrics-address", f"127.0.0.1:{metrics_b}"], env, tmp_path)
        worker_1 = Service("worker-1", [PYTHON, "-m", "app.cli", "worker", "--metrics-address",
                                        f"127.0.0.1:{metrics_w1}"], env, tmp_path)
        worker_2 = Service("worker-2", [PYTHON, "-m", "app.cli", "worker", "--metrics-address",
                                        f"127.0.0.1:{metrics_w2}"], env, tmp_path)
        services = [web_a, web_b, worker_1, worker_2]
        a, b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
        web_a.wait_http(a + "/readyz")
        web_b.wait_http(b + "/readyz")

        # 1. A sign-in on one server is valid on the other; a sign-out on the other ends it.
        staff = Visitor()
        assert staff.login(a, STAFF, PASSWORD).status_code == 303
        home = staff.get(b + "/manage/chengdong/")
        assert home.status_code == 200 and "李海燕" in home.text
        other = Visitor()
        assert other.login(b, STAFF, PASSWORD).status_code == 303
        assert other.post(a + "/logout", {}).status_code in (302, 303)
        assert other.get(b + "/manage/chengdong/").status_code in (302, 303)  # signed out everywhere
        assert staff.get(b + "/manage/chengdong/").status_code == 200  # the other session is untouched

        # 2. An edit on A is shown by B at once, although B had the page cached.
        visitor = Visitor()
        visitor.get(b + "/o/chengdong/")
        cached = visitor.get(b + "/o/chengdong/")
        assert cached.headers.get("x-page-cache") == "hit"
        label = f"夜间热线 {uuid.uuid4().hex[:6]}"
        assert label not in cached.text
        added = staff.post(a + "/manage/chengdong/hotlines",
                           {"label": label, "number": "0513-88889999", "hours": "", "notes": "", "position": "9"})
        assert added.status_code == 303, added.text[:500]
        edited_at = time.monotonic()
        while label not in visitor.get(b + "/o/chengdong/").text:
            assert time.monotonic() - edited_at < 1.0, "B still serves the page from before the edit"
            time.sleep(0.01)
        print(f"edit on A visible on B after {(time.monotonic() - edited_at) * 1000:.0f} ms")

        # 3. Messages queued through both servers and by another process are delivered exactly
        #    once while both workers run. (The demo data queues messages of its own, e.g. a
        #    city notice: only this test's are counted, duplicates of any are failures.)
        before = query(shared_database, "SELECT COALESCE(MAX(id), 0) FROM notification")[0][0]
        for i in range(6):
            assert staff.post((a if i % 2 else b) + "/manage/chengdong/notifications/test", {}).status_code == 303
        marker = f"confidential-{uuid.uuid4().hex[:10]}"
        queued = __import__("subprocess").run([PYTHON, "-m", "tests.ops.queue_messages", "24", marker, PHONE],
                                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert queued.returncode == 0, queued.stderr
        ids = json.loads(queued.stdout.strip().splitlines()[-1])
        total_emails = 6 + 24
        deadline = time.time() + 45

        def delivered_here() -> list[int]:
            return [i for i in (int(m["X-Tiaojie-Notification"]) for m in smtp.messages) if i > before]

        while len(delivered_here()) < total_emails or not sms.received:
            assert time.time() < deadline, f"{len(delivered_here())} of {total_emails} emails, {len(sms.received)} SMS"
            time.sleep(0.1)
        time.sleep(1.0)  # a duplicate, if any, would arrive now
        every = [int(m["X-Tiaojie-Notification"]) for m in smtp.messages]
        assert len(every) == len(set(every)), "an email was delivered twice"
        delivered = delivered_here()
        assert len(delivered) == total_emails
        assert set(ids[:-1]) <= set(delivered) and len(sms.received) == 1
        statuses = query(shared_database, "SELECT status, COUNT(*) FROM notification WHERE id >= $1 GROUP BY status",
                         min(delivered))
        assert dict(statuses).get("sent") == total_emails + 1, statuses

        # 4. Killing a web server loses no acknowledged write.
        today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
        acknowledged: list[str] = []
        stop = threading.Event()

        def write(base: str, name: str) -> None:
            writer = Visitor()
            writer.cookies = dict(staff.cookies)
            n = 0
            while not stop.is_set():
                note = f"kill-{name}-{n}"
                n += 1
                try:
                    resp = writer.post(base + "/manage/chengdong/outreach",
                                       {"day": today, "kind": "visit", "count": "1", "notes": note})
                except httpx.HTTPError:
                    time.sleep(0.02)
                    continue
                if resp.status_code == 303:
                    acknowledged.append(note)

        writers = [threading.Thread(target=write, args=(a, "a")), threading.Thread(target=write, args=(b, "b"))]
        for t in writers:
            t.start()
        time.sleep(1.5)
        web_a.kill()
        time.sleep(1.0)
        stop.set()
        for t in writers:
            t.join(timeout=20)
        stored = {r[0] for r in query(shared_database, "SELECT notes FROM outreach_entry WHERE notes LIKE 'kill-%'")}
        on_a = [n for n in acknowledged if n.startswith("kill-a-")]
        on_b = [n for n in acknowledged if n.startswith("kill-b-")]
        assert on_a and on_b, (len(on_a), len(on_b))
        assert set(acknowledged) <= stored, f"acknowledged but lost: {sorted(set(acknowledged) - stored)}"
        print(f"writes acknowledged: {len(on_a)} by A before it was killed, {len(on_b)} by B; all stored")
        assert staff.get(b + "/manage/chengdong/outreach").status_code == 200  # B serves on

        # 5. Metrics: request latency by route template, outbox depth, worker jobs.
        web_metrics = httpx.get(f"http://127.0.0.1:{metrics_b}/metrics", timeout=10).text
        assert re.search(r'tiaojie_http_request_duration_seconds_count\{method="GET",route="/o/\{slug\}"\} [1-9]',
                         web_metrics), web_metrics[:2000]
        assert re.search(r"^tiaojie_outbox_depth \d", web_metrics, re.M)
        assert re.search(r"^tiaojie_outbox_oldest_pending_age_seconds \d", web_metrics, re.M)
        assert "/o/chengdong" not in web_metrics  # routes are templates, never raw paths
        # Either worker may have taken every delivery job (one job delivers a whole batch):
        # each counts its own, and together they count at least one.
        delivery_jobs = 0.0
        for port in (metrics_w1, metrics_w2):
            worker_metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
            assert "tiaojie_worker_jobs_total" in worker_metrics, worker_metrics[:2000]
            jobs = re.search(r'tiaojie_worker_jobs_total\{job="deliver_due_notifications",outcome="ok"\} (\d+)',
                             worker_metrics)
            delivery_jobs += float(jobs.group(1)) if jobs else 0.0
        assert delivery_jobs >= 1
    finally:
        for service in services:
            service.stop()
        smtp.stop()
        sms.stop()

    # 6. Logs: every line is JSON; requests carry their id; nothing a person wrote is there.
    everything = ""
    for service in services:
        text = service.log()
        everything += text
        entries = json_lines(text)
        assert entries, f"{service.name} logged nothing"
        if service.name.startswith("web"):
            requests = [e for e in entries if e.get("event") == "request"]
            assert requests and all(re.fullmatch(r"[0-9a-f]{12}", e["request_id"]) for e in requests)
    for secret in (marker, PHONE, PASSWORD, "person0@ops.test.tiaojie.cn", label, "0513-88889999"):
        assert secret not in everything, f"{secret!r} is in the logs"
