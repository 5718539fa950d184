"""Deterministic, idempotent demo data: the mediation network of a county-level city.

Names follow 海安市 (the city of the source notice); every organisation is keyed by
its slug and every account by its email, so seeding twice changes nothing.
"""

from __future__ import annotations

from typing import Any

from app.accounts import service as accounts
from app.accounts.tables import User
from tenants.tables import Tenant
from tenants.tree import child_district

PASSWORD = "Tiaojie-demo-2024"

# email, password, tenant slug, role
DEMO_ACCOUNTS: list[tuple[str, str, str, str]] = [
    ("city.admin@demo.tiaojie.cn", PASSWORD, "city", "admin"),
    ("city.staff@demo.tiaojie.cn", PASSWORD, "city", "staff"),
    ("chengdong.admin@demo.tiaojie.cn", PASSWORD, "chengdong", "admin"),
    ("chengdong.staff@demo.tiaojie.cn", PASSWORD, "chengdong", "staff"),
    ("enterprise.staff@demo.tiaojie.cn", PASSWORD, "ent-chengdong-jiancai", "staff"),
    ("union.rep@demo.tiaojie.cn", PASSWORD, "union-city", "union_rep"),
]

ACCOUNT_NAMES = {
    "city.admin@demo.tiaojie.cn": "周建华",
    "city.staff@demo.tiaojie.cn": "陈晓梅",
    "chengdong.admin@demo.tiaojie.cn": "王立新",
    "chengdong.staff@demo.tiaojie.cn": "李海燕",
    "enterprise.staff@demo.tiaojie.cn": "张国强",
    "union.rep@demo.tiaojie.cn": "刘春兰",
}

CITY = {
    "slug": "city",
    "name": "海安市劳动人事争议联合调处中心",
    "kind": "city_center",
    "district": "",
    "address": "海安市长江中路 100 号 市民服务中心二楼",
    "office_hours": "周一至周五 8:30-12:00，13:30-17:30",
    "reception_window": "市民服务中心二楼 12 号专门接待窗口",
    "reception_contact": "陈晓梅",
    "reception_phone": "0513-88101234",
    "description": "指导全市基层劳动人事争议调解组织建设，受理跨区域、重大劳动争议的联合调处，组织全市调解员培训。",
}

# slug, name of the district/town/street, road for the address
DISTRICTS: list[tuple[str, str, str]] = [
    ("haian-jiedao", "海安街道", "中坝南路"),
    ("chengdong", "城东镇", "东海大道"),
    ("sunzhuang", "孙庄街道", "孙庄路"),
    ("kaifaqu", "开发区", "开发大道"),
    ("gaoxinqu", "高新区", "高新大道"),
    ("qutang", "曲塘镇", "曲塘大街"),
    ("libao", "李堡镇", "李堡中路"),
    ("jiaoxie", "角斜镇", "角斜大街"),
    ("dagong", "大公镇", "大公路"),
    ("yazhou", "雅周镇", "雅周大街"),
    ("baidian", "白甸镇", "白甸路"),
    ("nanmo", "南莫镇", "南莫大街"),
    ("duntou", "墩头镇", "墩头大街"),
    ("binhai", "滨海新区", "海港大道"),
]

# pinyin key, industry word
INDUSTRIES: list[tuple[str, str]] = [
    ("fangzhi", "纺织"),
    ("jixie", "机械"),
    ("dianzi", "电子"),
    ("jiancai", "建材"),
    ("fuzhuang", "服装"),
    ("shipin", "食品"),
    ("xincailiao", "新材料"),
    ("wuliu", "物流"),
]

CHAMBERS: list[tuple[str, str, str]] = [
    ("chamber-fangzhi", "海安市纺织服装商会劳动争议调解委员会", ""),
    ("chamber-jianzhu", "海安市建筑业协会劳动争议调解委员会", ""),
    ("chamber-wuliu", "海安市物流商会劳动争议调解委员会", ""),
    ("chamber-chengdong", "城东镇商会劳动争议调解委员会", "chengdong"),
    ("chamber-qutang", "曲塘镇商会劳动争议调解委员会", "qutang"),
    ("chamber-kaifaqu", "开发区企业商会劳动争议调解委员会", "kaifaqu"),
]

UNIONS: list[tuple[str, str, str]] = [
    ("union-city", "海安市总工会", ""),
    ("union-chengdong", "城东镇总工会", "chengdong"),
    ("union-kaifaqu", "开发区总工会", "kaifaqu"),
    ("union-libao", "李堡镇工会", "libao"),
]


