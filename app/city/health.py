"""Network health: which organisations lack what the programme expects of them.

Each check is one function registered with ``@check(...)``: given the ids of the
active organisations it applies to, it returns those that fail it (reading the few
organisations that pass, or fail, so the ids never become a long IN list). A new check
is one more function here.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Awaitable, Callable

from app.i18n import lazy_gettext as _l
from app.outreach.counters import today
from app.outreach.tables import Hotline, InfoCard, OutreachEntry
from tenants.scope import unscoped
from tenants.tables import Membership, Role, Tenant, TenantKind
from tenants.tree import kind_rank

QUIET_DAYS = 90
# The organisations that mediate: a union runs no hotline or card of its own.
MEDIATION_KINDS = frozenset({TenantKind.city_center.value, TenantKind.district_center.value,
                             TenantKind.enterprise_committee.value, TenantKind.chamber_org.value})
ALL_KINDS = frozenset(k.value for k in TenantKind)

Finder = Callable[[list[int]], Awaitable[set[int]]]


@dataclass(frozen=True)
class HealthCheck:
    key: str
    label: Any  # what is wrong, as staff read it
    advice: Any  # what to do about it
    kinds: frozenset[str]
    find: Finder


CHECKS: list[HealthCheck] = []


def check(key: str, label: Any, advice: Any, kinds: frozenset[str] = MEDIATION_KINDS) -> Callable[[Finder], Finder]:
    def register(find: Finder) -> Finder:
        CHECKS.append(HealthCheck(key, label, advice, kinds, find))
        return find

    return register


def since(days: int = QUIET_DAYS) -> date:
    return today() - timedelta(days=days)


@check("no_hotline", _l("No published hotline"),
       _l("Its staff add one under Hotlines, so workers can call."))
async def no_hotline(tenant_ids: list[int]) -> set[int]:
    with unscoped("network health: which organisations publish a hotline"):
        have = {r["tenant"] for r in await Hotline.select(Hotline.tenant).distinct()}
    return set(tenant_ids) - have


@check("no_card", _l("No published information card"),
       _l("Its staff publish one under Information cards, to hand out with a QR code."))
async def no_card(tenant_ids: list[int]) -> set[int]:
    with unscoped("network health: which organisations publish an information card"):
        have = {r["tenant"] for r in await InfoCard.select(InfoCard.tenant).where(
            InfoCard.published == True  # noqa: E712
        ).distinct()}
    return set(tenant_ids) - have


@check("no_admin", _l("No administrator"),
       _l("Nobody can keep its page up to date: the city gives it an administrator on its edit page."),
       kinds=ALL_KINDS)
async def no_admin(tenant_ids: list[int]) -> set[int]:
    with unscoped("network health: which organisations have an administrator"):
        have = {r["tenant"] for r in await Membership.select(Membership.tenant).where(
            Membership.role == Role.admin.value
        ).distinct()}
    return set(tenant_ids) - have


@check("quiet", _l("No event or outreach in 90 days"),
       _l("Ask its staff to hold an event or record their outreach work (leaflets, visits, talks)."),
       kinds=ALL_KINDS)
async def quiet(tenant_ids: list[int]) -> set[int]:
    """Neither an event held (started in the last 90 days, not cancelled or a draft) nor an
    outreach entry recorded in that time. Page views are the public's doing, not the
    organisation's, and do not count."""
    from datetime import datetime, time

    from app.events.service import HELD
    from app.events.tables import Event
    from app.i18n import tz

    start = since()
    with unscoped("network health: recent events and outreach of every organisation"):
        entries = {r["tenant"] for r in await OutreachEntry.select(OutreachEntry.tenant).where(
            OutreachEntry.day >= start).distinct()}
        events = {r["tenant"] for r in await Event.select(Event.tenant).where(
            Event.status.is_in(HELD) & (Event.starts_at >= datetime.combine(start, time(), tz()))
            & (Event.starts_at <= datetime.now(tz()))).distinct()}
    return set(tenant_ids) - entries - events


@check("unanswered_feedback", _l("Feedback waiting past its deadline"),
       _l("Its staff answer the workers in the feedback mailbox, or escalate what they cannot settle."),
       kinds=ALL_KINDS)
async def unanswered_feedback(tenant_ids: list[int]) -> set[int]:
    """Holds a feedback item that waits for an answer after its deadline (counts, never contents)."""
    from app.feedback import clock
    from app.feedback.tables import OPEN_STATUSES, FeedbackItem

    with unscoped("network health: which organisations hold overdue feedback (no contents read)"):
        late = {r["tenant"] for r in await FeedbackItem.select(FeedbackItem.tenant).where(
            FeedbackItem.status.is_in(list(OPEN_STATUSES)) & (FeedbackItem.due_at < clock.now())).distinct()}
    return set(tenant_ids) & late


async def problems_of(tenants: list[dict[str, Any]], checks: list[HealthCheck] | None = None,
                      counts: dict[str, int] | None = None) -> dict[int, list[HealthCheck]]:
    """{organisation id: the checks it fails} for these organisations (each with ``id`` and
    ``kind``); the city's health page and a district center's oversight of its subtree ask here.
    ``counts`` (if given) receives how many fail each check."""
    failing: dict[int, list[HealthCheck]] = {}
    for c in checks if checks is not None else CHECKS:
        ids = [t["id"] for t in tenants if t["kind"] in c.kinds]
        failed = await c.find(ids) if ids else set()
        if counts is not None:
            counts[c.key] = len(failed)
        for tenant_id in failed:
            failing.setdefault(tenant_id, []).append(c)
    return failing


def check_by_key(key: str) -> HealthCheck | None:
    return next((c for c in CHECKS if c.key == key), None)


async def network_health(district: str | None = None, only: str | None = None) -> dict[str, Any]:
    """Active organisations with their failed checks, grouped by district (city level first),
    and how many fail each check. ``only`` keeps one check."""
    query = Tenant.select(Tenant.id, Tenant.slug, Tenant.name, Tenant.kind, Tenant.district).where(
        Tenant.active == True)  # noqa: E712
    if district is not None:
        query = query.where(Tenant.district == district)
    tenants = await query
    checks = [c for c in CHECKS if only in (None, c.key)]
    counts: dict[str, int] = {}
    failing = await problems_of(tenants, checks, counts)
    order = {c.key: i for i, c in enumerate(CHECKS)}
    rows = sorted((t for t in tenants if t["id"] in failing),
                  key=lambda t: (t["district"] != "", t["district"], kind_rank(t["kind"]), t["name"]))
    groups: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
    for t in rows:
        problems = sorted(failing[t["id"]], key=lambda c: order[c.key])
        groups.setdefault(t["district"], []).append({**t, "problems": problems})
    return {"groups": groups, "counts": counts, "checks": checks, "organisations": len(tenants),
            "with_problems": len(rows)}
