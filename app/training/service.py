"""Training across the network (DESIGN §3.4): the rules.

Who owns what:
- a ``Programme`` (and its ``Material``) belongs to the organisation that defined it: the
  city center, or a district center for its own subtree;
- an ``Assignment`` belongs to the organisation it was assigned to (its staff nominate
  people and record completion in their own scope); ``assigner`` is who assigned it and
  ``parent`` the assignment it was passed down from;
- the assigner, and every organisation above the assignee, read it (never write it):
  those reads leave the scope with ``unscoped(...)`` after a tree check here.

Completion: a participant is trained when their *passed* completions add up to the
programme's required hours (a partial or failed attendance never counts); an assignment
counts its own trained people plus those of the assignments passed down from it, and is
complete when that reaches the required number.
"""

from __future__ import annotations

import csv
import io
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

from litestar.exceptions import NotFoundException

from app import i18n
from app.core import phones
from app.core.forms import Form
from app.events import service as events
from app.events.tables import Attendee, Event, EventKind, EventStatus
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.notifications import service as outbox
from app.training import clock, files
from app.training.tables import (
    Assignment,
    Completion,
    GuidanceArea,
    Material,
    Participant,
    Programme,
    Result,
    TrainingSession,
)
from tenants import tree
from tenants.scope import current_tenant_id, get_in_scope, tenant_scope, unscoped
from tenants.tables import KIND_LABELS, Membership, Role, Tenant, TenantKind

ASSIGNER_KINDS = frozenset({TenantKind.city_center.value, TenantKind.district_center.value})
SOON_DAYS = 7  # the "due soon" reminder goes out this many days before the due date
MAX_HOURS = 200
RESULT_LABELS = {
    Result.passed.value: _l("Attended in full / passed"),
    Result.partial.value: _l("Partly attended"),
    Result.failed.value: _l("Failed"),
}


class TrainingError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def can_assign(tenant: dict[str, Any]) -> bool:
    return tenant["kind"] in ASSIGNER_KINDS


def hours_text(minutes: int) -> str:
    hours = Decimal(minutes) / 60
    return f"{hours.quantize(Decimal('0.1')).normalize():f}"


def parse_hours(form: Form, name: str) -> int | None:
    """Hours as typed ("2", "1.5") in minutes; a message beside the field otherwise."""
    raw = form[name].replace("，", ".").replace(",", ".")
    try:
        hours = Decimal(raw)
    except InvalidOperation:
        form.error(name, _("Enter the hours as a number, such as 2 or 1.5."))
        return None
    if not hours.is_finite() or hours <= 0 or hours > MAX_HOURS:
        form.error(name, _("Enter between 0.5 and %(max)s hours.", max=MAX_HOURS))
        return None
    minutes = int((hours * 60).to_integral_value())
    if minutes < 30:
        form.error(name, _("Enter between 0.5 and %(max)s hours.", max=MAX_HOURS))
        return None
    return minutes


def parse_day(form: Form, name: str) -> date | None:
    try:
        return date.fromisoformat(form[name])
    except ValueError:
        form.error(name, _("Enter a date like 2025-06-30."))
        return None


def parse_count(form: Form, name: str, maximum: int = 10000) -> int | None:
    try:
        value = int(form[name])
    except ValueError:
        form.error(name, _("Enter a whole number."))
        return None
    if value < 1:
        form.error(name, _("At least one person must be trained."))
        return None
    if value > maximum:
        form.error(name, _("At most %(max)s.", max=maximum))
        return None
    return value


# --- programmes -------------------------------------------------------------------------

PROGRAMME_FIELDS = ("title", "content", "hours", "audience")


def validate_programme(form: Form) -> int | None:
    form.required("title", "hours")
    form.max_length("title", 200)
    form.max_length("audience", 200)
    form.max_length("content", 20000)
    return parse_hours(form, "hours") if form["hours"] else None


async def create_programme(form: Form, minutes: int, user_id: int | None) -> int:
    row = Programme(tenant=current_tenant_id(), title=form["title"], content=form["content"],
                    required_minutes=minutes, audience=form["audience"], created_by=user_id)
    await row.save()
    return row.id


async def update_programme(programme_id: int, form: Form, minutes: int) -> None:
    await Programme.update({Programme.title: form["title"], Programme.content: form["content"],
                            Programme.required_minutes: minutes, Programme.audience: form["audience"]}).where(
        Programme.id == programme_id)


async def own_programme(programme_id: Any) -> Programme:
    """A programme of the active organisation; 404 when missing or another's."""
    return await get_in_scope(Programme, programme_id)


