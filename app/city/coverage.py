"""Coverage against the programme's targets (DESIGN §3.6, GLOSSARY "Targets").

Five measures, for the whole city and for each district:

- ``enterprises``: labour-intensive enterprises with 100 or more employees in the
  register that have set up a mediation committee (≥ 60% by end-2024, 100% by end-2025);
- ``chambers``: chambers and associations with a mediation organisation (≥ 60% by
  end-2024; "widely set up" by end-2025, which has no figure);
- ``federation_chambers``: those linked to the federation of industry and commerce
  with a mediation organisation (100% by end-2025);
- ``centers``: districts, towns and streets with an active mediation center (100%);
- ``reception``: district centers whose reception window is staffed, i.e. has a named
  reception contact (100%).

The districts are those of the district centers and those named in the register, so a
district in the register without a center counts as one without a center.

Every figure is (covered, total). Its status, read at a glance and never by colour
alone: ``green`` (meets the end-2025 target), ``amber`` (meets end-2024, not yet end-2025),
``red`` (below the end-2024 target), ``none`` (nothing to measure).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.query.functions.aggregate import Count

from app.city.tables import CoverageSnapshot
from app.i18n import lazy_gettext as _l
from app.registry.tables import Chamber, Enterprise
from tenants import tree
from tenants.scope import tenant_scope

SH = ZoneInfo("Asia/Shanghai")
CITY = ""  # the district key of the whole city
IN_SCOPE_EMPLOYEES = 100


@dataclass(frozen=True)
class Measure:
    key: str
    label: Any
    short: Any  # a column header
    target_2024: int | None  # percent
    target_2025: int | None
    note_2025: Any = ""  # said instead of a figure

    @property
    def final(self) -> int:
        return self.target_2025 if self.target_2025 is not None else self.target_2024  # type: ignore[return-value]

    @property
    def first(self) -> int:
        return self.target_2024 if self.target_2024 is not None else self.final


MEASURES: list[Measure] = [
    Measure("enterprises", _l("Labour-intensive enterprises with 100+ employees that have a mediation committee"),
            _l("Enterprise committees"), 60, 100),
    Measure("chambers", _l("Chambers and associations with a mediation organisation"),
            _l("Chamber organisations"), 60, None, _l("widely set up")),
    Measure("federation_chambers",
            _l("Chambers linked to the federation of industry and commerce with a mediation organisation"),
            _l("Federation chambers"), None, 100),
    Measure("centers", _l("Districts, towns and streets with a mediation center"), _l("Mediation center"), 100, 100),
    Measure("reception", _l("District centers with a staffed reception window"), _l("Staffed reception window"),
            100, 100),
]
MEASURE_KEYS = [m.key for m in MEASURES]
BY_KEY = {m.key: m for m in MEASURES}


def percent(covered: int, total: int) -> int | None:
    """Whole percent, rounded down: 59.9% is not shown as meeting 60%."""
    return None if total == 0 else covered * 100 // total


def meets(covered: int, total: int, target: int | None) -> bool | None:
    if target is None or total == 0:
        return None
    return covered * 100 >= target * total


def short_by(covered: int, total: int, target: int | None) -> int:
    """How many more are needed to meet ``target``."""
    if target is None or total == 0:
        return 0
    needed = -(-target * total // 100)
    return max(0, needed - covered)


def status(measure: Measure, covered: int, total: int) -> str:
    if total == 0:
        return "none"
    if meets(covered, total, measure.final):
        return "green"
    if meets(covered, total, measure.first):
        return "amber"
    return "red"


def figure(measure: Measure, covered: int, total: int) -> dict[str, Any]:
    """What a page shows of one measure: share, status, each target met or how far off."""
    return {
        "key": measure.key,
        "measure": measure,
        "covered": covered,
        "total": total,
        "percent": percent(covered, total),
        "status": status(measure, covered, total),
        "met_2024": meets(covered, total, measure.target_2024),
        "met_2025": meets(covered, total, measure.target_2025),
        "short_2024": short_by(covered, total, measure.target_2024),
        "short_2025": short_by(covered, total, measure.target_2025),
    }


# --- counting -----------------------------------------------------------------


async def _register_counts(district: str | None) -> dict[str, dict[str, list[int]]]:
    """{district: {measure: [covered, total]}} of the register of the active city scope."""
    counts: dict[str, dict[str, list[int]]] = {}

    def add(d: str, key: str, covered: bool, n: int) -> None:
        slot = counts.setdefault(d, {}).setdefault(key, [0, 0])
        slot[1] += n
        if covered:
            slot[0] += n

    q = Enterprise.select(Enterprise.district, Enterprise.has_committee, Count(Enterprise.id, alias="n")).where(
        (Enterprise.labour_intensive == True) & (Enterprise.employees >= IN_SCOPE_EMPLOYEES)  # noqa: E712
    ).group_by(Enterprise.district, Enterprise.has_committee)
    c = Chamber.select(Chamber.district, Chamber.federation_member, Chamber.has_mediation_org,
                       Count(Chamber.id, alias="n")).group_by(
        Chamber.district, Chamber.federation_member, Chamber.has_mediation_org)
    if district is not None:
        q = q.where(Enterprise.district == district)
        c = c.where(Chamber.district == district)
    for r in await q:
        add(r["district"], "enterprises", r["has_committee"], r["n"])
    for r in await c:
        add(r["district"], "chambers", r["has_mediation_org"], r["n"])
        if r["federation_member"]:
            add(r["district"], "federation_chambers", r["has_mediation_org"], r["n"])
    return counts


async def _register_districts() -> set[str]:
    found: set[str] = set()
    for table in (Enterprise, Chamber):
        found |= {r["district"] for r in await table.select(table.district).distinct() if r["district"]}
    return found


async def figures(city_id: int, district: str | None = None) -> dict[str, Any]:
    """Coverage now: {"city": {measure: figure}, "districts": [{district, center, figures}]}.

    ``district`` narrows everything to one district (a district center's own view);
    the register read is that of the city center ``city_id``."""
    with tenant_scope(city_id):
        counts = await _register_counts(district)
        named = await _register_districts() if district is None else set()
    centers = await tree.district_centers()
    active = {}
    for c in centers:
        if c["active"] and c["district"] and c["district"] not in active:
            active[c["district"]] = c
    if district is None:
        names = sorted({c["district"] for c in centers if c["district"]} | named)
    else:
        names = [district]
    rows = []
    city = {k: [0, 0] for k in MEASURE_KEYS}
    for name in names:
        center = active.get(name)
        own = {k: list(counts.get(name, {}).get(k, [0, 0])) for k in MEASURE_KEYS}
        own["centers"] = [1 if center else 0, 1]
        own["reception"] = [1 if center and center["reception_contact"].strip() else 0, 1 if center else 0]
        for k in MEASURE_KEYS:
            city[k][0] += own[k][0]
            city[k][1] += own[k][1]
        rows.append({"district": name, "center": center,
                     "figures": {m.key: figure(m, *own[m.key]) for m in MEASURES}})
    if district is None:  # city-level chambers count for the city as a whole
        for k in ("chambers", "federation_chambers"):
            covered, total = counts.get(CITY, {}).get(k, [0, 0])
            city[k][0] += covered
            city[k][1] += total
    return {"city": {m.key: figure(m, *city[m.key]) for m in MEASURES}, "districts": rows}


def below_first_target(rows: list[dict[str, Any]], key: str) -> list[str]:
    """Districts whose ``key`` figure is below the end-2024 target."""
    return [r["district"] for r in rows if r["figures"][key]["status"] == "red"]


# --- what is missing ------------------------------------------------------------


async def missing_enterprises(city_id: int, district: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    with tenant_scope(city_id):
        q = Enterprise.select(Enterprise.name, Enterprise.district, Enterprise.credit_code, Enterprise.employees).where(
            (Enterprise.labour_intensive == True) & (Enterprise.employees >= IN_SCOPE_EMPLOYEES)  # noqa: E712
            & (Enterprise.has_committee == False)  # noqa: E712
        )
        if district is not None:
            q = q.where(Enterprise.district == district)
        return await q.order_by(Enterprise.district).order_by(Enterprise.employees, ascending=False).limit(limit)


async def missing_chambers(city_id: int, district: str | None = None, federation_only: bool = False,
                           limit: int = 500) -> list[dict[str, Any]]:
    with tenant_scope(city_id):
        q = Chamber.select(Chamber.name, Chamber.district, Chamber.credit_code, Chamber.federation_member).where(
            Chamber.has_mediation_org == False  # noqa: E712
        )
        if district is not None:
            q = q.where(Chamber.district == district)
        if federation_only:
            q = q.where(Chamber.federation_member == True)  # noqa: E712
        return await q.order_by(Chamber.district).order_by(Chamber.name).limit(limit)


def districts_without_center(data: dict[str, Any]) -> list[str]:
    return [r["district"] for r in data["districts"] if r["center"] is None]


def centers_without_staffed_window(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [r["center"] for r in data["districts"] if r["center"] and not r["center"]["reception_contact"].strip()]


# --- monthly snapshots ------------------------------------------------------------


def month_of(moment: datetime) -> str:
    return moment.astimezone(SH).strftime("%Y-%m")


async def take_snapshot(now: datetime | None = None) -> dict[str, Any]:
    """Write this month's snapshot of every measure, city-wide and per district, unless
    it is written already (idempotent per month; concurrent runs meet the unique index)."""
    now = now or datetime.now(timezone.utc)
    month = month_of(now)
    city_id = await tree.city_center_id()
    if city_id is None:
        return {"month": month, "written": 0, "skipped": "no city center"}
    if await CoverageSnapshot.exists().where(CoverageSnapshot.month == month):
        return {"month": month, "written": 0, "skipped": "already taken"}
    data = await figures(city_id)
    rows = [CoverageSnapshot(month=month, district=CITY, measure=k, covered=f["covered"], total=f["total"], taken_at=now)
            for k, f in data["city"].items()]
    for r in data["districts"]:
        rows += [CoverageSnapshot(month=month, district=r["district"], measure=k, covered=f["covered"],
                                  total=f["total"], taken_at=now) for k, f in r["figures"].items()]
    written = await CoverageSnapshot.insert(*rows).on_conflict(
        target=(CoverageSnapshot.month, CoverageSnapshot.district, CoverageSnapshot.measure), action="DO NOTHING"
    ).returning(CoverageSnapshot.id)
    return {"month": month, "written": len(written)}


async def trend(district: str = CITY, months: int = 12) -> list[dict[str, Any]]:
    """The last ``months`` snapshots of one district (or the city), oldest first:
    [{month, figures: {measure: figure}}]."""
    rows = await CoverageSnapshot.select(
        CoverageSnapshot.month, CoverageSnapshot.measure, CoverageSnapshot.covered, CoverageSnapshot.total
    ).where(CoverageSnapshot.district == district).order_by(CoverageSnapshot.month, ascending=False).limit(
        months * len(MEASURES)
    )
    by_month: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["measure"] in BY_KEY:
            by_month.setdefault(r["month"], {})[r["measure"]] = figure(BY_KEY[r["measure"]], r["covered"], r["total"])
    return [{"month": m, "figures": by_month[m]} for m in sorted(by_month)[-months:]]


def trend_chart(points: list[dict[str, Any]], measure: Measure) -> dict[str, Any]:
    """Geometry of one small line chart (0-100%) with the targets drawn as lines."""
    width, height, top, bottom, left, right = 320, 160, 16, 26, 34, 22
    plot_h = height - top - bottom
    slot = (width - left - right) / max(len(points) - 1, 1)

    def y(pct: float) -> float:
        return round(top + plot_h * (1 - pct / 100), 1)

    dots = []
    for i, p in enumerate(points):
        f = p["figures"].get(measure.key)
        if f is None or f["percent"] is None:
            continue
        x = round(left + i * slot, 1) if len(points) > 1 else round(left + (width - left - right) / 2, 1)
        dots.append({"x": x, "y": y(f["percent"]), "percent": f["percent"], "month": p["month"],
                     "label": p["month"][2:].replace("-", "/"), "status": f["status"]})
    targets = []
    for year, target in (("2024", measure.target_2024), ("2025", measure.target_2025)):
        if target is not None and all(t["value"] != target for t in targets):
            targets.append({"value": target, "y": y(target), "year": year})
    return {
        "key": measure.key, "measure": measure, "width": width, "height": height, "left": left, "right": width - right,
        "edge": width - 2,
        "base": y(0), "top": y(100), "mid": y(50), "dots": dots, "targets": targets,
        "path": " ".join(("M" if i == 0 else "L") + f"{d['x']},{d['y']}" for i, d in enumerate(dots)),
        # Every month labelled up to six, then every other one, so labels never overlap.
        "ticks": [{"x": round(left + i * slot, 1), "label": p["month"][2:].replace("-", "/")}
                  for i, p in enumerate(points) if len(points) <= 6 or (len(points) - 1 - i) % 2 == 0],
    }
