"""Training pages: programmes and materials, assigning and passing down, nominating and
recording completion, the assigner's overview and exports, guidance areas, and a district
center's read-only view of its subtree."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import File, Redirect

from app.audit.sentences import describe
from app.audit.service import client_ip, record
from app.city.console import city_center, city_scope
from app.core.forms import Form
from app.core.render import flash, render
from app.db import atomic
from app.events import service as events
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.i18n import ngettext
from app.training import files, service
from app.training.service import TrainingError
from tenants import tree
from tenants.guards import city_access, tenant_access
from tenants.members import tenant_members
from tenants.tables import KIND_LABELS

UPLOAD_LIMIT = files.MAX_BYTES + 256 * 1024

describe("training.programme_created", _l("%(who)s defined the training programme “%(target)s”."))
describe("training.programme_updated", _l("%(who)s changed the training programme “%(target)s”."))
describe("training.material_added", _l("%(who)s added the material “%(material)s” to the programme “%(target)s”."),
         lambda d, n: {"material": d.get("material", "")})
describe("training.assigned", _l("%(who)s assigned the training “%(target)s” to %(count)s organisations."),
         lambda d, n: {"count": d.get("count", 0)})
describe("training.passed_down", _l("%(who)s passed the training “%(target)s” down to %(count)s organisations."),
         lambda d, n: {"count": d.get("count", 0)})
describe("training.participant_added", _l("%(who)s nominated %(person)s for the training “%(target)s”."),
         lambda d, n: {"person": d.get("person", "")})
describe("training.completion_recorded", _l("%(who)s recorded %(hours)s hours of the training “%(target)s” for %(person)s."),
         lambda d, n: {"hours": d.get("hours", ""), "person": d.get("person", "")})
describe("training.session_linked", _l("%(who)s held the event “%(event)s” for the training “%(target)s”."),
         lambda d, n: {"event": d.get("event", "")})
describe("training.area_set", _l("%(who)s set the districts %(target)s guides: %(districts)s."),
         lambda d, n: {"districts": "、".join(d.get("districts", [])) or "—"})


def _tenant(request: Request) -> dict:
    return request.scope["state"]["tenant"]


def within_options(targets: list[dict]) -> list[tuple[str, str]]:
    """The organisations below whose subtree "every organisation of a kind" can be limited to."""
    return [(str(t["id"]), t["name"]) for t in targets if t["child_count"]]


def _assigner(request: Request) -> dict:
    """Only the city center and district centers define and assign training."""
    tenant = _tenant(request)
    if not service.can_assign(tenant):
        raise NotFoundException()
    return tenant


async def _audit(request: Request, action: str, target: str, detail: dict | None = None) -> None:
    await record(request.scope["user"], action, tenant_id=_tenant(request)["id"], target=target,
                 detail=detail or {}, ip=client_ip(request))


async def _upload(data: Any, name: str) -> tuple[str, bytes] | None:
    upload = data.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    return upload.filename, await upload.read(files.MAX_BYTES + 1)


# --- home ---------------------------------------------------------------------------------


@get("/manage/{slug:str}/training", opt=tenant_access("staff"), name="training_home")
async def training_home(request: Request, slug: FromPath[str]) -> Response:
    tenant = _tenant(request)
    return render(request, "training/home.html", {
        "received": await service.received(),
        "programmes": await service.own_programmes() if service.can_assign(tenant) else [],
        "can_assign": service.can_assign(tenant), "status_labels": service.STATUS_LABELS,
    })


# --- programmes -----------------------------------------------------------------------------


def _programme_form(request: Request, form: Form, programme: Any = None, status_code: int = 200) -> Response:
    return render(request, "training/programme_form.html", {"form": form, "programme": programme},
                  status_code=status_code)


@get("/manage/{slug:str}/training/programmes/new", opt=tenant_access("staff"), name="training_programme_new")
async def programme_new(request: Request, slug: FromPath[str]) -> Response:
    _assigner(request)
    return _programme_form(request, Form(values={"hours": "2"}))


@post("/manage/{slug:str}/training/programmes/new", opt=tenant_access("staff"), name="training_programme_create")
async def programme_create(request: Request, slug: FromPath[str]) -> Response:
    _assigner(request)
    form = Form.from_data(await request.form(), service.PROGRAMME_FIELDS)
    minutes = service.validate_programme(form)
    if not form.ok or minutes is None:
        return _programme_form(request, form, status_code=422)
    async with atomic():
        programme_id = await service.create_programme(form, minutes, request.scope["user"].id)
        await _audit(request, "training.programme_created", form["title"], {"programme_id": programme_id})
    flash(request, _("The programme “%(title)s” was saved. Add materials and assign it below.", title=form["title"]))
    return Redirect(path=f"/manage/{slug}/training/programmes/{programme_id}", status_code=303)


async def _programme_page(request: Request, programme_id: int, *, material: Form | None = None,
                          assign: Form | None = None, chosen: list[str] | None = None, link: Form | None = None,
                          status_code: int = 200) -> Response:
    tenant = _assigner(request)
    programme = await service.own_programme(programme_id)
    data = await service.overview(tenant["id"], programme_id=programme.id)
    return render(request, "training/programme.html", {
        "programme": await service.programme_for(tenant["id"], programme.id),
        "material": material or Form(), "assign": assign or Form(), "chosen": chosen or [],
        "link": link or Form(), "events": await service.linkable_events(),
        "targets": await service.assignable(tenant["id"]),
        "kind_options": [(k, KIND_LABELS[k]) for k in tree.KIND_ORDER
                         if tree.kind_rank(k) > tree.kind_rank(tenant["kind"])],
        "kinds": KIND_LABELS, "rows": data["rows"], "within_options": within_options, "status_labels": service.STATUS_LABELS,
        "accept": files.ACCEPT, "max_mb": files.MAX_BYTES // (1024 * 1024),
    }, status_code=status_code)


@get("/manage/{slug:str}/training/programmes/{programme_id:int}", opt=tenant_access("staff"),
     name="training_programme")
async def programme_page(request: Request, slug: FromPath[str], programme_id: FromPath[int]) -> Response:
    return await _programme_page(request, programme_id)


@get("/manage/{slug:str}/training/programmes/{programme_id:int}/edit", opt=tenant_access("staff"),
     name="training_programme_edit")
async def programme_edit(request: Request, slug: FromPath[str], programme_id: FromPath[int]) -> Response:
    _assigner(request)
    row = await service.own_programme(programme_id)
    form = Form(values={"title": row.title, "content": row.content, "audience": row.audience,
                        "hours": service.hours_text(row.required_minutes)})
    return _programme_form(request, form, row)


@post("/manage/{slug:str}/training/programmes/{programme_id:int}/edit", opt=tenant_access("staff"),
      name="training_programme_update")
async def programme_update(request: Request, slug: FromPath[str], programme_id: FromPath[int]) -> Response:
    _assigner(request)
    row = await service.own_programme(programme_id)
    form = Form.from_data(await request.form(), service.PROGRAMME_FIELDS)
    minutes = service.validate_programme(form)
    if not form.ok or minutes is None:
        return _programme_form(request, form, row, status_code=422)
    async with atomic():
        await service.update_programme(row.id, form, minutes)
        await _audit(request, "training.programme_updated", form["title"], {"programme_id": row.id})
    flash(request, _("Saved."))
    return Redirect(path=f"/manage/{slug}/training/programmes/{row.id}", status_code=303)


@post("/manage/{slug:str}/training/programmes/{programme_id:int}/materials", opt=tenant_access("staff"),
      name="training_material_add", request_max_body_size=UPLOAD_LIMIT)
async def material_add(request: Request, slug: FromPath[str], programme_id: FromPath[int]) -> Response:
    _assigner(request)
    row = await service.own_programme(programme_id)
    data = await request.form()
    form = Form.from_data(data, service.MATERIAL_FIELDS)
    upload = await _upload(data, "file")
    async with atomic():
        material_id = await service.add_material(row.id, form, upload)
        if material_id is not None:
            await _audit(request, "training.material_added", row.title,
                         {"programme_id": row.id, "material_id": material_id, "material": form["title"] or
                          (upload[0] if upload else form["url"])})
    if material_id is None:
        return await _programme_page(request, row.id, material=form, status_code=422)
    flash(request, _("The material was added."))
    return Redirect(path=f"/manage/{slug}/training/programmes/{row.id}#materials", status_code=303)


@get("/manage/{slug:str}/training/materials/{material_id:int}", opt=tenant_access("member"),
     name="training_material")
async def material_download(request: Request, slug: FromPath[str], material_id: FromPath[int]) -> Response:
    row = await service.material_for(_tenant(request)["id"], material_id)
    if row is None:
        raise NotFoundException()
    if row["url"]:
        return Redirect(path=row["url"], status_code=303)
    path = files.path_of(row["stored_name"])
    if path is None:
        raise NotFoundException()
    return File(path=path, filename=files.safe_download_name(row["file_name"]), media_type=row["content_type"],
                content_disposition_type="attachment",
                headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


@post("/manage/{slug:str}/training/programmes/{programme_id:int}/assign", opt=tenant_access("staff"),
      name="training_assign")
async def programme_assign(request: Request, slug: FromPath[str], programme_id: FromPath[int]) -> Response:
    _assigner(request)
    row = await service.own_programme(programme_id)
    data = await request.form()
    form = Form.from_data(data, service.ASSIGN_FIELDS)
    chosen = [str(v) for v in data.getall("tenants", [])] if hasattr(data, "getall") else []
    due, required = service.validate_assignment(form, chosen)
    if form.ok and due and required:
        try:
            async with atomic():
                done = await service.assign(row.id, chosen, form["kind"], due, required, request.scope["user"].id,
                                            within=form["within"])
                await _audit(request, "training.assigned", row.title,
                             {"programme_id": row.id, "count": len(done.created), "assignments": done.created})
        except TrainingError as exc:
            form.error(exc.field, exc.message)
        else:
            flash(request, _assigned_message(done))
            return Redirect(path=f"/manage/{slug}/training/programmes/{row.id}#assignments", status_code=303)
    return await _programme_page(request, row.id, assign=form, chosen=chosen, status_code=422)


def _assigned_message(done: service.Assigned) -> str:
    message = ngettext("Assigned to %(num)s organisation.", "Assigned to %(num)s organisations.", len(done.created))
    if done.skipped:
        message += " " + ngettext("%(num)s already had it.", "%(num)s already had it.", done.skipped)
    return message


@post("/manage/{slug:str}/training/programmes/{programme_id:int}/sessions", opt=tenant_access("staff"),
      name="training_session_link")
async def session_link(request: Request, slug: FromPath[str], programme_id: FromPath[int]) -> Response:
    tenant = _tenant(request)
    programme = await service.programme_for(tenant["id"], programme_id)
    if programme is None:
        raise NotFoundException()
    data = await request.form()
    back = str(data.get("next", ""))
    if not back.startswith(f"/manage/{slug}/training/"):
        back = f"/manage/{slug}/training"
    try:
        event_id = int(str(data.get("event", "")))
    except ValueError:
        event_id = 0
    try:
        async with atomic():
            await service.link_event(programme_id, event_id)
            event = await events.get_event(event_id)
            await _audit(request, "training.session_linked", programme["title"],
                         {"programme_id": programme_id, "event_id": event_id, "event": event["title"]})
    except TrainingError as exc:
        flash(request, exc.message, "error")
        return Redirect(path=back, status_code=303)
    flash(request, _("When the event is marked as held, everyone nominated who checked in gets its hours."))
    return Redirect(path=back, status_code=303)


# --- assignments ----------------------------------------------------------------------------


async def _assignment_page(request: Request, assignment_id: int, *, person: Form | None = None,
                           completion: Form | None = None, down: Form | None = None,
                           chosen: list[str] | None = None, status_code: int = 200) -> Response:
    tenant = _tenant(request)
    view = await service.assignment_view(tenant["id"], assignment_id)
    if view is None:
        raise NotFoundException()
    own = view["own"]
    return render(request, "training/assignment.html", {
        "a": view, "person": person or Form(), "completion": completion or Form(values={"result": "passed"}),
        "down": down or Form(values={"due_date": view["due_date"].isoformat(),
                                     "required_people": str(view["required_people"])}),
        "chosen": chosen or [],
        "member_options": [(str(m["user_id"]), m["name"]) for m in await service.members_choice()] if own else [],
        "person_options": [(str(p["id"]), p["name"]) for p in view["people"]],
        "targets": await service.assignable(tenant["id"]) if own and service.can_assign(tenant) else [],
        "kind_options": [(k, KIND_LABELS[k]) for k in tree.KIND_ORDER
                         if tree.kind_rank(k) > tree.kind_rank(tenant["kind"])],
        "events": await service.linkable_events() if own else [],
        "kinds": KIND_LABELS, "status_labels": service.STATUS_LABELS, "results": service.RESULT_LABELS,
        "within_options": within_options,
        "accept": files.ACCEPT, "max_mb": files.MAX_BYTES // (1024 * 1024),
        "can_pass_down": own and service.can_assign(tenant),
    }, status_code=status_code)


@get("/manage/{slug:str}/training/assignments/{assignment_id:int}", opt=tenant_access("staff"),
     name="training_assignment")
async def assignment_page(request: Request, slug: FromPath[str], assignment_id: FromPath[int]) -> Response:
    return await _assignment_page(request, assignment_id)


@post("/manage/{slug:str}/training/assignments/{assignment_id:int}/pass-down", opt=tenant_access("staff"),
      name="training_pass_down")
async def assignment_pass_down(request: Request, slug: FromPath[str], assignment_id: FromPath[int]) -> Response:
    _assigner(request)
    row = await service.own_assignment(assignment_id)
    data = await request.form()
    form = Form.from_data(data, service.ASSIGN_FIELDS)
    chosen = [str(v) for v in data.getall("tenants", [])] if hasattr(data, "getall") else []
    due, required = service.validate_assignment(form, chosen, latest_due=row.due_date)
    if form.ok and due and required:
        parent = {"id": row.id}
        try:
            async with atomic():
                done = await service.assign(row.programme, chosen, form["kind"], due, required,
                                            request.scope["user"].id, parent=parent, within=form["within"])
                title = (await service.programme_for(_tenant(request)["id"], row.programme))["title"]
                await _audit(request, "training.passed_down", title,
                             {"assignment_id": row.id, "count": len(done.created), "assignments": done.created})
        except TrainingError as exc:
            form.error(exc.field, exc.message)
        else:
            flash(request, _assigned_message(done))
            return Redirect(path=f"/manage/{slug}/training/assignments/{row.id}#passed-down", status_code=303)
    return await _assignment_page(request, row.id, down=form, chosen=chosen, status_code=422)


@post("/manage/{slug:str}/training/assignments/{assignment_id:int}/participants", opt=tenant_access("staff"),
      name="training_participant_add")
async def participant_add(request: Request, slug: FromPath[str], assignment_id: FromPath[int]) -> Response:
    row = await service.own_assignment(assignment_id)
    form = Form.from_data(await request.form(), service.PARTICIPANT_FIELDS)
    async with atomic():
        person_id = await service.add_participant(row.id, form)
        if person_id is not None:
            title = (await service.programme_for(_tenant(request)["id"], row.programme))["title"]
            await _audit(request, "training.participant_added", title,
                         {"assignment_id": row.id, "participant_id": person_id, "person": form["name"]})
    if person_id is None:
        return await _assignment_page(request, row.id, person=form, status_code=422)
    flash(request, _("%(name)s is nominated.", name=form["name"]))
    return Redirect(path=f"/manage/{slug}/training/assignments/{row.id}#people", status_code=303)


@post("/manage/{slug:str}/training/assignments/{assignment_id:int}/completions", opt=tenant_access("staff"),
      name="training_completion_add", request_max_body_size=UPLOAD_LIMIT)
async def completion_add(request: Request, slug: FromPath[str], assignment_id: FromPath[int]) -> Response:
    row = await service.own_assignment(assignment_id)
    data = await request.form()
    form = Form.from_data(data, service.COMPLETION_FIELDS)
    evidence = await _upload(data, "evidence")
    async with atomic():
        completion_id = await service.record_completion(row.id, form, evidence, request.scope["user"].id)
        if completion_id is not None:
            view = await service.assignment_view(_tenant(request)["id"], row.id)
            person = next(p["name"] for p in view["people"] if str(p["id"]) == form["participant"])
            await _audit(request, "training.completion_recorded", view["programme"]["title"],
                         {"assignment_id": row.id, "completion_id": completion_id, "person": person,
                          "hours": form["hours"]})
    if completion_id is None:
        return await _assignment_page(request, row.id, completion=form, status_code=422)
    flash(request, _("Completion recorded."))
    return Redirect(path=f"/manage/{slug}/training/assignments/{row.id}#people", status_code=303)


@get("/manage/{slug:str}/training/evidence/{completion_id:int}", opt=tenant_access("staff"),
     name="training_evidence")
async def evidence_download(request: Request, slug: FromPath[str], completion_id: FromPath[int]) -> Response:
    row = await service.evidence_for(_tenant(request)["id"], completion_id)
    path = files.path_of(row["evidence_stored"]) if row else None
    if path is None:
        raise NotFoundException()
    return File(path=path, filename=files.safe_download_name(row["evidence_name"]), media_type=row["evidence_type"],
                content_disposition_type="attachment",
                headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


# --- overview and exports -------------------------------------------------------------------


async def _overview_data(request: Request, programme: str, area: str) -> tuple[dict, list[str], list[str]]:
    tenant = _assigner(request)
    mine: list[str] = []
    if tenant["kind"] == "city_center":
        with city_scope(request):
            mine = await service.area_of(request.scope["user"].id)
    chosen = mine if area == "mine" and mine else None
    programme_id = int(programme) if programme.isdigit() else None
    data = await service.overview(tenant["id"], programme_id=programme_id, area=chosen)
    if mine and not chosen:
        # A city staff member's own districts come first (包片).
        data["districts"].sort(key=lambda d: d["district"] not in mine)
    return data, mine, (await service.own_programmes())


@get("/manage/{slug:str}/training/overview", opt=tenant_access("staff"), name="training_overview")
async def overview_page(request: Request, slug: FromPath[str], programme: FromQuery[str] = "",
                        area: FromQuery[str] = "") -> Response:
    data, mine, programmes = await _overview_data(request, programme, area)
    return render(request, "training/overview.html", {
        **data, "mine": mine, "area": area if mine else "", "programme": programme, "programmes": programmes,
        "kinds": KIND_LABELS, "status_labels": service.STATUS_LABELS,
        "query": "&".join(p for p in (f"programme={programme}" if programme.isdigit() else "",
                                       "area=mine" if area == "mine" and mine else "") if p),
    })


@get("/manage/{slug:str}/training/overview.csv", opt=tenant_access("staff"), name="training_overview_csv")
async def overview_csv(request: Request, slug: FromPath[str], programme: FromQuery[str] = "",
                       area: FromQuery[str] = "") -> Response:
    data, _mine, _p = await _overview_data(request, programme, area)
    return Response(content=service.to_csv(data), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="training.csv"'})


@get("/manage/{slug:str}/training/overview.xlsx", opt=tenant_access("staff"), name="training_overview_xlsx")
async def overview_xlsx(request: Request, slug: FromPath[str], programme: FromQuery[str] = "",
                        area: FromQuery[str] = "") -> Response:
    data, _mine, _p = await _overview_data(request, programme, area)
    return Response(content=service.to_xlsx(data),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="training.xlsx"'})


# --- a district center's subtree ------------------------------------------------------------


@get("/manage/{slug:str}/subtree", opt=tenant_access("staff"), name="training_subtree")
async def subtree_page(request: Request, slug: FromPath[str]) -> Response:
    tenant = _tenant(request)
    if tenant["kind"] != "district_center":
        raise NotFoundException()
    return render(request, "training/subtree.html", await service.subtree_oversight(tenant["id"]))


# --- the city console: training and guidance areas ------------------------------------------


@get("/city/training", opt=city_access("staff"), name="city_training")
async def city_training(request: Request) -> Response:
    return Redirect(path=f"/manage/{city_center(request).slug}/training/overview", status_code=303)


async def _areas_page(request: Request, status_code: int = 200) -> Response:
    with city_scope(request):
        staff = await tenant_members()
        areas = await service.areas()
    return render(request, "training/areas.html", {
        "staff": [{**s, "districts": areas.get(s["user_id"], [])} for s in staff],
        "districts": await tree.districts(), "me": request.scope["user"].id,
        "is_admin": request.scope["user"].city_membership.role == "admin",
    }, status_code=status_code)


@get("/city/training/areas", opt=city_access("staff"), name="city_training_areas")
async def city_training_areas(request: Request) -> Response:
    return await _areas_page(request)


@post("/city/training/areas", opt=city_access("admin"), name="city_training_area_set")
async def city_training_area_set(request: Request) -> Response:
    data = await request.form()
    try:
        user_id = int(str(data.get("user", "")))
    except ValueError:
        return await _areas_page(request, status_code=422)
    chosen = [str(v) for v in data.getall("districts", [])] if hasattr(data, "getall") else []
    city = city_center(request)
    async with atomic():
        with city_scope(request):
            kept = await service.set_area(user_id, chosen, await tree.districts())
            person = next((s["name"] for s in await tenant_members() if s["user_id"] == user_id), "")
        await record(request.scope["user"], "training.area_set", tenant_id=city.id, target=person,
                     detail={"user_id": user_id, "districts": kept}, ip=client_ip(request))
    flash(request, _("Saved."))
    return Redirect(path="/city/training/areas", status_code=303)


ROUTES = [training_home, programme_new, programme_create, programme_page, programme_edit, programme_update,
          material_add, material_download, programme_assign, session_link, assignment_page, assignment_pass_down,
          participant_add, completion_add, evidence_download, overview_page, overview_csv, overview_xlsx,
          subtree_page, city_training, city_training_areas, city_training_area_set]

