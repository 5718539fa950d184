"""Rules of the feedback mailbox: submitting, tracking, the staff inbox, deadlines,
escalation along the tree, retention and the city's figures.

Who may read an item: the organisations with a ``FeedbackAccess`` row for it (the
one it was sent to, and each one it was escalated to). Who may act on it: the one
that holds it now (``FeedbackItem.tenant``). Both are asked inside the active
tenant scope, so a foreign item and a missing one are the same 404.

Nothing here logs or audits the text of a message or reply, or a name or phone
number: the audit log gets the action and the item's code.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import statistics
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, AsyncIterator, Awaitable, Callable

from litestar.exceptions import NotFoundException

from app import i18n
from app.core.forms import Form, normalize_cn_phone
from app.core.piccolo_speed import through
from app.core.prepared import Prepared, prepared
from app.db import atomic, get_engine
from app.feedback import clock, tracking, workdays
from app.feedback.schemas import is_mobile, mask_phone
from app.feedback.tables import (
    CATEGORY_LABELS,
    OPEN_STATUSES,
    AccessReason,
    EventKind,
    FeedbackAccess,
    FeedbackEvent,
    FeedbackItem,
    FeedbackSettings,
    Status,
)
from app.i18n import gettext as _
from app.notifications import service as outbox
from app.notifications.tables import Notification
from tenants.scope import current_tenant_id, tenant_scope, unscoped
from tenants.tables import Membership, Role, Tenant
from tenants.tree import ancestor_ids, parent_id

log = logging.getLogger("tiaojie.feedback")


class FeedbackError(Exception):
    """A rule of the mailbox said no; ``field`` is where the message belongs."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# --- settings -------------------------------------------------------------------

DEFAULTS = {"response_days": 5, "escalate_after_days": 3, "retention_days": 180}


async def settings_of(tenant_id: int) -> dict[str, int]:
    with tenant_scope(tenant_id):
        row = await FeedbackSettings.select(
            FeedbackSettings.response_days, FeedbackSettings.escalate_after_days, FeedbackSettings.retention_days
        ).first()
    return {**DEFAULTS, **(row or {})}


async def save_settings(form: Form) -> dict[str, list[int]]:
    """Store the active tenant's settings; returns what changed as {name: [old, new]}."""
    tenant_id = current_tenant_id()
    before = await settings_of(tenant_id)
    values = {name: int(form[name]) for name in DEFAULTS}
    changes = {k: [before[k], v] for k, v in values.items() if before[k] != v}
    if changes:
        exists = await FeedbackSettings.exists()
        if exists:
            await FeedbackSettings.update(
                {**{getattr(FeedbackSettings, k): v for k, v in values.items()}, FeedbackSettings.updated_at: clock.now()}
            ).where(FeedbackSettings.tenant == tenant_id)
        else:
            await FeedbackSettings(tenant=tenant_id, updated_at=clock.now(), **values).save()
    return changes


async def _escalation_target(tenant_id: int) -> dict[str, Any] | None:
    """The nearest active organisation above this one (企业 → 区镇 → 市), if any: up
    the tree one parent at a time (usually one or two steps)."""
    seen = {tenant_id}
    current = await parent_id(tenant_id)
    while current is not None and current not in seen:
        row = await Tenant.select(Tenant.id, Tenant.name, Tenant.slug, Tenant.active, Tenant.parent).where(
            Tenant.id == current).first()
        if row is None:
            return None
        if row["active"]:
            return {"id": row["id"], "name": row["name"], "slug": row["slug"]}
        seen.add(current)
        current = row["parent"]
    return None


async def _deadline_for(tenant_id: int, start: datetime) -> dict[str, Any]:
    """Deadline columns for an item that ``tenant_id`` has to answer from ``start``."""
    settings = await settings_of(tenant_id)
    margin = settings["escalate_after_days"]
    if margin and await _escalation_target(tenant_id) is None:
        margin = 0  # the city center has nobody to escalate to
    deadline = workdays.deadline(start, settings["response_days"], margin)
    return {"due_at": deadline.due_at, "remind_at": deadline.remind_at, "escalate_at": deadline.escalate_at,
            "alert_stage": 0}


# --- submitting -----------------------------------------------------------------


@functools.cache
def _first_hotline() -> Prepared:
    from app.outreach.tables import Hotline

    return prepared(lambda: Hotline.select(Hotline.number).order_by(Hotline.position).order_by(Hotline.id).limit(1))


async def urgent_number(tenant: dict[str, Any]) -> tuple[str, str]:
    """The number to call when it cannot wait, and whose it is: the organisation's first
    hotline or reception phone; else the nearest organisation above it that has one
    (an enterprise committee often publishes none); else the national 12333."""
    from app.outreach.tables import Hotline

    numbers = await _first_hotline().run()
    if numbers:
        return numbers[0]["number"], tenant["name"]
    if tenant["reception_phone"]:
        return tenant["reception_phone"], tenant["name"]
    chain = await ancestor_ids(tenant["id"])
    if chain:
        with unscoped("published hotlines are public; a mailbox without one points to the organisation above"):
            rows = await Hotline.select(Hotline.number, Hotline.tenant, Hotline.tenant.name.as_alias("name")).where(
                Hotline.tenant.is_in(chain) & (Hotline.tenant.active == True)  # noqa: E712
            ).order_by(Hotline.position).order_by(Hotline.id)
        for tenant_id in chain:
            match = next((r for r in rows if r["tenant"] == tenant_id), None)
            if match:
                return match["number"], match["name"]
    return "12333", ""



