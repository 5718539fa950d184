"""Demo mailbox: messages for 城东镇 and its enterprise committee 海安城东建材, one escalated
from the committee to 城东镇 and one from 城东镇 to the city center, in every status.

Deterministic (codes derive from a key, dates count working days back from the day of
seeding) and idempotent (an item whose code exists is skipped). Every demo item has the
secret 2024 0516, so anyone trying the demo can follow one at /track.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, time, timedelta
from typing import Any

from app.accounts.tables import User
from app.feedback import service, tracking, workdays
from app.feedback.tables import AccessReason, FeedbackAccess, FeedbackEvent, FeedbackItem, Status
from tenants.scope import tenant_scope, unscoped

DEMO_SECRET = "20240516"
ENTERPRISE = "ent-chengdong-jiancai"


def demo_code(key: str) -> str:
    digest = hashlib.sha256(f"demo-feedback:{key}".encode()).digest()
    return "".join(tracking.CODE_ALPHABET[b % len(tracking.CODE_ALPHABET)] for b in digest[: tracking.CODE_LENGTH])


def _workdays_back(n: int, hour: int = 10) -> datetime:
    """``n`` working days before today, at ``hour`` in Shanghai."""
    day = workdays.local_day(datetime.now(workdays.SH))
    while n > 0:
        day -= timedelta(days=1)
        if workdays.is_workday(day):
            n -= 1
    return datetime.combine(day, time(hour), tzinfo=workdays.SH)


# key, organisation, days back, category, message, contact (name, phone) or None, status,
# staff reply or "", internal note or "", escalated to (slug) or None
ITEMS: list[tuple[Any, ...]] = [
    ("cd-new", "chengdong", 1, "wage_arrears",
     "我在城东工业园一家电子厂做普工，九月和十月的工资到现在还没发，厂里说等客户回款。请问这种情况怎么办？",
     None, Status.new.value, "", "", None),
    ("cd-ack", "chengdong", 2, "labour_contract",
     "入职三个月了公司一直不签劳动合同，我提过两次，人事说试用期过了再签。",
     ("王师傅", "13912345678"), Status.acknowledged.value, "", "已电话联系本人，约定周四到中心面谈。", None),
    ("cd-late", "chengdong", 7, "social_insurance",
     "公司说我们是临时工不给交社保，已经干了一年多了。",
     None, Status.in_progress.value, "", "已发函给企业，等待回复。", None),
    ("cd-answered", "chengdong", 6, "working_hours",
     "车间每天加班到晚上十点，周末也不休息，加班费按最低工资算，合理吗？",
     None, Status.answered.value,
     "您好，用人单位安排加班应与工会和劳动者协商，且加班工资应以劳动合同约定的工资为基数计算。"
     "我中心已将情况转告企业调解委员会，并约企业人事负责人本周五上午来中心说明情况。"
     "如有进展会在这里答复您，也可拨打调解咨询电话。", "", None),
    ("cd-closed", "chengdong", 15, "dismissal",
     "公司以业务调整为由让我下周走人，没有任何补偿。",
     ("李女士", "0513-88123456"), Status.closed.value,
     "经调解，企业同意按工作年限支付经济补偿，双方已签订调解协议。", "", None),
    ("ent-new", ENTERPRISE, 1, "occupational_injury",
     "上周在搬运车间扭伤了腰，班长说不算工伤让我自己看病。",
     None, Status.new.value, "", "", None),
    ("ent-escalated", ENTERPRISE, 12, "wage_arrears",
     "我们班组十几个人的绩效工资被车间主任扣了，找委员会没人管。",
     None, Status.new.value, "", "涉及车间主任，委员会成员回避。", "chengdong"),
    ("cd-to-city", "chengdong", 14, "other",
     "几家物流公司都让司机注册成个体户再签合作协议，这样算劳动关系吗？",
     None, Status.new.value, "", "涉及多家企业和新就业形态，报市中心统筹。", "city"),
]


async def seed_demo_feedback(ids: dict[str, int]) -> int:
    """The demo items and the enterprise committee's information card; returns how many items were added."""
    staff = {row["email"]: row["id"] for row in await User.select(User.id, User.email)}
    await _enterprise_card(ids)
    added = 0
    for key, slug, back, category, message, contact, status, reply, note, escalated_to in ITEMS:
        code = demo_code(key)
        with unscoped("demo codes are unique across the network"):
            if await FeedbackItem.exists().where(FeedbackItem.code == code):
                continue
        origin = ids[slug]
        holder = ids[escalated_to] if escalated_to else origin
        received = _workdays_back(back)
        first = await service._deadline_for(origin, received)
        moved_at = _workdays_back(max(back - 8, 0), 9) if escalated_to else None
        deadline = await service._deadline_for(holder, moved_at) if moved_at else first
        answered = _workdays_back(max(back - 2, 0), 15) if reply else None
        closed = answered + timedelta(days=1) if status == Status.closed.value and answered else None
        assignee = staff.get("chengdong.staff@demo.tiaojie.cn") if slug == "chengdong" and status != Status.new.value else None
        salt = f"demo{key}".ljust(32, "0")[:32]
        with tenant_scope(holder):
            item = FeedbackItem(
                tenant=holder, origin=origin, code=code, secret_salt=salt,
                secret_hash=tracking.hash_secret(code, salt, DEMO_SECRET), category=category, message=message,
                anonymous=contact is None, contact_name=contact[0] if contact else "",
                contact_phone=contact[1] if contact else "", status=status, assignee=assignee,
                received_at=received, first_due_at=first["due_at"], first_reply_at=answered, answered_at=answered,
                closed_at=closed, escalations=1 if escalated_to else 0, updated_at=closed or answered or received,
                **{**deadline, "alert_stage": 2 if deadline["due_at"] < datetime.now(workdays.SH) else 0},
            )
            await item.save()
        await _access(origin, item.id, AccessReason.received.value, received)
        await _event(origin, item.id, "received", received, public=True)
        if note:
            await _event(origin, item.id, "note", received + timedelta(hours=2), body=note,
                         actor=staff.get("chengdong.staff@demo.tiaojie.cn") if slug == "chengdong" else
                         staff.get("enterprise.staff@demo.tiaojie.cn"))
        if escalated_to:
            target = ids[escalated_to]
            await _access(target, item.id, AccessReason.escalated.value, moved_at)
            await _event(origin, item.id, "escalated", moved_at, public=True,
                         detail={"to": target, "to_name": await service._tenant_name(target), "automatic": True})
        if status == Status.acknowledged.value:
            await _event(holder, item.id, "status", received + timedelta(hours=3), public=True, actor=assignee,
                         detail={"from": "new", "to": "acknowledged"})
        if reply:
            await _event(holder, item.id, "reply", answered, body=reply, public=True, actor=assignee)
        if closed:
            await _event(holder, item.id, "status", closed, public=True, actor=assignee,
                         detail={"from": "answered", "to": "closed"})
        added += 1
    return added


