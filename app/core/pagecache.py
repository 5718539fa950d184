"""Cache of public pages for anonymous visitors, invalidated exactly.

Every change to anything a public page shows calls ``bump()`` after it commits;
that replaces one version token in Redis. Each request reads the token (one
Redis GET) and looks up ``(version, path, query, locale)`` in an in-process LRU,
so a change is visible on the very next request in every worker process. When
Redis is unreachable nothing is cached and pages are rendered fresh. Entries
also expire after ``MAX_AGE`` seconds, a bound for the one case exactness cannot
cover: a bump that failed because Redis was down at that moment.

Only whole pages without per-visitor content are cached: GET, no signed-in
user, no flash messages. Handlers opt in with ``serve_cached``; their own side
effects (such as counting a page view) stay outside the cached part.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import OrderedDict
from typing import Awaitable, Callable

from litestar import Request, Response
from litestar.enums import MediaType

from app import i18n
from app.core.redis import get_redis
from app.settings import get_settings

log = logging.getLogger(__name__)

VERSION_KEY = "tiaojie:public-version"
MAX_ENTRIES = 2048
MAX_AGE = 60.0

_pages: OrderedDict[tuple, tuple[float, bytes]] = OrderedDict()


async def current_version(scope: dict | None = None) -> str | None:
    """The public version token; read once per request when given the ASGI scope."""
    state = scope.setdefault("state", {}) if scope is not None else {}
    if "public_version" in state:
        return state["public_version"]
    state["public_version"] = version = await _read_version()
    return version


async def _read_version() -> str | None:
    try:
        redis = get_redis()
        version = await redis.get(VERSION_KEY)
        if version is None:
            await redis.set(VERSION_KEY, uuid.uuid4().hex, nx=True)
            version = await redis.get(VERSION_KEY)
        return version.decode() if isinstance(version, bytes) else version
    except Exception:  # noqa: BLE001 - no Redis, no cache
        log.warning("page cache version unavailable", exc_info=True)
        return None


async def bump() -> None:
    """Call after committing any change that a public page shows."""
    _pages.clear()
    if not get_settings().redis_url:  # e.g. the CLI seeding before any Redis runs
        return
    try:
        await get_redis().set(VERSION_KEY, uuid.uuid4().hex)
    except Exception:  # noqa: BLE001
        log.warning("could not bump the public page version", exc_info=True)


def _cacheable(request: Request) -> bool:
    session = request.scope.get("session")
    has_flash = isinstance(session, dict) and bool(session.get("flash"))
    return request.method == "GET" and request.scope.get("user") is None and not has_flash


async def serve_cached(request: Request, produce: Callable[[], Awaitable[Response]]) -> Response:
    if not _cacheable(request):
        return await produce()
    version = await current_version(request.scope)
    if version is None:
        return await produce()
    key = (
        version,
        request.url.netloc,  # pages may show absolute URLs (a card's QR code)
        request.url.path,
        request.url.query,
        i18n.get_locale(),
        request.headers.get("hx-request"),
    )
    hit = _pages.get(key)
    now = time.monotonic()
    if hit and now - hit[0] < MAX_AGE:
        _pages.move_to_end(key)
        return Response(content=hit[1], media_type=MediaType.HTML, headers={"Vary": "HX-Request", "X-Page-Cache": "hit"})
    response = await produce()
    body = response.content
    if response.status_code == 200 and isinstance(body, (bytes, str)) and not response.cookies:
        data = body.encode() if isinstance(body, str) else body
        _pages[key] = (now, data)
        if len(_pages) > MAX_ENTRIES:
            _pages.popitem(last=False)
    return response
