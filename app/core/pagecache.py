"""Cache of public pages for anonymous visitors, invalidated per organisation.

Every change to anything a public page shows calls ``bump()`` after it commits.
Versions are tokens in one Redis hash: ``epoch`` (everything), ``lists`` (the
pages that list every organisation: the portal, all hotlines, the city event
calendar) and ``t:<id>`` per organisation. A page of an organisation
(``/o/<slug>/…``) is looked up by the epoch, its own token and its parent's
(the page shows whom to ask above it); every other page by the epoch and the
lists token. A change to organisation A (``bump()`` in A's tenant scope, or
``bump(A)``) replaces A's token and the lists token: A's pages, its children's
and the lists render again, B's stay.
``bump()`` with no organisation (seeding, a change outside any scope) replaces
the epoch. Replaced tokens are published; each web process follows the hash
through a Redis subscription (``VersionWatcher``), so a request costs no Redis
round trip for them; the process that made the change switches at once and the
others when the message arrives, within milliseconds on one machine. While the
subscription is down (starting, Redis restarting) every request reads its
tokens with one HMGET instead, and when Redis is unreachable nothing is cached.
Entries also expire after ``MAX_AGE`` seconds, a bound for a bump that failed
because Redis was down at that moment.

Only whole pages without per-visitor content are cached: GET, no signed-in
user, no flash messages. The key holds everything else that changes the answer:
host, path, query, the negotiated language and the htmx headers (a boosted
request gets the whole page, a plain htmx request a fragment), and responses say
so in ``Vary``. Handlers opt in with ``serve_cached``; their own side effects
(such as counting a page view) stay outside the cached part.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Awaitable, Callable, Iterable

from litestar import Request, Response
from litestar.enums import MediaType

from app import i18n
from app.core.redis import get_redis, new_redis
from app.settings import get_settings

log = logging.getLogger(__name__)

VERSION_KEY = "tiaojie:page-versions"  # a hash: epoch, lists, t:<tenant id>
VERSION_CHANNEL = "tiaojie:page-versions"  # messages "field=token field=token"
MAX_ENTRIES = 2048
MAX_AGE = 60.0
EPOCH, LISTS = "epoch", "lists"
# The request headers a cached answer depends on besides the path and query.
VARY_HEADERS = ("HX-Request", "HX-Boosted", "HX-Target")
# What every HTML answer varies on: the htmx headers, and the language (from the
# lang cookie or Accept-Language).
VARY = ", ".join((*VARY_HEADERS, "Accept-Language", "Cookie"))

_pages: OrderedDict[tuple, tuple[float, bytes]] = OrderedDict()
# PAGE_CACHE=off renders every page (the page benchmark measures both ways).
ENABLED = os.environ.get("PAGE_CACHE", "on").lower() not in ("off", "0", "false", "no")


def tenant_field(tenant_id: int) -> str:
    return f"t:{tenant_id}"


def _parse(message: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in message.split() if "=" in part)


class VersionWatcher:
    """Follows the version hash through a Redis subscription, for one web process."""

    def __init__(self) -> None:
        self.versions: dict[str, str] = {}
        self.live = False
        self._task: asyncio.Task | None = None
        _watchers.add(self)

    @property
    def version(self) -> str | None:
        """The epoch token (kept for callers that knew one global token)."""
        return self.versions.get(EPOCH)

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

    def apply(self, changes: dict[str, str]) -> None:
        if EPOCH in changes:  # a new epoch makes every other token irrelevant
            self.versions = {EPOCH: changes[EPOCH]}
        self.versions.update(changes)

    # Idle this long, the subscription sends a PING; no PONG within as long again, and the
    # connection is taken for dead (a hung Redis keeps the socket open and says nothing).
    PING_EVERY = 30.0
    # Subscribing and reading the tokens, bounded (a hung Redis would hold them for ever).
    CONNECT_TIMEOUT = 5.0

    async def _follow(self) -> None:
        while True:
            client = new_redis(socket_timeout=None)
            pubsub = client.pubsub()
            try:
                async with asyncio.timeout(self.CONNECT_TIMEOUT):
                    await pubsub.subscribe(VERSION_CHANNEL)
                    # Read after subscribing, so no bump can fall between the two.
                    self.versions = await _read_all(client)
                self.live = EPOCH in self.versions
                pong_due: float | None = None
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=self.PING_EVERY)
                    if message is None:
                        if pong_due is None:
                            await pubsub.ping()  # notices a dead connection
                            pong_due = time.monotonic() + self.PING_EVERY
                        elif time.monotonic() >= pong_due:
                            raise TimeoutError("the page cache subscription's PING was not answered")
                        continue
                    pong_due = None  # anything from the server shows the connection lives
                    if message["type"] == "message":
                        data = message["data"]
                        self.apply(_parse(data.decode() if isinstance(data, bytes) else data))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - Redis went away: requests read the tokens meanwhile
                log.info("page cache subscription lost; reconnecting", exc_info=True)
            finally:
                self.live = False
                try:
                    async with asyncio.timeout(1.0):
                        await pubsub.aclose()
                        await client.aclose()
                except Exception:  # noqa: BLE001 - a dead connection is dropped anyway (TimeoutError included)
                    pass
            await asyncio.sleep(1)


_watchers: "weakref.WeakSet[VersionWatcher]" = weakref.WeakSet()


def _text(value) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


async def _ensure_epoch(redis) -> None:
    await redis.hsetnx(VERSION_KEY, EPOCH, uuid.uuid4().hex)


async def _read_all(client) -> dict[str, str]:
    versions = {_text(k): _text(v) for k, v in (await client.hgetall(VERSION_KEY)).items()}
    if EPOCH not in versions:
        await _ensure_epoch(client)
        versions = {_text(k): _text(v) for k, v in (await client.hgetall(VERSION_KEY)).items()}
    return versions


async def _read_fields(fields: tuple[str, ...]) -> tuple[str, ...] | None:
    try:
        redis = get_redis()
        values = await redis.hmget(VERSION_KEY, list(fields))
        if values[0] is None:  # a new (or restarted) Redis: a new epoch
            await _ensure_epoch(redis)
            values = await redis.hmget(VERSION_KEY, list(fields))
        return tuple(_text(v) or "0" for v in values)
    except Exception:  # noqa: BLE001 - no Redis, no cache
        log.warning("page cache version unavailable", exc_info=True)
        return None


async def versions_for(scope: dict | None, fields: tuple[str, ...]) -> tuple[str, ...] | None:
    """The tokens of ``fields`` (epoch first); read once per request when given the ASGI scope."""
    state = scope.setdefault("state", {}) if scope is not None else {}
    cache = state.setdefault("page_versions", {})
    if fields in cache:
        return cache[fields]
    app_state = getattr(scope.get("app"), "state", None) if scope is not None else None
    watcher = app_state.get("page_versions") if app_state is not None else None
    if watcher is not None and watcher.live:
        versions = watcher.versions
        found = tuple(versions.get(field, "0") for field in fields)
    else:
        found = await _read_fields(fields)
    cache[fields] = found
    return found


async def current_version(scope: dict | None = None) -> str | None:
    """The token of the cross-organisation lists (every organisation edit replaces it)."""
    found = await versions_for(scope, (EPOCH, LISTS))
    return None if found is None else ":".join(found)


def page_fields(request: Request) -> tuple[str, ...]:
    """The version fields a cached page depends on."""
    tenant = request.scope.get("state", {}).get("tenant")
    if tenant is None:
        return (EPOCH, LISTS)
    fields = [EPOCH, tenant_field(tenant["id"])]
    if tenant.get("parent"):
        fields.append(tenant_field(tenant["parent"]))
    return tuple(fields)


async def bump(*tenant_ids: int | None) -> None:
    """Call after committing any change that a public page shows.

    With organisations: their pages (and so their children's, which show whom to
    ask above them) and the lists change. Without: the organisation of the current
    tenant scope; with no scope either, everything. A change that shows on another
    organisation's page (a parent's page names a closed child) names both."""
    if not tenant_ids:
        from tenants.scope import _scope

        current = _scope.get()
        tenant_ids = (current,) if current is not None else ()
    if not get_settings().redis_url:  # e.g. the CLI seeding before any Redis runs
        _pages.clear()
        return
    token = uuid.uuid4().hex
    ids = {int(i) for i in tenant_ids if i is not None}
    if ids:
        changes = {LISTS: token, **{tenant_field(i): token for i in sorted(ids)}}
    else:
        changes = {EPOCH: token}
        _pages.clear()
    for watcher in list(_watchers):  # this process sees its own change at once
        watcher.apply(changes)
    try:
        async with get_redis().pipeline(transaction=True) as pipe:
            if EPOCH in changes:
                pipe.delete(VERSION_KEY)
            pipe.hset(VERSION_KEY, mapping=changes)
            pipe.publish(VERSION_CHANNEL, " ".join(f"{k}={v}" for k, v in changes.items()))
            await pipe.execute()
    except Exception:  # noqa: BLE001
        for watcher in list(_watchers):
            watcher.live = False  # unsure what others saw: read the tokens per request
        log.warning("could not bump the public page version", exc_info=True)


@dataclass(frozen=True)
class Changed:
    """``after_commit(pagecache.Changed((a, b)))``: bump these organisations once committed."""

    tenant_ids: tuple[int | None, ...]

    async def __call__(self) -> None:
        await bump(*self.tenant_ids)


def _cacheable(request: Request) -> bool:
    if not ENABLED:
        return False
    session = request.scope.get("session")
    has_flash = isinstance(session, dict) and bool(session.get("flash"))
    return request.method == "GET" and request.scope.get("user") is None and not has_flash


def _hit(body: bytes) -> Response:
    return Response(content=body, media_type=MediaType.HTML, headers={"Vary": VARY, "X-Page-Cache": "hit"})


# Misses being rendered now: other requests for the same page wait for that one
# render instead of rendering it too (a burst on a cold or just-bumped cache).
_inflight: dict[tuple, asyncio.Future] = {}


async def serve_cached(request: Request, produce: Callable[[], Awaitable[Response]]) -> Response:
    if not _cacheable(request):
        return await produce()
    versions = await versions_for(request.scope, page_fields(request))
    if versions is None:
        return await produce()
    key = (
        versions,
        request.url.netloc,  # pages may show absolute URLs (a card's QR code)
        request.url.path,
        request.url.query,
        i18n.get_locale(),
        *(request.headers.get(name, "")[:200] for name in VARY_HEADERS),
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
