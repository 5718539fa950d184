"""Cache of public pages for anonymous visitors, invalidated exactly.

Every change to anything a public page shows calls ``bump()`` after it commits;
that replaces one version token in Redis and publishes it. Pages are looked up
by ``(version, host, path, query, locale)`` in an in-process LRU. Each web
process keeps the current token from a Redis subscription (``VersionWatcher``),
so a request costs no Redis round trip for it; the process that made the change
switches at once and the others when the published token arrives, within
milliseconds on one machine. While the subscription is down (starting, Redis
restarting) every request reads the token with a GET instead, and when Redis is
unreachable nothing is cached. Entries also expire after ``MAX_AGE`` seconds, a
bound for a bump that failed because Redis was down at that moment.

Only whole pages without per-visitor content are cached: GET, no signed-in
user, no flash messages. Handlers opt in with ``serve_cached``; their own side
effects (such as counting a page view) stay outside the cached part.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import weakref
from collections import OrderedDict
from typing import Awaitable, Callable

from litestar import Request, Response
from litestar.enums import MediaType

from app import i18n
from app.core.redis import get_redis, new_redis
from app.settings import get_settings

log = logging.getLogger(__name__)

VERSION_KEY = "tiaojie:public-version"
VERSION_CHANNEL = "tiaojie:public-version"
MAX_ENTRIES = 2048
MAX_AGE = 60.0

_pages: OrderedDict[tuple, tuple[float, bytes]] = OrderedDict()


class VersionWatcher:
    """Follows the version token through a Redis subscription, for one web process."""

    def __init__(self) -> None:
        self.version: str | None = None
        self.live = False
        self._task: asyncio.Task | None = None
        _watchers.add(self)

    async def start(self) -> None:
        if get_settings().redis_url:
            self._task = asyncio.create_task(self._follow())

    async def stop(self) -> None:
        self.live = False
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass

    async def _follow(self) -> None:
        while True:
            client = new_redis(socket_timeout=None)
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(VERSION_CHANNEL)
                # Read after subscribing, so no bump can fall between the two.
                self.version = await _read_version(client)
                self.live = self.version is not None
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=30)
                    if message is None:
                        await pubsub.ping()  # notices a dead connection
                    elif message["type"] == "message":
                        data = message["data"]
                        self.version = data.decode() if isinstance(data, bytes) else data
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - Redis went away: requests read the token meanwhile
                log.info("page cache subscription lost; reconnecting", exc_info=True)
            finally:
                self.live = False
                await pubsub.aclose()
                await client.aclose()
            await asyncio.sleep(1)


_watchers: "weakref.WeakSet[VersionWatcher]" = weakref.WeakSet()


async def current_version(scope: dict | None = None) -> str | None:
    """The public version token; once per request when given the ASGI scope."""
    state = scope.setdefault("state", {}) if scope is not None else {}
    if "public_version" in state:
        return state["public_version"]
    app_state = getattr(scope.get("app"), "state", None) if scope is not None else None
    watcher = app_state.get("page_versions") if app_state is not None else None
    if watcher is not None and watcher.live:
        version = watcher.version
    else:
        version = await _read_version()
    state["public_version"] = version
    return version


async def _read_version(client=None) -> str | None:
    try:
        redis = client or get_redis()
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
    token = uuid.uuid4().hex
    for watcher in list(_watchers):  # this process sees its own change at once
        watcher.version = token
    try:
        redis = get_redis()
        await redis.set(VERSION_KEY, token)
        await redis.publish(VERSION_CHANNEL, token)
    except Exception:  # noqa: BLE001
        for watcher in list(_watchers):
            watcher.live = False  # unsure what others saw: read the token per request
        log.warning("could not bump the public page version", exc_info=True)


def _cacheable(request: Request) -> bool:
    session = request.scope.get("session")
    has_flash = isinstance(session, dict) and bool(session.get("flash"))
    return request.method == "GET" and request.scope.get("user") is None and not has_flash


def _hit(body: bytes) -> Response:
    return Response(content=body, media_type=MediaType.HTML, headers={"Vary": "HX-Request", "X-Page-Cache": "hit"})


# Misses being rendered now: other requests for the same page wait for that one
# render instead of rendering it too (a burst on a cold or just-bumped cache).
_inflight: dict[tuple, asyncio.Future] = {}


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
        return _hit(hit[1])
    loop = asyncio.get_running_loop()
    flight_key = (id(loop), key)
    pending = _inflight.get(flight_key)
    if pending is not None:
        body = await asyncio.shield(pending)
        return _hit(body) if body is not None else await produce()
    future: asyncio.Future = loop.create_future()
    _inflight[flight_key] = future
    data = None
    try:
        response = await produce()
        body = response.content
        if response.status_code == 200 and isinstance(body, (bytes, str)) and not response.cookies:
            data = body.encode() if isinstance(body, str) else body
            _pages[key] = (now, data)
            if len(_pages) > MAX_ENTRIES:
                _pages.popitem(last=False)
        return response
    finally:
        # None tells the waiters to render for themselves (an error, a 404, a redirect).
        future.set_result(data)
        _inflight.pop(flight_key, None)
