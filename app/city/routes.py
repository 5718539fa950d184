"""The city console's dashboard pages: coverage (and a district center's own figures),
network health, broadcast notices."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from app.audit.service import client_ip, record
from app.city import broadcasts, coverage, health
from app.city.console import city_center, city_scope
from app.core.render import flash, render
from app.db import atomic
from app.i18n import gettext as _
from tenants import tree
from tenants.guards import city_access, tenant_access
from tenants.tables import KIND_LABELS


def _charts(points: list[dict]) -> list[dict]:
    return [coverage.trend_chart(points, m) for m in coverage.MEASURES]


@get("/city/coverage", opt=city_access("staff"), name="city_coverage")
async def city_coverage(request: Request) -> Response:
    data = await coverage.figures(city_center(request).id)
    points = await coverage.trend()
    return render(request, "city/coverage.html", {
        "data": data,
        "measures": coverage.MEASURES,
        "below": {m.key: coverage.below_first_target(data["districts"], m.key) for m in coverage.MEASURES},
        "points": points,
        "charts": _charts(points),
    })


@get("/city/coverage/missing", opt=city_access("staff"), name="city_coverage_missing")
async def city_coverage_missing(request: Request, measure: FromQuery[str] = "enterprises",
                                district: FromQuery[str] = "") -> Response:
    if measure not in coverage.BY_KEY:
        raise NotFoundException()
    city = city_center(request)
    district = district.strip()[:100]
    return render(request, "city/coverage_missing.html", {
        "m": coverage.BY_KEY[measure],
        "district": district,
        **await _missing(city.id, measure, district or None),
        "districts": sorted(await tree.districts()),
    })


async def _missing(city_id: int, measure: str, district: str | None) -> dict:
    """What is missing for one measure: enterprises, chambers, districts or centers."""
    result: dict = {"enterprises": [], "chambers": [], "no_center": [], "unstaffed": [], "city_id": city_id}
    if measure == "enterprises":
        result["enterprises"] = await coverage.missing_enterprises(city_id, district)
    elif measure in ("chambers", "federation_chambers"):
        result["chambers"] = await coverage.missing_chambers(city_id, district, measure == "federation_chambers")
    else:
        data = await coverage.figures(city_id, district)
        result["no_center"] = coverage.districts_without_center(data)
        result["unstaffed"] = coverage.centers_without_staffed_window(data)
    return result


@get("/manage/{slug:str}/coverage", opt=tenant_access("admin"), name="district_coverage")
async def district_coverage(request: Request, slug: FromPath[str]) -> Response:
    """A district center's own district, read-only: only district centers have one."""
    tenant = request.scope["state"]["tenant"]
    if tenant["kind"] != "district_center" or not tenant["district"]:
        raise NotFoundException()
    city_id = await tree.city_center_id()
    if city_id is None:
        raise NotFoundException()
    district = tenant["district"]
    data = await coverage.figures(city_id, district)
    points = await coverage.trend(district)
    return render(request, "city/district_coverage.html", {
        "row": data["districts"][0],
        "measures": coverage.MEASURES,
        "enterprises": await coverage.missing_enterprises(city_id, district),
        "chambers": await coverage.missing_chambers(city_id, district),
        "points": points,
        "charts": _charts(points),
    })


@get("/city/health", opt=city_access("staff"), name="city_health")
async def city_health(request: Request, district: FromQuery[str] = "", check: FromQuery[str] = "") -> Response:
    district = district.strip()[:100]
    only = check if health.check_by_key(check) else None
    result = await health.network_health(district or None, only)
    return render(request, "city/health.html", {
        **result, "all_checks": health.CHECKS, "district": district, "check": only or "",
        "districts": await tree.districts(), "kinds": tree.KIND_LABELS, "quiet_days": health.QUIET_DAYS,
    }, block="results")


# --- broadcast notices ------------------------------------------------------------


@get("/city/broadcasts", opt=city_access("staff"), name="city_broadcasts")
async def city_broadcasts(request: Request) -> Response:
    with city_scope(request):
        rows = await broadcasts.city_list()
    return render(request, "city/broadcasts.html", {"rows": rows})


