"""Statements composed once (app/core/prepared.py) keep the tenancy scope's guarantees:
the active organisation is bound at each run, never the one it was composed under, and
outside a scope they raise as Piccolo's queries do. They answer what Piccolo answers."""

from __future__ import annotations

import pytest

from piccolo.query.functions.aggregate import Count

from app.audit.tables import AuditEntry
from app.core.prepared import prepared
from tenants.scope import TenancyError, current_tenant_id, tenant_scope, unscoped
from tenants.tables import Tenant


async def _entries(world) -> tuple[int, int]:
    a, b = world.tenants["a"]["id"], world.tenants["b"]["id"]
    for tenant, actions in ((a, ["a.one", "a.two", "a.three"]), (b, ["b.one", "b.two"])):
        with tenant_scope(tenant):
            for action in actions:
                await AuditEntry(tenant=tenant, action=action, target=f"{action} target").save()
    return a, b


ACTIONS = prepared(lambda: AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id))
BY_ACTION = prepared(lambda action: AuditEntry.select(AuditEntry.action, AuditEntry.target)
                     .where(AuditEntry.action == action))
AMONG = prepared(lambda actions: AuditEntry.select(AuditEntry.action).where(AuditEntry.action.is_in(actions))
                 .order_by(AuditEntry.action))
FIRST = prepared(lambda: AuditEntry.select(AuditEntry.action, AuditEntry.tenant.name.as_alias("org"))
                 .order_by(AuditEntry.id, ascending=False).first())
COUNT = prepared(lambda: AuditEntry.count())
EXISTS = prepared(lambda action: AuditEntry.exists().where(AuditEntry.action == action))
OBJECTS = prepared(lambda: AuditEntry.objects().order_by(AuditEntry.id).limit(2))


async def test_each_run_reads_only_the_active_organisation(world):
    a, b = await _entries(world)
    with tenant_scope(a):
        assert [r["action"] for r in await ACTIONS.run()] == ["a.one", "a.two", "a.three"]
    with tenant_scope(b):  # composed under a's run: still b's rows
        assert [r["action"] for r in await ACTIONS.run()] == ["b.one", "b.two"]
        assert await BY_ACTION.run(action="a.one") == []  # another organisation's row: nothing


async def test_outside_a_scope_it_raises_and_unscoped_it_reads_all_like_piccolo(world):
    a, b = await _entries(world)
    with tenant_scope(a):
        await ACTIONS.run()  # composed in a scope
    with pytest.raises(TenancyError):
        await ACTIONS.run()
    with unscoped("test: a prepared statement inside unscoped() reads every organisation"):
        everything = await ACTIONS.run()
        assert everything == await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)
        assert {"a.one", "b.one"} <= {r["action"] for r in everything}
    with pytest.raises(TenancyError):  # composed unscoped: still not outside any scope
        await ACTIONS.run()
    with tenant_scope(b):  # and a scope still gets only its own rows
        assert [r["action"] for r in await ACTIONS.run()] == ["b.one", "b.two"]


async def test_answers_what_piccolo_answers(world):
    a, b = await _entries(world)
    for tenant in (a, b):
        with tenant_scope(tenant):
            assert await FIRST.run() == await AuditEntry.select(
                AuditEntry.action, AuditEntry.tenant.name.as_alias("org")).order_by(AuditEntry.id, ascending=False).first()
            assert await COUNT.run() == await AuditEntry.count() == (3 if tenant == a else 2)
            assert await EXISTS.run(action="a.two") is (tenant == a)
            objects = await OBJECTS.run()
            assert [o.action for o in objects] == [o.action for o in await AuditEntry.objects().order_by(
                AuditEntry.id).limit(2)]
            assert all(isinstance(o, AuditEntry) for o in objects)


async def test_values_are_bound_never_written_into_the_sql(world):
    a, _b = await _entries(world)
    hostile = "a.one' OR '1'='1"
    with tenant_scope(a):
        await AuditEntry(tenant=a, action=hostile, target="hostile").save()
        assert await BY_ACTION.run(action=hostile) == [{"action": hostile, "target": "hostile"}]
        assert await BY_ACTION.run(action="a.two") == [{"action": "a.two", "target": "a.two target"}]


async def test_a_list_gets_a_statement_per_length(world):
    a, b = await _entries(world)
    with tenant_scope(a):
        assert [r["action"] for r in await AMONG.run(actions=["a.two", "a.one"])] == ["a.one", "a.two"]
        assert [r["action"] for r in await AMONG.run(actions=["a.three", "b.one", "a.one"])] == ["a.one", "a.three"]
        assert [r["action"] for r in await AMONG.run(actions=["a.two"])] == ["a.two"]
    with tenant_scope(b):
        assert [r["action"] for r in await AMONG.run(actions=["a.two", "b.two"])] == ["b.two"]


async def test_tables_outside_tenancy_need_no_scope(world):
    by_slug = prepared(lambda slug: Tenant.select(Tenant.id).where(Tenant.slug == slug).first())
    assert await by_slug.run(slug=world.tenants["a"]["slug"]) == {"id": world.tenants["a"]["id"]}
    assert await by_slug.run(slug="no-such-organisation") is None


async def test_composing_refuses_what_it_cannot_bind(world):
    a, _b = await _entries(world)
    with tenant_scope(a):
        # The tenant id used as a Python value while composing would be the stand-in's.
        computed = prepared(lambda: AuditEntry.select().where(AuditEntry.target == f"t{current_tenant_id()}"))
        with pytest.raises(TenancyError):
            await computed.run()
        # A parameter's value decides nothing while composing: the branch would hold for every run.
        branching = prepared(lambda action: AuditEntry.select().where(
            AuditEntry.action == (action if action else "a.one")))
        with pytest.raises(TypeError, match="not known while composing"):
            await branching.run(action="a.two")
        # An alias is SQL text, not a value: composing refuses (Piccolo's `if alias:` meets the
        # stand-in first; the check of the composed text is the backstop).
        with pytest.raises((TypeError, ValueError), match="not known while composing|written into the SQL text"):
            await prepared(lambda name: Tenant.select(Count(Tenant.id, alias=name))).run(name="x")
        with pytest.raises(ValueError, match="takes a query"):
            await prepared(lambda: Tenant.create_table()).run()


async def test_long_lists_are_composed_for_their_run_only(world):
    from app.core.prepared import LONGEST_KEPT_LIST

    a, _b = await _entries(world)
    among = prepared(lambda actions: AuditEntry.select(AuditEntry.action).where(AuditEntry.action.is_in(actions)))
    with tenant_scope(a):
        many = ["a.two"] + [f"none.{i}" for i in range(LONGEST_KEPT_LIST)]
        assert [r["action"] for r in await among.run(actions=many)] == ["a.two"]
        assert await among.run(actions=many[:2]) == [{"action": "a.two"}]
    assert list(among._composed) == [("scoped", 2)]  # the statement for 65 values was not kept
