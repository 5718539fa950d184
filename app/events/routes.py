"""Events: staff pages, the public listing and calendar, registration and its private manage
link, union group registration, check-in, iCalendar feeds, the city's attendance figures."""

from __future__ import annotations

import functools

from datetime import timedelta
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from app import i18n
from app.audit.sentences import describe
from app.audit.service import client_ip, record
from app.core import ratelimit
from app.core.forms import Form
from app.core.pagecache import serve_cached
from app.core.render import flash, render
from app.db import atomic
from app.events import calendar, clock, schemas, service, sheets
from app.events.schemas import EventError, EventMissing
from app.events.tables import Attendee, Event, EventKind, Registration
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.i18n import ngettext
from app.outreach.routes import public_base
from app.settings import get_settings
from tenants.guards import PUBLIC, city_access, tenant_access
from tenants.scope import get_in_scope, unscoped
from tenants.tree import districts

# --- helpers ------------------------------------------------------------------------------


def _tenant(request: Request) -> dict:
    return request.scope["state"]["tenant"]


def _public_tenant(request: Request) -> dict:
    tenant = request.scope["state"].get("tenant")
    if tenant is None or not tenant["active"]:
        raise NotFoundException()
    return tenant


def _is_staff(request: Request, tenant: dict) -> bool:
    user = request.scope.get("user")
    return user is not None and user.role_in(tenant["id"]) in ("staff", "admin")


# What the audit log says about events work (app.audit.sentences): %(target)s is the event's
# title, or the person's name for a registration or an attendee.
describe("event.created", _l("%(who)s created the event “%(target)s”."))
describe("event.updated", _l("%(who)s edited the event “%(target)s”."))
describe("event.publish", _l("%(who)s published the event “%(target)s”."))
describe("event.complete", _l("%(who)s marked the event “%(target)s” as held."))
describe("event.cancel", _l("%(who)s cancelled the event “%(target)s”."))
describe("event.seats_reserved", _l("%(who)s reserved %(seats)s seats of “%(target)s” for %(org)s."),
         lambda d, n: {"seats": d.get("seats") or 0, "org": n.tenant(d.get("tenant_id") or d.get("union_id"))})
describe("registration.cancelled", _l("%(who)s cancelled the registration of %(target)s."))
describe("attendee.checked_in", _l("%(who)s checked in %(target)s."))
describe("attendee.check_in_undone", _l("%(who)s undid the check-in of %(target)s."))
describe("attendee.walk_in", _l("%(who)s added %(target)s as a walk-in."))
describe("group.registered", _l("%(who)s registered a group of %(seats)s for “%(target)s”."),
         lambda d, n: {"seats": d.get("seats") or 0})
describe("group.substituted", _l("%(who)s gave a group seat of “%(target)s” to someone else."))
describe("group.cancelled", _l("%(who)s cancelled a group's registration for “%(target)s”."))


async def _audit(request: Request, action: str, target: str, detail: dict | None = None) -> None:
    await record(request.scope["user"], action, tenant_id=_tenant(request)["id"], target=target,
                 detail=detail or {}, ip=client_ip(request))


def _labels() -> dict[str, Any]:
    return {
        "kinds": schemas.labels(schemas.KIND_LABELS),
        "topics": schemas.labels(schemas.TOPIC_LABELS),
        "audiences": schemas.labels(schemas.AUDIENCE_LABELS),
        "statuses": schemas.labels(schemas.STATUS_LABELS),
        "reg_statuses": schemas.labels(schemas.REGISTRATION_STATUS_LABELS),
    }


async def _staff_event(event_id: int) -> dict:
    row = await get_in_scope(Event, event_id)
    return row.to_dict()


# --- staff: events --------------------------------------------------------------------------


def _last_year() -> tuple:
    now = clock.now()
    return now - timedelta(days=365), now


@get("/manage/{slug:str}/events", opt=tenant_access("staff"), name="events_staff_list")
async def staff_list(request: Request, slug: FromPath[str]) -> Response:
    start, end = _last_year()
    return render(request, "events/staff_list.html", {
        **await service.staff_events(), "figures": await service.tenant_attendance(start, end), **_labels(),
    })


