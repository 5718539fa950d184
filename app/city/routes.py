"""The city console's dashboard pages: coverage (and a district center's own figures),
network health, broadcast notices."""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery

from app.city import coverage, health
from app.city.console import city_center
from app.core.render import render
from tenants import tree
from tenants.guards import city_access, tenant_access


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


ROUTES = [city_coverage, city_coverage_missing, district_coverage, city_health]
