"""The demo mailbox: items in every status for 城东镇 and its committee, escalations,
a committee card that opens the mailbox; deterministic and idempotent."""

from __future__ import annotations

from app.directory.demo import seed_demo
from app.feedback.demo import DEMO_SECRET, demo_code
from app.feedback.tables import FeedbackAccess, FeedbackEvent, FeedbackItem
from app.outreach.demo import card_code
from tenants.scope import unscoped
from tests.feedback.helpers import main, track
from tests.support import login


async def _snapshot():
    with unscoped("test"):
        items = await FeedbackItem.select(FeedbackItem.code, FeedbackItem.status, FeedbackItem.tenant.slug.as_alias("holder"),
                                          FeedbackItem.origin.slug.as_alias("origin")).order_by(FeedbackItem.code)
        return items, await FeedbackAccess.count(), await FeedbackEvent.count()


async def test_demo_mailboxes_have_content_and_seeding_twice_changes_nothing(client):
    await seed_demo()
    first = await _snapshot()
    items, _access, _events = first
    assert {i["status"] for i in items} == {"new", "acknowledged", "in_progress", "answered", "closed"}
    assert {(i["origin"], i["holder"]) for i in items} >= {("chengdong", "chengdong"), ("ent-chengdong-jiancai", "chengdong"),
                                                          ("chengdong", "city"), ("ent-chengdong-jiancai", "ent-chengdong-jiancai")}
    await seed_demo()
    assert await _snapshot() == first

    # The committee's card opens its mailbox; a demo item can be followed with the demo secret.
    scan = await client.get(f"/q/{card_code('ent-chengdong-jiancai')}", follow_redirects=False)
    assert scan.headers["location"] == "/o/ent-chengdong-jiancai/feedback"
    seen = main((await track(client, demo_code("cd-answered"), DEMO_SECRET)).text)
    assert "加班工资应以劳动合同约定的工资为基数计算" in seen

    assert (await login(client, "chengdong.staff@demo.tiaojie.cn", "Tiaojie-demo-2024")).status_code == 303
    inbox = main((await client.get("/manage/chengdong/feedback")).text)
    assert "139****5678" in inbox and "Overdue by" in inbox and "sent to 海安城东建材有限公司劳动争议调解委员会" in inbox
