"""Every table of every Piccolo app, generically: order, fingerprints, copies.

Nothing here names a table: the list comes from ``piccolo_conf.APP_REGISTRY``,
so a new app's tables are backed up, compared and copied the day they exist.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from typing import Any, AsyncIterator

from piccolo.columns import JSON, JSONB, Boolean, ForeignKey
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table, sort_table_classes

BATCH = 500


def app_tables() -> list[type[Table]]:
    """Every table of APP_REGISTRY, referenced tables before the tables that refer to them."""
    from piccolo.conf.apps import Finder

    return sort_table_classes(Finder().get_table_classes())


async def pending_migrations() -> list[str]:
    """Migrations of APP_REGISTRY that have not run on the current database."""
    from piccolo.apps.migrations.commands.base import BaseMigrationManager
    from piccolo.apps.migrations.tables import Migration
    from piccolo.conf.apps import Finder

    manager = BaseMigrationManager()
    missing: list[str] = []
    for app_config in Finder().get_app_registry().app_configs.values():
        modules = manager.get_migration_modules(app_config.resolved_migrations_folder_path)
        ran = set(await Migration.get_migrations_which_ran(app_name=app_config.app_name))
        missing += [f"{app_config.app_name}:{m}" for m in sorted(set(modules) - ran)]
    return missing


def _canonical(column: Any, value: Any) -> Any:
    """One representation of a value whatever engine it was read from."""
    if value is None:
        return None
    if isinstance(column, Boolean):
        return bool(value)
    if isinstance(column, (JSON, JSONB)):
        return json.loads(value) if isinstance(value, (str, bytes)) else value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc)
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [_canonical(None, v) for v in value]
    return value


async def iter_rows(table: type[Table], engine: Engine | None = None) -> AsyncIterator[list[Any]]:
    """All rows of ``table`` in ``engine``'s database (default: the configured one), in
    primary-key order, a batch at a time (keyset pagination).

    Plain SQL through the engine, not a query of the table class: the table classes stay
    bound to the configured database for everything else running in this process."""
    from piccolo.querystring import QueryString

    engine = engine or table._meta.db
    pk = table._meta.primary_key._meta.db_column_name
    names = ", ".join(f'"{c._meta.db_column_name}"' for c in table._meta.columns)
    name = table._meta.tablename
    last = None
    while True:
        if last is None:
            query = QueryString(f'SELECT {names} FROM "{name}" ORDER BY "{pk}" LIMIT {BATCH}')
        else:
            query = QueryString(f'SELECT {names} FROM "{name}" WHERE "{pk}" > {{}} ORDER BY "{pk}" LIMIT {BATCH}',
                                last)
        rows = await engine.run_querystring(query)
        if not rows:
            return
        yield rows
        last = rows[-1][pk]


async def fingerprint(engine: Engine | None = None, only: set[str] | None = None) -> dict[str, dict[str, Any]]:
    """Row count and a SHA-256 of the content of every table, comparable across engines."""
    result: dict[str, dict[str, Any]] = {}
    for table in app_tables():
        if only is not None and table._meta.tablename not in only:
            continue
        digest = hashlib.sha256()
        count = 0
        columns = table._meta.columns
        async for rows in iter_rows(table, engine):
            for row in rows:
                canonical = [_canonical(c, row[c._meta.db_column_name]) for c in columns]
                digest.update(json.dumps(canonical, sort_keys=True, ensure_ascii=False, default=str).encode())
                digest.update(b"\n")
                count += 1
        result[table._meta.tablename] = {"rows": count, "sha256": digest.hexdigest()}
    return result


async def existing_tables(engine: Engine) -> set[str]:
    if isinstance(engine, PostgresEngine):
        rows = await _raw(engine, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        return {r["tablename"] for r in rows}
    rows = await _raw(engine, "SELECT name AS tablename FROM sqlite_master WHERE type = 'table'")
    return {r["tablename"] for r in rows if not r["tablename"].startswith("sqlite_")}


async def _raw(engine: Engine, sql: str, *args: Any) -> list[dict[str, Any]]:
    from piccolo.querystring import QueryString

    return await engine.run_querystring(QueryString(sql, *args))


async def nonempty_tables(engine: Engine) -> list[str]:
    """Our tables in ``engine``'s database that hold rows (a copy or restore refuses those)."""
    present = await existing_tables(engine)
    full = []
    for table in app_tables():
        name = table._meta.tablename
        if name in present:
            rows = await _raw(engine, f'SELECT 1 AS x FROM "{name}" LIMIT 1')
            if rows:
                full.append(name)
    return full


def _self_references(table: type[Table]) -> list[ForeignKey]:
    return [fk for fk in table._meta.foreign_key_columns
            if fk._foreign_key_meta.resolved_references._meta.tablename == table._meta.tablename]


async def copy_rows(source: Engine, target: Engine, progress=None) -> dict[str, int]:
    """Copy every app table's rows from ``source`` to ``target`` (whose schema is migrated
    and empty), keeping primary keys; then set PostgreSQL's sequences past the copied ids.

    A column that refers to its own table (a tenant's parent) is filled in after all
    rows are there, so the order of rows within a table does not matter."""
    async with target.transaction():  # all or nothing: a failed copy leaves the target empty
        return await _copy_rows(source, target, progress)


async def _copy_rows(source: Engine, target: Engine, progress=None) -> dict[str, int]:
    from piccolo.querystring import QueryString

    copied: dict[str, int] = {}
    later: list[tuple[type[Table], ForeignKey, Any, Any]] = []
    for table in app_tables():
        name = table._meta.tablename
        columns = table._meta.columns
        deferred = {fk._meta.name for fk in _self_references(table) if fk._meta.null}
        names = ", ".join(f'"{c._meta.db_column_name}"' for c in columns)
        pk_name = table._meta.primary_key._meta.db_column_name
        count = 0
        async for rows in iter_rows(table, source):
            values = []
            for row in rows:
                for column in columns:
                    value = row[column._meta.db_column_name]
                    if column._meta.name in deferred and value is not None:
                        later.append((table, column, row[pk_name], value))
                        value = None
                    values.append(value)
            placeholders = ", ".join("(" + ", ".join(["{}"] * len(columns)) + ")" for _ in rows)
            await target.run_querystring(QueryString(f'INSERT INTO "{name}" ({names}) VALUES {placeholders}',
                                                     *values))
            count += len(rows)
        copied[name] = count
        if progress:
            progress(name, count)
    for table, column, pk_value, value in later:
        pk_column = table._meta.primary_key._meta.db_column_name
        await target.run_querystring(QueryString(
            f'UPDATE "{table._meta.tablename}" SET "{column._meta.db_column_name}" = {{}} '
            f'WHERE "{pk_column}" = {{}}', value, pk_value))
    if isinstance(target, PostgresEngine):
        await reset_sequences(target)
    return copied


async def reset_sequences(engine: PostgresEngine) -> None:
    """After rows were written with their ids: every serial column's next value follows the largest id."""
    from piccolo.querystring import QueryString

    ours = {t._meta.tablename for t in app_tables()}
    serials = await engine.run_querystring(QueryString(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'"))
    for row in serials:
        name, col = row["table_name"], row["column_name"]
        if name not in ours:
            continue
        await engine.run_querystring(QueryString(
            f"SELECT setval(pg_get_serial_sequence('\"{name}\"', '{col}'), "
            f"COALESCE((SELECT MAX(\"{col}\") FROM \"{name}\"), 0) + 1, false)"))
