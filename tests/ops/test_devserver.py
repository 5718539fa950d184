"""`tiaojie dev` (make run) supervises real processes: a crashed worker or web server is
started again with backoff, and Ctrl-C stops everything quietly (issue 12, item 13)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.ops.procs import PYTHON, ROOT, free_port, tiaojie


def _children(pid: int) -> dict[str, int]:
    """The supervisor's child processes by role (redis, worker, web)."""
    found: dict[str, int] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmd = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            role = "web" if "uvicorn" in cmd else "worker" if "app.cli worker" in cmd else "redis"
            found[role] = int(child)
    return found


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_dev_supervisor_restarts_crashed_children_and_stops_quietly(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PROMETHEUS_"))}
    env.pop("REDIS_URL", None)  # the supervisor starts its own embedded Redis
    env.update({"TIAOJIE_ENV": "development", "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite3'}",
                "TIAOJIE_VAR_DIR": str(tmp_path / "var"), "SECRET_KEY": "dev-supervisor-test-secret-key-0123456789"})
    done = tiaojie(env, "db", "migrate", "--quiet")
    assert done.returncode == 0, done.stderr
    port = free_port()
    log = open(tmp_path / "dev.log", "w+")
    sup = subprocess.Popen([PYTHON, "-m", "app.cli", "dev", "--port", str(port)], env=env, cwd=ROOT,
                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    ready = f"http://127.0.0.1:{port}/readyz"
    try:
        _wait_for(lambda: _answers(ready), 90, "the web server")
        first = _wait_for(lambda: (c := _children(sup.pid)) and len(c) == 3 and c, 30, "three children")

        # The worker crashes: it is started again, the others keep running.
        os.kill(first["worker"], signal.SIGKILL)
        second = _wait_for(lambda: (c := _children(sup.pid)) and c.get("worker", first["worker"]) != first["worker"]
                           and c, 30, "a new worker")
        assert second["web"] == first["web"] and second["redis"] == first["redis"]

        # The web server crashes (twice, quickly): it comes back each time, after a longer pause.
        for _ in range(2):
            before = _children(sup.pid)["web"]
            os.kill(before, signal.SIGKILL)
            _wait_for(lambda: _children(sup.pid).get("web", before) != before, 30, "a new web server")
            _wait_for(lambda: _answers(ready), 90, "the restarted web server")
        assert sup.poll() is None
        last = _children(sup.pid)

        # Ctrl-C in the terminal: SIGINT to the supervisor's process group.
        os.killpg(sup.pid, signal.SIGINT)
        assert sup.wait(timeout=30) == 0
    finally:
        if sup.poll() is None:  # a failed assertion: leave no orphans behind
            left = _children(sup.pid)
            os.killpg(sup.pid, signal.SIGKILL)
            sup.wait()
            for pid in left.values():
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
    log.seek(0)
    output = log.read()
    assert "worker (pid" in output and "restarting in 0.5 s" in output and "restarting in 1 s" in output, output
    assert "Traceback" not in output and "Error" not in output, output
    for pid in last.values():
        assert not _alive(pid), f"{pid} still running after Ctrl-C"