async def _form_page(request: Request, form: Form, event: dict | None = None, status_code: int = 200) -> Response:
    return render(request, "events/staff_form.html", {"form": form, "event": event, **_labels(),
                                                       "selected_topics": schemas.form_topics(form)},
                  status_code=status_code)


@get("/manage/{slug:str}/events/new", opt=tenant_access("staff"), name="events_new")
async def event_new(request: Request, slug: FromPath[str]) -> Response:
    form = schemas.event_form(initial={"kind": "seminar", "audience": "everyone"})
    return await _form_page(request, form)


@post("/manage/{slug:str}/events/new", opt=tenant_access("staff"), name="events_create")
async def event_create(request: Request, slug: FromPath[str]) -> Response:
    form = schemas.event_form(await request.form())
    values = schemas.validate_event(form, clock.now())
    if values is None:
        return await _form_page(request, form, status_code=422)
    async with atomic():
        event_id = await service.create_event(values, request.scope["user"].id)
        await _audit(request, "event.created", values.title, {"event_id": event_id, "kind": values.kind})
    flash(request, _("“%(title)s” was saved as a draft. Publish it when it is ready.", title=values.title))
    return Redirect(path=f"/manage/{slug}/events/{event_id}", status_code=303)


async def _detail_page(request: Request, event: dict, reserve_form: Form | None = None, status_code: int = 200,
                       error: str = "") -> Response:
    from app.training.service import event_programme  # training builds on events, not the reverse

    regs = await service.event_registrations(event["id"])
    programme = await event_programme(event["id"]) if event["kind"] == EventKind.training.value else None
    return render(request, "events/staff_detail.html", {
        "event": service.describe(event), "regs": regs, "figures": service.event_figures(event, regs),
        "programme": programme,
        "unions": await service.union_choices(), "reserve_form": reserve_form or Form(), "error": error,
        **_labels(),
    }, status_code=status_code)


@get("/manage/{slug:str}/events/{event_id:int}", opt=tenant_access("staff"), name="events_staff_detail")
async def staff_detail(request: Request, slug: FromPath[str], event_id: FromPath[int]) -> Response:
    return await _detail_page(request, await _staff_event(event_id))


@get("/manage/{slug:str}/events/{event_id:int}/edit", opt=tenant_access("staff"), name="events_edit")
async def event_edit(request: Request, slug: FromPath[str], event_id: FromPath[int]) -> Response:
    event = await _staff_event(event_id)
    return await _form_page(request, schemas.event_form(initial=event), event)


@post("/manage/{slug:str}/events/{event_id:int}/edit", opt=tenant_access("staff"), name="events_update")
async def event_update(request: Request, slug: FromPath[str], event_id: FromPath[int]) -> Response:
    event = await _staff_event(event_id)
    form = schemas.event_form(await request.form())
    values = schemas.validate_event(form, clock.now(), event)
    if values is None:
        return await _form_page(request, form, event, status_code=422)
    try:
        async with atomic():
            changes = await service.update_event(event_id, values)
            if changes:
                await _audit(request, "event.updated", values.title, {"event_id": event_id, "changes": changes})
    except EventError as exc:
        form.error(exc.field if exc.field in schemas.EVENT_FIELDS else "title", exc.message)
        return await _form_page(request, form, event, status_code=422)
    moved = event["status"] == "published" and ("starts_at" in changes or "ends_at" in changes)
    flash(request, _("Saved. Everyone registered is told the new time.") if moved else _("Saved."))
    return Redirect(path=f"/manage/{slug}/events/{event_id}", status_code=303)


async def _status_change(request: Request, slug: str, event_id: int, action: str) -> Response:
    event = await _staff_event(event_id)
    try:
        async with atomic():
            if action == "publish":
                await service.publish_event(event_id)
                message = _("“%(title)s” is published.", title=event["title"])
            elif action == "complete":
                await service.complete_event(event_id)
                message = _("“%(title)s” is marked as held.", title=event["title"])
            else:
                told = await service.cancel_event(event_id)
                message = ngettext("“%(title)s” is cancelled; %(num)s registration is told.",
                                   "“%(title)s” is cancelled; %(num)s registrations are told.", told,
                                   title=event["title"])
            await _audit(request, f"event.{action}", event["title"], {"event_id": event_id})
    except EventError as exc:
        return await _detail_page(request, event, status_code=422, error=exc.message)
    flash(request, message)
    return Redirect(path=f"/manage/{slug}/events/{event_id}", status_code=303)


