"""Ids in paths and forms: ASCII digits that fit a 64-bit signed integer, nothing else.

Litestar's ``{x:int}`` accepts any ``int()`` literal (``٣``, ``+1``, 30 digits) and our
``{x_id:str}`` routes hand the text on; a value beyond 64 bits then fails in the database
with a 500. ``IdGuardMiddleware`` runs after routing, before anything reads the database, and
answers 404 for every path parameter named ``*id`` that is not a plain id; ``parse_id`` is the
same rule for code (``tenants.scope.get_in_scope``, form fields that carry an id)."""

from __future__ import annotations

import re
from typing import Any

from litestar.exceptions import NotFoundException
from litestar.types import ASGIApp, Receive, Scope, Send

MAX_ID = 2**63 - 1
_ID = re.compile(r"[0-9]{1,19}")


def parse_id(value: Any) -> int | None:
    """The id written in ``value`` (ASCII digits, 1 … 2⁶³−1), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    if not isinstance(value, str) or not _ID.fullmatch(value):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def _is_id_name(name: str) -> bool:
    return name == "id" or name.endswith("_id")


class IdGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        params = scope.get("path_params") or {}
        if params:
            segments = set(scope.get("path", "").split("/"))
            for name, value in params.items():
                if not _is_id_name(name):
                    continue
                # An int parsed by Litestar must also be written as itself (not ٣, +1 or 007).
                if parse_id(value) is None or (isinstance(value, int) and str(value) not in segments):
                    raise NotFoundException()
        await self.app(scope, receive, send)
