"""Render pages and htmx fragments from the same templates (jinja2-fragments)."""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path
from types import FunctionType
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from jinja2.compiler import CodeGenerator
from jinja2.runtime import Context, Macro
from jinja2_fragments import render_block
from markupsafe import Markup, escape
from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.enums import MediaType
from litestar.utils.scope.state import ScopeState as _State

from app import i18n
from app.core.pagecache import VARY
from app.settings import ROOT, get_settings

TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"


@functools.cache
def _static_hash(path: str) -> str:
    file = STATIC / path
    return hashlib.sha256(file.read_bytes()).hexdigest()[:10] if file.exists() else "0"


def static_url(path: str) -> str:
    return f"/static/{path}?v={_static_hash(path)}"


def address_breaks(address: str) -> Markup:
    """An email address escaped, with a line-break opportunity after each "@" and "." (a
    narrow column wraps it between its parts, never inside a run of digits)."""
    return Markup(re.sub(r"([@.])", r"\1<wbr>", str(escape(address))))


_DICT_ATTRIBUTES = frozenset(dir(dict))
_NEEDS_ESCAPING = re.compile(r"[&<>\"']").search


def output_escape(value: Any) -> str:
    """What ``{{ value }}`` writes into an autoescaped template: the same text as
    markupsafe's ``escape``, without building a Markup for text that needs no escaping.

    A template's output is only ever joined into the page (or a macro's, a ``set`` block's
    or a filter block's buffer, which Jinja marks safe as a whole), so the Markup that
    ``escape`` returns is thrown away at once; building it was most of the cost, about 1.3 µs
    an output, 9-23% of a page's render (README, Performance). Text with none of ``&<>"'``,
    numbers and Markup come back as they are; everything else goes through ``escape``."""
    kind = type(value)
    if kind is str:
        return value if _NEEDS_ESCAPING(value) is None else escape(value)
    if kind is int or kind is float:
        return str(value)
    if kind is Markup:
        return value
    return escape(value)


class PageContext(Context):
    """Jinja's template context with a shorter ``call`` for what our templates call most:
    macros and plain functions (``_()``) that take no context. Jinja's ``Context.call`` asks
    each callable, on every call, whether it wants the context or the environment passed
    (two ``hasattr`` and a bound method); neither of these ever does. Anything else goes
    through Jinja's own ``call``. ``_loop_vars`` and ``_block_vars`` (what Jinja adds to a
    call inside a loop or a block, for context functions) are dropped as Jinja drops them."""

    def call(self, callee: Any, /, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kind = type(callee)
        if kind is Macro or (kind is FunctionType and not hasattr(callee, "jinja_pass_arg")):
            if kwargs:
                kwargs.pop("_block_vars", None)
                kwargs.pop("_loop_vars", None)
            try:
                return callee(*args, **kwargs)
            except StopIteration:
                return self.environment.undefined(
                    "value was undefined because a callable raised a StopIteration exception")
        return super().call(callee, *args, **kwargs)


class _OutputCodeGenerator(CodeGenerator):
    """Compiles ``{{ x }}`` to ``environment.output_escape(x)`` instead of ``escape(x)``
    (Jinja's documented ``code_generator_class``); nothing else about the code changes."""

    def _output_child_pre(self, node: Any, frame: Any, finalize: Any) -> None:
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile:
            self.write("environment.output_escape(")
            if finalize.src is not None:
                self.write(finalize.src)
            return
        super()._output_child_pre(node, frame, finalize)


class PageEnvironment(Environment):
    """Jinja's environment with a faster ``item.key`` on plain dicts (our rows) and a faster
    output escape (``output_escape``).

    Jinja answers ``row.name`` by trying ``getattr(row, "name")`` first, which on a dict
    raises and catches AttributeError, then ``row["name"]``: the exception was 18% of a
    page's render time. A plain dict has no attributes but its methods, so for any other
    name the answer is the item, as before; ``row.items`` is still the method."""

    code_generator_class = _OutputCodeGenerator
    context_class = PageContext
    output_escape = staticmethod(output_escape)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def _build_env() -> Environment:
    env = PageEnvironment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        auto_reload=not get_settings().production,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    # The same behaviour without Jinja's per-call wrapping: translations looked up once.
    env.globals.update(_=i18n.template_gettext, gettext=i18n.template_gettext, ngettext=i18n.template_ngettext)
    env.filters["datetime"] = i18n.format_datetime
    env.filters["date"] = i18n.format_date
    env.globals["static_url"] = static_url
    from app.core import phones

    env.filters["phone"] = phones.display
    env.filters["tel"] = phones.tel_href
    env.filters["address_breaks"] = address_breaks
    from app.feedback.tracking import unbroken_codes

    env.filters["unbroken_codes"] = unbroken_codes
    env.globals["LOCALES"] = i18n.LOCALES
    from tenants.tables import ROLE_LABELS

    env.globals["ROLE_LABELS"] = ROLE_LABELS
    from app.manage.nav import console_menu, console_nav

    env.globals["console_nav"] = console_nav
    env.globals["console_menu"] = console_menu
    return env


@functools.cache
def get_env() -> Environment:
    return _build_env()


def pop_flashes(request: Request) -> list[dict[str, str]]:
    session = request.scope.get("session")
    if not isinstance(session, dict) or not session.get("flash"):
        return []
    return session.pop("flash")


def flash(request: Request, message: str, category: str = "success", undo: str | None = None) -> None:
    """A message for the next page; ``undo`` is the URL a POST to which undoes what was done
    (the page shows an Undo button beside the message)."""
    session = request.scope.get("session")
    if not isinstance(session, dict):
        request.set_session({})
        session = request.scope["session"]
    entry = {"message": str(message), "category": category}
    if undo:
        entry["undo"] = undo
    session.setdefault("flash", []).append(entry)


def request_path(request: Request) -> str:
    """The path as the browser sent it (Litestar drops a trailing slash from url.path)."""
    raw = request.scope.get("raw_path")
    return raw.decode("latin-1") if raw else request.url.path


def base_context(request: Request) -> dict[str, Any]:
    locale = i18n.get_locale()
    tenant = request.scope.get("state", {}).get("tenant")
    user = request.scope.get("user")
    return {
        "request": request,
        "user": user,
        "tenant": tenant,
        "current_role": user.role_in(tenant["id"]) if user and tenant else None,
        "csrf_token": _State.from_scope(request.scope).csrf_token or "",
        "locale": locale,
        "html_lang": i18n.HTML_LANG[locale],
        "flashes": pop_flashes(request),
        "path": request_path(request),
        "request_id": request.scope.get("state", {}).get("request_id", ""),
    }


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    cookies: list[Cookie] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The whole page, or only ``block`` when htmx asks for it."""
    ctx = base_context(request)
    if context:
        ctx.update(context)
    env = get_env()
    is_htmx = request.headers.get("hx-request") == "true" and not request.headers.get("hx-boosted")
    if block and is_htmx:
        html = render_block(env, template, block, **ctx)
    else:
        html = env.get_template(template).render(**ctx)
    return Response(
        content=html,
        media_type=MediaType.HTML,
        status_code=status_code,
        cookies=cookies,
        headers={"Vary": VARY, **(headers or {})},
    )


def static_dir() -> Path:
    return STATIC