async def own_programmes() -> list[dict[str, Any]]:
    rows = await Programme.select().order_by(Programme.created_at, ascending=False)
    ids = [r["id"] for r in rows]
    counts: dict[int, int] = {}
    if ids:
        with unscoped("training: how many organisations each of its own programmes is assigned to"):
            for a in await Assignment.select(Assignment.programme).where(Assignment.programme.is_in(ids)):
                counts[a["programme"]] = counts.get(a["programme"], 0) + 1
    return [{**r, "hours": hours_text(r["required_minutes"]), "assigned": counts.get(r["id"], 0)} for r in rows]


async def programme_for(tenant_id: int, programme_id: int) -> dict[str, Any] | None:
    """A programme as an organisation may read it: its own, or one assigned to it."""
    with unscoped("training: a programme read by its owner or an organisation it is assigned to"):
        row = await Programme.select().where(Programme.id == programme_id).first()
        if row is None:
            return None
        if row["tenant"] != tenant_id and not await Assignment.exists().where(
                (Assignment.programme == programme_id) & (Assignment.tenant == tenant_id)):
            return None
        row["materials"] = await Material.select().where(Material.programme == programme_id).order_by(Material.id)
    row["hours"] = hours_text(row["required_minutes"])
    return row


# --- materials ---------------------------------------------------------------------------

MATERIAL_FIELDS = ("title", "url")


async def add_material(programme_id: int, form: Form, upload: tuple[str, bytes] | None) -> int | None:
    """A link or an uploaded file; errors go beside the fields and nothing is stored."""
    form.max_length("title", 200)
    form.max_length("url", 500)
    url = form["url"]
    if url and not url.startswith(("https://", "http://")):
        form.error("url", _("Enter a web address starting with https://."))
    if bool(url) == bool(upload):
        form.error("file", _("Give either a link or a file."))
    content_type = ""
    if upload:
        try:
            content_type = files.check(upload[0], upload[1])
        except files.FileRefused as exc:
            form.error("file", exc.message)
    if not form.ok:
        return None
    title = form["title"] or (upload[0] if upload else url)[:200]
    row = Material(tenant=current_tenant_id(), programme=programme_id, title=title, url=url)
    if upload:
        row.file_name = upload[0][:200]
        row.content_type = content_type
        row.size = len(upload[1])
        row.stored_name = files.store(upload[1], upload[0])
    await row.save()
    return row.id


async def material_for(tenant_id: int, material_id: int) -> dict[str, Any] | None:
    """A material the organisation may read: of its own programme, or of one assigned to it."""
    with unscoped("training: a material read by its owner or an organisation its programme is assigned to"):
        row = await Material.select().where(Material.id == material_id).first()
        if row is None:
            return None
        if row["tenant"] == tenant_id or await Assignment.exists().where(
                (Assignment.programme == row["programme"]) & (Assignment.tenant == tenant_id)):
            return row
    return None


# --- assignments ------------------------------------------------------------------------

ASSIGN_FIELDS = ("kind", "within", "due_date", "required_people")


@dataclass
class Assigned:
    created: list[int]
    skipped: int


async def _tenants(ids: Iterable[int]) -> list[dict[str, Any]]:
    ids = list(ids)
    if not ids:
        return []
    return await Tenant.select(Tenant.id, Tenant.slug, Tenant.name, Tenant.kind, Tenant.district, Tenant.active).where(
        Tenant.id.is_in(ids))


async def assignable(assigner_id: int) -> list[dict[str, Any]]:
    """Active organisations below the assigner, in tree order (what it may assign to)."""
    below = (await tree.load_tree()).subtree(assigner_id) - {assigner_id}
    return [t for t in await tree.tenant_tree() if t["id"] in below and t["active"]]


def validate_assignment(form: Form, chosen: list[str], latest_due: date | None = None) -> tuple[date | None, int | None]:
    form.required("due_date", "required_people")
    due = parse_day(form, "due_date") if form["due_date"] else None
    if due is not None and due <= clock.today():
        form.error("due_date", _("The due date must be after today."))
    if due is not None and latest_due is not None and due > latest_due:
        form.error("due_date", _("The due date cannot be later than your own: %(due)s.",
                                 due=i18n.format_date(latest_due, "long")))
    required = parse_count(form, "required_people") if form["required_people"] else None
    form.choice("kind", ["", *tree.KIND_ORDER])
    if not chosen and not form["kind"]:
        form.error("tenants", _("Choose organisations, or every organisation of a kind."))
    return due, required


async def _targets(assigner_id: int, chosen: list[str], kind: str, within: str = "") -> list[dict[str, Any]]:
    """The chosen organisations (all inside the assigner's subtree) or every active one of a kind
    there, or only in the subtree of ``within`` (an organisation below the assigner)."""
    tree_ = await tree.load_tree()
    below = tree_.subtree(assigner_id) - {assigner_id}
    if within:
        root = int(within) if within.isdigit() else 0
        if root not in below:
            raise TrainingError("within", _("You can only assign training to organisations below yours."))
        if kind:
            below = tree_.subtree(root)
    ids: set[int] = set()
    for raw in chosen:
        try:
            ids.add(int(raw))
        except ValueError:
            raise TrainingError("tenants", _("Choose organisations from the list.")) from None
    if ids - below:
        raise TrainingError("tenants", _("You can only assign training to organisations below yours."))
    rows = await _tenants(below if kind else ids)
    if kind:
        rows = [r for r in rows if (r["kind"] == kind and r["active"]) or r["id"] in ids]
    if not rows:
        raise TrainingError("tenants", _("No active organisation below yours matches this choice."))
    return rows


