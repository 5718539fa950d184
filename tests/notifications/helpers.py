"""Real parts for notification tests: an SMTP server (aiosmtpd), an HTTP SMS gateway,
and arq workers running the real jobs against the test Redis."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """A real SMTP server on a local port that keeps every message it accepts."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []  # the bytes of each message as the server received them
        self.envelopes: list[tuple[str, list[str]]] = []
        self._controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.raw.append(envelope.original_content)
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"

    def start(self) -> "SmtpSink":
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


class SmsGatewayServer:
    """A real HTTP server that plays the SMS provider: records authorised POSTs."""

    def __init__(self, key: str = "test-sms-key", fail_with: int = 0) -> None:
        self.key = key
        self.fail_with = fail_with
        self.received: list[dict] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Authorization") != f"Bearer {sink.key}":
                    self.send_response(401)
                elif sink.fail_with:
                    self.send_response(sink.fail_with)
                else:
                    sink.received.append(json.loads(body))
                    self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "SmsGatewayServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def use_settings(monkeypatch, **env: str) -> None:
    """Point the app at other settings (SMTP_PORT=..., SMS_GATEWAY=...)."""
    from app.settings import get_settings

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()


def new_worker(**kwargs):
    """An arq worker with the real notification jobs, on the test Redis, in burst mode."""
    from arq.connections import RedisSettings
    from arq.worker import Worker, func

    from app.notifications.jobs import close_mailer, deliver_due_notifications, deliver_notification

    return Worker(
        functions=[deliver_notification, func(deliver_due_notifications, keep_result=0)],
        redis_settings=RedisSettings.from_dsn(os.environ["REDIS_URL"]),
        burst=True,
        poll_delay=0.05,
        handle_signals=False,
        on_shutdown=close_mailer,
        **kwargs,
    )


async def run_workers(count: int = 1, **kwargs) -> None:
    """Run ``count`` workers at once until the queue is empty."""
    workers = [new_worker(**kwargs) for _ in range(count)]
    try:
        await asyncio.wait_for(asyncio.gather(*(w.main() for w in workers)), timeout=60)
    finally:
        for w in workers:
            await w.close()
