"""Piccolo's cost of composing a query: one fix applied when ``app.db`` is imported, and
``through()`` for columns reached through foreign keys.

``ForeignKey.__getattribute__`` runs on every attribute read of a foreign-key column
(Piccolo's own code reads them many times while composing a query with a join) and
starts with ``name not in dir(self)``: ``dir()`` builds and sorts a list of a few
hundred names each time, only to decide whether a lazily referenced table still has
to be resolved. In a profile of the dashboard that check was most of the 21% spent in
``ForeignKey.__getattribute__`` (README "Performance").

The module's ``dir`` is replaced by ``attribute_names``, which answers the same
question (is the name an attribute of the instance or of its class?) from the
instance's ``__dict__`` and a per-class set, without building the list. It is used
only for that membership test; tests/perf/test_piccolo_speed.py checks that it agrees
with ``dir()`` for every foreign key of every table."""

from __future__ import annotations

import functools
from typing import Any

from piccolo.columns import column_types


@functools.cache
def _class_names(cls: type) -> frozenset[str]:
    return frozenset(name for klass in cls.__mro__ for name in vars(klass))


class _Names:
    __slots__ = ("instance",)

    def __init__(self, instance: Any) -> None:
        self.instance = instance

    def __contains__(self, name: object) -> bool:
        instance = self.instance
        return name in object.__getattribute__(instance, "__dict__") or name in _class_names(type(instance))


def attribute_names(instance: Any) -> _Names:
    """What ``name in dir(instance)`` answers, for an object without its own ``__dir__``."""
    return _Names(instance)


def apply() -> None:
    column_types.dir = attribute_names  # type: ignore[attr-defined]


@functools.cache
def through(table: Any, path: str) -> Any:
    """``table.<path>`` (e.g. ``through(Attendee, "registration.union_tenant")``), built once
    per process. Each step through a foreign key copies every column of the table it
    reaches; Piccolo's queries do not change the columns they are given, so one copy serves
    every query."""
    column = table
    for step in path.split("."):
        column = getattr(column, step)
    return column
