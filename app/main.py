"""The Litestar application factory."""

from __future__ import annotations

import logging

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.middleware import DefineMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from app.core.ids import IdGuardMiddleware
from app.core.sessions import BoundCsrfMiddleware, CsrfMiddleware, DatabaseSessionConfig
from litestar.plugins.htmx import HTMXPlugin
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from app.accounts.routes import ROUTES as ACCOUNT_ROUTES
from app.core.errors import EXCEPTION_HANDLERS
from app.core.middleware import RequestBasicsMiddleware
from app.core.redis import close_redis
from app.core.pagecache import VersionWatcher as PageVersionWatcher
from app.core.render import get_env, static_dir
from app.core import jobs
from app.db import start_db, stop_db
from app.directory.routes import ROUTES as DIRECTORY_ROUTES
from app.health.routes import ROUTES as HEALTH_ROUTES
from app.manage.routes import ROUTES as MANAGE_ROUTES
from app.outreach.counters import PageViewMiddleware, stop_view_counting
from app.outreach.routes import ROUTES as OUTREACH_ROUTES
from app.notifications.routes import ROUTES as NOTIFICATION_ROUTES
from app.events.routes import ROUTES as EVENT_ROUTES
from app.registry.routes import ROUTES as REGISTRY_ROUTES
from app.city.routes import ROUTES as CITY_ROUTES
from app.city.report_routes import ROUTES as REPORT_ROUTES
from app.feedback.routes import ROUTES as FEEDBACK_ROUTES
from app.invitations.routes import ROUTES as INVITATION_ROUTES
from app.training.routes import ROUTES as TRAINING_ROUTES
from app.settings import get_settings
from app.ops.checks import refuse_unsafe_production
from app.ops.logs import configure_logging
from app.ops.metrics import RequestMetricsMiddleware
from litestar.exceptions import ImproperlyConfiguredException

from tenants.guards import PUBLIC, enforce_access, undeclared_routes
from tenants.middleware import RequestContextMiddleware

SESSION_MAX_AGE = 14 * 24 * 3600


def route_handlers() -> list:
    static = create_static_files_router(
        path="/static",
        directories=[static_dir()],
        opt={"access": PUBLIC},
        cache_control=None,
        include_in_schema=False,
        name="static",
    )
    return [*DIRECTORY_ROUTES, *ACCOUNT_ROUTES, *MANAGE_ROUTES, *OUTREACH_ROUTES, *NOTIFICATION_ROUTES, *EVENT_ROUTES, *HEALTH_ROUTES, static,
            *REGISTRY_ROUTES, *CITY_ROUTES, *FEEDBACK_ROUTES, *TRAINING_ROUTES, *REPORT_ROUTES, *INVITATION_ROUTES]


async def _start_page_versions(app: Litestar) -> None:
    app.state.page_versions = PageVersionWatcher()
    await app.state.page_versions.start()


async def _stop_page_versions(app: Litestar) -> None:
    await app.state.page_versions.stop()


_settled: list[bool] = []


async def _settle_memory() -> None:
    """After start-up, move everything imported and built so far (modules, tables, catalogs)
    out of the garbage collector's sight: full collections would otherwise walk those objects
    again and again while requests wait (p99 under load 11-54% lower, measured with wrk;
    README "Performance"). Once per process: a second app in the same process (tests)
    would freeze its predecessors' garbage for good."""
    import gc

    if not _settled:
        _settled.append(True)
        gc.collect()
        gc.freeze()


async def _on_shutdown() -> None:
    await stop_view_counting()
    await jobs.close_pool()
    await close_redis()
    await stop_db()


def create_app() -> Litestar:
    settings = get_settings()
    refuse_unsafe_production(settings)
    configure_logging("web")
    session = DatabaseSessionConfig(
        key="tiaojie_session",
        max_age=SESSION_MAX_AGE,
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
        store="sessions",
        renew_on_access=True,
    )
    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name="tiaojie_csrf",
        cookie_secure=settings.secure_cookies,
        cookie_samesite="lax",
        header_name="x-csrftoken",
    )
    app = Litestar(
        route_handlers=route_handlers(),
        # CsrfMiddleware last: innermost, where Litestar's csrf_config would put its own.
        middleware=[RequestMetricsMiddleware, IdGuardMiddleware, session.middleware, BoundCsrfMiddleware,
                    RequestContextMiddleware, PageViewMiddleware, DefineMiddleware(CsrfMiddleware, config=csrf)],
        guards=[enforce_access],
        exception_handlers=EXCEPTION_HANDLERS,
        plugins=[HTMXPlugin()],
        template_config=TemplateConfig(engine=JinjaTemplateEngine.from_environment(get_env())),
        on_startup=[start_db, _start_page_versions, _settle_memory],
        on_shutdown=[_stop_page_versions, _on_shutdown],
        openapi_config=None,
        logging_config=None,  # app.ops.logs configures logging (JSON in production)
        debug=False,
    )
    # Outside Litestar's router and exception handling, so that every response (a 404 for a
    # path no route matches, a 405, an error raised in a middleware) gets the security headers,
    # the request id and the visitor's language.
    app.asgi_handler = RequestBasicsMiddleware(app.asgi_handler)
    missing = undeclared_routes(app)
    if missing:
        raise ImproperlyConfiguredException("routes without an access declaration: " + ", ".join(missing))
    return app