@dataclass(frozen=True)
class Receipt:
    code: str
    secret: str  # empty for a form sent twice: the secret was shown the first time
    phone: str = ""
    duplicate: bool = False

    @property
    def code_display(self) -> str:
        return tracking.format_code(self.code)

    @property
    def secret_display(self) -> str:
        return tracking.format_secret(self.secret) if self.secret else ""

    @property
    def texts_replies(self) -> bool:
        return is_mobile(self.phone)


async def _duplicate(form_token: str) -> Receipt | None:
    if not form_token:
        return None
    row = await FeedbackItem.select(FeedbackItem.code).where(FeedbackItem.form_token == form_token).first()
    return Receipt(code=row["code"], secret="", duplicate=True) if row else None


_submit_locks: dict[int, asyncio.Lock] = {}


@asynccontextmanager
async def _one_writer() -> AsyncIterator[None]:
    """On SQLite, this process's submissions write one after another: queued here in
    order instead of retrying in SQLite's busy handler (sleeps of up to 100 ms), which
    made the slowest of many simultaneous submissions wait seconds. PostgreSQL needs
    none of this."""
    if get_engine().engine_type != "sqlite":
        yield
        return
    async with _submit_locks.setdefault(id(asyncio.get_running_loop()), asyncio.Lock()):
        yield


async def submit(form: Form, locale: str) -> Receipt:
    """Store a valid submission in the active tenant's mailbox and tell its staff.

    One transaction does it all (on SQLite, one connection). The unique form token
    makes a form sent twice one item: the second insert fails and finds the first. A
    new code that happens to be taken (one chance in 10^13) fails the same way and
    is drawn again."""
    tenant_id = current_tenant_id()
    token = form["form_token"] or None
    contact = form["identity"] == "contact"
    for _attempt in range(3):
        now = clock.now()
        code, secret, salt = tracking.new_code(), tracking.new_secret(), tracking.new_salt()
        try:
            async with _one_writer(), atomic():
                deadline = await _deadline_for(tenant_id, now)
                item = FeedbackItem(
                    tenant=tenant_id, origin=tenant_id, code=code, secret_salt=salt,
                    secret_hash=tracking.hash_secret(code, salt, secret), form_token=token,
                    category=form["category"], message=form["message"], anonymous=not contact,
                    contact_name=form["name"] if contact else "", contact_phone=form["phone"] if contact else "",
                    locale=locale, status=Status.new.value, received_at=now, first_due_at=deadline["due_at"],
                    updated_at=now, **deadline,
                )
                await item.save()
                await FeedbackAccess(tenant=tenant_id, item=item.id, reason=AccessReason.received.value,
                                     created_at=now).save()
                await _event(item.id, EventKind.received.value, public=True, at=now)
                await _tell_staff(tenant_id, item.id, "feedback_new", f"feedback:{item.id}:new",
                                  await _staff(tenant_id), item=item)
        except Exception:
            duplicate = await _duplicate(token or "")
            if duplicate:  # the same form, stored by the first request
                return duplicate
            with unscoped("tracking codes are unique across the network"):
                if not await FeedbackItem.exists().where(FeedbackItem.code == code):
                    raise
            continue  # the code was taken: draw another
        return Receipt(code=code, secret=secret, phone=item.contact_phone)
    raise RuntimeError("could not draw a free tracking code")


# --- who is told ----------------------------------------------------------------


async def _staff(tenant_id: int, user_ids: list[int] | None = None, admins_too: bool = False) -> list[dict[str, Any]]:
    """Staff and admins of a tenant (or just ``user_ids`` among them, plus its admins)."""
    with tenant_scope(tenant_id):
        query = Membership.select(
            Membership.user.id.as_alias("user_id"), Membership.user.email.as_alias("email"),
            Membership.user.locale.as_alias("locale"), Membership.role,
        ).where(
            Membership.role.is_in([Role.staff.value, Role.admin.value]) & (Membership.user.is_active == True)  # noqa: E712
        )
        rows = await query.order_by(Membership.id)
    if user_ids:
        rows = [r for r in rows if r["user_id"] in user_ids or (admins_too and r["role"] == Role.admin.value)]
    return rows


def _in_locale(locale: str, fn: Callable[[], Any]) -> Any:
    token = i18n.set_locale(locale or i18n.DEFAULT_LOCALE)
    try:
        return fn()
    finally:
        i18n.reset_locale(token)