async def _compose_page(request: Request, form, kinds: list[str], districts: list[str], status_code: int = 200,
                        preview: list | None = None, people: int = 0) -> Response:
    return render(request, "city/broadcast_form.html", {
        "form": form, "kinds": kinds, "districts": districts,
        "kind_options": [(k, KIND_LABELS[k]) for k in broadcasts.AUDIENCE_KINDS],
        "district_options": [(broadcasts.CITY_LEVEL, _("City level")), *((d, d) for d in await tree.districts())],
        "preview": preview, "people": people, "audience_text": broadcasts.audience_text(
            {"kinds": kinds, "districts": districts}), "kind_labels": KIND_LABELS,
    }, status_code=status_code)


@get("/city/broadcasts/new", opt=city_access("admin"), name="city_broadcast_new")
async def city_broadcast_new(request: Request) -> Response:
    from app.core.forms import Form

    return await _compose_page(request, Form(), [], [])


@post("/city/broadcasts/new", opt=city_access("admin"), name="city_broadcast_send")
async def city_broadcast_send(request: Request) -> Response:
    """Write → check who it reaches (a preview, nothing sent) → send; "change" goes back to the form."""
    data = await request.form()
    form, kinds, districts = broadcasts.form_from(data)
    broadcasts.validate(form, kinds, districts, await tree.districts())
    action = str(data.get("action", ""))
    if not form.ok or action == "change":
        return await _compose_page(request, form, kinds, districts, status_code=422 if not form.ok else 200)
    targets = await broadcasts.recipients(kinds, districts)
    if not targets:
        form.error("kinds", _("No active organisation matches this choice of kinds and districts."))
        return await _compose_page(request, form, kinds, districts, status_code=422)
    if action != "send":
        people = {p["user_id"] for p in await broadcasts.members_of([t["id"] for t in targets])}
        return await _compose_page(request, form, kinds, districts, preview=targets, people=len(people))
    city = city_center(request)
    user = request.scope["user"]
    async with atomic():
        sent = await broadcasts.send({"id": city.id, "name": city.name}, user.id, form, kinds, districts)
        await record(user, "broadcast.sent", tenant_id=city.id, target=form["subject"],
                     detail={"broadcast_id": sent["id"], "organisations": sent["organisations"],
                             "people": sent["people"]}, ip=client_ip(request))
    flash(request, _("The notice went to %(orgs)s organisations; %(people)s people get an email.",
                     orgs=sent["organisations"], people=sent["people"]))
    return Redirect(path=f"/city/broadcasts/{sent['id']}", status_code=303)


@get("/city/broadcasts/{broadcast_id:int}", opt=city_access("staff"), name="city_broadcast_detail")
async def city_broadcast_detail(request: Request, broadcast_id: FromPath[int]) -> Response:
    with city_scope(request):
        row = await broadcasts.city_detail(broadcast_id)
    if row is None:
        raise NotFoundException()
    return render(request, "city/broadcast_detail.html", {"b": row, "kinds": KIND_LABELS})


@get("/manage/{slug:str}/broadcasts", opt=tenant_access("member"), name="tenant_broadcasts")
async def tenant_broadcasts(request: Request, slug: FromPath[str]) -> Response:
    user = request.scope["user"]
    tenant = request.scope["state"]["tenant"]
    is_admin = user.role_in(tenant["id"]) == "admin"
    notices = await broadcasts.for_tenant(user.id, limit=None, with_readers=is_admin)
    return render(request, "city/tenant_broadcasts.html", {"notices": notices, "is_admin": is_admin})


@post("/manage/{slug:str}/broadcasts/{broadcast_id:int}/read", opt=tenant_access("member"), name="tenant_broadcast_read")
async def tenant_broadcast_read(request: Request, slug: FromPath[str], broadcast_id: FromPath[int]) -> Response:
    if not await broadcasts.mark_read(broadcast_id, request.scope["user"].id):
        raise NotFoundException()
    back = str((await request.form()).get("next", ""))
    target = back if back in (f"/manage/{slug}/", f"/manage/{slug}/broadcasts") else f"/manage/{slug}/"
    return Redirect(path=f"{target}#notice-{broadcast_id}", status_code=303)


ROUTES = [city_coverage, city_coverage_missing, district_coverage, city_health, city_broadcasts, city_broadcast_new,
          city_broadcast_send, city_broadcast_detail, tenant_broadcasts, tenant_broadcast_read]