async def assign(programme_id: int, chosen: list[str], kind: str, due: date, required: int,
                 user_id: int | None, parent: dict[str, Any] | None = None, within: str = "") -> Assigned:
    """Assign (or, with ``parent``, pass down) a programme in the active organisation's subtree.
    Organisations that already have it are skipped, not assigned twice."""
    assigner_id = current_tenant_id()
    targets = await _targets(assigner_id, chosen, kind, within)
    created: list[int] = []
    skipped = 0
    with unscoped("training: the assigner writes assignments of organisations in its subtree"):
        have = {r["tenant"] for r in await Assignment.select(Assignment.tenant).where(
            (Assignment.programme == programme_id) & Assignment.tenant.is_in([t["id"] for t in targets]))}
        for t in targets:
            if t["id"] in have:
                skipped += 1
                continue
            row = Assignment(tenant=t["id"], programme=programme_id, assigner=assigner_id,
                             parent=parent["id"] if parent else None, due_date=due, required_people=required,
                             created_by=user_id)
            await row.save()
            created.append(row.id)
    if parent:
        await refresh(parent["id"])
    return Assigned(created, skipped)


async def own_assignment(assignment_id: Any) -> Assignment:
    return await get_in_scope(Assignment, assignment_id)


async def assignment_view(viewer_id: int, assignment_id: int) -> dict[str, Any] | None:
    """An assignment as the viewing organisation may see it: its own (to work on), or one of
    an organisation below it (read-only). None otherwise."""
    with unscoped("training: an assignment read by its organisation or one above it"):
        row = await Assignment.select(
            *Assignment.all_columns(), Assignment.tenant.name.as_alias("tenant_name"),
            Assignment.tenant.slug.as_alias("tenant_slug"), Assignment.tenant.kind.as_alias("tenant_kind"),
            Assignment.tenant.district.as_alias("tenant_district"),
            Assignment.assigner.name.as_alias("assigner_name"),
        ).where(Assignment.id == assignment_id).first()
        if row is None:
            return None
        own = row["tenant"] == viewer_id
        if not own and not (await tree.load_tree()).contains(viewer_id, row["tenant"]):
            return None
        programme = await Programme.select().where(Programme.id == row["programme"]).first()
        materials = await Material.select().where(Material.programme == row["programme"]).order_by(Material.id)
        people = await Participant.select().where(Participant.assignment == assignment_id).order_by(Participant.id)
        done = await Completion.select(
            *Completion.all_columns(), Completion.event.title.as_alias("event_title")
        ).where(Completion.assignment == assignment_id).order_by(Completion.day)
        children = await Assignment.select(Assignment.id).where(Assignment.parent == assignment_id)
        sessions = await TrainingSession.select(
            TrainingSession.event, TrainingSession.credited_at, TrainingSession.event.title.as_alias("title"),
            TrainingSession.event.starts_at.as_alias("starts_at"), TrainingSession.event.status.as_alias("status"),
            TrainingSession.tenant.name.as_alias("organiser"),
        ).where(TrainingSession.programme == row["programme"]).order_by(TrainingSession.event.starts_at)
    by_person: dict[int, list[dict[str, Any]]] = {}
    for c in done:
        c["hours"] = hours_text(c["minutes"])
        by_person.setdefault(c["participant"], []).append(c)
    for p in people:
        p["completions"] = by_person.get(p["id"], [])
        p["minutes"] = sum(c["minutes"] for c in p["completions"] if c["result"] == Result.passed.value)
        p["hours"] = hours_text(p["minutes"])
        p["trained"] = p["minutes"] >= programme["required_minutes"]
    progress = await progress_of([assignment_id])
    child_rows = await overview_rows([c["id"] for c in children]) if children else []
    return {**row, "own": own, "programme": {**programme, "hours": hours_text(programme["required_minutes"])},
            "materials": materials, "people": people, "children": child_rows, "sessions": sessions,
            "progress": progress[assignment_id], "status": status_of(row, progress[assignment_id])}


def status_of(row: dict[str, Any], progress: dict[str, Any]) -> str:
    if progress["complete"]:
        return "complete"
    return "overdue" if row["due_date"] < clock.today() else "open"


STATUS_LABELS = {"complete": _l("Complete"), "overdue": _l("Overdue"), "open": _l("Not yet complete")}


