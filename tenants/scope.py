"""The tenancy scope every tenant-owned query goes through. Fail-closed.

A table that holds one tenant's private rows mixes in ``TenantScoped`` and has a
``tenant`` foreign key. Its ``select``/``objects``/``count``/``exists``/``update``/
``delete`` are filtered to the active scope, and raise ``TenancyError`` when no
scope is active. The only way around it is ``unscoped("why")``: explicit and easy
to grep for. Requests under ``/o/<slug>/`` and ``/manage/<slug>/`` run inside the
scope of that tenant (``tenants.middleware``); jobs enter it with ``tenant_scope``.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator

from litestar.exceptions import NotFoundException


class TenancyError(RuntimeError):
    """A tenant-owned table was queried outside any tenant scope."""


_scope: ContextVar[int | None] = ContextVar("tenant_scope", default=None)
_bypass: ContextVar[str | None] = ContextVar("tenant_scope_bypass", default=None)


@contextmanager
def _mode(scope: Any, bypass: str | None) -> Iterator[None]:
    """Set the scope and the bypass together for a block, and restore both after it."""
    scope_token = _scope.set(scope)
    bypass_token = _bypass.set(bypass)
    try:
        yield
    finally:
        _bypass.reset(bypass_token)
        _scope.reset(scope_token)


@contextmanager
def tenant_scope(tenant_id: int) -> Iterator[int]:
    if not isinstance(tenant_id, int):
        raise TypeError("tenant_scope takes a tenant id")
    with _mode(tenant_id, None):
        yield tenant_id


@contextmanager
def unscoped(reason: str) -> Iterator[None]:
    """Read or write across tenants (city roll-ups, sweeps). Say why."""
    if not reason:
        raise ValueError("unscoped() needs a reason")
    with _mode(None, reason):
        yield


class _TenantSlot:
    """Stands for the active tenant's id in a statement composed once and run many
    times (``app.core.prepared``): each run puts ``current_tenant_id()`` in its place."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<TenantSlot>"


TENANT_SLOT = _TenantSlot()


def scope_mode() -> str | None:
    """The tenancy mode: ``"scoped"`` in a tenant's scope, ``"unscoped"`` inside
    ``unscoped()``, else None."""
    if _scope.get() is not None:
        return "scoped"
    return "unscoped" if _bypass.get() is not None else None


@contextmanager
def composing() -> Iterator[None]:
    """Compose statements whose tenant filter is bound when they run (app/core/prepared.py)."""
    with _mode(TENANT_SLOT, None):
        yield


def current_tenant_id() -> int:
    tenant_id = _scope.get()
    if tenant_id is TENANT_SLOT:  # a value computed from the tenant id while composing
        raise TenancyError("a prepared statement may use the tenant id only as a bound value")
    if tenant_id is None:
        raise TenancyError("no tenant scope is active")
    return tenant_id


class TenantScoped:
    """Mixin for tables of tenant-owned rows; put it before ``Table`` in the bases."""

    @classmethod
    def _in_scope(cls, query: Any) -> Any:
        tenant_id = _scope.get()
        if tenant_id is None:
            if _bypass.get() is not None:
                return query
            raise TenancyError(f"{cls.__name__} queried outside a tenant scope")
        return query.where(cls.tenant == tenant_id)  # type: ignore[attr-defined]

    @classmethod
    def select(cls, *columns: Any, **kwargs: Any) -> Any:
        return cls._in_scope(super().select(*columns, **kwargs))  # type: ignore[misc]

    @classmethod
    def objects(cls, *prefetch: Any) -> Any:
        return cls._in_scope(super().objects(*prefetch))  # type: ignore[misc]

    @classmethod
    def count(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._in_scope(super().count(*args, **kwargs))  # type: ignore[misc]

    @classmethod
    def exists(cls) -> Any:
        return cls._in_scope(super().exists())  # type: ignore[misc]

    @classmethod
    def update(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._in_scope(super().update(*args, **kwargs))  # type: ignore[misc]

    @classmethod
    def delete(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._in_scope(super().delete(*args, **kwargs))  # type: ignore[misc]

    @classmethod
    def insert(cls, *rows: Any) -> Any:
        tenant_id = _scope.get()
        if tenant_id is None and _bypass.get() is None:
            raise TenancyError(f"{cls.__name__} inserted outside a tenant scope")
        for row in rows:
            if tenant_id is not None and _fk_id(row.tenant) != tenant_id:
                raise TenancyError(f"{cls.__name__} row belongs to another tenant")
        return super().insert(*rows)  # type: ignore[misc]


def _fk_id(value: Any) -> Any:
    return getattr(value, "id", value)


async def get_in_scope(table: Any, row_id: Any) -> Any:
    """The row of the active tenant with this id; 404 when missing *or* foreign."""
    from app.core.ids import parse_id

    row_id = parse_id(row_id)
    if row_id is None:  # not an id (other digits, beyond 64 bits): missing
        raise NotFoundException()
    row = await table.objects().where(table.id == row_id).first()
    if row is None:
        raise NotFoundException()
    return row
