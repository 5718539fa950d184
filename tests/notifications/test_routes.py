"""Staff pages: the tenant's outbox with filters and retry, the inbox, the city counts."""

from __future__ import annotations

import re

from app.accounts.tables import User
from app.audit.tables import AuditEntry
from app.notifications import service
from app.notifications.tables import Notification
from tenants.scope import tenant_scope, unscoped
from tests.support import csrf_token, login, redis_sync

NOTICE = {"subject": "Hello", "body": "A notice"}


def shown(resp) -> str:
    """The page's text as read (tags out: an address carries <wbr> break opportunities)."""
    return re.sub(r"<[^>]+>", "", resp.text)


async def failed_message(tenant_id: int, key: str = "k-failed", error: str = "SMTPConnectError: refused") -> int:
    nid = await service.notify(tenant_id, "staff_notice", key, email="w@example.cn", payload=NOTICE)
    with tenant_scope(tenant_id):
        await Notification.update({Notification.status: "failed", Notification.attempts: 6,
                                   Notification.last_error: error}).where(Notification.id == nid)
    return nid


async def test_staff_see_every_message_and_why_it_failed(client, world):
    a = world.tenants["a"]["id"]
    await service.notify(a, "staff_notice", "k-pending", email="pending@example.cn", payload=NOTICE)
    nid = await failed_message(a)
    await failed_message(world.tenants["b"]["id"], "k-other", "secret error of b")
    await login(client, world.users["a_staff"])
    page = await client.get("/manage/district-a/notifications")
    assert page.status_code == 200
    assert "pending@example.cn" in shown(page) and "The mail server could not be reached." in page.text
    assert "secret error of b" not in page.text
    failed = await client.get("/manage/district-a/notifications?status=failed")
    assert "The mail server could not be reached." in failed.text and "pending@example.cn" not in shown(failed)
    assert f"/manage/district-a/notifications/{nid}/retry" in failed.text
    # htmx asks for the list only
    fragment = await client.get("/manage/district-a/notifications?status=failed", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="outbox">') and "<html" not in fragment.text
    detail = await client.get(f"/manage/district-a/notifications/{nid}")
    assert detail.status_code == 200 and "A notice" in detail.text
    assert "The mail server could not be reached." in detail.text and "SMTPConnectError: refused" in detail.text
    assert "k-failed" not in detail.text  # the dedupe key is for the machine, not for staff


async def test_staff_read_subjects_kinds_and_reasons_never_codes(client, world):
    a = world.tenants["a"]["id"]
    await service.notify(a, "staff_notice", "demo:district-a:7", email="x@example.cn",
                         payload={"subject": "讲座时间提醒", "body": "沙龙已取消。"})
    with tenant_scope(a):
        row = await Notification.select().first()
        # As the delivery job does when the message's cause went away.
        await Notification.update({Notification.status: "cancelled", Notification.last_error: service.NO_LONGER_APPLIES})
    await login(client, world.users["a_staff"])
    listing = (await client.get("/manage/district-a/notifications")).text
    assert f'href="/manage/district-a/notifications/{row["id"]}">讲座时间提醒</a>' in listing
    assert "staff_notice" not in listing and f"#{row['id']}" not in listing
    assert "Not sent: what it was about was cancelled or changed before it was due." in listing
    assert "no longer applies" not in listing
    detail = (await client.get(f"/manage/district-a/notifications/{row['id']}")).text
    assert "<h1>讲座时间提醒</h1>" in detail and "Notice to staff" in detail
    assert "demo:district-a:7" not in detail and "no longer applies" not in detail
    # In Chinese, the reason reads in Chinese too.
    zh = (await client.get(f"/manage/district-a/notifications/{row['id']}", headers={"Accept-Language": "zh-CN"})).text
    assert "未发送：相关事项在发送前已取消或变更。" in zh


async def test_retry_button_puts_a_failed_message_back_and_is_audited(client, world):
    a = world.tenants["a"]["id"]
    nid = await failed_message(a)
    redis_sync().flushdb()
    await login(client, world.users["a_staff"])
    resp = await client.post(f"/manage/district-a/notifications/{nid}/retry",
                             data={"_csrf_token": csrf_token(client)}, follow_redirects=False)
    assert resp.status_code == 303
    with tenant_scope(a):
        row = await Notification.select().where(Notification.id == nid).first()
        assert await AuditEntry.exists().where(AuditEntry.action == "notification.retried")
    assert row["status"] == "pending" and row["attempts"] == 0
    assert redis_sync().zcard("arq:queue") == 1
    # Not failed any more: nothing happens a second time.
    again = await client.post(f"/manage/district-a/notifications/{nid}/retry",
                              data={"_csrf_token": csrf_token(client)})
    assert "Only a failed message can be retried." in again.text
    # Without the CSRF token the request is refused.
    assert (await client.post(f"/manage/district-a/notifications/{nid}/retry")).status_code == 403


async def test_other_tenants_and_low_roles_cannot_see_or_retry(client, world):
    a = world.tenants["a"]["id"]
    nid = await failed_message(a)
    await login(client, world.users["b_staff"])
    assert (await client.get("/manage/district-a/notifications")).status_code == 404
    # b's staff asking b's console for a's message: the same 404 as a missing one.
    assert (await client.get(f"/manage/district-b/notifications/{nid}")).status_code == 404
    resp = await client.post(f"/manage/district-b/notifications/{nid}/retry", data={"_csrf_token": csrf_token(client)})
    assert resp.status_code == 404
    with unscoped("test checks the row is untouched"):
        assert (await Notification.select().where(Notification.id == nid).first())["status"] == "failed"
    await client.post("/logout", data={"_csrf_token": csrf_token(client)})
    await login(client, world.users["union_rep"])
    assert (await client.get("/manage/union-a/notifications")).status_code == 403
    assert (await client.get("/manage/union-a/inbox")).status_code == 200


async def test_send_me_a_test_message_and_read_it_in_the_inbox(client, world, monkeypatch):
    from tests.notifications.helpers import SmtpSink, run_workers, use_settings

    sink = SmtpSink().start()
    use_settings(monkeypatch, SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port), EMAIL_DELIVERY="smtp")
    await login(client, world.users["a_staff"])
    resp = await client.post("/manage/district-a/notifications/test", data={"_csrf_token": csrf_token(client)},
                             follow_redirects=True)
    assert "A test message is on its way" in resp.text
    staff = await User.select(User.id).where(User.email == world.users["a_staff"]).first()
    # The account has an email address, so the test goes by email; add an in-app one.
    await service.notify(world.tenants["a"]["id"], "staff_notice", "inapp-1", channel="inapp",
                         user_id=staff["id"], payload={"subject": "Inbox subject", "body": "Inbox body"}, locale="en")
    try:
        await run_workers()
    finally:
        sink.stop()
    [mail] = sink.messages
    assert mail["To"] == world.users["a_staff"] and "Test message from district-a name" in mail["Subject"]
    inbox = await client.get("/manage/district-a/inbox")
    assert "Inbox subject" in inbox.text and "Inbox body" in inbox.text and ">unread<" in inbox.text
    await client.post("/manage/district-a/inbox/read", data={"_csrf_token": csrf_token(client)})
    with tenant_scope(world.tenants["a"]["id"]):
        assert await service.unread_count(staff["id"]) == 0
        kinds = {r["channel"] for r in await Notification.select(Notification.channel)}
    assert kinds == {"email", "inapp"}


