"""Escalation along the tree (企业 → 区镇 → 市): the receiver handles it, earlier holders
keep read access, the submitter sees it move, and nobody else can read it."""

from __future__ import annotations

from app.feedback.tables import FeedbackItem
from app.notifications.tables import Notification
from tenants.scope import unscoped
from tests.feedback.helpers import main, submit, track
from tests.support import csrf_token, login


async def _post(client, path: str, **data):
    return await client.post(path, data={**data, "_csrf_token": csrf_token(client)}, follow_redirects=False)


async def _as(client, who: str, world):
    client.cookies.clear()
    assert (await login(client, world.users[who])).status_code == 303


async def test_an_escalated_item_moves_up_the_tree_and_stays_readable_where_it_was(client, world):
    code, secret = await submit(client, "ent-a", message="车间主任克扣加班费。")
    with unscoped("test"):
        item_id = (await FeedbackItem.select(FeedbackItem.id).first())["id"]
    ent, district, city = (f"/manage/{s}/feedback/{item_id}" for s in ("ent-a", "district-a", "city"))

    await _as(client, "ent_a_staff", world)
    await _post(client, f"{ent}/note", body="内部：涉及车间主任，本委员会回避。")
    page = main((await client.get(ent)).text)
    assert "Escalate to district-a name" in page
    assert (await _post(client, f"{ent}/escalate", body="需回避，请区中心处理。")).status_code == 303
    after = main((await client.get(ent)).text)
    assert "now handled by district-a name" in after and "Send the reply" not in after and "车间主任克扣加班费" in after
    refused = await _post(client, f"{ent}/reply", body="我们来答复")
    assert refused.status_code == 303
    assert "no longer act on it" in main((await client.get(ent)).text)
    assert "Items escalated onwards" in (await client.get("/manage/ent-a/feedback?where=passed")).text
    assert code in main((await client.get("/manage/ent-a/feedback?where=passed")).text)

    # The district center was told, sees the message, its history and the committee's notes, and answers.
    with unscoped("test"):
        told = await Notification.select(Notification.recipient, Notification.channel).where(
            Notification.template_key == "feedback_escalated")
    assert sorted(t["recipient"] for t in told if t["channel"] == "email") == ["a_admin@test.tiaojie.cn",
                                                                            "a_staff@test.tiaojie.cn"]
    await _as(client, "a_staff", world)
    inbox = main((await client.get("/manage/district-a/feedback")).text)
    assert code in inbox and "sent to ent-a name" in inbox
    page = main((await client.get(district)).text)
    assert "车间主任克扣加班费" in page and "本委员会回避" in page and "需回避，请区中心处理。" in page
    assert "Escalate to city name" in page
    assert (await _post(client, f"{district}/reply", body="区中心已受理，将约谈企业。")).status_code == 303

    # The submitter sees that it moved, and the answer.
    seen = main((await track(client, code, secret)).text)
    assert "passed from ent-a name to district-a name" in seen and "区中心已受理，将约谈企业。" in seen
    assert "本委员会回避" not in seen and "需回避" not in seen  # notes and staff reasons stay inside

    # Nobody else can read it: another district, the city (not escalated to it), the union.
    for who, url in (("b_staff", f"/manage/district-b/feedback/{item_id}"), ("b_admin", f"/manage/district-b/feedback/{item_id}"),
                     ("city_admin", city), ("city_staff", city), ("union_admin", f"/manage/union-a/feedback/{item_id}"),
                     ("city_admin", district), ("b_staff", district)):
        await _as(client, who, world)
        assert (await client.get(url)).status_code == 404, (who, url)
        assert code not in (await client.get("/manage/district-b/feedback?status=all")).text
    await _as(client, "city_admin", world)
    assert code not in (await client.get("/manage/city/feedback?status=all&where=here")).text
    assert "车间主任" not in (await client.get("/city/feedback")).text


async def test_escalated_to_the_city_center_the_city_reads_it_and_it_goes_no_higher(client, world):
    code, _secret = await submit(client, "district-a")
    with unscoped("test"):
        item_id = (await FeedbackItem.select(FeedbackItem.id).first())["id"]
    await _as(client, "a_staff", world)
    assert (await _post(client, f"/manage/district-a/feedback/{item_id}/escalate")).status_code == 303
    await _as(client, "city_staff", world)
    page = main((await client.get(f"/manage/city/feedback/{item_id}")).text)
    assert "三个月没发工资了" in page and "escalate-h" not in page  # the root has nobody above it
    refused = await _post(client, f"/manage/city/feedback/{item_id}/escalate")
    assert refused.status_code == 422 and "no organisation above this one" in refused.text
    assert code in main((await client.get("/manage/city/feedback")).text)


async def test_only_open_items_can_be_escalated(client, world):
    await submit(client, "ent-a")
    with unscoped("test"):
        item_id = (await FeedbackItem.select(FeedbackItem.id).first())["id"]
    await _as(client, "ent_a_staff", world)
    await _post(client, f"/manage/ent-a/feedback/{item_id}/reply", body="已处理")
    refused = await _post(client, f"/manage/ent-a/feedback/{item_id}/escalate")
    assert refused.status_code == 422 and "Only an item that still waits for an answer" in refused.text
    with unscoped("test"):
        assert (await FeedbackItem.select(FeedbackItem.tenant).first())["tenant"] == world.tenants["ent_a"]["id"]
