"""Email over SMTP (aiosmtplib): one message per recipient, plain text and HTML.

A ``Mailer`` keeps one SMTP connection open for the jobs of a worker and opens a
new one when the server dropped it. In development, with ``EMAIL_DELIVERY=file``,
messages are written to ``var/outbox/`` as .eml files instead.
"""

from __future__ import annotations

import asyncio
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import aiosmtplib

from app.notifications.messages import Rendered
from app.settings import Settings, get_settings


def build_email(rendered: Rendered, *, to: str, tenant_name: str, notification_id: int,
                settings: Settings) -> EmailMessage:
    msg = EmailMessage()
    sender = settings.smtp_from
    local, _at, domain = sender.partition("@")
    msg["From"] = Address(display_name=tenant_name, username=local, domain=domain or "localhost")
    msg["To"] = to
    msg["Subject"] = rendered.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(idstring=f"n{notification_id}", domain=domain or "localhost")
    msg["X-Tiaojie-Notification"] = str(notification_id)
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    return msg


def outbox_dir() -> Path:
    return get_settings().var_dir / "outbox"


class Mailer:
    """Sends over one reused SMTP connection; safe for the concurrent jobs of a worker."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self._smtp: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()

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

    async def send(self, msg: EmailMessage) -> None:
        if self.settings.email_delivery == "file":
            await asyncio.to_thread(self._write_file, msg)
            return
        async with self._lock:
            for attempt in (1, 2):
                if self._smtp is None or not self._smtp.is_connected:
                    self._smtp = self._client()
                    await self._smtp.connect()
                try:
                    await self._smtp.send_message(msg)
                    return
                except aiosmtplib.SMTPServerDisconnected:
                    # The server closed an idle connection: one fresh try.
                    self._smtp = None
                    if attempt == 2:
                        raise
                except Exception:
                    await self.close_unlocked()
                    raise

    def _write_file(self, msg: EmailMessage) -> None:
        folder = outbox_dir()
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{msg['X-Tiaojie-Notification']}-email.eml"
        (folder / name).write_bytes(bytes(msg))

    async def close_unlocked(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None and smtp.is_connected:
            try:
                await smtp.quit()
            except Exception:  # noqa: BLE001 - closing a broken connection
                smtp.close()

    async def close(self) -> None:
        async with self._lock:
            await self.close_unlocked()