@post("/manage/{slug:str}/events/{event_id:int}/publish", opt=tenant_access("staff"), name="events_publish")
async def event_publish(request: Request, slug: FromPath[str], event_id: FromPath[int]) -> Response:
    return await _status_change(request, slug, event_id, "publish")


@post("/manage/{slug:str}/events/{event_id:int}/complete", opt=tenant_access("staff"), name="events_complete")
async def event_complete(request: Request, slug: FromPath[str], event_id: FromPath[int]) -> Response:
    return await _status_change(request, slug, event_id, "complete")


@post("/manage/{slug:str}/events/{event_id:int}/cancel", opt=tenant_access("staff"), name="events_cancel")
async def event_cancel(request: Request, slug: FromPath[str], event_id: FromPath[int]) -> Response:
    return await _status_change(request, slug, event_id, "cancel")


@post("/manage/{slug:str}/events/{event_id:int}/reserve", opt=tenant_access("staff"), name="events_reserve")
async def event_reserve(request: Request, slug: FromPath[str], event_id: FromPath[int]) -> Response:
    event = await _staff_event(event_id)
    form = Form.from_data(await request.form(), ["union", "seats"])
    form.required("union", "seats")
    seats = schemas.whole_number(form["seats"], 1, schemas.MAX_GROUP) if form["seats"] else None
    if form["seats"] and seats is None:
        form.error("seats", _("Enter a whole number from 1 to %(max)s.", max=schemas.MAX_GROUP))
    if not form["union"].isdigit():
        form.error("union", _("Choose a trade union."))
    if form.ok:
        try:
            async with atomic():
                reserved = await service.reserve_for_union(event_id, int(form["union"]), seats, request.scope["user"].id)
                await _audit(request, "event.seats_reserved", event["title"],
                             {"event_id": event_id, "union_id": int(form["union"]), "tenant_id": int(form["union"]), "seats": seats,
                              "registration_id": reserved.id})
        except EventError as exc:
            form.error(exc.field if exc.field in ("union", "seats") else "seats", exc.message)
        else:
            flash(request, ngettext("%(num)s seat is reserved for the union.", "%(num)s seats are reserved for the union.",
                                    seats))
            return Redirect(path=f"/manage/{slug}/events/{event_id}", status_code=303)
    return await _detail_page(request, event, reserve_form=form, status_code=422)


@post("/manage/{slug:str}/registrations/{registration_id:int}/cancel", opt=tenant_access("staff"),
      name="events_registration_cancel")
async def staff_cancel_registration(request: Request, slug: FromPath[str], registration_id: FromPath[int]) -> Response:
    reg = await get_in_scope(Registration, registration_id)
    try:
        async with atomic():
            promoted = await service.cancel_registration(reg.id)
            await _audit(request, "registration.cancelled", reg.name,
                         {"registration_id": reg.id, "event_id": reg.event, "promoted": promoted})
    except EventError as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, ngettext("The registration is cancelled; %(num)s from the waitlist got the seat.",
                                "The registration is cancelled; %(num)s from the waitlist got seats.", len(promoted))
              if promoted else _("The registration is cancelled."))
    return Redirect(path=f"/manage/{slug}/events/{reg.event}", status_code=303)


# --- staff: check-in ---------------------------------------------------------------------------


async def _checkin_page(request: Request, event: dict, q: str = "", walk_in: Form | None = None,
                        status_code: int = 200, block: str | None = "checkin_results") -> Response:
    people = await service.checkin_list(event["id"], q)
    regs = await service.event_registrations(event["id"])
    back = f"/manage/{_tenant(request)['slug']}/events/{event['id']}/checkin" + (f"?q={quote(q)}" if q else "")
    return render(request, "events/checkin.html", {
        "event": service.describe(event), "people": people, "q": q, "figures": service.event_figures(event, regs),
        "walk_in": walk_in or Form(), "searched": bool(q.strip()), "back_url": back,
    }, block=block, status_code=status_code)


