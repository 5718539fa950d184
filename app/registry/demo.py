"""A demo register for 海安市: enterprises and chambers per district, some linked to the demo
committee and chamber organisations, so coverage shows a realistic mix (a few districts
below 60%). Written through the import path (``analyse`` then ``apply``), so the demo
obeys the same rules as a file; deterministic (codes derive from names) and idempotent
(a second run finds every row unchanged)."""

from __future__ import annotations

import hashlib
from typing import Any

from app.registry import service
from app.registry.creditcode import CHARSET, complete
from tenants.scope import tenant_scope

# Per district (in the demo's district order): labour-intensive enterprises with 100+
# employees that have a committee but are not on the platform, and those without one.
OFFLINE_COMMITTEES = [2, 1, 0, 1, 0, 0, 1, 0, 1, 0, 2, 0, 1, 0]
WITHOUT_COMMITTEE = [1, 2, 3, 0, 4, 3, 2, 5, 1, 2, 0, 4, 2, 1]
EXTRA_WORDS = ["家纺", "五金", "印染", "包装", "木业", "塑业", "钢结构", "化纤", "针织", "电器", "线缆", "玩具"]

# name, district ("" at city level), federation-linked, has a mediation organisation, linked slug
CHAMBERS: list[tuple[str, str, bool, bool, str]] = [
    ("海安市纺织服装商会", "", True, True, "chamber-fangzhi"),
    ("海安市建筑业协会", "", True, True, "chamber-jianzhu"),
    ("海安市物流商会", "", True, True, "chamber-wuliu"),
    ("海安市电子商务协会", "", True, False, ""),
    ("海安市餐饮行业协会", "", False, False, ""),
    ("海安市家具商会", "", True, True, ""),
    ("城东镇商会", "城东镇", True, True, "chamber-chengdong"),
    ("曲塘镇商会", "曲塘镇", True, True, "chamber-qutang"),
    ("开发区企业商会", "开发区", True, True, "chamber-kaifaqu"),
    ("李堡镇商会", "李堡镇", True, False, ""),
    ("角斜镇商会", "角斜镇", False, False, ""),
    ("高新区科技企业协会", "高新区", False, True, ""),
    ("孙庄街道个体劳动者协会", "孙庄街道", False, False, ""),
    ("滨海新区港口物流协会", "滨海新区", True, False, ""),
]


def demo_code(name: str, prefix: str = "91320621MA") -> str:
    """A valid unified social credit code derived from the name (320621: 海安)."""
    digest = hashlib.sha256(name.encode()).digest()
    body = "".join(CHARSET[b % len(CHARSET)] for b in digest[: 17 - len(prefix)])
    return complete(prefix + body)


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def enterprise_rows(tenants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from app.directory.demo import DISTRICTS

    rows: list[dict[str, Any]] = []

    def add(district: str, name: str, employees: int, labour: bool, has: bool, committee: str = "") -> None:
        rows.append({"line": len(rows) + 2, "district": district, "name": name, "credit_code": demo_code(name),
                     "employees": str(employees), "labour_intensive": _yes(labour), "has_committee": _yes(has),
                     "committee": committee})

    for i, (slug, district, _road) in enumerate(DISTRICTS):
        place = district.removesuffix("街道").removesuffix("镇").removesuffix("新区").removesuffix("区")
        place = "市" if place == "海安" else place
        committees = [t for t in tenants if t["kind"] == "enterprise_committee" and t["parent_slug"] == slug]
        for j, t in enumerate(committees):
            add(district, t["name"].removesuffix("劳动争议调解委员会"), 150 + (i * 97 + j * 131) % 700, True, True, t["slug"])
        words = iter(EXTRA_WORDS[(i + k) % len(EXTRA_WORDS)] for k in range(len(EXTRA_WORDS)))
        for k in range(OFFLINE_COMMITTEES[i]):
            add(district, f"海安{place}{next(words)}制品有限公司", 120 + (i * 53 + k * 71) % 400, True, True)
        for k in range(WITHOUT_COMMITTEE[i]):
            add(district, f"海安{place}{next(words)}实业有限公司", 100 + (i * 37 + k * 89) % 500, True, False)
        # Outside the measure: small, or not labour-intensive.
        add(district, f"海安{place}科技服务有限公司", 20 + i * 3, False, False)
        add(district, f"海安{place}商贸有限公司", 60 + i * 2, True, False)
    return rows


def chamber_rows() -> list[dict[str, Any]]:
    return [{"line": n + 2, "district": district, "name": name, "credit_code": demo_code(name, "51320621MJ"),
             "federation_member": _yes(federation), "has_mediation_org": _yes(has), "mediation_org": slug}
            for n, (name, district, federation, has, slug) in enumerate(CHAMBERS)]


async def seed_registry(city_id: int, tenants: list[dict[str, Any]]) -> dict[str, int]:
    counts = {}
    with tenant_scope(city_id):
        for key, rows in (("enterprises", enterprise_rows(tenants)), ("chambers", chamber_rows())):
            register = service.REGISTERS[key]
            analysis = await service.analyse(register, rows)
            if not analysis.ok:
                raise ValueError(f"demo {key} do not pass the import checks: {analysis.errors[:3]}")
            await service.apply(register, analysis)
            counts[key] = len(rows)
    return counts
