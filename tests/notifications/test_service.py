"""notify(): the outbox row, its dedupe key, the transaction, channel fallback, quiet hours."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.db import atomic
from app.notifications import service
from app.notifications.tables import Notification
from tenants.scope import TenancyError, tenant_scope, unscoped
from tests.support import redis_sync

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOTICE = {"subject": "Hello", "body": "A notice"}


def queued_jobs() -> int:
    return redis_sync().zcard("arq:queue")


async def rows(tenant_id: int) -> list[dict]:
    with tenant_scope(tenant_id):
        return await Notification.select().order_by(Notification.id)


async def test_same_dedupe_key_twice_is_one_message_and_one_job(world):
    a = world.tenants["a"]["id"]
    first = await service.notify(a, "staff_notice", "event:1:confirm", email="w@example.cn", payload=NOTICE)
    second = await service.notify(a, "staff_notice", "event:1:confirm", email="w@example.cn", payload=NOTICE)
    assert first == second
    [row] = await rows(a)
    assert row["status"] == "pending" and row["channel"] == "email" and row["recipient"] == "w@example.cn"
    assert row["template_key"] == "staff_notice" and row["attempts"] == 0
    assert queued_jobs() == 1


async def test_written_in_the_callers_transaction_and_enqueued_after_commit(world):
    a = world.tenants["a"]["id"]
    with pytest.raises(RuntimeError):
        async with atomic():
            await service.notify(a, "staff_notice", "k-rolled-back", email="w@example.cn", payload=NOTICE)
            assert queued_jobs() == 0  # held back until commit
            raise RuntimeError("the change that caused it failed")
    assert await rows(a) == [] and queued_jobs() == 0

    async with atomic():
        await service.notify(a, "staff_notice", "k-committed", email="w@example.cn", payload=NOTICE)
        assert queued_jobs() == 0
    assert len(await rows(a)) == 1 and queued_jobs() == 1


async def test_channel_fallback_between_email_sms_and_inapp(world):
    a = world.tenants["a"]["id"]
    await service.notify(a, "staff_notice", "no-email", email="", phone="13800138000", urgent=True, payload=NOTICE)
    await service.notify(a, "staff_notice", "no-phone", channel="sms", phone="", email="p@example.cn", payload=NOTICE)
    from app.accounts.tables import User

    staff = await User.select(User.id).where(User.email == world.users["a_staff"]).first()
    await service.notify(a, "staff_notice", "account-only", user_id=staff["id"], payload=NOTICE)
    with pytest.raises(service.NoRecipient):
        await service.notify(a, "staff_notice", "nobody", email="", phone="", payload=NOTICE)
    got = {r["dedupe_key"]: (r["channel"], r["recipient"]) for r in await rows(a)}
    assert got == {
        "no-email": ("sms", "13800138000"),
        "no-phone": ("email", "p@example.cn"),
        "account-only": ("inapp", f"user:{staff['id']}"),
    }


async def test_unknown_template_and_foreign_scope_are_refused(world):
    a, b = world.tenants["a"]["id"], world.tenants["b"]["id"]
    with pytest.raises(ValueError):
        await service.notify(a, "no_such_template", "k", email="w@example.cn")
    with tenant_scope(b), pytest.raises(TenancyError):
        await service.notify(a, "staff_notice", "k", email="w@example.cn", payload=NOTICE)
    with pytest.raises(TenancyError):
        await Notification.select()  # outside any scope


@pytest.mark.parametrize(
    "local, expected",
    [
        ("2026-11-26 12:00", None),
        ("2026-11-26 20:59", None),
        ("2026-11-26 21:00", "2026-11-27 08:00"),
        ("2026-11-26 23:30", "2026-11-27 08:00"),
        ("2026-11-27 07:59", "2026-11-27 08:00"),
        ("2026-11-27 08:00", None),
    ],
)
def test_quiet_hours_are_21_to_8_in_shanghai(local, expected):
    at = datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)
    result = service.quiet_until(at.astimezone(timezone.utc))
    if expected is None:
        assert result is None
    else:
        assert result == datetime.strptime(expected, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)


async def test_non_urgent_sms_written_at_night_waits_for_morning(world, monkeypatch):
    a = world.tenants["a"]["id"]
    night = datetime(2026, 11, 26, 23, 0, tzinfo=SHANGHAI).astimezone(timezone.utc)
    monkeypatch.setattr(service, "utcnow", lambda: night)
    await service.notify(a, "staff_notice", "sms-night", phone="13800138000", channel="sms", payload=NOTICE)
    await service.notify(a, "staff_notice", "sms-urgent", phone="13800138001", channel="sms", urgent=True,
                         payload=NOTICE)
    await service.notify(a, "staff_notice", "email-night", email="w@example.cn", payload=NOTICE)
    due = {r["dedupe_key"]: r["scheduled_for"] for r in await rows(a)}
    morning = datetime(2026, 11, 27, 8, 0, tzinfo=SHANGHAI)
    assert due["sms-night"] == morning
    assert due["sms-urgent"] == night and due["email-night"] == night
    with tenant_scope(a):
        ids = {r["dedupe_key"]: r["id"] for r in await rows(a)}
        assert await service.claim(ids["sms-night"]) is None  # not due before 08:00
        assert (await service.claim(ids["sms-urgent"]))["attempts"] == 1


def test_backoff_doubles_up_to_a_cap():
    assert [service.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert service.backoff(50) == service.BACKOFF_CAP


async def test_claim_is_atomic_and_once(world):
    a = world.tenants["a"]["id"]
    nid = await service.notify(a, "staff_notice", "k", email="w@example.cn", payload=NOTICE)
    with tenant_scope(a):
        import asyncio

        results = await asyncio.gather(*(service.claim(nid) for _ in range(8)))
        assert sum(r is not None for r in results) == 1
    with tenant_scope(world.tenants["b"]["id"]):
        assert await service.claim(nid) is None  # another tenant's job cannot take it
    with unscoped("test reads the row"):
        row = await Notification.select().where(Notification.id == nid).first()
    assert row["status"] == "sending" and row["attempts"] == 1


async def test_a_due_time_in_another_zone_is_stored_in_utc_and_compares_right(world):
    a = world.tenants["a"]["id"]
    later = (service.utcnow() + timedelta(hours=3)).astimezone(SHANGHAI)
    nid = await service.notify(a, "staff_notice", "later", email="w@example.cn", payload=NOTICE,
                               scheduled_for=later)
    [row] = await rows(a)
    assert row["scheduled_for"] == later
    with tenant_scope(a):
        assert await service.claim(nid) is None  # three hours early
        assert await service.claim_batch() == []
