"""Demo outbox for 城东镇: sent, pending, failed and cancelled messages, and an unread
in-app message for its staff. Fixed times and dedupe keys: deterministic, idempotent."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from app.accounts.tables import User
from app.notifications.tables import Notification
from tenants.scope import tenant_scope

SH = ZoneInfo("Asia/Shanghai")


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SH).astimezone(timezone.utc)


def _rows(tenant_id: int, staff_id: int | None) -> list[dict]:
    notice = "关于《劳动合同法》专题讲座"
    return [
        dict(channel="email", recipient="li.ming@example.cn", status="sent", attempts=1,
             scheduled_for=_at(20, 9), sent_at=_at(20, 9, 1),
             payload={"subject": f"报名成功：{notice}", "body": "您已成功报名 11 月 28 日下午两点的专题讲座，地点：城东镇劳动人事争议调解中心二楼会议室。"}),
        dict(channel="sms", recipient="13912345678", status="sent", attempts=1,
             scheduled_for=_at(21, 8), sent_at=_at(21, 8),
             payload={"subject": "讲座提醒", "body": "明天下午两点专题讲座，请准时参加。"}),
        dict(channel="email", recipient="zhang.wei@example.invalid", status="failed", attempts=6,
             scheduled_for=_at(22, 10), last_error="SMTPRecipientsRefused: 550 5.1.1 mailbox unavailable",
             payload={"subject": f"报名成功：{notice}", "body": "您已成功报名 11 月 28 日下午两点的专题讲座。"}),
        dict(channel="email", recipient="wang.fang@example.cn", status="cancelled", attempts=1,
             scheduled_for=_at(23, 14), last_error="no longer applies",
             payload={"subject": "讲座时间提醒", "body": "原定 11 月 24 日的沙龙已取消。"}),
        dict(channel="email", recipient="zhao.lei@example.cn", status="pending", attempts=0,
             scheduled_for=_at(30, 9),
             payload={"subject": "讲座前一天提醒", "body": "您报名的专题讲座将于明天下午两点开始。"}),
        *([dict(channel="inapp", recipient="chengdong.staff@demo.tiaojie.cn", recipient_user=staff_id,
                status="sent", attempts=1, scheduled_for=_at(24, 16), sent_at=_at(24, 16),
                payload={"subject": "意见信箱有 2 条留言待回复", "body": "请在 5 个工作日内答复工资拖欠类留言。"})]
          if staff_id else []),
    ]


async def seed_demo_notifications(tenant_ids: dict[str, int]) -> int:
    tenant_id = tenant_ids["chengdong"]
    staff = await User.select(User.id).where(User.email == "chengdong.staff@demo.tiaojie.cn").first()
    rows = _rows(tenant_id, staff["id"] if staff else None)
    with tenant_scope(tenant_id):
        for i, values in enumerate(rows):
            key = f"demo:chengdong:{i}"
            if await Notification.exists().where(Notification.dedupe_key == key):
                continue
            await Notification(tenant=tenant_id, template_key="staff_notice", locale="zh_Hans",
                               dedupe_key=key, created_at=values["scheduled_for"], **values).save()
    return len(rows)
