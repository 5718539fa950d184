"""Spam limits per address and per mailbox hold under parallel requests; a refusal
keeps what was typed; a Redis outage does not lose a worker's message."""

from __future__ import annotations

import asyncio
import secrets

from app.feedback.tables import FeedbackItem
from tenants.scope import unscoped
from tests.feedback.helpers import GOOD, main, open_form
from tests.support import csrf_token


async def _count() -> int:
    with unscoped("test"):
        return await FeedbackItem.count()


async def _parallel(client, n: int, slug: str = "district-a"):
    await open_form(client, slug)
    token = csrf_token(client)
    return await asyncio.gather(*(
        client.post(f"/o/{slug}/feedback", data={**GOOD, "message": f"第{i}条：工资拖欠", "form_token": secrets.token_hex(8),
                                                  "_csrf_token": token}, follow_redirects=False)
        for i in range(n)))


async def test_one_address_gets_its_limit_and_not_one_more_in_parallel(client, world, monkeypatch):
    monkeypatch.setenv("FEEDBACK_MAX_PER_ADDRESS", "3")
    answers = await _parallel(client, 12)
    assert sorted(a.status_code for a in answers) == [200] * 3 + [429] * 9
    assert await _count() == 3
    refused = next(a for a in answers if a.status_code == 429)
    html = main(refused.text)
    assert "You have sent several messages in a short time" in html
    assert "：工资拖欠</textarea>" in html  # the text is still there to send later


async def test_one_mailbox_gets_its_limit_from_many_addresses_in_parallel(client, world, monkeypatch):
    monkeypatch.setenv("FEEDBACK_MAX_PER_ADDRESS", "1000")
    monkeypatch.setenv("FEEDBACK_MAX_PER_TENANT", "4")
    monkeypatch.setattr("app.feedback.routes.client_ip", lambda request: "10.9." + secrets.token_hex(2))
    answers = await _parallel(client, 10)
    assert sorted(a.status_code for a in answers) == [200] * 4 + [429] * 6
    assert "This mailbox is receiving very many messages right now" in next(
        a.text for a in answers if a.status_code == 429)
    assert await _count() == 4
    # Another organisation's mailbox is not affected.
    other = await _parallel(client, 2, "district-b")
    assert [a.status_code for a in other] == [200, 200]


async def test_invalid_submissions_do_not_use_up_the_limit(client, world, monkeypatch):
    monkeypatch.setenv("FEEDBACK_MAX_PER_ADDRESS", "1")
    await open_form(client, "district-a")
    for _ in range(3):
        bad = await client.post("/o/district-a/feedback", data={"message": "", "_csrf_token": csrf_token(client)})
        assert bad.status_code == 422
    [ok] = await _parallel(client, 1)
    assert ok.status_code == 200


async def test_without_redis_the_message_is_still_kept(client, world, monkeypatch, caplog):
    async def down(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr("app.core.ratelimit.consume", down)
    [answer] = await _parallel(client, 1)
    assert answer.status_code == 200 and 'id="secret"' in answer.text
    assert await _count() == 1
    assert "feedback limits could not be counted" in caplog.text
