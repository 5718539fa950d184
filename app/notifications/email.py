"""Email over SMTP (aiosmtplib): one message per recipient, plain text and HTML.

A ``Mailer`` keeps one SMTP connection open for the jobs of a worker and opens a
new one when the server dropped it. In development, with ``EMAIL_DELIVERY=file``,
messages are written to ``var/outbox/`` as .eml files instead.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path

import aiosmtplib

from app.notifications.messages import Rendered
from app.settings import Settings, get_settings


@dataclass(frozen=True)
class OutgoingEmail:
    sender: str
    to: str
    data: bytes  # the whole message, ready for SMTP DATA
    notification_id: int


def _header(value: str) -> str:
    return value if value.isascii() else Header(value, "utf-8").encode()


def _part(content_type: str, text: str) -> bytes:
    body = base64.encodebytes(text.encode("utf-8"))
    return (
        f"Content-Type: {content_type}; charset=\"utf-8\"\r\n"
        "MIME-Version: 1.0\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    ).encode() + body.replace(b"\n", b"\r\n")


def build_email(rendered: Rendered, *, to: str, tenant_name: str, notification_id: int,
                settings: Settings) -> OutgoingEmail:
    """A multipart/alternative message (plain text, then HTML) to one recipient.

    Composed directly: the ``email`` package's generator costs more CPU than the
    rest of a delivery, and a worker builds thousands of these. The result is
    ordinary MIME (headers RFC 2047-encoded, base64 UTF-8 parts)."""
    sender = settings.smtp_from
    domain = sender.partition("@")[2] or "localhost"
    boundary = f"=_tiaojie_{uuid.uuid4().hex}"
    headers = [
        f"From: {formataddr((_header(tenant_name), sender))}",
        f"To: {to}",
        f"Subject: {_header(rendered.subject)}",
        f"Date: {formatdate(usegmt=True)}",
        f"Message-ID: {make_msgid(idstring=f'n{notification_id}', domain=domain)}",
        f"X-Tiaojie-Notification: {notification_id}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
    ]
    sep = f"--{boundary}\r\n".encode()
    data = b"".join([
        "\r\n".join(headers).encode("ascii"), b"\r\n\r\n",
        sep, _part("text/plain", rendered.text), b"\r\n",
        sep, _part("text/html", rendered.html), b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ])
    return OutgoingEmail(sender=sender, to=to, data=data, notification_id=notification_id)


def outbox_dir() -> Path:
    return get_settings().var_dir / "outbox"


class Mailer:
    """Sends over a few reused SMTP connections (``size`` at once); safe for the
    concurrent jobs of a worker. A connection the server dropped is replaced."""

    def __init__(self, settings: Settings | None = None, size: int = 8) -> None:
        self.settings = settings or get_settings()
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(size)

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username or None,
            password=s.smtp_password or None,
            use_tls=s.smtp_security == "tls",
            start_tls=True if s.smtp_security == "starttls" else False,
            timeout=20,
        )

    async def send(self, msg: OutgoingEmail) -> None:
        if self.settings.email_delivery == "file":
            await asyncio.to_thread(self._write_file, msg)
            return
        async with self._slots:
            for attempt in (1, 2):
                smtp = self._idle.pop() if self._idle else None
                reused = smtp is not None
                if smtp is None or not smtp.is_connected:
                    smtp = self._client()
                    await smtp.connect()
                    reused = False
                try:
                    await smtp.sendmail(msg.sender, [msg.to], msg.data)
                except aiosmtplib.SMTPServerDisconnected:
                    # The server closed an idle connection: one try on a fresh one.
                    if not reused or attempt == 2:
                        raise
                    continue
                except Exception:
                    await _quit(smtp)
                    raise
                self._idle.append(smtp)
                return

    def _write_file(self, msg: OutgoingEmail) -> None:
        folder = outbox_dir()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{msg.notification_id}-email.eml").write_bytes(msg.data)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for smtp in idle:
            await _quit(smtp)


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    if smtp.is_connected:
        try:
            await smtp.quit()
        except Exception:  # noqa: BLE001 - closing a broken connection
            smtp.close()
