"""Notices from the city center to the network (DESIGN §3.6): to every organisation or to
chosen kinds and districts. A notice lands on each receiving organisation's dashboard
(its own ``BroadcastRecipient`` row, in its scope), each member's reading is a receipt,
and one email per person goes out through the outbox in the same transaction.
"""

from __future__ import annotations


import functools
import json
from datetime import datetime, timezone
from typing import Any

from piccolo.query.functions.aggregate import Count, Max

from app.city.tables import Broadcast, BroadcastRead, BroadcastRecipient
from app.core.forms import Form
from app.core.prepared import Prepared, prepared
from app.db import atomic
from app.i18n import gettext as _
from app.notifications import service as outbox
from tenants.scope import current_tenant_id, tenant_scope, unscoped
from tenants.tables import KIND_LABELS, Membership, Tenant, TenantKind
from tenants.tree import kind_rank

TEMPLATE_KEY = "broadcast"
outbox.register(TEMPLATE_KEY)

# Kinds a notice can go to (the city center writes them, it does not receive them).
AUDIENCE_KINDS = [k.value for k in TenantKind if k is not TenantKind.city_center]
CITY_LEVEL = "-"  # the district choice meaning "city-level organisations" (district "")
FIELDS = ["subject", "body"]
INSERT_CHUNK = 500
DASHBOARD_LIMIT = 5


def form_from(data: Any) -> tuple[Form, list[str], list[str]]:
    form = Form.from_data(data, FIELDS)
    kinds = [k for k in _getall(data, "kinds") if k in AUDIENCE_KINDS]
    districts = [d.strip()[:100] for d in _getall(data, "districts") if d.strip()]
    return form, kinds, districts


def _getall(data: Any, name: str) -> list[str]:
    getall = getattr(data, "getall", None)
    if getall is not None:
        try:
            return [str(v) for v in getall(name)]
        except KeyError:
            return []
    value = data.get(name, [])
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def validate(form: Form, kinds: list[str], districts: list[str], known: list[str]) -> None:
    form.required("subject", "body")
    form.max_length("subject", 120)
    form.max_length("body", 4000)
    unknown = [d for d in districts if d != CITY_LEVEL and d not in known]
    if unknown:
        form.error("districts", _("Choose districts from the list."))


async def recipients(kinds: list[str], districts: list[str]) -> list[dict[str, Any]]:
    """Active organisations a notice to these kinds and districts reaches (all when empty)."""
    query = Tenant.select(Tenant.id, Tenant.slug, Tenant.name, Tenant.kind, Tenant.district).where(
        (Tenant.active == True) & (Tenant.kind != TenantKind.city_center.value)  # noqa: E712
    )
    if kinds:
        query = query.where(Tenant.kind.is_in(kinds))
    rows = await query
    if districts:
        wanted = {"" if d == CITY_LEVEL else d for d in districts}
        rows = [r for r in rows if r["district"] in wanted]
    return sorted(rows, key=lambda r: (r["district"] != "", r["district"], kind_rank(r["kind"]), r["name"]))


async def members_of(tenant_ids: list[int]) -> list[dict[str, Any]]:
    """Active people of these organisations, one row per person and organisation."""
    if not tenant_ids:
        return []
    found: list[dict[str, Any]] = []
    with unscoped("a notice goes to the members of every receiving organisation"):
        for start in range(0, len(tenant_ids), INSERT_CHUNK):
            found += await Membership.select(
                Membership.tenant, Membership.user.id.as_alias("user_id"), Membership.user.email.as_alias("email"),
                Membership.user.phone.as_alias("phone"), Membership.user.locale.as_alias("locale"),
            ).where(Membership.tenant.is_in(tenant_ids[start:start + INSERT_CHUNK])
                    & (Membership.user.is_active == True))  # noqa: E712
    return found


def audience_text(audience: dict[str, Any]) -> str:
    kinds = audience.get("kinds") or []
    districts = audience.get("districts") or []
    who = "、".join(str(KIND_LABELS[k]) for k in kinds if k in KIND_LABELS) if kinds else _("every kind of organisation")
    where = "、".join(_("City level") if d == CITY_LEVEL else d for d in districts) if districts else _("every district")
    return _("%(who)s in %(where)s", who=who, where=where)