@get("/manage/{slug:str}/events/{event_id:int}/checkin", opt=tenant_access("staff"), name="events_checkin")
async def checkin(request: Request, slug: FromPath[str], event_id: FromPath[int], q: FromQuery[str] = "") -> Response:
    return await _checkin_page(request, await _staff_event(event_id), q.strip()[:50])


@post("/manage/{slug:str}/attendees/{attendee_id:int}/present", opt=tenant_access("staff"),
      name="events_attendee_present")
async def attendee_present(request: Request, slug: FromPath[str], attendee_id: FromPath[int]) -> Response:
    attendee = await get_in_scope(Attendee, attendee_id)
    data = await request.form()
    present = data.get("present") == "1"
    back = str(data.get("back") or "")
    if not back.startswith(f"/manage/{slug}/"):
        back = f"/manage/{slug}/events/{attendee.event}/checkin"
    try:
        async with atomic():
            person = await service.set_present(attendee.id, present, request.scope["user"].id)
            await _audit(request, "attendee.checked_in" if present else "attendee.check_in_undone",
                         attendee.name or str(attendee.id), {"attendee_id": attendee.id, "event_id": attendee.event})
    except EventError as exc:
        if request.headers.get("hx-request") == "true":
            person = await service.checkin_person(attendee.id)
            return render(request, "events/checkin.html", {"p": {**person, "error": exc.message}, "back_url": back},
                          block="attendee_row", status_code=422)
        flash(request, exc.message, "error")
        return Redirect(path=back, status_code=303)
    if request.headers.get("hx-request") == "true":
        event = await _staff_event(attendee.event)
        regs = await service.event_registrations(attendee.event)
        return render(request, "events/checkin.html", {
            "p": person, "oob": True,
            "back_url": back,
            "figures": service.event_figures(event, regs), "event": service.describe(event),
        }, block="attendee_row")
    name = person["name"] or _("Seat %(num)s", num=person["position"])
    flash(request, _("%(name)s is checked in.", name=name) if present else _("%(name)s is no longer checked in.", name=name))
    return Redirect(path=back, status_code=303)


@post("/manage/{slug:str}/events/{event_id:int}/walkins", opt=tenant_access("staff"), name="events_walk_in")
async def walk_in(request: Request, slug: FromPath[str], event_id: FromPath[int]) -> Response:
    event = await _staff_event(event_id)
    form = Form.from_data(await request.form(), ["name", "phone"])
    form.required("name")
    form.max_length("name", 100)
    if form["phone"]:
        mobile = schemas.normalize_mobile(form["phone"])
        if mobile is None:
            form.error("phone", _("Enter a Chinese mobile number: 11 digits starting with 1, e.g. 13812345678."))
        else:
            form.values["phone"] = mobile
    if form.ok:
        try:
            async with atomic():
                attendee_id = await service.add_walk_in(event_id, form["name"], form["phone"], request.scope["user"].id)
                await _audit(request, "attendee.walk_in", form["name"], {"attendee_id": attendee_id, "event_id": event_id})
        except EventError as exc:
            form.error(exc.field, exc.message)
        else:
            flash(request, _("%(name)s is added and checked in.", name=form["name"]))
            return Redirect(path=f"/manage/{slug}/events/{event_id}/checkin", status_code=303)
    return await _checkin_page(request, event, walk_in=form, status_code=422, block=None)


@get("/manage/{slug:str}/checkin/{checkin_code:str}", opt=tenant_access("staff"), name="events_scan")
async def scan(request: Request, slug: FromPath[str], checkin_code: FromPath[str]) -> Response:
    """Where the QR code of a confirmation leads: the staff member's phone camera opens it."""
    reg = await service.registration_for_scan(checkin_code)
    if reg is None:
        raise NotFoundException()
    event = await _staff_event(reg["event"])
    return render(request, "events/scan.html", {"reg": reg, "event": service.describe(event), **_labels()})


# --- public: listing, calendar, detail ------------------------------------------------------------


