"""``tiaojie backup``, ``tiaojie restore`` and ``tiaojie db copy``.

A backup is one ``tiaojie-backup-<UTC time>.tar.gz`` holding ``manifest.json``,
the database (``database.sqlite3``, a copy made with SQLite's online backup API,
safe while the site serves; or ``database.pgdump``, ``pg_dump``'s custom format)
and ``uploads/`` (the files under ``UPLOADS_DIR``). It is written as ``.partial``
and renamed when complete, so a half-written archive is never taken for a backup.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from app.settings import get_settings

FORMAT = 1
PREFIX = "tiaojie-backup-"
SUFFIX = ".tar.gz"


class OpsError(RuntimeError):
    """A refusal or failure the command prints as a clear sentence."""


def sqlite_path(url: str) -> Path:
    return Path(url.split("sqlite:///", 1)[1])


def _pg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise OpsError(f"{name} is not installed; install PostgreSQL's client tools (apt-get install postgresql-client)")
    return path


def _run_tool(args: list[str]) -> None:
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        raise OpsError(f"{Path(args[0]).name} failed: {result.stderr.strip()}")


# --- backup ---------------------------------------------------------------------------------


async def _dump_sqlite(url: str, workdir: Path) -> tuple[str, dict]:
    from piccolo.engine.sqlite import SQLiteEngine

    from app.ops.data import fingerprint

    source = sqlite_path(url)
    if not source.exists():
        raise OpsError(f"there is no database at {source}")
    target = workdir / "database.sqlite3"

    def copy() -> None:
        # The online backup API copies a consistent snapshot while others read and write.
        src, dst = sqlite3.connect(source, timeout=30), sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()

    await asyncio.to_thread(copy)
    return target.name, await fingerprint(SQLiteEngine(path=str(target)))


async def _dump_postgres(url: str, workdir: Path) -> tuple[str, dict]:
    """pg_dump and the fingerprint read one snapshot (exported by a repeatable-read
    transaction that stays open while pg_dump runs), so the manifest describes exactly
    what the dump holds, also while the site writes."""
    from app.db import engine_from_url
    from app.ops.data import fingerprint

    engine = engine_from_url(url)
    target = workdir / "database.pgdump"
    pg_dump = _tool("pg_dump")
    async with engine.transaction() as tx:
        await tx.connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = await tx.connection.fetchval("SELECT pg_export_snapshot()")
        proc = await asyncio.create_subprocess_exec(
            pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
            f"--file={target}", f"--dbname={_pg_url(url)}",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        _out, err = await proc.communicate()
        if proc.returncode != 0:
            raise OpsError(f"pg_dump failed: {err.decode(errors='replace').strip()}")
        return target.name, await fingerprint(engine)  # in the transaction: the same snapshot


async def _backup(directory: Path, keep: int | None) -> Path:
    settings = get_settings()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    final = directory / f"{PREFIX}{stamp}{SUFFIX}"
    partial = final.with_name(final.name + ".partial")
    with tempfile.TemporaryDirectory(prefix="tiaojie-backup-", dir=directory) as tmp:
        workdir = Path(tmp)
        if settings.is_sqlite:
            database_file, contents = await _dump_sqlite(settings.database_url, workdir)
        else:
            database_file, contents = await _dump_postgres(settings.database_url, workdir)
        uploads = settings.uploads_dir
        upload_files = [p for p in uploads.rglob("*") if p.is_file()] if uploads.is_dir() else []
        manifest = {
            "format": FORMAT,
            "created_at": dt.datetime.now(dt.timezone.utc).isoformat(),
            "engine": "sqlite" if settings.is_sqlite else "postgresql",
            "database_file": database_file,
            "uploads": len(upload_files),
            "tables": contents,  # row count and content checksum of every table, as dumped
        }

        def write() -> None:
            with tarfile.open(partial, "w:gz") as archive:
                data = json.dumps(manifest, indent=2).encode()
                info = tarfile.TarInfo("manifest.json")
                info.size = len(data)
                info.mtime = int(dt.datetime.now().timestamp())
                archive.addfile(info, io.BytesIO(data))
                archive.add(workdir / database_file, arcname=database_file)
                for path in upload_files:
                    archive.add(path, arcname="uploads/" + path.relative_to(uploads).as_posix())

        await asyncio.to_thread(write)
    partial.chmod(0o600)  # password hashes and people's contact details are inside
    os.replace(partial, final)
    if keep:
        prune(directory, keep)
    return final


def backup(directory: Path, keep: int | None = None) -> Path:
    """Write a backup archive into ``directory``; keep the newest ``keep`` archives there."""
    return asyncio.run(_backup(directory, keep))


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups in ``directory`` (and leftover partial ones)."""
    archives = sorted(directory.glob(f"{PREFIX}*{SUFFIX}"))
    removed = archives[:-keep] if keep > 0 else []
    for path in removed + sorted(directory.glob(f"{PREFIX}*{SUFFIX}.partial")):
        path.unlink(missing_ok=True)
    return removed


