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

# Every organisation has an administrator who can fill in its public profile. The
# accounts above cover some; every other organisation gets <slug>.admin@demo.tiaojie.cn.
ORG_ADMIN_DOMAIN = "demo.tiaojie.cn"
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_GIVEN = ["建国", "秀英", "志强", "海燕", "晓东", "丽华", "文军", "春梅", "国平", "红霞", "立群", "桂兰", "宏伟", "静", "永刚",
          "玉兰", "德明", "雪梅", "振华", "晓燕", "卫东", "淑珍", "新民", "小红", "俊杰", "慧敏", "光明", "凤英", "学军", "美玲"]

# More people of 城东镇's center than one per role: a center has several mediators.
EXTRA_MEMBERS: list[tuple[str, str, str, str]] = [
    ("chengdong.mediator@demo.tiaojie.cn", "chengdong", "staff", "赵明"),
]


def org_admin_email(slug: str) -> str:
    return f"{slug}.admin@{ORG_ADMIN_DOMAIN}"


def org_admins(tenants: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(email, tenant slug, name) of the administrator of every demo organisation that no
    account in DEMO_ACCOUNTS administers; names are picked deterministically by position."""
    administered = {slug for _email, _pw, slug, role in DEMO_ACCOUNTS if role == "admin"}
    rows = []
    for i, row in enumerate(tenants):
        if row["slug"] in administered:
            continue
        name = _SURNAMES[(i * 7) % len(_SURNAMES)] + _GIVEN[(i * 11) % len(_GIVEN)]
        rows.append((org_admin_email(row["slug"]), row["slug"], name))
    return rows


def all_demo_accounts() -> list[tuple[str, str, str]]:
    """(email, tenant slug, role) of every demo account, the featured ones first."""
    return ([(e, slug, role) for e, _pw, slug, role in DEMO_ACCOUNTS]
            + [(e, slug, "admin") for e, slug, _name in org_admins(demo_tenants())]
            + [(e, slug, role) for e, slug, role, _name in EXTRA_MEMBERS])


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
    roads = {slug: road for slug, _district, road in DISTRICTS}
    for i, (slug, name, parent) in enumerate(CHAMBERS):
        place = f"海安市{district_names[parent]}{roads[parent]} {60 + i} 号" if parent else f"海安市长江中路 {120 + i * 6} 号"
        rows.append(
            {"slug": slug, "name": name, "kind": "chamber_org", "parent_slug": parent or "city",
             "district": district_names.get(parent, ""), "office_hours": "工作日 9:00-17:00",
             "address": f"{place} 商会服务中心三楼", "reception_window": "商会调解室",
             "description": f"{name.removesuffix('劳动争议调解委员会')}设立的劳动争议调解组织，为会员企业和职工提供调解服务。"}
        )
    for i, (slug, name, parent) in enumerate(UNIONS):
        place = f"海安市{district_names[parent]}{roads[parent]} {30 + i} 号" if parent else "海安市人民中路 25 号"
        rows.append(
            {"slug": slug, "name": name, "kind": "union", "parent_slug": parent or "city",
             "district": district_names.get(parent, ""), "office_hours": "工作日 8:30-17:30",
             "address": f"{place} 职工服务中心", "reception_window": "职工服务中心维权窗口",
             "description": f"{name}为职工提供法律咨询和劳动争议调解帮助，可为会员集体报名讲座和培训。"}
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
    # Every other organisation's administrator, and extra members. One password hash for
    # all of them (same password): seeding stays quick with production Argon2 settings.
    password_hash = None
    people = [(e, slug, "admin", name) for e, slug, name in org_admins(demo_tenants())] + EXTRA_MEMBERS
    for email, slug, role, name in people:
        user = await User.select(User.id).where(User.email == email).first()
        if user is None:
            password_hash = password_hash or accounts.hash_password(PASSWORD)
            new = User(email=email, name=name, password_hash=password_hash)
            await new.save()
            user = {"id": new.id}
        await accounts.add_membership(user["id"], ids[slug], role)
    from app.events.demo import seed_events

    await seed_events(demo_tenants(), ids)
    from app.notifications.demo import seed_demo_notifications

    await seed_demo_notifications(ids)
    from app.city.demo import seed_city

    await seed_city(demo_tenants(), ids)
    from app.feedback.demo import seed_demo_feedback

    await seed_demo_feedback(ids)
    from app.training.demo import seed_training

    await seed_training(ids)

    from app.core.pagecache import bump

    await bump()
    return {"tenants": len(ids), "users": len(all_demo_accounts())}
