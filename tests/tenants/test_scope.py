"""The tenancy scope is fail-closed: no scope, no rows."""

from __future__ import annotations

import pytest
from litestar.exceptions import NotFoundException

from app.audit.tables import AuditEntry
from tenants.scope import TenancyError, get_in_scope, tenant_scope, unscoped


async def _entries(world):
    a, b = world.tenants["a"]["id"], world.tenants["b"]["id"]
    with tenant_scope(a):
        await AuditEntry(tenant=a, action="a.thing").save()
    with tenant_scope(b):
        entry = AuditEntry(tenant=b, action="b.thing")
        await entry.save()
    return a, b, entry.id


async def test_query_without_scope_raises(world):
    await _entries(world)
    for query in (AuditEntry.select, AuditEntry.objects, AuditEntry.count, AuditEntry.exists):
        with pytest.raises(TenancyError):
            query()
    with pytest.raises(TenancyError):
        AuditEntry.update({AuditEntry.action: "x"}, force=True)
    with pytest.raises(TenancyError):
        AuditEntry.delete(force=True)


async def test_scope_filters_reads_and_writes(world):
    a, b, b_entry = await _entries(world)
    with tenant_scope(a):
        assert [r["action"] for r in await AuditEntry.select(AuditEntry.action)] == ["a.thing"]
        assert await AuditEntry.count() == 1
        # An update or delete of the whole table only touches the scope's rows.
        await AuditEntry.update({AuditEntry.action: "changed"}, force=True)
        await AuditEntry.delete(force=True)
    with tenant_scope(b):
        assert [r["action"] for r in await AuditEntry.select(AuditEntry.action)] == ["b.thing"]


async def test_missing_and_foreign_rows_are_the_same_404(world):
    a, b, b_entry = await _entries(world)
    with tenant_scope(a):
        with pytest.raises(NotFoundException):
            await get_in_scope(AuditEntry, b_entry)
        with pytest.raises(NotFoundException):
            await get_in_scope(AuditEntry, 999999)
        with pytest.raises(NotFoundException):
            await get_in_scope(AuditEntry, "not-a-number")
    with tenant_scope(b):
        assert (await get_in_scope(AuditEntry, b_entry)).action == "b.thing"


async def test_insert_for_another_tenant_is_refused(world):
    a, b, _ = await _entries(world)
    with tenant_scope(a):
        with pytest.raises(TenancyError):
            await AuditEntry(tenant=b, action="sneaky").save()
    with pytest.raises(TenancyError):
        await AuditEntry(tenant=a, action="no scope").save()


async def test_unscoped_needs_a_reason_and_sees_everything(world):
    await _entries(world)
    with pytest.raises(ValueError):
        with unscoped(""):
            pass
    with unscoped("test counts across tenants"):
        # 2 written here, plus none from building the world
        assert await AuditEntry.count() == 2
