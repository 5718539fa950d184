"""``tiaojie backup`` / ``restore`` / ``db copy`` on the demo data, as separate processes.

Every table of APP_REGISTRY is compared by row count and content checksum
(``tiaojie db fingerprint``), so tables added later are covered without a change here.
"""

from __future__ import annotations

import os
import sqlite3
import tarfile
import threading
import time
from pathlib import Path

import pytest

from tests.ops.procs import (
    PYTHON, PgDatabase, Service, Visitor, free_port, production_env, query, require_pg_server, tiaojie,
)


def _env(tmp_path: Path, database_url: str, uploads: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "TIAOJIE_VAR_DIR": str(tmp_path / "var"),
           "UPLOADS_DIR": str(uploads or tmp_path / "uploads")}
    env.pop("REDIS_URL", None)  # none of these commands needs Redis
    return env


def _ok(result) -> str:
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


def _fingerprint(env: dict) -> dict[str, tuple[int, str]]:
    lines = _ok(tiaojie(env, "db", "fingerprint")).strip().splitlines()
    return {name: (int(rows), digest) for name, rows, digest in (line.split("\t") for line in lines)}


@pytest.fixture
def databases(tmp_path):
    """Makes new empty databases of this run's kind (PostgreSQL on the PostgreSQL pass)."""
    made: list[PgDatabase] = []
    base = os.environ.get("TEST_DATABASE_URL", "")

    def new(label: str) -> str:
        if base.startswith(("postgres://", "postgresql://")):
            made.append(PgDatabase(base, label).create())
            return made[-1].url
        return f"sqlite:///{tmp_path / label / 'tiaojie.sqlite3'}"

    yield new
    for db in made:
        db.drop()


def _seed(env: dict) -> None:
    _ok(tiaojie(env, "db", "migrate", "--quiet"))
    _ok(tiaojie(env, "demo", "seed"))


def _make_uploads(root: Path) -> dict[str, bytes]:
    files = {"cards/logo.png": b"\x89PNG\r\n\x1a\n" + os.urandom(64), "docs/通知.pdf": b"%PDF-1.4 " + os.urandom(32)}
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return files


def test_backup_restores_into_an_empty_database_with_identical_contents(tmp_path, databases):
    source = _env(tmp_path, databases("source"), tmp_path / "uploads")
    _seed(source)
    files = _make_uploads(tmp_path / "uploads")
    before = _fingerprint(source)
    assert before["tenant"][0] >= 50 and before["daily_count"][0] > 0 and before["notification"][0] > 0

    out = _ok(tiaojie(source, "backup", "--to", str(tmp_path / "backups")))
    archive = next((tmp_path / "backups").glob("tiaojie-backup-*.tar.gz"))
    assert str(archive) in out and oct(archive.stat().st_mode & 0o777) == "0o600"
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"manifest.json", "uploads/cards/logo.png", "uploads/docs/通知.pdf"} <= names

    target = _env(tmp_path, databases("restored"), tmp_path / "restored-uploads")
    out = _ok(tiaojie(target, "restore", str(archive)))
    assert "2 uploaded files" in out and "every table's row count and checksum match the backup" in out
    after = _fingerprint(target)
    assert after == before  # every table: same row count, same content checksum
    for name, data in files.items():
        assert (tmp_path / "restored-uploads" / name).read_bytes() == data

    # The manifest describes what the archive holds, table by table.
    with tarfile.open(archive) as tar:
        manifest = __import__("json").load(tar.extractfile("manifest.json"))
    assert {name: (t["rows"], t["sha256"]) for name, t in manifest["tables"].items()} == before

    # A restore never overwrites: the same target (now holding data) is refused with a reason.
    again = tiaojie(target, "restore", str(archive), )
    assert again.returncode != 0 and ("not empty" in again.stderr or "already holds" in again.stderr)


