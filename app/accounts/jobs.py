"""Worker jobs of the accounts domain."""

from __future__ import annotations

from typing import Any

from app.core.sessions import delete_expired_sessions


async def sweep_expired_sessions(ctx: dict[str, Any]) -> int:
    """Nightly: delete the session rows whose expiry has passed (a session that never comes
    back would otherwise stay in the table for ever). Returns how many went."""
    return await delete_expired_sessions()