def _filters(kind: str, topic: str, district: str, month: str, view: str) -> dict[str, str]:
    return {
        "kind": kind if kind in schemas.KIND_LABELS else "",
        "topic": topic if topic in schemas.TOPIC_LABELS else "",
        "district": district.strip()[:100],
        "month": month if service.month_range(month) else "",
        "view": "month" if view == "month" else "list",
    }


async def _listing(request: Request, org: dict | None, filters: dict[str, str]) -> Response:
    month = filters["month"] or (service.this_month() if filters["view"] == "month" else "")
    events = await service.public_events(city_wide=org is None, kind=filters["kind"], topic=filters["topic"],
                                         district=filters["district"], month=month)
    current = service.this_month()
    months = [service.shift_month(current, d) for d in range(-3, 12)]
    base = f"/o/{org['slug']}/events" if org else "/events"
    return render(request, "events/listing.html", {
        "org": org, "events": events, "days": service.group_by_day(events), "filters": filters, "month": month,
        "grid": service.month_grid(month, events) if filters["view"] == "month" else [],
        "months": months, "month_labels": {m: _month_label(m) for m in {*months, month} if m},
        "prev_month": service.shift_month(month or current, -1), "next_month": service.shift_month(month or current, 1),
        "districts": await districts() if org is None else [], "base": base, **_labels(),
    }, block="event_results")


def _month_label(month: str) -> str:
    return _month_label_in(month, i18n.get_locale())


@functools.lru_cache(maxsize=512)
def _month_label_in(month: str, locale: str) -> str:
    from babel.dates import format_skeleton
    from datetime import date

    return format_skeleton("yMMMM", date.fromisoformat(month + "-01"), locale=i18n._babel_locale(locale))


@get("/events", opt={"access": PUBLIC}, name="events_city_calendar")
async def city_calendar(request: Request, kind: FromQuery[str] = "", topic: FromQuery[str] = "",
                        district: FromQuery[str] = "", month: FromQuery[str] = "", view: FromQuery[str] = "") -> Response:
    filters = _filters(kind, topic, district, month, view)

    async def page() -> Response:
        return await _listing(request, None, filters)

    return await serve_cached(request, page)


@get("/o/{slug:str}/events", opt={"access": PUBLIC}, name="events_tenant_listing")
async def tenant_listing(request: Request, slug: FromPath[str], kind: FromQuery[str] = "", topic: FromQuery[str] = "",
                         month: FromQuery[str] = "", view: FromQuery[str] = "") -> Response:
    org = _public_tenant(request)
    filters = _filters(kind, topic, "", month, view)

    async def page() -> Response:
        return await _listing(request, org, filters)

    return await serve_cached(request, page)


async def _event_page(request: Request, org: dict, event_id: int, form: Form | None = None, error: str = "",
                      status_code: int = 200) -> Response:
    event = await service.public_event(event_id, staff=_is_staff(request, org))
    if event is None:
        raise NotFoundException()
    return render(request, "events/detail.html", {
        "org": org, "event": event, "form": form or Form(), "error": error,
        "audience": str(schemas.AUDIENCE_LABELS.get(event["audience"], "")), **_labels(),
    }, status_code=status_code)


@get("/o/{slug:str}/events/{event_id:int}", opt={"access": PUBLIC}, name="events_public_detail")
async def public_detail(request: Request, slug: FromPath[str], event_id: FromPath[int]) -> Response:
    # Not from the page cache: it shows the seats left, which every registration changes.
    return await _event_page(request, _public_tenant(request), event_id)


async def _registration_allowed(request: Request) -> ratelimit.Limit:
    settings = get_settings()
    try:
        return await ratelimit.consume(f"register:{client_ip(request)}", settings.event_registrations_per_address,
                                       REGISTRATION_WINDOW)
    except Exception:  # noqa: BLE001 - without Redis nobody is turned away
        return ratelimit.Limit(allowed=True, retry_after=0)


REGISTRATION_WINDOW = 600


