"""Network reports: the city's (every district) and a district center's (its own district),
as a page (tables, charts, printable), CSV and XLSX."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, QueryParameter

from app.city import reports
from app.core.render import render
from app.i18n import gettext as _
from app.registry import sheets
from tenants import tree
from tenants.guards import city_access, tenant_access

From = Annotated[str, QueryParameter(name="from", required=False)]
To = Annotated[str, QueryParameter(name="to", required=False)]


def _district_options(districts: list[str]) -> list[tuple[str, str]]:
    return [("", _("All districts")), *((d, d) for d in districts), (reports.CITY_LEVEL, _("City level"))]


def _query(period: reports.Period, district: str) -> str:
    from urllib.parse import urlencode

    params = {"from": period.first, "to": period.last}
    if district:
        params["district"] = district
    return urlencode(params)


async def _report(period: reports.Period, district: str, districts: list[str]) -> dict[str, Any]:
    data = await reports.network_report(period, district, districts=districts)
    return {**data, "charts": reports.charts(data["by_month"])}


def _page(request: Request, base: str, period: reports.Period, district: str, data: dict[str, Any],
          district_options: list[tuple[str, str]] | None, heading: str) -> Response:
    today = reports.current_month()
    presets = [
        (_("This month"), reports.Period(today, today)),
        (_("Last 3 months"), reports.Period(reports.add_months(today, -2), today)),
        (_("Last 12 months"), reports.Period(reports.add_months(today, -11), today)),
        (_("This year"), reports.Period(today[:4] + "-01", today)),
        (_("Last year"), reports.Period(f"{int(today[:4]) - 1}-01", f"{int(today[:4]) - 1}-12")),
    ]
    query = _query(period, district)
    return render(request, "city/reports.html", {
        "base": base, "period": period, "district": district, "report": data, "heading": heading,
        "main_columns": reports.MAIN_COLUMNS, "outreach_columns": reports.OUTREACH_COLUMNS,
        "district_options": district_options, "no_figure": reports.NO_FIGURE,
        "month_choices": reports.months_between(reports.add_months(today, -(reports.MAX_MONTHS - 1)), today)[::-1],
        "presets": [(label, p, f"{base}?{_query(p, district)}") for label, p in presets],
        "query": query, "city_level": reports.CITY_LEVEL,
    }, block="results")


def _export(period: reports.Period, district: str, data: dict[str, Any], fmt: str, stem: str) -> Response:
    tables = reports.export_tables(data, city_label=_("City level"), month_label=_("Month"),
                                   district_heading=_("District / town / street"), total_label=_("Total"))
    name = f"{stem}-{period.first}-{period.last}"
    if fmt == "csv":
        header, rows = tables["detail"]
        content, media, filename = sheets.write_csv(header, rows), sheets.CSV_MEDIA_TYPE, f"{name}.csv"
    else:
        content = sheets.write_xlsx([
            (_("By district"), *tables["districts"]),
            (_("By month"), *tables["months"]),
            (_("By month and district"), *tables["detail"]),
        ])
        media, filename = sheets.XLSX_MEDIA_TYPE, f"{name}.xlsx"
    return Response(content=content, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "private, no-store"})


async def _city_choice(district: str) -> tuple[str, list[str]]:
    districts = await tree.districts()
    district = district.strip()[:100]
    if district not in ("", reports.CITY_LEVEL) and district not in districts:
        district = ""
    return district, districts


@get("/city/reports", opt=city_access("staff"), name="city_reports")
async def city_reports(request: Request, first: From = "", last: To = "", district: FromQuery[str] = "") -> Response:
    period = reports.period_from(first, last)
    district, districts = await _city_choice(district)
    data = await _report(period, district, districts)
    return _page(request, "/city/reports", period, district, data, _district_options(districts),
                 _("Network reports"))


@get("/city/reports/export", opt=city_access("staff"), name="city_reports_export")
async def city_reports_export(request: Request, first: From = "", last: To = "", district: FromQuery[str] = "",
                              format: FromQuery[str] = "xlsx") -> Response:
    period = reports.period_from(first, last)
    district, districts = await _city_choice(district)
    data = await reports.network_report(period, district, districts=districts)
    return _export(period, district, data, format, "tiaojie-network-report")


def _own_district(request: Request) -> str:
    """A district center's own district: only district centers have a report of their own."""
    tenant = request.scope["state"]["tenant"]
    if tenant["kind"] != "district_center" or not tenant["district"]:
        raise NotFoundException()
    return tenant["district"]


@get("/manage/{slug:str}/reports", opt=tenant_access("admin"), name="district_reports")
async def district_reports(request: Request, slug: FromPath[str], first: From = "", last: To = "") -> Response:
    district = _own_district(request)
    period = reports.period_from(first, last)
    data = await _report(period, district, [district])
    return _page(request, f"/manage/{slug}/reports", period, "", data, None,
                 _("Reports of %(district)s", district=district))


@get("/manage/{slug:str}/reports/export", opt=tenant_access("admin"), name="district_reports_export")
async def district_reports_export(request: Request, slug: FromPath[str], first: From = "", last: To = "",
                                  format: FromQuery[str] = "xlsx") -> Response:
    district = _own_district(request)
    period = reports.period_from(first, last)
    data = await reports.network_report(period, district, districts=[district])
    return _export(period, district, data, format, f"tiaojie-report-{slug}")


ROUTES = [city_reports, city_reports_export, district_reports, district_reports_export]
