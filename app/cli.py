"""The ``tiaojie`` command: database, demo data, users, and running the services."""

from __future__ import annotations

import asyncio
import os
import sys

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


@main.command()
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"))
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")), type=int)
@click.option("--workers", default=lambda: int(os.environ.get("WEB_WORKERS", "2")), type=int)
def serve(host: str, port: int, workers: int) -> None:
    """Run the production web server (uvicorn, several worker processes)."""
    import uvicorn

    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        access_log=False,
        log_level="warning",
    )


@main.command()
def worker() -> None:
    """Run the arq background worker."""
    from arq.worker import run_worker

    from workers.settings import WorkerSettings

    run_worker(WorkerSettings)  # type: ignore[arg-type]


@main.command()
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"))
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")), type=int)
def dev(host: str, port: int) -> None:
    """Run everything for development: embedded Redis (unless REDIS_URL), worker and web server."""
    from app.devserver import run_all

    sys.exit(run_all(host, port))


if __name__ == "__main__":
    main()
