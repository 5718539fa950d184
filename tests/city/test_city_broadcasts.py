"""Broadcast notices: compose → check → send; who receives them; dashboards and read
receipts; one outbox row per person written in batches and delivered by the real jobs."""

from __future__ import annotations

import pytest

from app.accounts.service import add_membership
from app.accounts.tables import User
from app.city import broadcasts
from app.city.tables import Broadcast, BroadcastRead, BroadcastRecipient
from app.notifications import service as outbox
from app.notifications.tables import Notification
from tenants.scope import tenant_scope, unscoped
from tests.notifications.helpers import SmtpSink, run_workers, use_settings
from tests.support import csrf_token, login, redis_sync


def _data(client, **extra):
    data = {"subject": "关于年底欠薪排查的通知", "body": "请各组织在 12 月 20 日前完成排查。\n名单报市中心。",
            "_csrf_token": csrf_token(client)}
    data.update(extra)
    return data


async def _send(client, **extra):
    return await client.post("/city/broadcasts/new", data=_data(client, action="send", **extra), follow_redirects=False)


async def _outbox() -> list[dict]:
    with unscoped("tests read the whole outbox"):
        return await Notification.select().order_by(Notification.id)


async def _recipients() -> set[int]:
    with unscoped("tests read every recipient row"):
        return {r["tenant"] for r in await BroadcastRecipient.select(BroadcastRecipient.tenant)}


async def test_compose_check_then_send_to_everyone(client, world):
    await login(client, world.users["city_admin"])
    assert (await client.get("/city/broadcasts/new")).status_code == 200
    check = await client.post("/city/broadcasts/new", data=_data(client, action="preview"))
    assert check.status_code == 200
    assert "4 organisations receive it" in check.text  # a, b, ent_a, union: not the city center itself
    assert "8 people get an email." in check.text
    with tenant_scope(world.tenants["city"]["id"]):
        assert await Broadcast.count() == 0  # checking sends nothing
    resp = await _send(client)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/city/broadcasts/")
    ids = {world.tenants[k]["id"] for k in ("a", "b", "ent_a", "union")}
    assert await _recipients() == ids
    rows = await _outbox()
    assert len(rows) == 8
    assert {r["tenant"] for r in rows} == {world.tenants["city"]["id"]}  # sent by the city center
    assert len({r["dedupe_key"] for r in rows}) == 8 and all(r["dedupe_key"].startswith("broadcast:") for r in rows)
    assert {r["template_key"] for r in rows} == {"broadcast"} and {r["channel"] for r in rows} == {"email"}
    # One batch delivery job for the whole notice instead of a job per message.
    assert len(redis_sync().keys(f"arq:job:deliver_due_notifications:{world.tenants['city']['id']}:*")) == 1
    detail = await client.get(resp.headers["location"])
    assert "The notice went to 4 organisations; 8 people get an email." in detail.text
    assert "nobody yet" in detail.text


async def test_audience_by_kind_and_district(client, world):
    t = {k: v["id"] for k, v in world.tenants.items()}
    assert {r["id"] for r in await broadcasts.recipients(["enterprise_committee"], [])} == {t["ent_a"]}
    assert {r["id"] for r in await broadcasts.recipients([], ["甲镇"])} == {t["a"], t["ent_a"]}
    assert {r["id"] for r in await broadcasts.recipients([], [broadcasts.CITY_LEVEL])} == {t["union"]}
    assert {r["id"] for r in await broadcasts.recipients(["district_center"], ["乙镇", broadcasts.CITY_LEVEL])} == {t["b"]}
    await login(client, world.users["city_admin"])
    resp = await _send(client, kinds="district_center", districts="甲镇")
    assert resp.status_code == 303
    assert await _recipients() == {t["a"]}
    assert len(await _outbox()) == 2  # a_admin, a_staff


async def test_bad_input_is_explained_and_kept(client, world):
    await login(client, world.users["city_admin"])
    resp = await client.post("/city/broadcasts/new", data=_data(client, subject="", action="send", districts="火星镇"))
    assert resp.status_code == 422
    assert 'id="f-subject-error"' in resp.text and 'id="f-districts-error"' in resp.text
    assert "请各组织在 12 月 20 日前完成排查。" in resp.text
    nobody = await client.post("/city/broadcasts/new", data=_data(client, action="send", kinds="chamber_org"))
    assert nobody.status_code == 422 and "No active organisation matches" in nobody.text
    with tenant_scope(world.tenants["city"]["id"]):
        assert await Broadcast.count() == 0
    assert await _outbox() == []


async def test_a_person_in_two_receiving_organisations_gets_one_email(client, world):
    user = await User.select(User.id).where(User.email == world.users["a_staff"]).first()
    await add_membership(user["id"], world.tenants["b"]["id"], "staff")
    await login(client, world.users["city_admin"])
    await _send(client, kinds="district_center")
    assert len([r for r in await _outbox() if r["recipient_user"] == user["id"]]) == 1