# --- restore --------------------------------------------------------------------------------


def read_manifest(archive_path: Path) -> dict[str, Any]:
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            member = archive.extractfile("manifest.json")
            manifest = json.load(member) if member else None
    except (OSError, tarfile.TarError, KeyError) as exc:
        raise OpsError(f"{archive_path} is not a Tiaojie backup: {exc}") from None
    if not manifest or manifest.get("format") != FORMAT:
        raise OpsError(f"{archive_path} is not a Tiaojie backup of format {FORMAT}")
    return manifest


async def _refuse_nonempty_database(url: str) -> None:
    from app.db import engine_from_url
    from app.ops.data import existing_tables, nonempty_tables

    engine = engine_from_url(url)
    if url.startswith("sqlite"):
        if sqlite_path(url).exists() and await nonempty_tables(engine):
            raise OpsError(f"the database {sqlite_path(url)} already holds data; restore into a new, empty one "
                           "(move the old file away first)")
        return
    present = await existing_tables(engine)
    if present:
        raise OpsError("the target PostgreSQL database is not empty (it has tables: "
                       f"{', '.join(sorted(present)[:5])}…); create a new database to restore into")


def _refuse_nonempty_uploads(uploads: Path) -> None:
    if uploads.is_dir() and any(p.is_file() for p in uploads.rglob("*")):
        raise OpsError(f"the uploads directory {uploads} already holds files; restore into an empty one")


async def _compare_with_manifest(url: str, tables: dict[str, Any]) -> list[str]:
    """Tables whose row count or checksum differ from the manifest's (tables the backup
    knew of; a table added by a later version is empty until migrations create it)."""
    from app.db import engine_from_url
    from app.ops.data import fingerprint

    got = await fingerprint(engine_from_url(url), only=set(tables))
    return [name for name, facts in tables.items() if got.get(name) != facts]


def restore(archive_path: Path) -> dict[str, Any]:
    """Restore a backup into the (new, empty) database of DATABASE_URL and UPLOADS_DIR."""
    settings = get_settings()
    manifest = read_manifest(archive_path)
    engine = "sqlite" if settings.is_sqlite else "postgresql"
    if manifest["engine"] != engine:
        raise OpsError(f"this backup is of a {manifest['engine']} database and DATABASE_URL is {engine}; "
                       "restore it into its own kind, then use `tiaojie db copy` to move it")
    asyncio.run(_refuse_nonempty_database(settings.database_url))
    _refuse_nonempty_uploads(settings.uploads_dir)
    with tempfile.TemporaryDirectory(prefix="tiaojie-restore-") as tmp:
        workdir = Path(tmp)
        with tarfile.open(archive_path, "r:gz") as archive:
            archive.extractall(workdir, filter="data")
        database_file = workdir / manifest["database_file"]
        if engine == "sqlite":
            target = sqlite_path(settings.database_url)
            target.parent.mkdir(parents=True, exist_ok=True)
            for stale in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
                stale.unlink(missing_ok=True)
            staged = target.with_name(target.name + ".restoring")
            shutil.copyfile(database_file, staged)
            os.replace(staged, target)
        else:
            _run_tool([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                       "--single-transaction", f"--dbname={_pg_url(settings.database_url)}", str(database_file)])
        try:
            different = asyncio.run(_compare_with_manifest(settings.database_url, manifest.get("tables") or {}))
        except Exception as exc:  # noqa: BLE001 - e.g. a backup of an older version: columns differ
            verified = f"not verified ({type(exc).__name__}); run `tiaojie db migrate`, then compare"
        else:
            if different:
                raise OpsError(f"the restored database differs from the backup in {', '.join(different)}")
            verified = "every table's row count and checksum match the backup"
        uploads = workdir / "uploads"
        restored_files = 0
        if uploads.is_dir():
            for path in uploads.rglob("*"):
                if path.is_file():
                    dest = settings.uploads_dir / path.relative_to(uploads)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, dest)
                    restored_files += 1
    return {**manifest, "uploads_restored": restored_files, "verified": verified}