async def _tell_staff(tenant_id: int, item_id: int, template: str, key: str, people: list[dict[str, Any]],
                      extra: dict[str, Any] | None = None, item: FeedbackItem | None = None) -> None:
    """An in-app message and an email to each person; never the message's text."""
    if not people:
        return
    if item is not None:
        item = {"code": item.code, "category": item.category, "due_at": item.due_at,
                "slug": (await Tenant.select(Tenant.slug).where(Tenant.id == tenant_id).first())["slug"]}
    else:
        item = await FeedbackItem.select(
            FeedbackItem.code, FeedbackItem.category, FeedbackItem.due_at, FeedbackItem.tenant.slug.as_alias("slug")
        ).where(FeedbackItem.id == item_id).first()
    for person in people:
        locale = person["locale"] or i18n.DEFAULT_LOCALE
        payload = {
            "item_id": item_id,
            "code": tracking.format_code(item["code"]),
            "category": _in_locale(locale, lambda: str(CATEGORY_LABELS[item["category"]])),
            "url": f"/manage/{item['slug']}/feedback/{item_id}",
            "due": _in_locale(locale, lambda: i18n.format_date(item["due_at"], "long")) if item["due_at"] else "",
            "due_at": item["due_at"].isoformat() if item["due_at"] else "",
            **(extra or {}),
        }
        for channel in ("inapp", "email"):
            await outbox.notify(tenant_id, template, f"{key}:{person['user_id']}:{channel}", channel=channel,
                                email=person["email"], user_id=person["user_id"], payload=payload, locale=locale)


async def _held_here(row: dict[str, Any]) -> bool:
    """A staff notice still applies while its item is held by the tenant it was sent for."""
    payload = _payload(row)
    return await FeedbackItem.exists().where(FeedbackItem.id == payload.get("item_id", 0))


async def _deadline_unchanged(row: dict[str, Any]) -> bool:
    """A reminder or overdue alert applies while the item is open, held here, and its
    deadline is the one the message was written for (answered items cancel it)."""
    payload = _payload(row)
    item = await FeedbackItem.select(FeedbackItem.status, FeedbackItem.due_at).where(
        FeedbackItem.id == payload.get("item_id", 0)
    ).first()
    return bool(item and item["status"] in OPEN_STATUSES and item["due_at"]
                and item["due_at"].isoformat() == payload.get("due_at"))


async def _contact_kept(row: dict[str, Any]) -> bool:
    """A reply SMS applies while the sending organisation may read the item and the
    submitter's phone number has not been erased."""
    payload = _payload(row)
    access = await FeedbackAccess.select(through(FeedbackAccess, "item").contact_phone.as_alias("phone")).where(
        FeedbackAccess.item == payload.get("item_id", 0)
    ).first()
    return bool(access and access["phone"])


def _payload(row: dict[str, Any]) -> dict[str, Any]:
    payload = row.get("payload") or {}
    return json.loads(payload) if isinstance(payload, str) else payload


outbox.register("feedback_new", still_applies=_held_here)
outbox.register("feedback_escalated", still_applies=_held_here)
outbox.register("feedback_reopened", still_applies=_held_here)
outbox.register("feedback_due_soon", still_applies=_deadline_unchanged)
outbox.register("feedback_overdue", still_applies=_deadline_unchanged)
outbox.register("feedback_reply", still_applies=_contact_kept)


# --- history --------------------------------------------------------------------


async def _event(item_id: int, kind: str, *, actor: int | None = None, body: str = "", public: bool = False,
                 detail: dict[str, Any] | None = None, at: datetime | None = None) -> int:
    row = FeedbackEvent(tenant=current_tenant_id(), item=item_id, kind=kind, actor=actor, body=body,
                        public=public, detail=detail or {}, created_at=at or clock.now())
    await row.save()
    return row.id


async def _history(item_id: int, public_only: bool = False) -> list[dict[str, Any]]:
    """Every event of an item, whichever organisation wrote it. Callers have checked
    that the reader may see the item (``access_item`` or a matching secret)."""
    with unscoped("an item's history spans the organisations that held it; access checked by the caller"):
        query = FeedbackEvent.select(
            FeedbackEvent.id, FeedbackEvent.kind, FeedbackEvent.body, FeedbackEvent.public, FeedbackEvent.detail,
            FeedbackEvent.created_at, FeedbackEvent.actor.name.as_alias("actor_name"),
            FeedbackEvent.tenant.name.as_alias("tenant_name"),
        ).where(FeedbackEvent.item == item_id)
        if public_only:
            query = query.where(FeedbackEvent.public == True)  # noqa: E712
        rows = await query.order_by(FeedbackEvent.created_at).order_by(FeedbackEvent.id)
    for row in rows:
        row["detail"] = _payload({"payload": row["detail"]})
    return rows


# --- the staff inbox ------------------------------------------------------------

ITEM_FIELDS = ["id", "tenant", "origin", "code", "category", "message", "anonymous", "contact_name",
               "contact_phone", "status", "received_at", "due_at", "first_reply_at", "answered_at",
               "closed_at", "escalations", "reopenings", "contact_erased_at"]