def _enterprises() -> list[dict[str, Any]]:
    """Two or three committees per district, picked deterministically."""
    rows = []
    for i, (slug, district, road) in enumerate(DISTRICTS):
        for j in range(3 if i % 2 == 0 else 2):
            key, word = INDUSTRIES[(i * 3 + j) % len(INDUSTRIES)]
            company = f"海安{district[:2]}{word}{'科技' if j == 1 else ''}有限公司"
            rows.append(
                {
                    "slug": f"ent-{slug}-{key}",
                    "name": f"{company}劳动争议调解委员会",
                    "kind": "enterprise_committee",
                    "parent_slug": slug,
                    "district": district,
                    "address": f"海安市{district}{road} {18 + j * 20 + i} 号",
                    "office_hours": "工作日 9:00-17:00",
                    "reception_window": "公司工会办公室",
                    "description": f"{company}依法设立的劳动争议调解委员会，由职工代表和企业代表组成。",
                }
            )
    return rows


def demo_tenants() -> list[dict[str, Any]]:
    """Every demo organisation, parents before children."""
    rows: list[dict[str, Any]] = [{**CITY, "parent_slug": None}]
    for i, (slug, district, road) in enumerate(DISTRICTS):
        suffix = "街道" if district.endswith("街道") else ("区" if district.endswith("区") else "镇")
        rows.append(
            {
                "slug": slug,
                "name": f"{district}劳动人事争议调解中心",
                "kind": "district_center",
                "parent_slug": "city",
                "district": district,
                "address": f"海安市{district}{road} {8 + i} 号 便民服务中心一楼",
                "office_hours": "周一至周五 8:30-12:00，14:00-17:30",
                "reception_window": f"{suffix}便民服务中心一楼调解接待窗口",
                "reception_contact": ["王立新", "赵敏", "孙伟", "钱红", "吴刚", "郑丽"][i % 6],
                "reception_phone": f"0513-8{8200000 + i * 111:07d}",
                "description": f"负责{district}辖区内劳动人事争议的调解、法律宣传和基层调解组织指导。",
            }
        )
    rows.extend(_enterprises())
    district_names = {slug: district for slug, district, _road in DISTRICTS}
    for slug, name, parent in CHAMBERS:
        rows.append(
            {"slug": slug, "name": name, "kind": "chamber_org", "parent_slug": parent or "city",
             "district": district_names.get(parent, ""), "office_hours": "工作日 9:00-17:00"}
        )
    for slug, name, parent in UNIONS:
        rows.append(
            {"slug": slug, "name": name, "kind": "union", "parent_slug": parent or "city",
             "district": district_names.get(parent, ""), "office_hours": "工作日 8:30-17:30"}
        )
    return rows


async def seed_demo() -> dict[str, int]:
    ids: dict[str, int] = {}
    district_of: dict[str, str] = {}
    for row in demo_tenants():
        values = {k: v for k, v in row.items() if k != "parent_slug"}
        values["parent"] = ids[row["parent_slug"]] if row["parent_slug"] else None
        # The tree's rule holds for the demo too: a child lies in its parent's district.
        values["district"] = child_district(district_of.get(row["parent_slug"] or "", ""), values.get("district", ""))
        district_of[row["slug"]] = values["district"]
        existing = await Tenant.select(Tenant.id).where(Tenant.slug == row["slug"]).first()
        if existing:
            ids[row["slug"]] = existing["id"]
            continue
        tenant = Tenant(**values)
        await tenant.save()
        ids[row["slug"]] = tenant.id
    from app.outreach.demo import seed_outreach

    await seed_outreach(demo_tenants(), ids)
    for email, password, slug, role in DEMO_ACCOUNTS:
        user = await User.select(User.id).where(User.email == email).first()
        user_id = user["id"] if user else await accounts.create_user(email, password, ACCOUNT_NAMES[email])
        await accounts.add_membership(user_id, ids[slug], role)
    from app.events.demo import seed_events

    await seed_events(demo_tenants(), ids)
    from app.notifications.demo import seed_demo_notifications

    await seed_demo_notifications(ids)
    from app.city.demo import seed_city

    await seed_city(demo_tenants(), ids)

    from app.core.pagecache import bump

    await bump()
    return {"tenants": len(ids), "users": len(DEMO_ACCOUNTS)}