async def received() -> list[dict[str, Any]]:
    """The active organisation's own assignments, due first."""
    rows = await Assignment.select(
        *Assignment.all_columns(), Assignment.programme.title.as_alias("title"),
        Assignment.assigner.name.as_alias("assigner_name"),
    ).order_by(Assignment.due_date)
    progress = await progress_of([r["id"] for r in rows])
    return [{**r, "progress": progress[r["id"]], "status": status_of(r, progress[r["id"]])} for r in rows]


# --- people and completion --------------------------------------------------------------

PARTICIPANT_FIELDS = ("name", "phone", "member")
COMPLETION_FIELDS = ("participant", "hours", "day", "result", "note")


async def members_choice() -> list[dict[str, Any]]:
    return await Membership.select(Membership.user.id.as_alias("user_id"), Membership.user.name.as_alias("name"),
                                   Membership.user.phone.as_alias("phone")).order_by(Membership.user.name)


async def add_participant(assignment_id: int, form: Form) -> int | None:
    """A member (chosen) or a named person (name, and a mobile to match event attendance)."""
    user_id = None
    if form["member"]:
        member = next((m for m in await members_choice() if str(m["user_id"]) == form["member"]), None)
        if member is None:
            form.error("member", _("Choose one of the options."))
            return None
        user_id = member["user_id"]
        form.values["name"] = form["name"] or member["name"]
        form.values["phone"] = form["phone"] or member["phone"]
    form.required("name")
    form.max_length("name", 100)
    form.phone("phone")
    if not form.ok:
        return None
    phone = form["phone"]
    if phone and await Participant.exists().where((Participant.assignment == assignment_id) & (Participant.phone == phone)):
        form.error("phone", _("This person is already nominated."))
        return None
    row = Participant(tenant=current_tenant_id(), assignment=assignment_id, name=form["name"], phone=phone,
                      user=user_id)
    await row.save()
    return row.id


async def record_completion(assignment_id: int, form: Form, evidence: tuple[str, bytes] | None,
                            user_id: int | None) -> int | None:
    form.required("participant", "hours", "day", "result")
    participant = None
    if form["participant"]:
        participant = await Participant.select(Participant.id).where(
            (Participant.assignment == assignment_id) & (Participant.id == _int(form["participant"]))).first()
        if participant is None:
            form.error("participant", _("Choose one of the nominated people."))
    minutes = parse_hours(form, "hours") if form["hours"] else None
    day = parse_day(form, "day") if form["day"] else None
    if day is not None and day > clock.today():
        form.error("day", _("The date cannot be in the future."))
    form.choice("result", RESULT_LABELS)
    form.max_length("note", 2000)
    content_type = ""
    if evidence:
        try:
            content_type = files.check(*evidence)
        except files.FileRefused as exc:
            form.error("evidence", exc.message)
    if not form.ok or participant is None or minutes is None or day is None:
        return None
    row = Completion(tenant=current_tenant_id(), assignment=assignment_id, participant=participant["id"],
                     minutes=minutes, day=day, result=form["result"], note=form["note"], created_by=user_id)
    if evidence:
        row.evidence_name = evidence[0][:200]
        row.evidence_type = content_type
        row.evidence_size = len(evidence[1])
        row.evidence_stored = files.store(evidence[1], evidence[0])
    await row.save()
    await refresh(assignment_id)
    return row.id