@functools.cache
def _item_columns() -> tuple[Any, ...]:
    """Built once per process: each step through a foreign key (``FeedbackAccess.item``)
    copies every column of the table it reaches, and building these per request took
    3.9 ms of the mailbox's 14 (README "Performance"). Piccolo's queries do not change
    the columns they are given, so one set serves every query."""
    item = through(FeedbackAccess, "item")
    columns = [getattr(item, name).as_alias(name) for name in ITEM_FIELDS]
    return (*columns,
            item.tenant.name.as_alias("holder_name"),
            item.origin.name.as_alias("origin_name"),
            item.assignee.as_alias("assignee"),
            item.assignee.name.as_alias("assignee_name"),
            FeedbackAccess.reason)


def _decorate(row: dict[str, Any], now: datetime, tenant_id: int) -> dict[str, Any]:
    row["code_display"] = tracking.format_code(row["code"])
    row["held_here"] = row["tenant"] == tenant_id
    row["phone_masked"] = mask_phone(row["contact_phone"])
    row["mobile"] = is_mobile(row["contact_phone"])
    row["open"] = row["status"] in OPEN_STATUSES
    left = workdays.time_left(row["due_at"], now) if row["open"] and row["due_at"] else None
    row["time_left"] = left
    row["overdue"] = bool(left and left.overdue)
    return row


@dataclass
class InboxFilter:
    status: str = "open"  # a status, "open" or "all"
    category: str = ""
    age: str = ""  # "", "3", "7", "30": received more than that many days ago
    overdue: bool = False
    mine: bool = False
    where: str = "here"  # "here": held by us; "passed": escalated onwards, read-only
    q: str = ""  # a tracking code or a phone number: finds the item whatever its status

    @classmethod
    def parse(cls, status: str, category: str, age: str, overdue: str, mine: str, where: str,
              q: str = "") -> "InboxFilter":
        return cls(
            q=q.strip()[:40],
            status=status if status in (*STATUS_CHOICES, "all") else "open",
            category=category if category in CATEGORY_LABELS else "",
            age=age if age in AGE_CHOICES else "",
            overdue=overdue == "1",
            mine=mine == "1",
            where=where if where in ("here", "passed") else "here",
        )


STATUS_CHOICES = ("open", *(s.value for s in Status))
AGE_CHOICES = ("3", "7", "30")
INBOX_LIMIT = 200


@functools.cache
def _inbox_statement(search: str, passed: bool, status: str, category: bool, age: bool, overdue: bool,
                     mine: bool) -> Prepared:
    """The mailbox's statement for one combination of filters, composed once per process
    (app/core/prepared.py); the filters' values are bound at each run."""
    item = through(FeedbackAccess, "item")

    def build(holder, text, status_value, category_value, before, now, user):
        query = FeedbackAccess.select(*_item_columns())
        if search == "code":
            query = query.where(item.code == text)
        elif search == "phone":
            query = query.where(item.contact_phone == text)
        if search:
            return query.order_by(item.received_at, ascending=False).limit(INBOX_LIMIT)
        tenant = through(FeedbackAccess, "item.tenant")
        query = query.where(tenant != holder if passed else tenant == holder)
        if status == "open":
            query = query.where(item.status.is_in(list(OPEN_STATUSES)))
        elif status in ("one", "one_open"):
            query = query.where(item.status == status_value)
        if category:
            query = query.where(item.category == category_value)
        if age:
            query = query.where(item.received_at < before)
        if overdue:
            query = query.where(item.status.is_in(list(OPEN_STATUSES)) & (item.due_at < now))
        if mine:
            query = query.where(through(FeedbackAccess, "item.assignee") == user)
        if status in ("open", "one_open") or overdue:
            query = query.order_by(item.due_at).order_by(item.id)
        else:
            query = query.order_by(item.received_at, ascending=False)
        return query.limit(INBOX_LIMIT)

    return prepared(build)


async def inbox(filters: InboxFilter, user_id: int) -> list[dict[str, Any]]:
    tenant_id = current_tenant_id()
    now = clock.now()
    search, text = "", ""
    if filters.q:
        code = tracking.normalize_code(filters.q)
        phone = normalize_cn_phone(filters.q) if not code else None
        if not code and not phone:
            return []
        search, text = ("code", code) if code else ("phone", phone)
    status = filters.status if filters.status in ("open", "all") else (
        "one_open" if filters.status in OPEN_STATUSES else "one")
    statement = _inbox_statement(search, filters.where == "passed", status, bool(filters.category),
                                 bool(filters.age), bool(filters.overdue), bool(filters.mine))
    rows = await statement.run(
        holder=tenant_id, text=text, status_value=filters.status, category_value=filters.category,
        before=now - timedelta(days=int(filters.age or 0)), now=now, user=user_id)
    return [_decorate(row, now, tenant_id) for row in rows]


_HELD = prepared(lambda: FeedbackItem.select(FeedbackItem.status, FeedbackItem.due_at))
_ACCESS = prepared(lambda item_id: FeedbackAccess.select(*_item_columns()).where(FeedbackAccess.item == item_id).first())


