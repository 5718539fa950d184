"""Translations: Simplified Chinese by default, English available (Babel catalogs).

Message ids are English; ``app/locale/<locale>/LC_MESSAGES/messages.po`` holds the
translations. The request's locale lives in a context variable, so code and
templates share one ``gettext``.
"""

from __future__ import annotations

import functools
from contextvars import ContextVar
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.support import LazyProxy, NullTranslations, Translations
from markupsafe import Markup

from app.settings import get_settings  # at import: an import statement in tz() cost 4% of a listing

LOCALE_DIR = Path(__file__).resolve().parent / "locale"

# Locale code -> its own name, as shown in the language switcher.
LOCALES: dict[str, str] = {"zh_Hans": "简体中文", "en": "English"}
HTML_LANG = {"zh_Hans": "zh-CN", "en": "en"}
DEFAULT_LOCALE = "zh_Hans"

_current: ContextVar[str] = ContextVar("locale", default=DEFAULT_LOCALE)


@functools.cache
def translations(locale: str) -> NullTranslations:
    mo = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.mo"
    if locale == "en" or not mo.exists():
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [locale])


def catalogs_compiled() -> bool:
    return all(
        (LOCALE_DIR / loc / "LC_MESSAGES" / "messages.mo").exists()
        for loc in LOCALES
        if loc != "en"
    )


def set_locale(locale: str):
    return _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def reset_locale(token) -> None:
    _current.reset(token)


def get_locale() -> str:
    return _current.get()


def gettext(message: str, **variables: object) -> str:
    text = translations(_current.get()).ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(_current.get()).ungettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


@functools.lru_cache(maxsize=8192)
def _template_text(locale: str, message: str) -> Markup:
    return Markup(translations(locale).ugettext(message))


@functools.lru_cache(maxsize=8192)
def _template_plain(locale: str, message: str) -> Markup:
    return _template_text(locale, message) % {}


def template_gettext(message: str, **variables: object) -> Markup:
    """``_()`` and ``gettext()`` in templates: what Jinja's new-style gettext returns (the
    translation as Markup, always %-formatted, the variables escaped), with each
    translation looked up once per locale and process instead of on every call (the layout
    alone calls it dozens of times per page)."""
    if variables:
        return _template_text(_current.get(), message) % variables
    return _template_plain(_current.get(), message)


def template_ngettext(singular: str, plural: str, num: int, **variables: object) -> Markup:
    text = Markup(translations(_current.get()).ungettext(singular, plural, num))
    variables.setdefault("num", num)
    return text % variables


def lazy_gettext(message: str) -> LazyProxy:
    return LazyProxy(gettext, message, enable_cache=False)


_ = gettext


def negotiate(cookie_value: str | None, accept_language: str | None) -> str:
    """Cookie first, then the browser's Accept-Language, then the default."""
    if cookie_value in LOCALES:
        return cookie_value  # type: ignore[return-value]
    if accept_language:
        ranked = []
        for part in accept_language.split(","):
            lang, _sep, q = part.strip().partition(";q=")
            try:
                weight = float(q) if q else 1.0
            except ValueError:
                weight = 0.0
            ranked.append((weight, lang.strip().lower()))
        for _w, lang in sorted(ranked, key=lambda r: -r[0]):
            if lang.startswith("zh"):
                return "zh_Hans"
            if lang.startswith("en"):
                return "en"
    return configured_default()


def configured_default() -> str:
    """DEFAULT_LOCALE from the environment when it names a locale we have."""
    from app.settings import get_settings

    configured = get_settings().default_locale
    return configured if configured in LOCALES else DEFAULT_LOCALE


@functools.cache
def _babel_locale(code: str) -> Locale:
    return Locale.parse("zh_Hans_CN" if code == "zh_Hans" else code)


def tz() -> ZoneInfo:
    return ZoneInfo(get_settings().time_zone)


def format_datetime(value: datetime | None, format: str = "medium") -> str:
    if value is None:
        return ""
    return _datetime_text(value, format, get_locale(), _zone_name())


def format_date(value: date | datetime | None, format: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(tz()).date()
    return _date_text(value, format, get_locale())


def _zone_name() -> str:
    return get_settings().time_zone


# Babel's formatting (pattern, locale data, time zone) costs tens of microseconds a call and
# list pages call it dozens of times: each text is made once per value, format and language.
@functools.lru_cache(maxsize=16384)
def _datetime_text(value: datetime, format: str, locale: str, zone: str) -> str:
    return _format_datetime(value, format=format, tzinfo=ZoneInfo(zone), locale=_babel_locale(locale))


@functools.lru_cache(maxsize=16384)
def _date_text(value: date, format: str, locale: str) -> str:
    return _format_date(value, format=format, locale=_babel_locale(locale))