def test_backup_is_consistent_while_the_site_writes(tmp_path, databases):
    """A backup taken while rows are being written holds one consistent moment: the
    restored database matches the manifest table by table (restore checks it), and the
    manifest counted exactly the rows the dump holds."""
    url = databases("live")
    env = _env(tmp_path, url)
    _seed(env)
    tenant = query(url, "SELECT id FROM tenant WHERE slug = 'chengdong'")[0][0]
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        while not stop.is_set():
            query(url, "INSERT INTO outreach_entry (tenant, day, kind, quantity, notes, created_at) "
                       "VALUES ($1, '2026-01-05', 'visit', 1, 'during backup', '2026-01-05 00:00:00+00:00')", tenant)
            written[0] += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.3)
        _ok(tiaojie(env, "backup", "--to", str(tmp_path / "backups")))
        time.sleep(0.2)
    finally:
        stop.set()
        thread.join()
    archive = next((tmp_path / "backups").glob("*.tar.gz"))
    with tarfile.open(archive) as tar:
        manifest = __import__("json").load(tar.extractfile("manifest.json"))
    in_backup = manifest["tables"]["outreach_entry"]["rows"]
    total = query(url, "SELECT COUNT(*) FROM outreach_entry")[0][0]
    assert written[0] > 0 and in_backup < total  # the writer went on during and after the backup
    restored_url = databases("restored")
    target = _env(tmp_path, restored_url, tmp_path / "r-uploads")
    out = _ok(tiaojie(target, "restore", str(archive)))
    assert "every table's row count and checksum match the backup" in out
    assert query(restored_url, "SELECT COUNT(*) FROM outreach_entry")[0][0] == in_backup
    if restored_url.startswith("sqlite"):
        path = restored_url.split("sqlite:///", 1)[1]
        assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_backup_keeps_the_newest_archives(tmp_path):
    env = _env(tmp_path, f"sqlite:///{tmp_path / 'k.sqlite3'}")
    _ok(tiaojie(env, "db", "migrate", "--quiet"))
    for _ in range(3):
        _ok(tiaojie(env, "backup", "--to", str(tmp_path / "b"), "--keep", "2"))
    assert len(list((tmp_path / "b").glob("tiaojie-backup-*.tar.gz"))) == 2


def test_restore_refuses_an_archive_that_is_not_a_backup(tmp_path):
    bogus = tmp_path / "x.tar.gz"
    bogus.write_bytes(b"not a tarball")
    result = tiaojie(_env(tmp_path, f"sqlite:///{tmp_path / 'r.sqlite3'}"), "restore", str(bogus))
    assert result.returncode != 0 and "not a Tiaojie backup" in result.stderr


def test_db_copy_moves_the_demo_city_from_sqlite_to_postgresql_and_the_site_runs_on_it(tmp_path):
    server = require_pg_server("db copy")
    source = _env(tmp_path, f"sqlite:///{tmp_path / 'embedded.sqlite3'}")
    _seed(source)
    target_db = PgDatabase(server, "copy").create()
    try:
        out = _ok(tiaojie(source, "db", "copy", "--to", target_db.url))
        assert "every table's checksum matches" in out
        target = _env(tmp_path, target_db.url)
        assert _fingerprint(target) == _fingerprint(source)

        refused = tiaojie(source, "db", "copy", "--to", target_db.url)
        assert refused.returncode != 0 and "not empty" in refused.stderr

        # The site runs on the copy: sign in, add a hotline (new ids follow the copied ones).
        from app.devserver import start_embedded_redis

        redis_proc, redis_url = start_embedded_redis()
        port = free_port()
        env = production_env(tmp_path / "var", target_db.url, redis_url, free_port(), "http://127.0.0.1:9/sms")
        web = Service("web", [PYTHON, "-m", "app.cli", "serve", "--port", str(port), "--workers", "1"], env, tmp_path)
        try:
            base = f"http://127.0.0.1:{port}"
            web.wait_http(base + "/readyz")
            staff = Visitor()
            assert staff.login(base, "chengdong.staff@demo.tiaojie.cn", "Tiaojie-demo-2024").status_code == 303
            max_before = query(target_db.url, "SELECT MAX(id) FROM hotline")[0][0]
            added = staff.post(base + "/manage/chengdong/hotlines",
                               {"label": "迁移后新增", "number": "12333", "hours": "", "notes": "", "position": "5"})
            assert added.status_code == 303, added.text[:300]
            new_id = query(target_db.url, "SELECT id FROM hotline WHERE label = $1", "迁移后新增")[0][0]
            assert new_id == max_before + 1
            assert "迁移后新增" in Visitor().get(base + "/o/chengdong/").text
        finally:
            web.stop()
            redis_proc.kill()
    finally:
        target_db.drop()


def test_the_worker_takes_the_nightly_backup_when_backup_dir_is_set(tmp_path, monkeypatch):
    from zoneinfo import ZoneInfo

    from app.ops.backup import backup_cron_jobs, scheduled_backup
    from app.settings import get_settings

    assert backup_cron_jobs() == []  # not set: no cron job
    monkeypatch.setenv("BACKUP_DIR", str(tmp_path / "nightly"))
    monkeypatch.setenv("BACKUP_KEEP", "2")
    get_settings.cache_clear()
    try:
        [job] = backup_cron_jobs()
        assert (job.hour, job.minute, job.second) == (2, 30, 0)
        from workers.settings import WorkerSettings

        assert WorkerSettings.timezone == ZoneInfo("Asia/Shanghai")
        for _ in range(3):
            result = run_async_in_thread(scheduled_backup({}))
        kept = sorted((tmp_path / "nightly").glob("tiaojie-backup-*.tar.gz"))
        assert len(kept) == 2 and result["backup"] == kept[-1].name
    finally:
        get_settings.cache_clear()


def run_async_in_thread(coro):
    from tests.ops.procs import run_async

    return run_async(coro)