async def inbox_counts() -> dict[str, int]:
    """Items held by the active tenant, by status, plus open and overdue totals."""
    rows = await _HELD.run()
    counts = {s: 0 for s in STATUS_CHOICES}
    counts["overdue"] = 0
    now = clock.now()
    for row in rows:
        counts[row["status"]] += 1
        if row["status"] in OPEN_STATUSES:
            counts["open"] += 1
            if row["due_at"] and row["due_at"] < now:
                counts["overdue"] += 1
    return counts


async def access_item(item_id: Any) -> dict[str, Any]:
    """An item the active tenant may read (it received or holds it, or held it
    before an escalation). 404 otherwise: foreign and missing look the same."""
    try:
        item_id = int(item_id)
    except (TypeError, ValueError):
        raise NotFoundException() from None
    row = await _ACCESS.run(item_id=item_id)
    if row is None:
        raise NotFoundException()
    return _decorate(row, clock.now(), current_tenant_id())


async def item_page(item_id: Any) -> dict[str, Any]:
    """Everything the staff page of one item shows."""
    item = await access_item(item_id)
    events = await _history(item["id"])
    target = await _escalation_target(item["tenant"]) if item["held_here"] and item["open"] else None
    return {
        "item": item,
        "events": events,
        "members": await assignable_members() if item["held_here"] else [],
        "escalation_target": target,
        "transitions": TRANSITIONS.get(item["status"], ()) if item["held_here"] else (),
    }


async def assignable_members() -> list[dict[str, Any]]:
    return await Membership.select(
        Membership.user.id.as_alias("user_id"), Membership.user.name.as_alias("name")
    ).where(Membership.role.is_in([Role.staff.value, Role.admin.value])).order_by(Membership.user.name)


# --- staff actions (the holder only) --------------------------------------------

# Where staff can move an item; "answered" comes with a reply, and moving an answered
# or closed item back to "in progress" is a reopening (a new deadline).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.new.value: (Status.acknowledged.value, Status.in_progress.value, Status.closed.value),
    Status.acknowledged.value: (Status.in_progress.value, Status.closed.value),
    Status.in_progress.value: (Status.closed.value,),
    Status.answered.value: (Status.closed.value, Status.in_progress.value),
    Status.closed.value: (Status.in_progress.value,),
}


class NotHolder(FeedbackError):
    """The active tenant may read the item but it is held elsewhere now."""


def _for_update(item_id: int) -> Any:
    """The held item, its row locked until the transaction ends on PostgreSQL (on
    SQLite the write transaction already holds the whole database), so two actions
    at once are applied one after the other, each seeing the other's outcome."""
    query = FeedbackItem.objects().where(FeedbackItem.id == item_id)
    if get_engine().engine_type == "postgres":
        query = query.lock_rows()
    return query.first()


async def _held(item_id: int) -> FeedbackItem:
    row = await _for_update(item_id)
    if row is None:
        item = await access_item(item_id)  # 404 unless we may at least read it
        raise NotHolder("item", _("This item is now handled by %(name)s. You can still read it, but no longer act on it.",
                                  name=item["holder_name"]))
    return row


async def change_status(item_id: int, to: str, actor_id: int) -> tuple[str, str]:
    item = await _held(item_id)
    before = item.status
    if to not in TRANSITIONS.get(before, ()):
        raise FeedbackError("status", _("An item that is “%(from)s” cannot be set to “%(to)s”.",
                                        **{"from": str(_status_label(before)), "to": str(_status_label(to))}))
    now = clock.now()
    values: dict[Any, Any] = {FeedbackItem.status: to, FeedbackItem.updated_at: now}
    reopening = before in (Status.answered.value, Status.closed.value) and to == Status.in_progress.value
    if reopening:
        values.update(await _reopen_values(item, now))
    if to == Status.closed.value:
        values[FeedbackItem.closed_at] = now
    await FeedbackItem.update(values).where(FeedbackItem.id == item.id)
    await _event(item.id, EventKind.reopened.value if reopening else EventKind.status.value, actor=actor_id,
                 public=True, detail={"from": before, "to": to}, at=now)
    return before, to


def _status_label(status: str) -> Any:
    from app.feedback.tables import STATUS_LABELS

    return STATUS_LABELS.get(status, status)


async def _reopen_values(item: FeedbackItem, now: datetime) -> dict[Any, Any]:
    deadline = await _deadline_for(item.tenant, now)
    return {
        FeedbackItem.status: Status.in_progress.value,
        FeedbackItem.closed_at: None,
        FeedbackItem.reopenings: FeedbackItem.reopenings + 1,
        **{getattr(FeedbackItem, k): v for k, v in deadline.items()},
    }