# --- moving to another database -------------------------------------------------------------


def migrate_database(url: str) -> None:
    """Run ``tiaojie db migrate`` against another database (a child process: the engine is
    chosen when piccolo_conf is imported)."""
    env = {**os.environ, "DATABASE_URL": url}
    result = subprocess.run([sys.executable, "-m", "app.cli", "db", "migrate", "--quiet"], env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise OpsError(f"could not migrate the target database: {result.stderr.strip() or result.stdout.strip()}")


async def copy_database(target_url: str, source_url: str | None = None, progress=None) -> dict[str, int]:
    """Copy a whole installation's database (``source_url``, default DATABASE_URL) into an
    empty one at ``target_url`` (default DATABASE_URL), and check that every table's row
    count and content checksum came out the same. Both are migrated to this version first."""
    from app.db import engine_from_url, get_engine
    from app.ops.data import copy_rows, fingerprint, nonempty_tables

    settings = get_settings()
    source_url = source_url or settings.database_url
    target_url = target_url or settings.database_url
    if target_url == source_url:
        raise OpsError("the source and the target are the same database")

    def engine_for(url: str):
        return get_engine() if url == settings.database_url else engine_from_url(url)

    try:
        source, target = engine_for(source_url), engine_for(target_url)
        full = await nonempty_tables(target)
    except (OSError, ValueError) as exc:
        raise OpsError(f"cannot use the target database: {exc}") from None
    except Exception as exc:  # asyncpg's errors: no such database, authentication
        raise OpsError(f"cannot reach the target database: {type(exc).__name__}: {exc}") from None
    if full:
        raise OpsError(f"the target database is not empty (rows in {', '.join(full[:5])}); "
                       "copy into a new, empty database")
    if source_url.startswith("sqlite") and not sqlite_path(source_url).exists():
        raise OpsError(f"there is no database at {sqlite_path(source_url)}")
    await asyncio.to_thread(migrate_database, source_url)
    await asyncio.to_thread(migrate_database, target_url)
    counts = await copy_rows(source, target, progress)
    expected = await fingerprint(source)
    got = await fingerprint(target)
    different = [name for name in expected if expected[name] != got.get(name)]
    if different:
        raise OpsError(f"the copy differs from the source in {', '.join(different)} "
                       "(was the site still writing? stop it and copy into a new database)")
    return counts


# --- the worker's scheduled backup ----------------------------------------------------------


async def scheduled_backup(ctx: dict[str, Any]) -> dict[str, Any]:
    """arq cron job (when BACKUP_DIR is set): a backup, keeping BACKUP_KEEP of them."""
    settings = get_settings()
    path = await _backup(Path(settings.backup_dir), settings.backup_keep)
    return {"backup": path.name, "bytes": path.stat().st_size}


def backup_cron_jobs() -> list:
    """The worker's nightly backup at 02:30 (TIME_ZONE), when BACKUP_DIR is set."""
    from arq import cron

    if not get_settings().backup_dir:
        return []
    return [cron(scheduled_backup, hour=2, minute=30, second=0, unique=True, timeout=3600)]