@post("/o/{slug:str}/events/{event_id:int}/register", opt={"access": PUBLIC}, name="events_register")
async def register(request: Request, slug: FromPath[str], event_id: FromPath[int]) -> Response:
    org = _public_tenant(request)
    form = Form.from_data(await request.form(), schemas.REGISTER_FIELDS)
    schemas.validate_registration(form)
    if not form.ok:
        return await _event_page(request, org, event_id, form, status_code=422)
    limit = await _registration_allowed(request)
    if not limit.allowed:
        minutes = max(limit.retry_after // 60, 1)
        return await _event_page(request, org, event_id, form, status_code=429, error=ngettext(
            "Too many registrations from this connection. Please try again in %(num)s minute.",
            "Too many registrations from this connection. Please try again in %(num)s minutes.", minutes))
    try:
        result = await service.register_individual(event_id, form["name"], form["phone"], form["email"],
                                                   form["employer"], locale=i18n.get_locale())
    except EventMissing:
        raise NotFoundException() from None
    except EventError as exc:
        if exc.field in form.values:
            form.error(exc.field, exc.message)
            return await _event_page(request, org, event_id, form, status_code=422)
        return await _event_page(request, org, event_id, form, status_code=422, error=exc.message)
    return Redirect(path=f"{service.manage_path(slug, result.token)}?new=1", status_code=303)


@get("/o/{slug:str}/events/{event_id:int}/event.ics", opt={"access": PUBLIC}, name="events_ics")
async def event_ics(request: Request, slug: FromPath[str], event_id: FromPath[int]) -> Response:
    org = _public_tenant(request)
    row = await service.feed_event(event_id)
    if row is None:
        raise NotFoundException()
    body = calendar.build_calendar([row], public_base(request), org["name"])
    return Response(content=body, media_type="text/calendar; charset=utf-8",
                    headers=calendar.feed_headers(f"event-{event_id}.ics"))


@get("/o/{slug:str}/events.ics", opt={"access": PUBLIC}, name="events_tenant_feed")
async def tenant_feed(request: Request, slug: FromPath[str]) -> Response:
    org = _public_tenant(request)
    body = calendar.build_calendar(await service.feed_events(city_wide=False), public_base(request), org["name"])
    return Response(content=body, media_type="text/calendar; charset=utf-8",
                    headers=calendar.feed_headers(f"{slug}-events.ics"))


@get("/events.ics", opt={"access": PUBLIC}, name="events_city_feed")
async def city_feed(request: Request) -> Response:
    body = calendar.build_calendar(await service.feed_events(city_wide=True), public_base(request),
                                   _("Labour dispute mediation events of the city"))
    return Response(content=body, media_type="text/calendar; charset=utf-8",
                    headers=calendar.feed_headers("city-events.ics"))


# --- public: the registrant's private page ---------------------------------------------------------


async def _registration(token: str) -> dict:
    found = await service.registration_by_token(token)
    if found is None:
        raise NotFoundException()
    return found


@get("/o/{slug:str}/registrations/{registration_token:str}", opt={"access": PUBLIC}, name="events_registration")
async def registration_page(request: Request, slug: FromPath[str], registration_token: FromPath[str],
                            new: FromQuery[str] = "") -> Response:
    token = registration_token
    org = _public_tenant(request)
    found = await _registration(token)
    reg, event = found["registration"], found["event"]
    base = public_base(request)
    scan_url = f"{base}/manage/{slug}/checkin/{reg['checkin_code']}"
    qr = None
    if reg["status"] != "cancelled" and not event["is_past"] and event["status"] == "published":
        from app.outreach.service import qr_svg

        qr = qr_svg(scan_url, _("Check-in QR code for %(name)s", name=reg["name"]))
    return render(request, "events/registration.html", {
        "org": org, "reg": reg, "event": event, "qr": qr, "new": new == "1", "token": token, **_labels(),
    }, headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex"})


@post("/o/{slug:str}/registrations/{registration_token:str}/cancel", opt={"access": PUBLIC},
      name="events_registration_cancel_own")
async def registration_cancel(request: Request, slug: FromPath[str], registration_token: FromPath[str]) -> Response:
    token = registration_token
    org = _public_tenant(request)
    found = await _registration(token)
    reg = found["registration"]
    try:
        await service.cancel_registration(reg["id"])
    except EventError as exc:
        return render(request, "events/registration.html", {
            "org": org, "reg": reg, "event": found["event"], "qr": None, "new": False, "token": token,
            "error": exc.message, **_labels(),
        }, status_code=422, headers={"Cache-Control": "no-store"})
    return Redirect(path=service.manage_path(slug, token), status_code=303)


# --- unions: group registration ---------------------------------------------------------------------


def _rep(request: Request) -> dict:
    user = request.scope["user"]
    return {"id": user.id, "name": user.name, "email": user.email}


@get("/manage/{slug:str}/groups", opt=tenant_access("union_rep"), name="events_groups")
async def groups(request: Request, slug: FromPath[str]) -> Response:
    tenant = _tenant(request)
    is_union = tenant["kind"] == "union"
    return render(request, "events/groups.html", {
        "is_union": is_union, "groups": await service.union_groups(tenant["id"]) if is_union else [],
        "open_events": await service.open_group_events(tenant["id"]) if is_union else [], **_labels(),
    })


GROUP_FIELDS = ["event", "headcount", "names"]


async def _group_form_page(request: Request, form: Form, line_errors: list[str] | None = None,
                           status_code: int = 200) -> Response:
    tenant = _tenant(request)
    is_union = tenant["kind"] == "union"
    return render(request, "events/group_form.html", {
        "form": form, "line_errors": line_errors or [], "is_union": is_union,
        "open_events": await service.open_group_events(tenant["id"]) if is_union else [],
        "max_kb": sheets.MAX_UPLOAD_BYTES // 1024, "max_group": schemas.MAX_GROUP, **_labels(),
    }, status_code=status_code)


@get("/manage/{slug:str}/groups/new", opt=tenant_access("union_rep"), name="events_group_new")
async def group_new(request: Request, slug: FromPath[str], event: FromQuery[str] = "") -> Response:
    return await _group_form_page(request, Form(values={"event": event if event.isdigit() else ""}))


async def _read_upload(upload: Any) -> tuple[str, bytes] | None:
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    content = await upload.read(sheets.MAX_UPLOAD_BYTES + 1)
    return upload.filename, content


@post("/manage/{slug:str}/groups/new", opt=tenant_access("union_rep"), name="events_group_create")
async def group_create(request: Request, slug: FromPath[str]) -> Response:
    tenant = _tenant(request)
    data = await request.form()
    form = Form.from_data(data, GROUP_FIELDS)
    upload = await _read_upload(data.get("sheet"))
    form.required("event", "headcount")
    headcount = schemas.whole_number(form["headcount"], 1, schemas.MAX_GROUP) if form["headcount"] else None
    if form["headcount"] and headcount is None:
        form.error("headcount", _("Enter a whole number from 1 to %(max)s.", max=schemas.MAX_GROUP))
    line_errors: list[str] = []
    people: list[tuple[str, str]] = []
    if upload and form["names"]:
        form.error("sheet", _("Type the names or upload a sheet, not both."))
    elif upload:
        parsed = sheets.parse_upload(*upload)
        line_errors = parsed.errors
        people = [(p.name, p.phone) for p in parsed.people]
        if line_errors:
            form.error("sheet", _("The sheet has errors; nothing was saved. Correct them and upload it again."))
    elif form["names"]:
        parsed = sheets.parse_typed(form["names"])
        line_errors = parsed.errors
        people = [(p.name, p.phone) for p in parsed.people]
        if line_errors:
            form.error("names", _("Some lines have errors; nothing was saved."))
    else:
        form.error("names", _("Type the attendees' names or upload a sheet."))
    if form.ok and headcount is not None and len(people) != headcount:
        form.error("names", _("You gave %(names)s names for a group of %(num)s.", names=len(people), num=headcount))
    if form.ok:
        try:
            result = await service.register_group(tenant, int(form["event"]), headcount, people, _rep(request),
                                                  locale=i18n.get_locale())
        except EventError as exc:
            field = exc.field if exc.field in ("event", "headcount", "names") else "names"
            form.error(field, exc.message)
        else:
            with unscoped("the audit log names the published event a union registered for"):
                title = await Event.select(Event.title).where(Event.id == int(form["event"])).first()
            await _audit(request, "group.registered", title["title"] if title else str(form["event"]),
                         {"registration_id": result.id, "event_id": int(form["event"]), "seats": headcount,
                          "status": result.status})
            flash(request, _("The group is registered: all %(num)s have seats.", num=headcount)
                  if result.status == "confirmed" else
                  _("The event is full: the group of %(num)s waits whole, number %(position)s on the waitlist.",
                    num=headcount, position=result.position))
            return Redirect(path=f"/manage/{slug}/groups/{result.id}", status_code=303)
    return await _group_form_page(request, form, line_errors, status_code=422)


async def _group(request: Request, group_id: int) -> dict:
    found = await service.union_group(_tenant(request)["id"], group_id)
    if found is None:
        raise NotFoundException()
    return found


async def _group_page(request: Request, found: dict, form: Form | None = None, status_code: int = 200) -> Response:
    return render(request, "events/group_detail.html", {
        "group": found["registration"], "event": found["event"], "org": found["org"], "form": form or Form(),
        **_labels(),
    }, status_code=status_code)


@get("/manage/{slug:str}/groups/{group_id:int}", opt=tenant_access("union_rep"), name="events_group_detail")
async def group_detail(request: Request, slug: FromPath[str], group_id: FromPath[int]) -> Response:
    return await _group_page(request, await _group(request, group_id))


@post("/manage/{slug:str}/groups/{group_id:int}/substitute", opt=tenant_access("union_rep"),
      name="events_group_substitute")
async def group_substitute(request: Request, slug: FromPath[str], group_id: FromPath[int]) -> Response:
    found = await _group(request, group_id)
    form = Form.from_data(await request.form(), ["attendee", "name", "phone"])
    form.required("attendee", "name")
    form.max_length("name", 100)
    if form["phone"]:
        mobile = schemas.normalize_mobile(form["phone"])
        if mobile is None:
            form.error("phone", _("Enter a Chinese mobile number: 11 digits starting with 1, e.g. 13812345678."))
        else:
            form.values["phone"] = mobile
    if form.ok and not form["attendee"].isdigit():
        form.error("attendee", _("Choose a seat of this group."))
    if form.ok:
        try:
            change = await service.substitute_attendee(_tenant(request)["id"], group_id, int(form["attendee"]),
                                                       form["name"], form["phone"])
        except EventError as exc:
            form.error(exc.field if exc.field in ("attendee", "name", "phone") else "attendee", exc.message)
        else:
            await _audit(request, "group.substituted", change["event"],
                         {"registration_id": group_id, "before": change["before"], "after": change["after"]})
            flash(request, _("%(name)s now has the seat.", name=form["name"]))
            return Redirect(path=f"/manage/{slug}/groups/{group_id}", status_code=303)
    return await _group_page(request, found, form, status_code=422)


@post("/manage/{slug:str}/groups/{group_id:int}/cancel", opt=tenant_access("union_rep"), name="events_group_cancel")
async def group_cancel(request: Request, slug: FromPath[str], group_id: FromPath[int]) -> Response:
    found = await _group(request, group_id)
    try:
        promoted = await service.cancel_union_group(_tenant(request)["id"], group_id)
    except EventError as exc:
        flash(request, exc.message, "error")
    else:
        await _audit(request, "group.cancelled", found["event"]["title"],
                     {"registration_id": group_id, "promoted": promoted})
        flash(request, _("The group's registration is cancelled."))
    return Redirect(path=f"/manage/{slug}/groups/{group_id}", status_code=303)


# --- the city's figures ---------------------------------------------------------------------------


@get("/city/events", opt=city_access("staff"), name="events_city_figures")
async def city_figures(request: Request, months: FromQuery[str] = "12") -> Response:
    span = 12 if months not in ("3", "6", "12", "24") else int(months)
    now = clock.now()
    data = await service.city_attendance(now - timedelta(days=31 * span), now)
    return render(request, "events/city.html", {**data, "months": span})


ROUTES = [
    staff_list, event_new, event_create, staff_detail, event_edit, event_update, event_publish, event_complete,
    event_cancel, event_reserve, staff_cancel_registration, checkin, attendee_present, walk_in, scan,
    city_calendar, tenant_listing, public_detail, register, event_ics, tenant_feed, city_feed,
    registration_page, registration_cancel, groups, group_new, group_create, group_detail, group_substitute,
    group_cancel, city_figures,
]