async def test_city_center_sees_counts_per_tenant_only(client, world):
    await failed_message(world.tenants["a"]["id"], "a1", "private error text")
    await service.notify(world.tenants["b"]["id"], "staff_notice", "b1", email="b@example.cn", payload=NOTICE)
    await login(client, world.users["city_staff"])
    page = await client.get("/city/notifications")
    assert page.status_code == 200
    assert "district-a name" in page.text and "district-b name" in page.text
    assert "private error text" not in page.text and "b@example.cn" not in shown(page)
    await client.post("/logout", data={"_csrf_token": csrf_token(client)})
    await login(client, world.users["a_admin"])
    assert (await client.get("/city/notifications")).status_code == 404


async def test_pages_are_valid_html(client, world):
    from tests.quality import HtmlValidator, format_html_errors

    a = world.tenants["a"]["id"]
    nid = await failed_message(a)
    staff = await User.select(User.id).where(User.email == world.users["a_admin"]).first()
    await service.notify(a, "staff_notice", "inapp", channel="inapp", user_id=staff["id"], payload=NOTICE)
    with tenant_scope(a):
        await Notification.update({Notification.status: "sent"}).where(Notification.dedupe_key == "inapp")
    validator = HtmlValidator()
    await login(client, world.users["a_admin"])
    for name, path in [("list", "/manage/district-a/notifications"),
                       ("detail", f"/manage/district-a/notifications/{nid}"),
                       ("inbox", "/manage/district-a/inbox")]:
        resp = await client.get(path)
        assert resp.status_code == 200, path
        validator.add(name, resp.text)
    await client.post("/logout", data={"_csrf_token": csrf_token(client)})
    await login(client, world.users["city_staff"])
    validator.add("city", (await client.get("/city/notifications")).text)
    # Templates write htmx attributes as data-hx-*, which is valid HTML: nothing is filtered.
    errors = validator.errors()
    assert not any(errors.values()), format_html_errors(errors)
