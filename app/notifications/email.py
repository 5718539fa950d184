"""Email over SMTP (aiosmtplib): one message per recipient, plain text and HTML.

A ``Mailer`` keeps one SMTP connection open for the jobs of a worker and opens a
new one when the server dropped it. In development, with ``EMAIL_DELIVERY=file``,
messages are written to ``var/outbox/`` as .eml files instead.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
from dataclasses import dataclass
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.policy import SMTP, EmailPolicy
from email.utils import formatdate
from pathlib import Path
from typing import Any

import aiosmtplib

from app.notifications.messages import Rendered
from app.settings import Settings, get_settings


@dataclass(frozen=True)
class OutgoingEmail:
    sender: str
    to: str
    data: bytes  # the whole message, ready for SMTP DATA
    notification_id: int


class BadAddress(ValueError):
    """A recipient that is not one plain email address (it is kept as the error)."""


class _Headers(HeaderRegistry):
    """The standard header registry, remembering what it made. The stock one creates a
    new class for every header it makes and parses every value again; a worker sets the
    same organisation names, subjects and content types thousands of times. Header
    objects are immutable values (a ``str`` with its parse tree), so sharing them is safe."""

    @functools.lru_cache(maxsize=None)
    def __getitem__(self, name: str) -> type:
        return super().__getitem__(name)

    @functools.lru_cache(maxsize=4096)
    def _made(self, name: str, value: str) -> Any:
        return super().__call__(name, value)

    def __call__(self, name: str, value: Any) -> Any:
        return self._made(name, value) if type(value) is str else super().__call__(name, value)

    def __hash__(self) -> int:
        return id(self)


@functools.lru_cache(maxsize=4096)
def _folded(policy: EmailPolicy, name: str, kind: type, value: str, header: Any) -> bytes:
    return EmailPolicy.fold_binary(policy, name, header)


class _SmtpPolicy(EmailPolicy):
    """``email.policy.SMTP`` (the default policy with CRLF line ends) that folds a header
    it has folded before from memory: a folded header depends only on its class, its
    value and the policy's settings (the generator clones the policy for every part,
    so the settings, not the policy object, are the key)."""

    def fold_binary(self, name: str, value: Any) -> bytes:
        return _folded(self, name, type(value), str(value), value)

    def __hash__(self) -> int:
        return hash((self.linesep, self.max_line_length, self.utf8, self.cte_type))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _SmtpPolicy) and hash(self) == hash(other)


SMTP_POLICY = _SmtpPolicy(linesep=SMTP.linesep, header_factory=_Headers())


# Control characters (CR and LF above all) never reach a header: a name someone typed
# is data, not header syntax. The ``email`` package folds and encodes what is left.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


def header_text(value: str) -> str:
    """One line of header text: control characters and line breaks become one space."""
    return " ".join(_CONTROL.sub(" ", value).split())


def _recipient(msg: EmailMessage, to: str) -> str:
    """Set ``To`` to ``to``, which must be one plain addr-spec (``name@domain``): no
    display name, no second address, no line break can come in through a recipient."""
    if _CONTROL.search(to):
        raise BadAddress(f"not one email address: {to!r}")
    msg["To"] = to.strip()
    addresses = msg["To"].addresses
    if len(addresses) != 1 or addresses[0].display_name or not addresses[0].username \
            or not addresses[0].domain or msg["To"].defects:
        raise BadAddress(f"not one email address: {to!r}")
    return addresses[0].addr_spec


@functools.lru_cache(maxsize=256)
def _from_header(tenant_name: str, sender: str) -> Any:
    """The From header (the organisation's name and the platform's address), made once
    per organisation; a header object is an immutable value."""
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = Address(display_name=header_text(tenant_name), addr_spec=sender)
    return msg["From"]


@functools.lru_cache(maxsize=64)
def _part(subtype: str, content: str) -> EmailMessage:
    """One body part, UTF-8 in base64 (shared by every message with this content: the
    generator only reads it)."""
    part = EmailMessage(policy=SMTP_POLICY)
    part.set_content(content, subtype=subtype, charset="utf-8", cte="base64")
    del part["MIME-Version"]  # only the message itself carries it
    return part


BOUNDARY = "=_tiaojie_alternative"  # base64 has no "_": it cannot occur in a part


def build_email(rendered: Rendered, *, to: str, tenant_name: str, notification_id: int,
                settings: Settings) -> OutgoingEmail:
    """A multipart/alternative message (plain text, then HTML) to one recipient, built
    with the ``email`` package (``EmailMessage`` under the SMTP policy: CRLF line ends,
    RFC 2047 encoded words, folded headers). Names and subjects are header *values*:
    line breaks in them are removed, then the policy folds and encodes them; a
    recipient must be one plain address (else ``BadAddress``).

    The Message-ID is the same on every attempt of one notification, so a receiving
    system that drops repeats by Message-ID sees a re-sent message as the same one."""
    sender = settings.smtp_from
    domain = sender.partition("@")[2] or "localhost"
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = _from_header(tenant_name, sender)
    address = _recipient(msg, to)
    msg["Subject"] = header_text(rendered.subject)
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = f"<notification-{notification_id}.{_install_tag(settings)}@{domain}>"
    msg["X-Tiaojie-Notification"] = str(notification_id)
    msg["MIME-Version"] = "1.0"
    msg["Content-Type"] = f'multipart/alternative; boundary="{BOUNDARY}"'
    msg.set_payload([_part("plain", rendered.text), _part("html", rendered.html)])
    return OutgoingEmail(sender=sender, to=address, data=msg.as_bytes(), notification_id=notification_id)


@functools.lru_cache(maxsize=8)
def _install_tag_of(base_url: str, secret: str) -> str:
    return hashlib.sha256(f"{base_url}\n{secret}".encode()).hexdigest()[:12]


def _install_tag(settings: Settings) -> str:
    """Tells this installation's Message-IDs from another's (the same ids start at 1 everywhere)."""
    return _install_tag_of(settings.base_url, settings.secret_key)


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
