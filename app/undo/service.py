"""Undo for removals: a removed row is kept, as data, for ``UNDO_WINDOW``; staff can put it back.

    async with atomic():
        removed_id = await undo.remove(hotline, label="调解咨询电话 · 0513-8820 0111", user_id=user.id)
    flash(request, _("Hotline removed."), undo=f"/manage/{slug}/hotlines/restore/{removed_id}")

    async with atomic():
        row_id = await undo.restore(Hotline, removed_id)   # raises UndoError with a sentence

The copy lives in ``removed_row`` (tenant-scoped), so the feature's own table holds only
live rows and no query elsewhere has to skip "deleted" ones. A restored row gets its old
id back when it is still free. Rows older than the window are purged as new ones come in.
Use it where nothing else points at the row (hotlines, outreach entries, memberships);
rows that must outlive their removal (an information card's printed code) are better
marked deleted in place.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import Any

from piccolo.columns import Date, Timestamp, Timestamptz
from piccolo.table import Table

from app.i18n import gettext as _
from app.core.prepared import prepared
from app.undo.tables import RemovedRow
from tenants.scope import current_tenant_id, get_in_scope

UNDO_WINDOW = timedelta(days=7)


class UndoError(Exception):
    """The removal cannot be undone; ``message`` says why, in a sentence for staff."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _dump(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _load(column: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column, (Timestamptz, Timestamp)):
        return datetime.fromisoformat(value)
    if isinstance(column, Date):
        return date.fromisoformat(value)
    return value


async def remove(row: Table, *, label: str, user_id: int | None) -> int:
    """Take ``row`` (of the active tenant) out of its table, keeping a copy; returns the
    id to restore it with. Call inside the caller's transaction."""
    table = type(row)
    data = {name: _dump(value) for name, value in row.to_dict().items()}
    now = datetime.now(timezone.utc)
    await RemovedRow.delete().where(RemovedRow.removed_at < now - UNDO_WINDOW)
    copy = RemovedRow(tenant=current_tenant_id(), table_name=table._meta.tablename, row_id=row.id,
                      data=json.dumps(data, ensure_ascii=False), label=label[:200], removed_by=user_id,
                      removed_at=now)
    await copy.save()
    await table.delete().where(table._meta.primary_key == row.id)
    return copy.id


async def restore(table: type[Table], removed_id: Any) -> int:
    """Put a removed row of ``table`` back (active tenant only); returns its id. A removal of
    another table or another tenant is not found (404); one older than the window raises UndoError."""
    copy = await get_in_scope(RemovedRow, removed_id)
    if copy.table_name != table._meta.tablename:
        from litestar.exceptions import NotFoundException

        raise NotFoundException()
    if copy.removed_at < datetime.now(timezone.utc) - UNDO_WINDOW:
        raise UndoError(_("This was removed too long ago to be restored."))
    data = copy.data if isinstance(copy.data, dict) else json.loads(copy.data or "{}")
    columns = {c._meta.name: c for c in table._meta.columns}
    values = {name: _load(columns[name], value) for name, value in data.items() if name in columns}
    pk = table._meta.primary_key._meta.name
    if await table.exists().where(table._meta.primary_key == values.get(pk)):
        values.pop(pk, None)  # the old id was taken meanwhile: a new one
    restored = table(**values)
    await restored.save()
    await RemovedRow.delete().where(RemovedRow.id == copy.id)
    return restored.id


_RECENTLY_REMOVED = prepared(lambda table_name, since: RemovedRow.select(
    RemovedRow.id, RemovedRow.label, RemovedRow.removed_at, RemovedRow.removed_by.name.as_alias("by")
).where((RemovedRow.table_name == table_name) & (RemovedRow.removed_at >= since)).order_by(
    RemovedRow.removed_at, ascending=False
))


async def recently_removed(table: type[Table]) -> list[dict[str, Any]]:
    """Removals of ``table`` in the active tenant that can still be undone, newest first."""
    since = datetime.now(timezone.utc) - UNDO_WINDOW
    return await _RECENTLY_REMOVED.run(table_name=table._meta.tablename, since=since)


async def removed_data(table: type[Table], removed_id: Any) -> dict[str, Any]:
    """The removed row's values as stored (for checks before restoring)."""
    copy = await get_in_scope(RemovedRow, removed_id)
    if copy.table_name != table._meta.tablename:
        from litestar.exceptions import NotFoundException

        raise NotFoundException()
    return copy.data if isinstance(copy.data, dict) else json.loads(copy.data or "{}")
