"""Statements composed once per process and run many times (issue #14).

Piccolo composes a query's SQL every time it runs: each column's name and join, each
clause, each placeholder. On our pages that was a quarter of a signed-in request's time
(README "Performance"). A page's statements have the same text on every request; only
the values change: the active organisation, a person's id, a date.

``prepared(build)`` calls ``build`` once, with a stand-in for each of its parameters,
inside ``tenants.scope.composing()``, where a tenant-owned table's filter compares its
``tenant`` with a stand-in for the active organisation. The SQL text is kept with where
each stand-in sits among its arguments; each run puts the values in their places:

* the active organisation's id comes from the tenancy scope *at run time*
  (``current_tenant_id()``);
* a statement is composed once per tenancy mode: in a scope (as above), inside
  ``unscoped()`` (no tenant filter, as Piccolo's query there), and outside both (where a
  tenant-owned table raises ``TenancyError`` when it is composed, as Piccolo's would);
* each parameter's value comes from the call, always as a bound argument, never text
  (a parameter ``build`` does not use is ignored; one it tests with ``if`` raises);
* a list parameter (``x.is_in(ids)``) has one statement per length.

Only ``select``/``objects``/``count``/``exists`` statements whose values are arguments
(Piccolo writes ``LIMIT`` and ``OFFSET`` as text: keep them constants in ``build``).
What a run returns is what Piccolo would return for the same query: a copy of the
composed query runs with the statement frozen (Piccolo's own ``freeze()`` mechanism), so
results go through that query's handling (``first()``, ``output()``, objects, callbacks).
"""

from __future__ import annotations

import copy
import inspect
from typing import Any, Callable

from piccolo.query.base import Query
from piccolo.query.proxy import Proxy
from piccolo.querystring import QueryString

from tenants.scope import TENANT_SLOT, composing, current_tenant_id, scope_mode


LONGEST_KEPT_LIST = 64  # statements kept per list length up to this; longer lists: composed per run


class _Slot:
    """Stands for a parameter's value while the statement is composed."""

    __slots__ = ("name", "index")

    def __init__(self, name: str, index: int | None = None) -> None:
        self.name, self.index = name, index

    def __repr__(self) -> str:  # in SQL text it would show: composing checks it never does
        return f"<prepared slot {self.name}[{self.index}]>"

    def __bool__(self) -> bool:  # ``if value:`` while composing would pick a branch for every run
        raise TypeError(f"the value of {self.name!r} is not known while composing: use it only in clauses")


class Prepared:
    __slots__ = ("_build", "_names", "_composed")

    def __init__(self, build: Callable[..., Any]) -> None:
        self._build = build
        self._names = tuple(inspect.signature(build).parameters)
        self._composed: dict[tuple, tuple] = {}

    def _compose(self, shape: tuple) -> tuple:
        stand_ins: dict[str, Any] = {}
        for name, length in zip(self._names, shape[1:]):
            stand_ins[name] = _Slot(name) if length is None else [_Slot(name, i) for i in range(length)]
        if shape[0] == "scoped":
            with composing():
                target = self._build(**stand_ins)
        else:  # inside unscoped() or outside any scope: composed as Piccolo would compose it there
            target = self._build(**stand_ins)
        query = target
        while not isinstance(query, Query):  # first(), output(as_list=True): Piccolo's proxies
            if not isinstance(query, Proxy):
                raise ValueError("prepared() takes a query: select, objects, count or exists")
            query = query.query
        querystrings = query.querystrings
        if len(querystrings) != 1:
            raise ValueError("prepared() takes a query of one statement")
        querystring = querystrings[0]
        sql, args = querystring.compile_string(engine_type=query.engine_type)
        places: list[tuple[int, Any]] = []  # (0, constant) | (1, tenant) | (2, (name, index))
        for arg in args:
            if arg is TENANT_SLOT:
                places.append((1, None))
            elif isinstance(arg, _Slot):
                places.append((2, (arg.name, arg.index)))
            else:
                places.append((0, arg))
        if "prepared slot" in sql or "TenantSlot" in sql:
            raise ValueError("a parameter was written into the SQL text; only bound values can be parameters")
        composed = (target, sql, tuple(places), querystring.query_type, querystring.table)
        if all(length is None or length <= LONGEST_KEPT_LIST for length in shape[1:]):
            self._composed[shape] = composed  # a longer list is composed for its run only
        return composed

    async def run(self, **values: Any) -> Any:
        shape = (scope_mode(), *(len(values[n]) if isinstance(values[n], (list, tuple)) else None
                                  for n in self._names))
        composed = self._composed.get(shape) or self._compose(shape)
        target, sql, places, query_type, table = composed
        args = []
        for kind, value in places:
            if kind == 0:
                args.append(value)
            elif kind == 1:
                args.append(current_tenant_id())  # raises TenancyError outside a scope
            else:
                name, index = value
                args.append(values[name] if index is None else values[name][index])
        statement = QueryString("", query_type=query_type, table=table)
        statement._frozen_compiled_strings = (sql, args)
        return await _with_statement(target, statement).run()


def _with_statement(target: Any, statement: QueryString) -> Any:
    """A shallow copy of the composed query (and of the proxy around it) that runs this
    statement: Piccolo runs a query's frozen statements as they are, then handles the
    results as that query's (its result handling, callbacks, ``first()`` and ``output()``)."""
    if isinstance(target, Query):
        query = copy.copy(target)
        query._frozen_querystrings = (statement,)
        return query
    proxy = object.__new__(type(target))  # copy.copy would recurse in Proxy.__getattr__
    proxy.__dict__.update(target.__dict__)
    proxy.query = _with_statement(target.query, statement)
    return proxy


def prepared(build: Callable[..., Any]) -> Prepared:
    """A statement composed on its first run; ``build``'s parameters are given at each
    ``run(name=value)``. See the module's docstring for what it may contain."""
    return Prepared(build)