async def test_dashboard_shows_the_notice_and_records_who_read_it(client, world):
    await login(client, world.users["city_admin"])
    sent = await _send(client, districts="甲镇")
    broadcast_id = int(sent.headers["location"].rsplit("/", 1)[1])
    client.cookies.clear()
    await login(client, world.users["a_staff"])
    home = await client.get("/manage/district-a/")
    assert "关于年底欠薪排查的通知" in home.text and "I have read this" in home.text
    read = await client.post(f"/manage/district-a/broadcasts/{broadcast_id}/read",
                             data={"_csrf_token": csrf_token(client), "next": "/manage/district-a/"},
                             follow_redirects=False)
    assert read.status_code == 303 and read.headers["location"] == f"/manage/district-a/#notice-{broadcast_id}"
    again = await client.post(f"/manage/district-a/broadcasts/{broadcast_id}/read",
                              data={"_csrf_token": csrf_token(client), "next": "https://evil.example/"},
                              follow_redirects=False)
    assert again.headers["location"] == f"/manage/district-a/#notice-{broadcast_id}"  # no open redirect
    with unscoped("tests read receipts"):
        receipts = await BroadcastRead.select()
    assert len(receipts) == 1 and receipts[0]["tenant"] == world.tenants["a"]["id"]  # reading twice is one receipt
    home = await client.get("/manage/district-a/")
    assert "You read it on" in home.text and "I have read this" not in home.text
    # The admin of the organisation sees who read it; the city sees counts per organisation.
    client.cookies.clear()
    await login(client, world.users["a_admin"])
    home = await client.get("/manage/district-a/")
    assert "Read by:" in home.text and "a_staff" in home.text
    client.cookies.clear()
    await login(client, world.users["city_staff"])
    detail = await client.get(f"/city/broadcasts/{broadcast_id}")
    assert "1 / 2" in detail.text  # organisations where someone read it, of those it went to
    listing = await client.get("/city/broadcasts")
    assert "1 of 2 organisations" in listing.text


async def test_a_notice_stays_inside_the_organisations_it_was_sent_to(client, world):
    await login(client, world.users["city_admin"])
    sent = await _send(client, districts="甲镇")
    broadcast_id = int(sent.headers["location"].rsplit("/", 1)[1])
    client.cookies.clear()
    await login(client, world.users["b_admin"])
    assert "关于年底欠薪排查的通知" not in (await client.get("/manage/district-b/")).text
    assert "关于年底欠薪排查的通知" not in (await client.get("/manage/district-b/broadcasts")).text
    # Not received here: the same 404 as a missing notice.
    assert (await client.post(f"/manage/district-b/broadcasts/{broadcast_id}/read",
                              data={"_csrf_token": csrf_token(client)})).status_code == 404
    assert (await client.post("/manage/district-b/broadcasts/999999/read",
                              data={"_csrf_token": csrf_token(client)})).status_code == 404
    assert (await client.get(f"/city/broadcasts/{broadcast_id}")).status_code == 404  # not a city member


async def test_notify_many_batches_its_inserts(world, monkeypatch):
    city = world.tenants["city"]["id"]
    statements = []
    original = Notification.insert.__func__

    def counting_insert(cls, *rows):
        statements.append(len(rows))
        return original(cls, *rows)

    monkeypatch.setattr(Notification, "insert", classmethod(counting_insert))
    messages = [outbox.Outgoing(dedupe_key=f"bulk:{i}", email=f"p{i}@example.cn", payload={"subject": "s", "body": "b"})
                for i in range(1201)]
    with tenant_scope(city):
        written = await outbox.notify_many(city, "staff_notice", messages)
        assert written == 1201
        assert statements == [500, 500, 201]
        # Written again, nothing new: the dedupe keys are taken.
        assert await outbox.notify_many(city, "staff_notice", messages[:10]) == 0
    assert len(await _outbox()) == 1201


@pytest.fixture
def smtp(monkeypatch):
    sink = SmtpSink().start()
    use_settings(monkeypatch, SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port), SMTP_SECURITY="none",
                 SMTP_FROM="noreply@tiaojie.example", EMAIL_DELIVERY="smtp")
    yield sink
    sink.stop()
    from app.settings import get_settings

    monkeypatch.undo()
    get_settings.cache_clear()


async def test_the_notice_is_delivered_by_email_once_per_person(client, world, smtp):
    await login(client, world.users["city_admin"])
    await _send(client, districts="甲镇")
    await run_workers()
    assert sorted(r for _f, rcpts in smtp.envelopes for r in rcpts) == sorted(
        [world.users["a_admin"], world.users["a_staff"], world.users["ent_a_admin"], world.users["ent_a_staff"]])
    [msg] = smtp.to(world.users["a_staff"])
    assert "city name" in msg["From"]
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "关于年底欠薪排查的通知" in msg["Subject"] and "请各组织在 12 月 20 日前完成排查。" in text
    assert "/manage/district-a/" in text
    assert {r["status"] for r in await _outbox()} == {"sent"}
