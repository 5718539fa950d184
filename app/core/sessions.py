"""Server-side sessions in Redis that cost nothing for anonymous visitors.

Litestar's server-side backend writes a session (and sets a cookie) on every
response, even an empty one. Ours writes only when the session's data changed,
never creates one for a visitor who has none, and treats Redis being down as
"no session" so public pages keep working.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import Empty, Message, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items

log = logging.getLogger(__name__)

_LOADED = "_session_loaded"
_ROTATE = "_session_rotate"
_NEW_ID = "_session_new_id"


def rotate_session(request: Any) -> None:
    """Give the session a new id when this response is sent (at sign-in, so an id
    known before signing in is worthless after it)."""
    request.scope.setdefault("state", {})[_ROTATE] = True


class LeanSessionBackend(ServerSideSessionBackend):
    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        try:
            data = await super().load_from_connection(connection)
        except Exception:  # noqa: BLE001 - Redis unreachable: carry on signed out
            log.warning("session store unavailable", exc_info=True)
            data = {}
        connection.scope.setdefault("state", {})[_LOADED] = repr(data)
        return data

    def get_session_id(self, connection: ASGIConnection) -> str:
        new_id = connection.scope.get("state", {}).get(_NEW_ID)
        return new_id or super().get_session_id(connection)

    async def store_in_message(self, scope_session: ScopeSession, message: Message, connection: ASGIConnection) -> None:
        state = connection.scope.setdefault("state", {})
        if state.pop(_ROTATE, False) and connection.cookies.get(self.config.key):
            store = self.config.get_store_from_app(connection.scope["app"])
            await self.delete(super().get_session_id(connection), store=store)
            state[_NEW_ID] = self.generate_session_id()
            await super().store_in_message(scope_session, message, connection)
            return
        had_cookie = bool(connection.cookies.get(self.config.key))
        empty = scope_session is Empty or not scope_session
        if empty:
            if had_cookie:
                scope = connection.scope
                store = self.config.get_store_from_app(scope["app"])
                await self.delete(self.get_session_id(connection), store=store)
                params = dict(extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys()))
                MutableScopeHeaders.from_message(message).add(
                    "Set-Cookie", Cookie(value="null", key=self.config.key, expires=0, **params).to_header(header="")
                )
            return
        if had_cookie and repr(scope_session) == connection.scope.get("state", {}).get(_LOADED):
            return
        await super().store_in_message(scope_session, message, connection)


@dataclass
class LeanSessionConfig(ServerSideSessionConfig):
    _backend_class = LeanSessionBackend  # type: ignore[assignment]
