"""The ``tiaojie`` command: database, demo data, users, and running the services."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import click


def _run(coro):
    return asyncio.run(coro)


async def migrate(quiet: bool = False) -> None:
    import contextlib
    import io

    from piccolo.apps.migrations.commands.forwards import run_forwards

    from app.db import get_engine
    from app.settings import get_settings

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer if quiet else sys.stdout):
        result = await run_forwards("all")
    if not result.success:
        raise click.ClickException(f"migration failed: {result.message}\n{buffer.getvalue()}")
    if get_settings().is_sqlite:
        # WAL lets the web server read while the worker writes.
        await get_engine().run_ddl("PRAGMA journal_mode=WAL")


@click.group()
def main() -> None:
    """Tiaojie (调解): outreach and training for the labour-dispute mediation network."""
    from app import i18n

    # Messages follow the terminal's language: Chinese for zh_*, English otherwise.
    lang = os.environ.get("LC_ALL") or os.environ.get("LANG", "")
    i18n.set_locale("zh_Hans" if lang.startswith("zh") else "en")


@main.group()
def db() -> None:
    """Database commands."""


@db.command("migrate")
@click.option("--quiet", is_flag=True, help="Print only errors.")
def db_migrate(quiet: bool) -> None:
    """Apply all database migrations."""
    _run(migrate(quiet=quiet))
    click.echo("database is up to date")


@main.group()
def demo() -> None:
    """Demo data."""


@demo.command("seed")
@click.option("--if-empty", is_flag=True, help="Seed only when there are no organisations yet.")
def demo_seed(if_empty: bool) -> None:
    """Create the demo city, its organisations and one account per role (idempotent)."""
    from app.directory.demo import DEMO_ACCOUNTS, ORG_ADMIN_DOMAIN, seed_demo

    async def go():
        from tenants.tables import Tenant

        if if_empty and await Tenant.count() > 0:
            return None
        return await seed_demo()

    summary = _run(go())
    if summary is None:
        click.echo("demo data already present")
        return
    click.echo(f"demo data: {summary['tenants']} organisations, {summary['users']} accounts")
    for email, password, tenant, role in DEMO_ACCOUNTS:
        click.echo(f"  {role:10} {email} / {password}  ({tenant})")
    click.echo(f"  admin      <slug>.admin@{ORG_ADMIN_DOMAIN} for every other organisation, same password")


@main.group()
def user() -> None:
    """User accounts."""


@user.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--tenant", "tenant_slug", required=True, help="Slug of the organisation.")
@click.option("--role", type=click.Choice(["admin", "staff", "union_rep"]), required=True)
@click.option("--name", default="", help="Display name (defaults to the email's local part).")
def user_create(email: str, password: str, tenant_slug: str, role: str, name: str) -> None:
    """Create an account and make it a member of an organisation."""
    from app.accounts import service
    from app.core.forms import EMAIL_RE

    if not EMAIL_RE.match(email.strip()):
        raise click.BadParameter("not a valid email address", param_hint="--email")

    async def go() -> int:
        tenant = await service.tenant_by_slug(tenant_slug)
        if tenant is None:
            raise click.BadParameter(f"no organisation with slug {tenant_slug!r}", param_hint="--tenant")
        if role == "union_rep" and tenant["kind"] != "union":
            raise click.BadParameter("union_rep is a role in a union", param_hint="--role")
        try:
            user_id = await service.create_user(email, password, name)
        except service.AccountError as exc:
            raise click.BadParameter(exc.message, param_hint=f"--{exc.field}") from None
        await service.add_membership(user_id, tenant["id"], role)
        return user_id

    user_id = _run(go())
    click.echo(f"created user {user_id}: {email.strip().lower()} as {role} of {tenant_slug}")


@main.group()
def notify() -> None:
    """Messages (the outbox)."""


@notify.command("test")
@click.option("--tenant", "tenant_slug", required=True, help="Slug of the sending organisation.")
@click.option("--email", default="", help="Recipient email address.")
@click.option("--phone", default="", help="Recipient mobile number (SMS when there is no email).")
def notify_test(tenant_slug: str, email: str, phone: str) -> None:
    """Queue a test message; the worker delivers it (see the organisation's Messages page)."""
    import secrets

    from app.core.forms import EMAIL_RE
    from app.notifications import service

    if email and not EMAIL_RE.match(email.strip()):
        raise click.BadParameter("not a valid email address", param_hint="--email")
    if not email and not phone:
        raise click.BadParameter("give --email or --phone", param_hint="--email")

    async def go() -> int:
        from app.core.jobs import close_pool

        from tenants.tables import Tenant

        tenant = await Tenant.select(Tenant.id, Tenant.name).where(Tenant.slug == tenant_slug).first()
        if tenant is None:
            raise click.BadParameter(f"no organisation with slug {tenant_slug!r}", param_hint="--tenant")
        try:
            return await service.notify(
                tenant["id"], "staff_notice", f"cli-test:{secrets.token_hex(8)}",
                email=email.strip(), phone=phone.strip(), urgent=True,
                payload={"subject": f"Test message from {tenant['name']}",
                         "body": "If you can read this, messages from the platform reach you."},
            )
        finally:
            await close_pool()

    notification_id = _run(go())
    click.echo(f"queued notification {notification_id} from {tenant_slug}")


def _refuse_unsafe_production() -> None:
    from app.ops.checks import refuse_unsafe_production
    from app.settings import ConfigurationError

    try:
        refuse_unsafe_production()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"))
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")), type=int)
@click.option("--workers", default=lambda: int(os.environ.get("WEB_WORKERS", "2")), type=int)
@click.option("--metrics-address", default=lambda: os.environ.get("METRICS_ADDRESS", ""),
              help="host:port for the Prometheus endpoint (keep it private); empty: none.")
def serve(host: str, port: int, workers: int, metrics_address: str) -> None:
    """Run the production web server (uvicorn, several worker processes)."""
    from app.ops.logs import configure_logging
    from app.settings import get_settings

    _refuse_unsafe_production()
    settings = get_settings()
    if metrics_address:
        # Before prometheus_client is imported anywhere: every process writes its
        # metrics to files there, and the endpoint adds them up.
        from app.ops.metrics_dir import prepare_multiprocess_dir

        prepare_multiprocess_dir(settings.var_dir / "metrics" / f"web-{port}")
    import uvicorn

    configure_logging("web")
    if metrics_address:
        from app.ops.metrics import serve_web_metrics

        serve_web_metrics(metrics_address, settings.database_url)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        access_log=False,
        log_config=None,
        log_level="warning",
        timeout_graceful_shutdown=20,
        # uvicorn kills a worker that does not answer its supervisor's ping within this;
        # its default of 5 s killed busy workers on a loaded 2-core host again and again.
        timeout_worker_healthcheck=60,
    )