async def assign(item_id: int, user_id: int | None, actor_id: int) -> str:
    """Give the item to a staff member of the holder (None: nobody). Returns their name."""
    item = await _held(item_id)
    name = ""
    if user_id is not None:
        member = await Membership.select(Membership.user.name.as_alias("name")).where(
            (Membership.user == user_id) & Membership.role.is_in([Role.staff.value, Role.admin.value])
        ).first()
        if member is None:
            raise FeedbackError("assignee", _("Choose a staff member of this organisation."))
        name = member["name"]
    now = clock.now()
    await FeedbackItem.update({FeedbackItem.assignee: user_id, FeedbackItem.updated_at: now}).where(
        FeedbackItem.id == item.id
    )
    await _event(item.id, EventKind.assigned.value, actor=actor_id, detail={"to": name}, at=now)
    return name


async def reply(item_id: int, body: str, actor_id: int) -> int:
    """Answer the submitter: shown on /track, and an SMS if they left a mobile number."""
    item = await _held(item_id)
    if item.status == Status.closed.value:
        raise FeedbackError("body", _("This item is closed. Reopen it to reply."))
    now = clock.now()
    values: dict[Any, Any] = {FeedbackItem.status: Status.answered.value, FeedbackItem.answered_at: now,
                              FeedbackItem.updated_at: now}
    if item.first_reply_at is None:
        values[FeedbackItem.first_reply_at] = now
    await FeedbackItem.update(values).where(FeedbackItem.id == item.id)
    event_id = await _event(item.id, EventKind.reply.value, actor=actor_id, body=body, public=True,
                            detail={"from": item.status}, at=now)
    if is_mobile(item.contact_phone):
        await outbox.notify(item.tenant, "feedback_reply", f"feedback:{item.id}:reply:{event_id}", channel="sms",
                            phone=item.contact_phone, locale=item.locale,
                            payload={"item_id": item.id, "code": tracking.format_code(item.code)})
    return event_id


async def add_note(item_id: int, body: str, actor_id: int) -> int:
    """An internal note: staff of the organisations that may read the item see it,
    the submitter never does. Allowed to the holder only."""
    item = await _held(item_id)
    return await _event(item.id, EventKind.note.value, actor=actor_id, body=body, public=False)


async def escalate(item_id: int, actor_id: int | None, reason: str = "", automatic: bool = False) -> dict[str, Any]:
    """Pass an open item to the organisation above (企业 → 区镇 → 市). It then holds it
    with a new deadline of its own; every earlier holder keeps read access."""
    item = await _held(item_id)
    if item.status not in OPEN_STATUSES:
        raise FeedbackError("escalate", _("Only an item that still waits for an answer can be escalated."))
    target = await _escalation_target(item.tenant)
    if target is None:
        raise FeedbackError("escalate", _("There is no organisation above this one to escalate to."))
    now = clock.now()
    deadline = await _deadline_for(target["id"], now)
    source = item.tenant
    moved = await FeedbackItem.update({
        FeedbackItem.tenant: target["id"], FeedbackItem.status: Status.new.value, FeedbackItem.assignee: None,
        FeedbackItem.escalations: FeedbackItem.escalations + 1, FeedbackItem.updated_at: now,
        **{getattr(FeedbackItem, k): v for k, v in deadline.items()},
    }).where((FeedbackItem.id == item.id) & (FeedbackItem.escalations == item.escalations)).returning(FeedbackItem.id)
    if not moved:  # another request escalated it a moment ago
        raise FeedbackError("escalate", _("This item was escalated a moment ago."))
    await _event(item.id, EventKind.escalated.value, actor=actor_id, body=reason, public=True, at=now,
                 detail={"to": target["id"], "to_name": target["name"], "automatic": automatic})
    with tenant_scope(target["id"]):
        await FeedbackAccess.insert(
            FeedbackAccess(tenant=target["id"], item=item.id, reason=AccessReason.escalated.value, created_at=now)
        ).on_conflict(action="DO NOTHING")
        await _tell_staff(target["id"], item.id, "feedback_escalated", f"feedback:{item.id}:esc{item.escalations + 1}",
                          await _staff(target["id"]), extra={"from_name": await _tenant_name(source)})
    return target


async def _tenant_name(tenant_id: int) -> str:
    row = await Tenant.select(Tenant.name).where(Tenant.id == tenant_id).first()
    return row["name"] if row else ""


# --- the submitter's view (/track) ----------------------------------------------


@dataclass
class Tracked:
    id: int
    code: str
    category: str
    status: str
    received_at: datetime
    holder_name: str
    origin_name: str
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def code_display(self) -> str:
        return tracking.format_code(self.code)

    @property
    def can_reopen(self) -> bool:
        return self.status in (Status.answered.value, Status.closed.value)


async def _unlock(code_text: str, secret_text: str) -> dict[str, Any] | None:
    """The item behind a code and its secret, or None: the same for an unknown code,
    a wrong secret or malformed input, with the same work done."""
    code = tracking.normalize_code(code_text)
    secret = tracking.normalize_secret(secret_text) or ""
    row = None
    if code:
        with unscoped("a tracking code names its item, wherever it is held now"):
            row = await FeedbackItem.select(
                FeedbackItem.id, FeedbackItem.tenant, FeedbackItem.code, FeedbackItem.secret_salt,
                FeedbackItem.secret_hash, FeedbackItem.category, FeedbackItem.status, FeedbackItem.received_at,
                FeedbackItem.tenant.name.as_alias("holder_name"), FeedbackItem.origin.name.as_alias("origin_name"),
            ).where(FeedbackItem.code == code).first()
    if row is None:
        tracking.secret_matches("0" * tracking.CODE_LENGTH, tracking.DUMMY_SALT, tracking.DUMMY_HASH, secret)
        return None
    if not secret or not tracking.secret_matches(row["code"], row["secret_salt"], row["secret_hash"], secret):
        return None
    return row