async def _access(tenant_id: int, item_id: int, reason: str, at: datetime) -> None:
    with tenant_scope(tenant_id):
        await FeedbackAccess(tenant=tenant_id, item=item_id, reason=reason, created_at=at).save()


async def _event(tenant_id: int, item_id: int, kind: str, at: datetime, *, body: str = "", public: bool = False,
                 actor: int | None = None, detail: dict[str, Any] | None = None) -> None:
    with tenant_scope(tenant_id):
        await FeedbackEvent(tenant=tenant_id, item=item_id, kind=kind, body=body, public=public, actor=actor,
                            detail=detail or {}, created_at=at).save()


async def _enterprise_card(ids: dict[str, int]) -> None:
    """The committee's printed card, whose QR code opens its mailbox (the outreach demo
    gives cards to the centers only)."""
    from app.outreach.demo import card_code
    from app.outreach.tables import InfoCard

    tenant_id = ids[ENTERPRISE]
    with tenant_scope(tenant_id):
        if await InfoCard.exists().where(InfoCard.code == card_code(ENTERPRISE)):
            return
        await InfoCard(tenant=tenant_id, code=card_code(ENTERPRISE), title="有话想说？扫码给调解委员会留言",
                       body="工资、合同、社保、工伤等问题，可扫码匿名留言，凭查询码查看答复。",
                       contact_lines="接待地点：公司工会办公室\n工作日 9:00-17:00", audience="本公司职工",
                       published=True).save()