async def send(city: dict[str, Any], user_id: int, form: Form, kinds: list[str], districts: list[str]) -> dict[str, Any]:
    """Write the notice, its recipient rows and one outbox message per person, in one transaction."""
    targets = await recipients(kinds, districts)
    people = await members_of([t["id"] for t in targets])
    slug_of = {t["id"]: t["slug"] for t in targets}
    now = datetime.now(timezone.utc)
    async with atomic():
        with tenant_scope(city["id"]):
            broadcast = Broadcast(tenant=city["id"], subject=form["subject"], body=form["body"],
                                  audience={"kinds": kinds, "districts": districts}, organisations=len(targets),
                                  people=0, created_by=user_id, created_at=now)
            await broadcast.save()
        with unscoped("a notice lands in every receiving organisation"):
            for start in range(0, len(targets), INSERT_CHUNK):
                await BroadcastRecipient.insert(*(
                    BroadcastRecipient(tenant=t["id"], broadcast=broadcast.id, created_at=now)
                    for t in targets[start:start + INSERT_CHUNK]))
        messages, seen = [], set()
        for p in people:
            if p["user_id"] in seen:  # a member of two receiving organisations gets one email
                continue
            seen.add(p["user_id"])
            messages.append(outbox.Outgoing(
                dedupe_key=f"broadcast:{broadcast.id}:user:{p['user_id']}", email=p["email"] or "",
                phone=p["phone"] or "", user_id=p["user_id"], locale=p["locale"] or "zh_Hans",
                payload={"broadcast_id": broadcast.id, "subject": form["subject"], "body": form["body"],
                         "sender": city["name"], "slug": slug_of[p["tenant"]]},
            ))
        written = await outbox.notify_many(city["id"], TEMPLATE_KEY, messages)
        with tenant_scope(city["id"]):
            await Broadcast.update({Broadcast.people: len(messages)}).where(Broadcast.id == broadcast.id)
    return {"id": broadcast.id, "organisations": len(targets), "people": len(messages), "messages": written}


# --- the city's view -----------------------------------------------------------------


def _as_datetime(value: Any) -> datetime | None:
    """MAX() of a timestamp comes back as text from SQLite."""
    if isinstance(value, str):
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return value


def _audience(row: dict[str, Any]) -> dict[str, Any]:
    value = row.get("audience") or {}
    return json.loads(value) if isinstance(value, str) else value


async def city_list(limit: int = 100) -> list[dict[str, Any]]:
    """The active city's notices, newest first, with how many organisations and people read each."""
    rows = await Broadcast.select(
        Broadcast.id, Broadcast.subject, Broadcast.organisations, Broadcast.people, Broadcast.created_at,
        Broadcast.audience, Broadcast.created_by.name.as_alias("author"),
    ).order_by(Broadcast.id, ascending=False).limit(limit)
    ids = [r["id"] for r in rows]
    read_people: dict[int, int] = {}
    read_orgs: dict[int, int] = {}
    if ids:
        with unscoped("the city sees read counts of its notices in every organisation"):
            for r in await BroadcastRead.select(BroadcastRead.broadcast, BroadcastRead.tenant,
                                                Count(BroadcastRead.id, alias="n")).where(
                    BroadcastRead.broadcast.is_in(ids)).group_by(BroadcastRead.broadcast, BroadcastRead.tenant):
                read_people[r["broadcast"]] = read_people.get(r["broadcast"], 0) + r["n"]
                read_orgs[r["broadcast"]] = read_orgs.get(r["broadcast"], 0) + 1
    for r in rows:
        r["audience_text"] = audience_text(_audience(r))
        r["read_people"] = read_people.get(r["id"], 0)
        r["read_orgs"] = read_orgs.get(r["id"], 0)
    return rows


