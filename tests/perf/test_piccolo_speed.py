"""The replacement of ``dir()`` in Piccolo's ForeignKey attribute lookup (app/core/piccolo_speed.py)
answers exactly what ``dir()`` answered, for every foreign key of every table and the columns
reached through it, and queries with joins compose to the same SQL with it as without it."""

from __future__ import annotations

import builtins

import pytest
from piccolo.columns import column_types

from app.core.piccolo_speed import attribute_names


def _tables():
    from piccolo.conf.apps import Finder

    return Finder().get_table_classes()


def _foreign_keys():
    keys = []
    for table in _tables():
        for column in table._meta.foreign_key_columns:
            keys.append((f"{table.__name__}.{column._meta.name}", column))
            target = column._foreign_key_meta.resolved_references
            for inner in target._meta.foreign_key_columns:  # one step further: a copy with proxy columns
                keys.append((f"{table.__name__}.{column._meta.name}.{inner._meta.name}",
                             getattr(column, inner._meta.name)))
    return keys


def test_the_patch_is_in_place():
    assert column_types.dir is attribute_names


def test_it_agrees_with_dir_for_every_foreign_key():
    keys = _foreign_keys()
    assert len(keys) > 20  # the app's tables, not an empty finder
    for label, column in keys:
        names = set(builtins.dir(column))
        target = column._foreign_key_meta.resolved_references
        probes = names | {c._meta.name for c in target._meta.columns} | {"no_such_column", "nam", "copy_"}
        # Piccolo asks only for names without a leading underscore (those skip the check).
        probes = {name for name in probes if not name.startswith("_")}
        fast = attribute_names(column)
        wrong = {name for name in probes if (name in fast) != (name in names)}
        assert not wrong, (label, sorted(wrong))


def _members_query():
    from tenants.tables import Membership

    return Membership.select(Membership.user.name.as_alias("name"), Membership.tenant.slug).where(
        Membership.user.email == "a@b.c")


def _inbox_query():
    from app.feedback.service import FeedbackAccess, _item_columns

    return FeedbackAccess.select(*_item_columns())


@pytest.mark.parametrize("build", [_members_query, _inbox_query])
def test_queries_with_joins_compose_to_the_same_sql(build, monkeypatch):
    from tenants.scope import unscoped

    with unscoped("composing a query to compare its SQL, never run"):
        with_patch = str(build())
        monkeypatch.setattr(column_types, "dir", builtins.dir)
        assert str(build()) == with_patch
    assert "JOIN" in with_patch


def test_through_builds_a_column_once_and_it_composes_as_the_chain_does():
    from app.core.piccolo_speed import through
    from app.events.tables import Attendee
    from tenants.scope import unscoped

    column = through(Attendee, "registration.union_tenant")
    assert through(Attendee, "registration.union_tenant") is column
    with unscoped("composing a query to compare its SQL, never run"):
        cached = str(Attendee.select(column.name.as_alias("union_name")).where(column.name == "x"))
        direct = str(Attendee.select(Attendee.registration.union_tenant.name.as_alias("union_name")).where(
            Attendee.registration.union_tenant.name == "x"))
    assert cached == direct and "JOIN" in cached