def _int(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        return 0


async def evidence_for(viewer_id: int, completion_id: int) -> dict[str, Any] | None:
    """Evidence the organisation may read: its own, or of an organisation below it."""
    with unscoped("training: evidence read by its organisation or one above it"):
        row = await Completion.select().where(Completion.id == completion_id).first()
    if row is None or not row["evidence_stored"]:
        return None
    if row["tenant"] != viewer_id and not (await tree.load_tree()).contains(viewer_id, row["tenant"]):
        return None
    return row


# --- roll-up ----------------------------------------------------------------------------


async def progress_of(assignment_ids: list[int]) -> dict[int, dict[str, Any]]:
    """{assignment id: {own, done, required, complete}}: ``own`` people trained by the
    organisation itself, ``done`` including everyone trained below it (passed down)."""
    if not assignment_ids:
        return {}
    with unscoped("training: completion rolls up from the assignments passed down"):
        programmes = {r["programme"] for r in await Assignment.select(Assignment.programme).where(
            Assignment.id.is_in(assignment_ids))}
        every = await Assignment.select(Assignment.id, Assignment.parent, Assignment.required_people,
                                        Assignment.programme.required_minutes.as_alias("need")).where(
            Assignment.programme.is_in(list(programmes)))
        minutes = await Completion.select(Completion.assignment, Completion.participant, Completion.minutes).where(
            Completion.assignment.is_in([a["id"] for a in every]) & (Completion.result == Result.passed.value))
    per_person: dict[tuple[int, int], int] = {}
    for c in minutes:
        key = (c["assignment"], c["participant"])
        per_person[key] = per_person.get(key, 0) + c["minutes"]
    need = {a["id"]: a["need"] for a in every}
    own: dict[int, int] = {}
    for (assignment_id, _p), total in per_person.items():
        if total >= need[assignment_id]:
            own[assignment_id] = own.get(assignment_id, 0) + 1
    children: dict[int, list[int]] = {}
    for a in every:
        if a["parent"] is not None:
            children.setdefault(a["parent"], []).append(a["id"])
    required = {a["id"]: a["required_people"] for a in every}

    def done(assignment_id: int, seen: frozenset[int] = frozenset()) -> int:
        if assignment_id in seen:
            return 0
        return own.get(assignment_id, 0) + sum(done(c, seen | {assignment_id}) for c in children.get(assignment_id, []))

    result = {}
    for assignment_id in assignment_ids:
        total = done(assignment_id)
        result[assignment_id] = {"own": own.get(assignment_id, 0), "done": total, "required": required[assignment_id],
                                 "complete": total >= required[assignment_id],
                                 "percent": min(100, round(100 * total / required[assignment_id]))}
    return result


async def refresh(assignment_id: int) -> None:
    """Keep ``completed_at`` true of this assignment and every one it was passed down from."""
    with unscoped("training: completion rolls up to the assignments above"):
        chain = []
        current: int | None = assignment_id
        while current is not None and current not in chain:
            chain.append(current)
            row = await Assignment.select(Assignment.parent).where(Assignment.id == current).first()
            current = row["parent"] if row else None
        progress = await progress_of(chain)
        for a in chain:
            if progress[a]["complete"]:
                await Assignment.update({Assignment.completed_at: clock.now()}).where(
                    (Assignment.id == a) & Assignment.completed_at.is_null())
            else:
                await Assignment.update({Assignment.completed_at: None}).where(
                    (Assignment.id == a) & Assignment.completed_at.is_not_null())


# --- overview ----------------------------------------------------------------------------


async def overview_rows(top_ids: list[int]) -> list[dict[str, Any]]:
    """The given assignments and everything passed down from them, each followed by its children."""
    with unscoped("training: the assigner reads the assignments it made and those passed down"):
        rows: list[dict[str, Any]] = []
        frontier = list(top_ids)
        while frontier:
            batch = await Assignment.select(
                *Assignment.all_columns(), Assignment.tenant.name.as_alias("tenant_name"),
                Assignment.tenant.slug.as_alias("tenant_slug"), Assignment.tenant.kind.as_alias("tenant_kind"),
                Assignment.tenant.district.as_alias("district"), Assignment.programme.title.as_alias("title"),
            ).where(Assignment.id.is_in(frontier) if not rows else Assignment.parent.is_in(frontier))
            batch = [b for b in batch if b["id"] not in {r["id"] for r in rows}]
            rows += batch
            frontier = [b["id"] for b in batch]
    progress = await progress_of([r["id"] for r in rows])
    kids: dict[int | None, list[dict[str, Any]]] = {}
    ids = {r["id"] for r in rows}
    for r in rows:
        r["progress"] = progress[r["id"]]
        r["status"] = status_of(r, r["progress"])
        kids.setdefault(r["parent"] if r["parent"] in ids else None, []).append(r)
    ordered: list[dict[str, Any]] = []

    def walk(parent: int | None, depth: int) -> None:
        for r in sorted(kids.get(parent, []), key=lambda r: (r["district"] != "", r["district"],
                                                                 tree.kind_rank(r["tenant_kind"]), r["tenant_name"])):
            ordered.append({**r, "depth": depth})
            walk(r["id"], depth + 1)

    walk(None, 0)
    return ordered


async def overview(assigner_id: int, programme_id: int | None = None, area: list[str] | None = None) -> dict[str, Any]:
    """What the assigner assigned (and what was passed down from it): rows, figures by district, a chart."""
    with unscoped("training: the assignments an organisation made"):
        # Its own assignments and those it passed down (a district center's children).
        query = Assignment.select(Assignment.id).where(Assignment.assigner == assigner_id)
        if programme_id:
            query = query.where(Assignment.programme == programme_id)
        top = [r["id"] for r in await query]
    rows = await overview_rows(top)
    if area:
        rows = [r for r in rows if r["district"] in area]
    districts: OrderedDict[str, dict[str, Any]] = OrderedDict()
    for r in sorted(rows, key=lambda r: (r["district"] != "", r["district"])):
        d = districts.setdefault(r["district"], {"district": r["district"], "assignments": 0, "complete": 0,
                                                 "overdue": 0, "done": 0, "required": 0})
        if r["depth"] == 0:
            d["assignments"] += 1
            d["complete"] += r["status"] == "complete"
            d["overdue"] += r["status"] == "overdue"
            d["done"] += min(r["progress"]["done"], r["progress"]["required"])
            d["required"] += r["progress"]["required"]
    for d in districts.values():
        d["percent"] = round(100 * d["done"] / d["required"]) if d["required"] else 0
    top_rows = [r for r in rows if r["depth"] == 0]
    return {"rows": rows, "districts": list(districts.values()), "chart": bar_chart(list(districts.values())),
            "total": len(top_rows), "complete": sum(r["status"] == "complete" for r in top_rows),
            "overdue": [r for r in rows if r["status"] == "overdue"]}


def bar_chart(districts: list[dict[str, Any]]) -> dict[str, Any]:
    """Horizontal bars (0-100 % of required people trained) per district, as SVG geometry."""
    left, width, row_h = 96, 320, 26
    plot = width - left - 40
    bars = []
    for i, d in enumerate(districts):
        w = round(plot * d["percent"] / 100, 1)
        bars.append({"y": 8 + i * row_h, "w": w, "x": left, "label": d["district"] or str(_("City level")),
                     "percent": d["percent"], "tx": left + w + 4, "ty": 8 + i * row_h + 14})
    return {"width": width, "height": 16 + len(bars) * row_h, "left": left, "bars": bars}


def export_rows(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    header = [_("Programme"), _("District"), _("Assignee"), _("Passed down from"), _("Due date"),
              _("People required"), _("People trained"), _("Status"), _("Reminded before due"), _("Reminded overdue")]
    names = {r["id"]: r["tenant_name"] for r in data["rows"]}
    rows = []
    for r in data["rows"]:
        rows.append([r["title"], r["district"], r["tenant_name"], names.get(r["parent"], ""),
                     r["due_date"].isoformat(), r["progress"]["required"], r["progress"]["done"],
                     str(STATUS_LABELS[r["status"]]),
                     i18n.format_date(r["reminded_soon_at"], "short") if r["reminded_soon_at"] else "",
                     i18n.format_date(r["reminded_overdue_at"], "short") if r["reminded_overdue_at"] else ""])
    return header, rows


def to_csv(data: dict[str, Any]) -> bytes:
    header, rows = export_rows(data)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: spreadsheet programs read it as UTF-8


def to_xlsx(data: dict[str, Any]) -> bytes:
    from openpyxl import Workbook

    header, rows = export_rows(data)
    book = Workbook()
    sheet = book.active
    sheet.title = str(_("Training"))[:31]
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- guidance areas (包片) ----------------------------------------------------------------


async def areas() -> dict[int, list[str]]:
    """City staff → the districts each guides (in the city center's scope)."""
    result: dict[int, list[str]] = {}
    for r in await GuidanceArea.select(GuidanceArea.user, GuidanceArea.district).order_by(GuidanceArea.district):
        result.setdefault(r["user"], []).append(r["district"])
    return result


async def area_of(user_id: int) -> list[str]:
    return (await areas()).get(user_id, [])


async def set_area(user_id: int, chosen: list[str], known: list[str]) -> list[str]:
    staff = {m["user"] for m in await Membership.select(Membership.user)}
    if user_id not in staff:
        raise NotFoundException()
    keep = sorted(set(chosen) & set(known))
    await GuidanceArea.delete().where(GuidanceArea.user == user_id)
    if keep:
        await GuidanceArea.insert(*(GuidanceArea(tenant=current_tenant_id(), user=user_id, district=d) for d in keep))
    return keep


# --- training events: attendance becomes completion --------------------------------------


async def linkable_events() -> list[dict[str, Any]]:
    """The active organisation's training events not yet linked to a programme."""
    linked = {r["event"] for r in await TrainingSession.select(TrainingSession.event)}
    rows = await Event.select(Event.id, Event.title, Event.starts_at, Event.status).where(
        (Event.kind == EventKind.training.value) & (Event.status != EventStatus.cancelled.value)
    ).order_by(Event.starts_at)
    return [r for r in rows if r["id"] not in linked]


async def event_programme(event_id: int) -> dict[str, Any] | None:
    """The programme a training event of the active organisation is held for, and the
    page where the organisation follows it: its own programme's, or its assignment's."""
    row = await TrainingSession.select(
        TrainingSession.programme, TrainingSession.programme.title.as_alias("title"),
        TrainingSession.programme.tenant.as_alias("owner"), TrainingSession.credited_at,
    ).where(TrainingSession.event == event_id).first()
    if row is None:
        return None
    assignment = None
    if row["owner"] != current_tenant_id():
        assignment = await Assignment.select(Assignment.id).where(Assignment.programme == row["programme"]).first()
    return {"id": row["programme"], "title": row["title"], "credited": row["credited_at"] is not None,
            "assignment_id": assignment["id"] if assignment else None}


async def link_event(programme_id: int, event_id: int) -> None:
    """Hold a training event of the active organisation for a programme it owns or was assigned."""
    tenant_id = current_tenant_id()
    if await programme_for(tenant_id, programme_id) is None:
        raise NotFoundException()
    event = await Event.select(Event.id, Event.kind, Event.status).where(Event.id == event_id).first()
    if event is None or event["kind"] != EventKind.training.value or event["status"] == EventStatus.cancelled.value:
        raise TrainingError("event", _("Choose one of your training events."))
    if await TrainingSession.exists().where(TrainingSession.event == event_id):
        raise TrainingError("event", _("This event is already linked to a programme."))
    await TrainingSession(tenant=tenant_id, event=event_id, programme=programme_id).save()
    if event["status"] == EventStatus.completed.value:
        await credit_attendance(event_id)


async def credit_attendance(event_id: int) -> int:
    """Turn the attendance of a held training event into completions, once: every checked-in
    attendee whose mobile number matches a person nominated for the programme in the
    organiser's subtree gets the event's hours. Nobody who did not check in gets any."""
    with unscoped("training: a held event credits the people nominated across the organiser's subtree"):
        session = await TrainingSession.select().where(TrainingSession.event == event_id).first()
        if session is None or session["credited_at"] is not None:
            return 0
        event = await Event.select().where(Event.id == event_id).first()
        if event is None or event["status"] != EventStatus.completed.value:
            return 0
        present = {phones.normalize(a["phone"]) or a["phone"] for a in await Attendee.select(Attendee.phone).where(
            (Attendee.event == event_id) & (Attendee.active == True) & Attendee.checked_in_at.is_not_null()  # noqa: E712
            & (Attendee.phone != ""))}
        below = (await tree.load_tree()).subtree(session["tenant"])
        assignments = {r["id"]: r["tenant"] for r in await Assignment.select(Assignment.id, Assignment.tenant).where(
            (Assignment.programme == session["programme"]))}
        people = [p for p in await Participant.select().where(
            Participant.assignment.is_in(list(assignments) or [0]) & (Participant.phone != ""))
            if assignments[p["assignment"]] in below and p["phone"] in present]
        minutes = max(30, int((event["ends_at"] - event["starts_at"]).total_seconds() // 60))
        day = event["starts_at"].astimezone(i18n.tz()).date()
        credited = 0
        touched: set[int] = set()
        for p in people:
            if await Completion.exists().where((Completion.participant == p["id"]) & (Completion.event == event_id)):
                continue
            await Completion(tenant=p["tenant"], assignment=p["assignment"], participant=p["id"], minutes=minutes,
                             day=day, result=Result.passed.value, event=event_id,
                             note=str(_("Checked in at “%(title)s”.", title=event["title"]))).save()
            credited += 1
            touched.add(p["assignment"])
        await TrainingSession.update({TrainingSession.credited_at: clock.now()}).where(
            TrainingSession.event == event_id)
    for assignment_id in touched:
        await refresh(assignment_id)
    return credited


async def credit_held_sessions() -> dict[str, int]:
    """Credit every held linked event not yet credited (a sweep, in case the hook was missed)."""
    with unscoped("training: held training events of every organisation"):
        pending = [r["event"] for r in await TrainingSession.select(TrainingSession.event).where(
            TrainingSession.credited_at.is_null() & (TrainingSession.event.status == EventStatus.completed.value))]
    credited = 0
    for event_id in pending:
        credited += await credit_attendance(event_id)
    return {"events": len(pending), "credited": credited}


async def on_event_held(event: dict[str, Any]) -> None:
    await credit_attendance(event["id"])


# A training event marked as held turns its attendance into completion (app.events calls this).
if on_event_held not in events.HELD_HOOKS:
    events.HELD_HOOKS.append(on_event_held)


# --- reminders ---------------------------------------------------------------------------


async def _admins(tenant_id: int) -> list[dict[str, Any]]:
    with unscoped("training: the administrators an assignment's reminder goes to"):
        return await Membership.select(
            Membership.user.id.as_alias("user_id"), Membership.user.email.as_alias("email"),
            Membership.user.locale.as_alias("locale"),
        ).where((Membership.tenant == tenant_id) & (Membership.role == Role.admin.value))


async def send_due_reminders(today: date | None = None) -> dict[str, int]:
    """Once per stage: SOON_DAYS before the due date, and once it has passed, to the
    assignee's administrators (in-app and email). Complete assignments get none."""
    today = today or clock.today()
    with unscoped("training: reminders look at every organisation's open assignments"):
        rows = await Assignment.select(
            *Assignment.all_columns(), Assignment.programme.title.as_alias("title"),
            Assignment.tenant.slug.as_alias("slug"),
        ).where(Assignment.completed_at.is_null() & (
            (Assignment.reminded_soon_at.is_null() & (Assignment.due_date <= today + timedelta(days=SOON_DAYS)))
            | (Assignment.reminded_overdue_at.is_null() & (Assignment.due_date < today))))
    progress = await progress_of([r["id"] for r in rows])
    written = 0
    for row in rows:
        if progress[row["id"]]["complete"]:
            continue
        stage = "overdue" if row["due_date"] < today else "due_soon"
        column = Assignment.reminded_overdue_at if stage == "overdue" else Assignment.reminded_soon_at
        if stage == "due_soon" and row["reminded_soon_at"] is not None:
            continue
        with tenant_scope(row["tenant"]):
            for person in await _admins(row["tenant"]):
                locale = person["locale"] or i18n.DEFAULT_LOCALE
                payload = {"assignment_id": row["id"], "title": row["title"], "due_at": row["due_date"].isoformat(),
                           "due": in_locale(locale, lambda: i18n.format_date(row["due_date"], "long")),
                           "done": progress[row["id"]]["done"], "required": progress[row["id"]]["required"],
                           "url": f"/manage/{row['slug']}/training/assignments/{row['id']}"}
                for channel in ("inapp", "email"):
                    await outbox.notify(row["tenant"], f"training_{stage}",
                                        f"training:{row['id']}:{stage}:{row['due_date'].isoformat()}:"
                                        f"{person['user_id']}:{channel}",
                                        channel=channel, email=person["email"], user_id=person["user_id"],
                                        payload=payload, locale=locale)
                    written += 1
            await Assignment.update({column: clock.now()}).where(Assignment.id == row["id"])
    return {"assignments": len(rows), "written": written}


def in_locale(locale: str, fn):
    token = i18n.set_locale(locale)
    try:
        return fn()
    finally:
        i18n.reset_locale(token)


async def _still_open(row: dict[str, Any]) -> bool:
    """A reminder applies while the assignment is not complete and its due date unchanged."""
    payload = outbox_payload(row)
    assignment = await Assignment.select(Assignment.completed_at, Assignment.due_date).where(
        Assignment.id == payload.get("assignment_id", 0)).first()
    return bool(assignment and assignment["completed_at"] is None
                and assignment["due_date"].isoformat() == payload.get("due_at"))


def outbox_payload(row: dict[str, Any]) -> dict[str, Any]:
    import json

    payload = row.get("payload") or {}
    return json.loads(payload) if isinstance(payload, str) else payload


outbox.register("training_due_soon", still_applies=_still_open, label=_l("Training due soon"))
outbox.register("training_overdue", still_applies=_still_open, label=_l("Training overdue"))


# --- a district center's subtree, read-only ----------------------------------------------


async def subtree_oversight(tenant_id: int) -> dict[str, Any]:
    """The organisations below a district center: their training, events, outreach and what
    they lack (the city's network-health checks). Never their feedback."""
    from app.city import health
    from app.outreach.tables import OutreachEntry

    below = (await tree.load_tree()).subtree(tenant_id) - {tenant_id}
    rows = [t for t in await tree.tenant_tree() if t["id"] in below and t["active"]]
    ids = [t["id"] for t in rows]
    problems = await health.problems_of(rows)
    since = clock.today() - timedelta(days=health.QUIET_DAYS)
    events: dict[int, int] = {}
    outreach: dict[int, int] = {}
    training: dict[int, dict[str, int]] = {}
    if ids:
        with unscoped("district oversight: figures of the organisations below it"):
            for e in await Event.select(Event.tenant).where(
                    Event.tenant.is_in(ids) & (Event.status.is_in([EventStatus.published.value,
                                                                    EventStatus.completed.value]))
                    & (Event.starts_at >= datetime.combine(since, datetime.min.time(), tzinfo=i18n.tz()))):
                events[e["tenant"]] = events.get(e["tenant"], 0) + 1
            for o in await OutreachEntry.select(OutreachEntry.tenant, OutreachEntry.quantity).where(
                    OutreachEntry.tenant.is_in(ids) & (OutreachEntry.day >= since)):
                outreach[o["tenant"]] = outreach.get(o["tenant"], 0) + (o["quantity"] or 0)
            assignments = await Assignment.select(Assignment.id, Assignment.tenant, Assignment.due_date).where(
                Assignment.tenant.is_in(ids))
        progress = await progress_of([a["id"] for a in assignments])
        for a in assignments:
            t = training.setdefault(a["tenant"], {"assigned": 0, "complete": 0, "overdue": 0})
            status = status_of(a, progress[a["id"]])
            t["assigned"] += 1
            t["complete"] += status == "complete"
            t["overdue"] += status == "overdue"
    base_depth = min((t["depth"] for t in rows), default=0)
    return {"rows": [{**t, "depth": t["depth"] - base_depth, "problems": problems.get(t["id"], []),
                      "events": events.get(t["id"], 0), "outreach": outreach.get(t["id"], 0),
                      "training": training.get(t["id"], {"assigned": 0, "complete": 0, "overdue": 0})}
                     for t in rows],
            "checks": health.CHECKS, "days": health.QUIET_DAYS, "kinds": KIND_LABELS}