@main.command()
@click.option("--metrics-address", default=lambda: os.environ.get("WORKER_METRICS_ADDRESS", ""),
              help="host:port for the worker's Prometheus endpoint (keep it private); empty: none.")
def worker(metrics_address: str) -> None:
    """Run the arq background worker."""
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)  # one process: its own registry
    from app.ops.logs import configure_logging
    from app.ops.metrics import instrument_worker_settings, serve_worker_metrics
    from app.settings import get_settings

    _refuse_unsafe_production()
    configure_logging("worker")
    from workers.settings import WorkerSettings

    if metrics_address:
        serve_worker_metrics(metrics_address, get_settings().database_url)
    from workers.shutdown import worker_from

    worker_from(instrument_worker_settings(WorkerSettings)).run()  # stops as workers/shutdown.py says


@main.command()
def check() -> None:
    """Check the configuration as production start-up would, and whether the database and Redis answer."""
    from app.ops.checks import production_problems
    from app.ops.health import readiness
    from app.settings import get_settings

    settings = get_settings()
    problems = production_problems(settings)
    for problem in problems:
        click.echo(f"{'error' if settings.production else 'note'}: {problem}")
    ready, report = _run(readiness())
    for name, status in report.items():
        click.echo(f"{name}: {status}")
    if not ready or (settings.production and problems):
        raise SystemExit(1)
    click.echo("ready")


@main.command("backup")
@click.option("--to", "directory", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the archive.")
@click.option("--keep", type=int, default=0, help="Keep only the newest N archives in that directory.")
def backup_command(directory: Path, keep: int) -> None:
    """Back up the database and the uploaded files into one archive (safe while the site serves)."""
    from app.ops.backup import OpsError, backup

    try:
        path = backup(directory, keep or None)
    except OpsError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backup written: {path} ({path.stat().st_size} bytes)")


def _use_database(url: str, uploads: Path | None = None) -> None:
    """Point this command at another database (before anything opens the configured one)."""
    from app.settings import get_settings

    if url:
        os.environ["DATABASE_URL"] = url
    if uploads:
        os.environ["UPLOADS_DIR"] = str(uploads)
    get_settings.cache_clear()


@main.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--database", default="", help="Restore into this database instead of DATABASE_URL.")
@click.option("--uploads", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Restore the uploaded files here instead of UPLOADS_DIR.")
def restore_command(archive: Path, database: str, uploads: Path | None) -> None:
    """Restore a backup into a new, empty database (DATABASE_URL or --database) and uploads directory."""
    from app.ops.backup import OpsError, restore

    _use_database(database, uploads)
    try:
        manifest = restore(archive)
    except OpsError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored the {manifest['engine']} backup of {manifest['created_at']} "
               f"and {manifest['uploads_restored']} uploaded files; {manifest['verified']}")


@db.command("copy")
@click.option("--from", "source", default="", help="URL of the database to copy (default: DATABASE_URL).")
@click.option("--to", "target", default="", help="URL of the new, empty database (default: DATABASE_URL).")
def db_copy(source: str, target: str) -> None:
    """Copy every table into another, empty database (moving off SQLite); stop the site first."""
    from app.ops.backup import OpsError, copy_database

    def progress(table: str, count: int) -> None:
        click.echo(f"  {table}: {count} rows")

    try:
        if not source and not target:
            raise click.UsageError("give --to (copy this database there) or --from (copy that one here)")
        counts = _run(copy_database(target, source or None, progress))
    except OpsError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"copied {sum(counts.values())} rows in {len(counts)} tables; every table's checksum matches")


@db.command("fingerprint")
@click.option("--database", default="", help="Another database than DATABASE_URL.")
def db_fingerprint(database: str) -> None:
    """Print every table's row count and content checksum (to compare two databases)."""
    _use_database(database)
    from app.ops.data import fingerprint

    result = _run(fingerprint())
    for table, facts in sorted(result.items()):
        click.echo(f"{table}\t{facts['rows']}\t{facts['sha256']}")


@main.command()
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"))
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")), type=int)
def dev(host: str, port: int) -> None:
    """Run everything for development: embedded Redis (unless REDIS_URL), worker and web server."""
    if os.environ.get("TIAOJIE_ENV") == "production":
        raise click.ClickException("tiaojie dev is for development; in production run tiaojie serve and "
                                   "tiaojie worker (see docs/deploy.md)")
    from app.devserver import run_all

    sys.exit(run_all(host, port))


if __name__ == "__main__":
    main()