async def track(code_text: str, secret_text: str) -> Tracked | None:
    row = await _unlock(code_text, secret_text)
    if row is None:
        return None
    return Tracked(
        id=row["id"], code=row["code"], category=row["category"], status=row["status"],
        received_at=row["received_at"], holder_name=row["holder_name"], origin_name=row["origin_name"],
        events=await _history(row["id"], public_only=True),
    )


async def submitter_reopens(code_text: str, secret_text: str, comment: str) -> Tracked | None:
    """The submitter says an answered (or closed) item is not resolved: it goes back
    to the holder, in progress, with a new deadline, and its staff are told."""
    row = await _unlock(code_text, secret_text)
    if row is None:
        return None
    if row["status"] in (Status.answered.value, Status.closed.value):
        with tenant_scope(row["tenant"]):
            async with atomic():
                item = await _for_update(row["id"])
                # Checked again under the lock: two presses at once reopen it once.
                if item is not None and item.status in (Status.answered.value, Status.closed.value):
                    now = clock.now()
                    await FeedbackItem.update({**await _reopen_values(item, now), FeedbackItem.updated_at: now}).where(
                        FeedbackItem.id == item.id)
                    await _event(item.id, EventKind.reopened.value, body=comment, public=True, at=now,
                                 detail={"from": item.status, "to": Status.in_progress.value, "by_submitter": True})
                    people = await _staff(item.tenant, [item.assignee] if item.assignee else None, admins_too=True)
                    await _tell_staff(item.tenant, item.id, "feedback_reopened",
                                      f"feedback:{item.id}:reopen{item.reopenings + 1}", people)
    return await track(code_text, secret_text)


# --- deadlines: reminders, overdue alerts, automatic escalation (cron) -----------


async def process_deadlines() -> dict[str, int]:
    """One pass over open items whose reminder, deadline or escalation time has come.

    Each stage happens once per deadline: the row's ``alert_stage`` moves on in the
    same transaction as the message, and the messages' dedupe keys name the
    deadline, so two passes at once still send one."""
    now = clock.now()
    done = {"reminded": 0, "overdue": 0, "escalated": 0}
    with unscoped("the deadline pass looks at every organisation's open items"):
        rows = await FeedbackItem.select(FeedbackItem.id, FeedbackItem.tenant).where(
            FeedbackItem.status.is_in(list(OPEN_STATUSES))
            & (
                ((FeedbackItem.alert_stage < 1) & (FeedbackItem.remind_at <= now))
                | ((FeedbackItem.alert_stage < 2) & (FeedbackItem.due_at <= now))
                | (FeedbackItem.escalate_at <= now)
            )
        ).order_by(FeedbackItem.id)
    for row in rows:
        with tenant_scope(row["tenant"]):
            try:
                async with atomic():
                    outcome = await _deadline_step(row["id"], now)
            except FeedbackError:
                continue
            if outcome:
                done[outcome] += 1
    return done


async def _deadline_step(item_id: int, now: datetime) -> str | None:
    item = await _for_update(item_id)
    if item is None or item.status not in OPEN_STATUSES or item.due_at is None:
        return None
    due_key = f"feedback:{item.id}:due{int(item.due_at.timestamp())}"
    if item.escalate_at is not None and item.escalate_at <= now:
        if await _escalation_target(item.tenant) is None:
            await FeedbackItem.update({FeedbackItem.escalate_at: None}).where(FeedbackItem.id == item.id)
            return None
        await escalate(item.id, None, automatic=True)
        return "escalated"
    if item.alert_stage < 2 and item.due_at <= now:
        people = await _staff(item.tenant, [item.assignee] if item.assignee else None, admins_too=True)
        await _tell_staff(item.tenant, item.id, "feedback_overdue", f"{due_key}:overdue", people)
        await FeedbackItem.update({FeedbackItem.alert_stage: 2}).where(FeedbackItem.id == item.id)
        return "overdue"
    if item.alert_stage < 1 and item.remind_at is not None and item.remind_at <= now:
        people = await _staff(item.tenant, [item.assignee] if item.assignee else None)
        await _tell_staff(item.tenant, item.id, "feedback_due_soon", f"{due_key}:soon", people)
        await FeedbackItem.update({FeedbackItem.alert_stage: 1}).where(FeedbackItem.id == item.id)
        return "reminded"
    return None


# --- retention (cron) -----------------------------------------------------------


