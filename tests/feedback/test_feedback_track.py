"""/track: status and replies only with the code *and* the secret; failures limited."""

from __future__ import annotations

import asyncio

from app.feedback import limits
from tests.feedback.helpers import main, submit, track
from tests.support import csrf_token, login


async def test_the_code_and_secret_show_status_and_replies(client, world):
    code, secret = await submit(client, "district-a")
    resp = await track(client, code, secret)
    assert resp.status_code == 200 and resp.headers["cache-control"] == "no-store"
    html = main(resp.text)
    assert f"Your message {code}" in html and "district-a name received your message." in html
    assert "Wage arrears" in html and "New" in html
    assert "三个月没发工资" not in html  # the page shows the history, not the message back to whoever holds the code
    # Typed loosely: lower case, spaces instead of hyphens, no space in the secret.
    loose = await track(client, code.lower().replace("-", " "), secret.replace(" ", ""))
    assert loose.status_code == 200 and f"Your message {code}" in loose.text


async def test_an_unknown_code_and_a_wrong_secret_get_the_same_answer(client, world):
    code, secret = await submit(client, "district-a")
    wrong = "0000 0000" if secret != "0000 0000" else "1111 1111"
    wrong_secret = await track(client, code, wrong)
    unknown_code = await track(client, "ABC-DEF-GHJ", wrong)
    malformed = await track(client, "not a code", "12")
    assert wrong_secret.status_code == unknown_code.status_code == malformed.status_code == 422
    assert main(wrong_secret.text).replace(code, "X") == main(unknown_code.text).replace("ABC-DEF-GHJ", "X")
    assert "No message matches this code and secret" in wrong_secret.text
    assert "Wage arrears" not in wrong_secret.text and "district-a" not in main(wrong_secret.text)
    empty = await track(client, "", "")
    assert empty.status_code == 422 and "This field is required." in empty.text


async def test_failed_attempts_are_limited_and_successes_do_not_count(client, world, monkeypatch):
    monkeypatch.setenv("TRACK_MAX_FAILURES", "3")
    code, secret = await submit(client, "district-a")
    for _ in range(5):  # reading one's own reply again and again is fine
        assert (await track(client, code, secret)).status_code == 200
    for _ in range(3):
        assert (await track(client, code, "9999 9998")).status_code == 422
    refused = await track(client, code, secret)
    assert refused.status_code == 429 and "Too many attempts that did not match" in refused.text
    assert code in refused.text  # what was typed stays in the form


async def test_one_code_cannot_be_guessed_from_many_addresses(client, world, monkeypatch):
    code, secret = await submit(client, "district-a")
    monkeypatch.setattr(limits, "limits", lambda: limits.Limits(10, 100, 3600, 1000, 4, 900, 3600))
    for i in range(4):
        monkeypatch.setattr("app.feedback.routes.client_ip", lambda request, i=i: f"10.0.0.{i}")
        assert (await track(client, code, "9999 9998")).status_code == 422
    monkeypatch.setattr("app.feedback.routes.client_ip", lambda request: "10.0.0.99")
    assert (await track(client, code, secret)).status_code == 429


async def test_parallel_failed_attempts_cannot_race_past_the_limit(client, world, monkeypatch):
    monkeypatch.setenv("TRACK_MAX_FAILURES", "5")
    await client.get("/track")
    token = csrf_token(client)
    answers = await asyncio.gather(*(client.post("/track", data={"code": "ABC-DEF-GHJ", "secret": f"1234 {i:04d}",
                                                                 "_csrf_token": token}) for i in range(20)))
    assert sorted(a.status_code for a in answers) == [422] * 5 + [429] * 15


async def test_without_redis_the_check_waits_rather_than_opening_up(client, world, monkeypatch):
    code, secret = await submit(client, "district-a")

    async def down(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr("app.core.ratelimit.consume", down)
    resp = await track(client, code, secret)
    assert resp.status_code == 503 and "We cannot check codes right now" in resp.text and code in resp.text


async def test_an_expired_track_form_keeps_the_code(client, world):
    code, secret = await submit(client, "district-a")
    client.cookies.clear()
    resp = await client.post("/track", data={"code": code, "secret": secret, "_csrf_token": "x"})
    assert resp.status_code == 403 and "This form had expired" in resp.text and code in resp.text


async def test_the_submitter_reads_the_reply_and_can_say_it_is_not_resolved(client, world):
    code, secret = await submit(client, "district-a")
    staff = client  # the same client signs in as staff afterwards
    await login(staff, world.users["a_staff"])
    inbox = await staff.get("/manage/district-a/feedback")
    item_id = inbox.text.split('/manage/district-a/feedback/')[1].split('"')[0]
    resp = await staff.post(f"/manage/district-a/feedback/{item_id}/reply",
                            data={"body": "我们已联系贵公司，请于周五上午来中心面谈。", "_csrf_token": csrf_token(staff)}, follow_redirects=False)
    assert resp.status_code == 303
    await staff.post("/logout", data={"_csrf_token": csrf_token(staff)})
    seen = main((await track(client, code, secret)).text)
    assert "Reply from district-a name:" in seen and "请于周五上午来中心面谈" in seen and "Answered" in seen
    assert "It is not resolved" in seen
    again = await track(client, code, secret, action="not_resolved", comment="公司还是不认账。")
    assert again.status_code == 200
    html = main(again.text)
    assert "Your message is open again" in html and "You said the matter is not resolved." in html
    assert "公司还是不认账。" in html and "In progress" in html and "It is not resolved" not in html


async def test_two_presses_of_not_resolved_at_once_reopen_it_once(client, world):
    from app.feedback import service
    from app.feedback.tables import FeedbackEvent, FeedbackItem
    from tenants.scope import tenant_scope, unscoped

    code, secret = await submit(client, "district-a")
    with unscoped("test"):
        item_id = (await FeedbackItem.select(FeedbackItem.id).first())["id"]
    with tenant_scope(world.tenants["a"]["id"]):
        await service.reply(item_id, "已答复", None)
    answers = await asyncio.gather(*(track(client, code, secret, action="not_resolved", comment="没解决")
                                     for _ in range(3)))
    assert [a.status_code for a in answers] == [200, 200, 200]
    with unscoped("test"):
        item = await FeedbackItem.select(FeedbackItem.reopenings, FeedbackItem.status).first()
        reopened = await FeedbackEvent.count().where(FeedbackEvent.kind == "reopened")
    assert item == {"reopenings": 1, "status": "in_progress"} and reopened == 1
