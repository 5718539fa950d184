"""Demo hotlines, cards and outreach figures for the city center and the district centers.

Deterministic (card codes derive from the slug, figures from fixed formulas) and
idempotent (rows are keyed by tenant and label/title, counts by their unique key).
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from app.outreach.counters import today
from app.outreach.service import CODE_ALPHABET, CODE_LENGTH
from app.outreach.tables import DailyCount, Hotline, InfoCard, OutreachEntry
from tenants.scope import tenant_scope

CITY_HOTLINES = [
    ("劳动争议调解热线", "0513-88101234", "工作日 8:30-17:30", "", 10),
    ("全国人社服务热线", "12333", "全天", "政策咨询、投诉举报", 20),
]


def card_code(slug: str) -> str:
    digest = hashlib.sha256(f"demo-card:{slug}".encode()).digest()
    return "".join(CODE_ALPHABET[b % len(CODE_ALPHABET)] for b in digest[:CODE_LENGTH])


def _hotlines(row: dict[str, Any], index: int) -> list[tuple[str, str, str, str, int]]:
    if row["kind"] == "city_center":
        return CITY_HOTLINES
    lines = [("调解咨询电话", row["reception_phone"], "工作日 8:30-17:30", "", 10)]
    if index % 2 == 0:
        lines.append(("农民工欠薪求助", f"0513-8{8300000 + index * 111:07d}", "工作日 8:30-17:30", "", 20))
    return lines


def _card(row: dict[str, Any]) -> dict[str, Any]:
    phone = row["reception_phone"]
    return {
        "title": "遇到劳动纠纷？先找我们调解",
        "body": "工资拖欠、劳动合同、社会保险、工伤等劳动争议，可免费申请调解。扫码进入本中心页面，留言或查询联系方式。",
        "contact_lines": "\n".join(
            line for line in (f"咨询电话：{phone}", f"地址：{row['address']}", f"接待窗口：{row['reception_window']}") if line
        ),
        "audience": "辖区劳动者和用人单位",
        "published": True,
    }


async def seed_outreach(tenants: list[dict[str, Any]], ids: dict[str, int]) -> int:
    """Hotlines and a published card for the city and each district center; a year of figures for them."""
    seeded = 0
    centers = [r for r in tenants if r["kind"] in ("city_center", "district_center")]
    end = today()
    for index, row in enumerate(centers):
        tenant_id = ids[row["slug"]]
        with tenant_scope(tenant_id):
            for label, number, hours, notes, position in _hotlines(row, index):
                if not await Hotline.exists().where(Hotline.label == label):
                    await Hotline(tenant=tenant_id, label=label, number=number, hours=hours, notes=notes,
                                  position=position).save()
                    seeded += 1
            card = await InfoCard.select(InfoCard.id).where(InfoCard.code == card_code(row["slug"])).first()
            if card is None:
                new = InfoCard(tenant=tenant_id, code=card_code(row["slug"]), **_card(row))
                await new.save()
                card = {"id": new.id}
            if not await OutreachEntry.exists():
                await _entries(tenant_id, card["id"], index, end)
                await _counts(tenant_id, card["id"], index, end)
    return seeded


async def _entries(tenant_id: int, card_id: int, index: int, end: date) -> None:
    for months_ago in range(11, -1, -1):
        day = _month_day(end, months_ago, 10 + index % 10)
        rows = [
            OutreachEntry(tenant=tenant_id, day=day, kind="materials", quantity=120 + (index * 37 + months_ago * 53) % 400,
                          notes="宣传折页发放"),
            OutreachEntry(tenant=tenant_id, day=day, kind="cards", quantity=40 + (index * 11 + months_ago * 29) % 150,
                          card=card_id, notes="信息公示卡发放"),
        ]
        if months_ago % 3 == index % 3:
            rows.append(OutreachEntry(tenant=tenant_id, day=day, kind="lecture", quantity=30 + index % 40,
                                      notes="以案释法进企业"))
        await OutreachEntry.insert(*rows)


async def _counts(tenant_id: int, card_id: int, index: int, end: date) -> None:
    rows = []
    for days_ago in range(0, 365, 3):
        day = end - timedelta(days=days_ago)
        rows.append(DailyCount(tenant=tenant_id, day=day, metric="page_view", ref=0,
                               hits=5 + (index * 7 + days_ago * 13) % 40))
        if days_ago % 6 == 0:
            rows.append(DailyCount(tenant=tenant_id, day=day, metric="qr_scan", ref=card_id,
                                   hits=1 + (index + days_ago) % 9))
    await DailyCount.insert(*rows)


def _month_day(end: date, months_ago: int, day: int) -> date:
    year, month = end.year, end.month - months_ago
    while month < 1:
        year, month = year - 1, month + 12
    candidate = date(year, month, min(day, 28))
    return min(candidate, end)
