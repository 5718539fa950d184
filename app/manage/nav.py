"""The staff console's navigation: one list of sections and entries, each with the role it
needs. The header shows it as one "Menu" disclosure (a native <details>: one line on a
phone, no JavaScript needed), the dashboard as grouped cards.

A hidden link is never the permission: every route declares its own access and the
server checks it. This list only decides what is worth showing to whom.

To add a page to the console, add one ``Entry`` to the section it belongs to, e.g.

    Entry(_l("Feedback mailbox"), "feedback", "staff"),

(label, path under /manage/<slug>/, role as in the route's ``tenant_access``; ``kinds``
limits it to some kinds of organisation). A new section is one more ``Section``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from app.i18n import get_locale
from app.i18n import lazy_gettext as _l
from tenants.context import role_allows


@dataclass(frozen=True)
class Entry:
    label: Any
    path: str  # under /manage/<slug>/; "" is the dashboard; "/…" is an absolute path
    role: str  # member, staff, admin or union_rep (see tenants.context.ROLE_SATISFIES)
    kinds: tuple[str, ...] = ()  # the kinds of organisation it applies to; () = all
    help: Any = ""


@dataclass(frozen=True)
class Section:
    key: str
    label: Any
    entries: tuple[Entry, ...]


SECTIONS: list[Section] = [
    Section("events", _l("Events and registration"), (
        Entry(_l("Events"), "events", "staff", help=_l("Seminars, case explanations and special sessions; check-in")),
        Entry(_l("Group registrations"), "groups", "union_rep", kinds=("union",),
              help=_l("Register your members for events and see their attendance")),
    )),
    Section("training", _l("Training"), (
        Entry(_l("Training"), "training", "staff", help=_l("Programmes assigned to you: nominate people, record completion")),
        Entry(_l("Training overview"), "training/overview", "staff", kinds=("city_center", "district_center"),
              help=_l("Who is done and who is late, by district and organisation")),
        Entry(_l("Organisations below us"), "subtree", "staff", kinds=("district_center",),
              help=_l("Their training, events, outreach and what they lack; read-only")),
    )),
    Section("feedback", _l("Workers' feedback"), (
        Entry(_l("Feedback mailbox"), "feedback", "staff", help=_l("Messages from workers: reply, assign, escalate")),
        Entry(_l("Mailbox settings"), "feedback/settings", "admin", help=_l("Response deadline, escalation and retention")),
    )),
    Section("outreach", _l("Publicity"), (
        Entry(_l("Hotlines"), "hotlines", "staff", help=_l("Published phone numbers")),
        Entry(_l("Information cards"), "cards", "staff", help=_l("Printable cards with a QR code")),
        Entry(_l("Outreach"), "outreach", "staff", help=_l("Offline work and monthly figures")),
    )),
    Section("messages", _l("Messages and inbox"), (
        Entry(_l("Inbox"), "inbox", "member", help=_l("Messages for you")),
        Entry(_l("Messages"), "notifications", "staff", help=_l("Everything sent on behalf of the organisation")),
        Entry(_l("Notices from the city center"), "broadcasts", "member"),
    )),
    Section("organisation", _l("Organisation"), (
        Entry(_l("Dashboard"), "", "member"),
        Entry(_l("Settings"), "settings", "admin", help=_l("The public profile")),
        Entry(_l("Members"), "members", "admin", help=_l("Who works here, and their roles")),
        Entry(_l("Audit log"), "audit", "admin", help=_l("Who changed what")),
        Entry(_l("Coverage"), "coverage", "admin", kinds=("district_center",)),
        Entry(_l("Reports"), "reports", "admin", kinds=("district_center",),
              help=_l("Events, outreach and feedback of the district by month")),
        Entry(_l("Public page"), "/o/{slug}/", "member", help=_l("What the public sees")),
        Entry(_l("City console"), "/city/", "staff", kinds=("city_center",)),
    )),
]


def _href(entry: Entry, slug: str) -> str:
    if entry.path.startswith("/"):
        return entry.path.format(slug=slug)
    return f"/manage/{slug}/{entry.path}"


@functools.lru_cache(maxsize=4096)
def _menu(slug: str, kind: str, role: str, locale: str) -> tuple[tuple[str, str, tuple[tuple[str, str, str, bool], ...]], ...]:
    """(section key, label, ((label, href, help, pages below it count), ...)) for one organisation, role and
    language: the same on every page, so built once (the translations of its labels were
    5% of a console page's time)."""
    menu = []
    for section in SECTIONS:
        entries = tuple(
            (str(entry.label), _href(entry, slug), str(entry.help) if entry.help else "", bool(entry.path))
            for entry in section.entries
            if role_allows(role, entry.role) and not (entry.kinds and kind not in entry.kinds)
        )
        if entries:
            menu.append((section.key, str(section.label), entries))
    return tuple(menu)


def _current(menu: tuple, path: str) -> str:
    """The href of the entry the page belongs to: the longest console path that starts the
    page's path (the dashboard only for itself); "" for none."""
    best = ""
    for _key, _label, entries in menu:
        for _entry_label, href, _help, below in entries:
            if href.startswith("/manage/") and (path == href or (below and path.startswith(href))):
                if len(href) > len(best):
                    best = href
    return best


def console_nav(tenant: dict[str, Any] | None, role: str | None, path: str) -> dict[str, Any]:
    """The sections and entries this member may use, and which one the page belongs to."""
    if not tenant or not role:
        return {"sections": [], "current": None}
    menu = _menu(tenant["slug"], tenant["kind"], role, get_locale())
    current_href = _current(menu, path)
    sections, current = [], None
    for key, section_label, entries in menu:
        items = []
        for label, href, help_text, _below in entries:
            item = {"label": label, "href": href, "help": help_text, "current": href == current_href,
                    "section": section_label}
            if item["current"]:
                current = item
            items.append(item)
        sections.append({"key": key, "label": section_label, "entries": items})
    return {"sections": sections, "current": current}


def console_menu(tenant: dict[str, Any] | None, role: str | None, path: str) -> Markup:
    """The menu in the header of every console page, as HTML (templates/manage/_console_menu.html)."""
    if not tenant or not role:
        return Markup("")
    locale = get_locale()
    current = _current(_menu(tenant["slug"], tenant["kind"], role, locale), path)
    return _menu_html(tenant["slug"], tenant["kind"], role, locale, current)


@functools.lru_cache(maxsize=4096)
def _menu_html(slug: str, kind: str, role: str, locale: str, current: str) -> Markup:
    """Rendered once per organisation, role, language and current entry: it depends on
    nothing else, and rendering it was a tenth of a light console page's time."""
    from app.core.render import get_env

    nav = console_nav({"slug": slug, "kind": kind}, role, current)
    return Markup(get_env().get_template("manage/_console_menu.html").render(nav=nav))