async def erase_expired_contacts() -> int:
    """Erase the name and phone number of items closed longer ago than their
    holder's retention period, also from the messages sent to that phone."""
    now = clock.now()
    with unscoped("the retention pass looks at every organisation's closed items"):
        rows = await FeedbackItem.select(FeedbackItem.id, FeedbackItem.tenant, FeedbackItem.closed_at).where(
            (FeedbackItem.status == Status.closed.value)
            & FeedbackItem.closed_at.is_not_null()
            & FeedbackItem.contact_erased_at.is_null()
            & ((FeedbackItem.contact_name != "") | (FeedbackItem.contact_phone != ""))
        )
    erased = 0
    retention: dict[int, int] = {}
    for row in rows:
        tenant_id = row["tenant"]
        if tenant_id not in retention:
            retention[tenant_id] = (await settings_of(tenant_id))["retention_days"]
        if row["closed_at"] + timedelta(days=retention[tenant_id]) > now:
            continue
        with tenant_scope(tenant_id):
            async with atomic():
                await _erase_contact(row["id"], now)
        erased += 1
    return erased


async def _erase_contact(item_id: int, now: datetime) -> None:
    item = await FeedbackItem.select(FeedbackItem.contact_phone).where(
        (FeedbackItem.id == item_id) & (FeedbackItem.status == Status.closed.value)
    ).first()
    if item is None:
        return
    await FeedbackItem.update({
        FeedbackItem.contact_name: "", FeedbackItem.contact_phone: "", FeedbackItem.contact_erased_at: now,
    }).where(FeedbackItem.id == item_id)
    if item["contact_phone"]:
        with unscoped("replies may have been sent by any organisation that held the item"):
            await Notification.update({Notification.recipient: mask_phone(item["contact_phone"])}).where(
                Notification.dedupe_key.like(f"feedback:{item_id}:reply:%")
                & (Notification.recipient == item["contact_phone"])
                & (Notification.status != "sending")  # a pending one is then cancelled: no phone, no reply SMS
            )
    await _event(item_id, EventKind.contact_erased.value, at=now)


# --- the city's figures (counts and times, never contents) ----------------------

PERIODS = (30, 90, 365)


async def network_figures(days: int) -> dict[str, Any]:
    """Per organisation an item was sent to: received in the period, answered, answered
    within the deadline, median working days to the first answer, escalated; and
    what each holds open and overdue now. Only counts and times are read."""
    now = clock.now()
    since = now - timedelta(days=days)
    with unscoped("the city center sees counts and response times of every organisation, never contents"):
        received = await FeedbackItem.select(
            FeedbackItem.origin, FeedbackItem.received_at, FeedbackItem.first_reply_at, FeedbackItem.first_due_at,
            FeedbackItem.escalations,
        ).where(FeedbackItem.received_at >= since)
        open_rows = await FeedbackItem.select(FeedbackItem.tenant, FeedbackItem.origin, FeedbackItem.due_at).where(
            FeedbackItem.status.is_in(list(OPEN_STATUSES))
        )
    tenants = await Tenant.select(Tenant.id, Tenant.slug, Tenant.name, Tenant.kind, Tenant.district).where(
        Tenant.active == True  # noqa: E712
    )
    figures: dict[int, dict[str, Any]] = {}

    def of(tenant_id: int) -> dict[str, Any]:
        return figures.setdefault(tenant_id, {"received": 0, "answered": 0, "in_time": 0, "escalated": 0,
                                              "open": 0, "overdue": 0, "escalated_in": 0, "days": []})

    for row in received:
        f = of(row["origin"])
        f["received"] += 1
        f["escalated"] += 1 if row["escalations"] else 0
        if row["first_reply_at"]:
            f["answered"] += 1
            f["in_time"] += 1 if row["first_due_at"] and row["first_reply_at"] <= row["first_due_at"] else 0
            f["days"].append(workdays.workdays_between(workdays.local_day(row["received_at"]),
                                                       workdays.local_day(row["first_reply_at"])))
    for row in open_rows:
        f = of(row["tenant"])
        f["open"] += 1
        f["overdue"] += 1 if row["due_at"] and row["due_at"] < now else 0
        f["escalated_in"] += 1 if row["tenant"] != row["origin"] else 0
    result = []
    for tenant in tenants:
        f = figures.get(tenant["id"])
        if f is None:
            continue
        result.append({**tenant, **_summarise(f)})
    result.sort(key=lambda r: (r["district"] != "", r["district"], -r["received"], r["name"]))
    all_days = [d for f in figures.values() for d in f["days"]]
    totals = _summarise({k: sum(f[k] for f in figures.values()) for k in
                         ("received", "answered", "in_time", "escalated", "open", "overdue", "escalated_in")}
                        | {"days": all_days})
    return {"rows": result, "totals": totals}


def _summarise(f: dict[str, Any]) -> dict[str, Any]:
    days = f["days"]
    return {
        **{k: v for k, v in f.items() if k != "days"},
        "in_time_share": round(100 * f["in_time"] / f["answered"]) if f["answered"] else None,
        "median_days": statistics.median(days) if days else None,
    }
