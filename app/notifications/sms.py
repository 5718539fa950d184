"""SMS through a small gateway interface: HTTP for production, console or file for development."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Protocol

import httpx

from app.settings import Settings, get_settings

log = logging.getLogger("tiaojie.sms")


class SmsError(RuntimeError):
    pass


class SmsGateway(Protocol):
    async def send(self, phone: str, text: str, *, reference: str) -> None: ...


class HttpSmsGateway:
    """POST {"to", "text", "reference"} as JSON with ``Authorization: Bearer <key>``;
    any 2xx answer is accepted. The reference (the notification id) lets a gateway
    drop a repeat."""

    def __init__(self, url: str, key: str, timeout: float = 10) -> None:
        if not url:
            raise SmsError("SMS_GATEWAY_URL is not set")
        self.url = url
        self.key = key
        self.timeout = timeout

    async def send(self, phone: str, text: str, *, reference: str) -> None:
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            resp = await client.post(
                self.url,
                json={"to": phone, "text": text, "reference": reference},
                headers={"Authorization": f"Bearer {self.key}"},
            )
        if resp.status_code // 100 != 2:
            raise SmsError(f"SMS gateway answered {resp.status_code}: {resp.text[:200]}")


class ConsoleSmsGateway:
    async def send(self, phone: str, text: str, *, reference: str) -> None:
        # Only the number's last digits: logs must not carry people's phone numbers.
        log.info("SMS to ****%s (%s): %s", phone[-4:], reference, text)


class FileSmsGateway:
    """Appends every SMS to ``var/outbox/sms.log`` so a developer can read them."""

    def __init__(self, settings: Settings) -> None:
        self.path = settings.var_dir / "outbox" / "sms.log"

    async def send(self, phone: str, text: str, *, reference: str) -> None:
        def write() -> None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
            with self.path.open("a", encoding="utf-8") as f:
                f.write(f"{stamp}\t{reference}\t{phone}\t{text}\n")

        await asyncio.to_thread(write)


def get_gateway(settings: Settings | None = None) -> SmsGateway:
    settings = settings or get_settings()
    kind = settings.sms_gateway
    if kind == "http":
        return HttpSmsGateway(settings.sms_gateway_url, settings.sms_gateway_key)
    if kind == "file":
        return FileSmsGateway(settings)
    if kind == "console":
        return ConsoleSmsGateway()
    raise SmsError(f"SMS_GATEWAY must be console, file or http, not {kind!r}")
