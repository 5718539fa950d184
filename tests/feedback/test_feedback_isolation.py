"""Isolation: outsiders get the same 404 as for a missing tenant on every private route;
the city sees counts and times across the network, never contents it was not sent."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.feedback import clock
from app.feedback.tables import FeedbackEvent, FeedbackItem
from app.feedback.workdays import SH
from tenants.scope import tenant_scope, unscoped
from tests.feedback.helpers import main, make_item
from tests.support import csrf_token, login

OWN_MAILBOX = {"b_admin": "district-b", "b_staff": "district-b", "ent_a_admin": "ent-a", "ent_a_staff": "ent-a",
               "union_admin": "union-a", "city_admin": "city", "city_staff": "city"}
OUTSIDERS = ["b_admin", "b_staff", "ent_a_admin", "ent_a_staff", "union_admin", "union_rep", "city_admin", "city_staff"]


@pytest.mark.parametrize("who", OUTSIDERS)
async def test_outsiders_get_404_on_every_mailbox_route_of_another_tenant(client, world, who):
    item_id = await make_item(world.tenants["a"]["id"], message="甲镇的秘密留言")
    await login(client, world.users[who])
    for path in ("feedback", "feedback/settings", f"feedback/{item_id}"):
        foreign = await client.get(f"/manage/district-a/{path}")
        missing = await client.get(f"/manage/no-such-tenant/{path}")
        assert foreign.status_code == missing.status_code == 404, (who, path)
        assert main(foreign.text) == main(missing.text)
    for action in ("status", "assign", "reply", "note", "escalate"):
        resp = await client.post(f"/manage/district-a/feedback/{item_id}/{action}",
                                 data={"to": "closed", "body": "越权", "_csrf_token": csrf_token(client)})
        assert resp.status_code == 404, (who, action)
    # Their own console, with the other tenant's item id: the same 404 as a missing item.
    own = OWN_MAILBOX.get(who)
    if own:  # a union representative has no mailbox console to try
        foreign = await client.get(f"/manage/{own}/feedback/{item_id}")
        missing = await client.get(f"/manage/{own}/feedback/999999")
        assert foreign.status_code == missing.status_code == 404 and main(foreign.text) == main(missing.text)
        listing = await client.get(f"/manage/{own}/feedback?status=all")
        assert "甲镇的秘密留言" not in listing.text
        for action in ("reply", "note", "status", "escalate"):
            resp = await client.post(f"/manage/{own}/feedback/{item_id}/{action}",
                                     data={"to": "closed", "body": "越权", "_csrf_token": csrf_token(client)})
            assert resp.status_code == 404, (who, action)
    with unscoped("test"):
        item = await FeedbackItem.select(FeedbackItem.status, FeedbackItem.tenant).first()
        assert await FeedbackEvent.count().where(FeedbackEvent.kind != "received") == 0
    assert item == {"status": "new", "tenant": world.tenants["a"]["id"]}


async def test_anonymous_staff_pages_send_to_sign_in(client, world):
    item_id = await make_item(world.tenants["a"]["id"])
    for path in ("/manage/district-a/feedback", f"/manage/district-a/feedback/{item_id}", "/city/feedback",
                 "/manage/district-a/feedback/settings"):
        resp = await client.get(path, follow_redirects=False)
        assert resp.status_code == 303 and resp.headers["location"].startswith("/login?next="), path


async def test_the_city_sees_counts_and_response_times_but_no_contents(client, world):
    clock.set(datetime(2026, 11, 2, 10, tzinfo=SH))  # a Monday
    answered = await make_item(world.tenants["a"]["id"], message="城市看不到的内容一")
    await make_item(world.tenants["a"]["id"], message="城市看不到的内容二")
    escalated = await make_item(world.tenants["ent_a"]["id"], escalations=1, message="城市看不到的内容三")
    from app.feedback import service

    clock.set(datetime(2026, 11, 4, 15, tzinfo=SH))  # answered two working days later, in time
    with tenant_scope(world.tenants["a"]["id"]):
        await service.reply(answered, "答复内容不外传", None)
    clock.set(datetime(2026, 11, 20, 10, tzinfo=SH))
    await login(client, world.users["city_staff"])
    page = await client.get("/city/feedback?days=30")
    assert page.status_code == 200
    html = main(page.text)
    for text in ("城市看不到的内容", "答复内容不外传", "三个月没发工资"):
        assert text not in html
    with unscoped("test"):
        codes = [r["code"] for r in await FeedbackItem.select(FeedbackItem.code)]
    assert not any(code in html or f"{code[:3]}-" in html for code in codes)
    row = html[html.index("district-a name"):]
    row = row[: row.index("</tr>")]
    cells = [c.split("<")[0] for c in row.split('<td class="num')[1:]]
    cells = [c.split(">", 1)[1] if ">" in c else c for c in cells]
    # received, answered, answered in time, median working days, escalated, open now, overdue now
    assert cells[:7] == ["2", "1", "100%", "2", "0", "2", "2"], cells  # open: its own unanswered one + the escalated one
    ent_row = html[html.index("ent-a name"):]
    ent_cells = [c.split(">", 1)[1].split("<")[0] for c in ent_row[: ent_row.index("</tr>")].split('<td class="num')[1:]]
    assert ent_cells[:7] == ["1", "0", "—", "—", "1", "0", "0"], ent_cells
    # htmx swaps just the figures.
    fragment = await client.get("/city/feedback?days=365", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="figures">')
    assert escalated