async def city_detail(broadcast_id: int) -> dict[str, Any] | None:
    """One notice of the active city with, per receiving organisation, members and read counts."""
    row = await Broadcast.select(
        Broadcast.id, Broadcast.subject, Broadcast.body, Broadcast.organisations, Broadcast.people,
        Broadcast.created_at, Broadcast.audience, Broadcast.created_by.name.as_alias("author"),
    ).where(Broadcast.id == broadcast_id).first()
    if row is None:
        return None
    row["audience_text"] = audience_text(_audience(row))
    with unscoped("the city sees read counts of its notice in every organisation"):
        orgs = await BroadcastRecipient.select(
            BroadcastRecipient.tenant.id.as_alias("id"), BroadcastRecipient.tenant.slug.as_alias("slug"),
            BroadcastRecipient.tenant.name.as_alias("name"), BroadcastRecipient.tenant.kind.as_alias("kind"),
            BroadcastRecipient.tenant.district.as_alias("district"),
        ).where(BroadcastRecipient.broadcast == broadcast_id)
        reads = {r["tenant"]: r for r in await BroadcastRead.select(
            BroadcastRead.tenant, Count(BroadcastRead.id, alias="n"), Max(BroadcastRead.read_at, alias="last"),
        ).where(BroadcastRead.broadcast == broadcast_id).group_by(BroadcastRead.tenant)}
        members = {r["tenant"]: r["n"] for r in await Membership.select(
            Membership.tenant, Count(Membership.id, alias="n")).where(
            Membership.tenant.is_in([o["id"] for o in orgs] or [0])).group_by(Membership.tenant)}
    for o in orgs:
        o["members"] = members.get(o["id"], 0)
        o["read"] = reads.get(o["id"], {}).get("n", 0)
        o["last_read"] = _as_datetime(reads.get(o["id"], {}).get("last"))
    orgs.sort(key=lambda o: (o["read"] > 0, o["district"] != "", o["district"], kind_rank(o["kind"]), o["name"]))
    row["orgs"] = orgs
    row["read_orgs"] = sum(1 for o in orgs if o["read"])
    row["read_people"] = sum(o["read"] for o in orgs)
    return row


# --- a receiving organisation's view (inside its scope) ---------------------------------


def _received(limit: int | None) -> Any:
    broadcast = BroadcastRecipient.broadcast
    query = BroadcastRecipient.select(
        broadcast.id.as_alias("id"), broadcast.subject.as_alias("subject"), broadcast.body.as_alias("body"),
        broadcast.created_at.as_alias("created_at"), broadcast.tenant.name.as_alias("sender"),
    ).order_by(broadcast.id, ascending=False)
    return query.limit(limit) if limit else query


@functools.lru_cache(maxsize=8)
def _received_statement(limit: int | None) -> Prepared:
    """Composed once per process and limit (app/core/prepared.py): composing these was 28%
    of the dashboard."""
    return prepared(lambda: _received(limit))


_READS = prepared(lambda ids: BroadcastRead.select(
    BroadcastRead.broadcast, BroadcastRead.user, BroadcastRead.read_at, BroadcastRead.user.name.as_alias("name"),
).where(BroadcastRead.broadcast.is_in(ids)).order_by(BroadcastRead.read_at))


async def for_tenant(user_id: int, limit: int | None = DASHBOARD_LIMIT, with_readers: bool = False) -> list[dict[str, Any]]:
    """Notices the active organisation received, newest first, with whether this person
    read them (and, for its admins, who of its members read them and when)."""
    rows = await _received_statement(limit).run()
    ids = [r["id"] for r in rows]
    reads = await _READS.run(ids=ids or [0])
    for r in rows:
        mine = [x for x in reads if x["broadcast"] == r["id"]]
        r["read_at"] = next((x["read_at"] for x in mine if x["user"] == user_id), None)
        r["readers"] = [{"name": x["name"], "read_at": x["read_at"]} for x in mine] if with_readers else []
    return rows


async def unread_count(user_id: int) -> int:
    received = {r["broadcast"] for r in await BroadcastRecipient.select(BroadcastRecipient.broadcast)}
    read = {r["broadcast"] for r in await BroadcastRead.select(BroadcastRead.broadcast).where(
        BroadcastRead.user == user_id)}
    return len(received - read)


async def mark_read(broadcast_id: int, user_id: int) -> bool:
    """Record that this person of the active organisation read the notice; False when the
    organisation did not receive it (the caller answers 404, as for a foreign row)."""
    if not await BroadcastRecipient.exists().where(BroadcastRecipient.broadcast == broadcast_id):
        return False
    await BroadcastRead.insert(BroadcastRead(
        tenant=current_tenant_id(), broadcast=broadcast_id, user=user_id, read_at=datetime.now(timezone.utc),
    )).on_conflict(target=(BroadcastRead.broadcast, BroadcastRead.tenant, BroadcastRead.user), action="DO NOTHING")
    return True

