"""The public form: what a worker sees, bad input kept beside clear messages, the receipt."""

from __future__ import annotations

import re

from app.feedback.tables import FeedbackAccess, FeedbackEvent, FeedbackItem
from app.notifications.tables import Notification
from tenants.scope import unscoped
from tests.feedback.helpers import GOOD, form_token, main, open_form, post_form, receipt, submit


async def _items() -> list[dict]:
    with unscoped("test"):
        return await FeedbackItem.select().order_by(FeedbackItem.id)


async def test_the_form_says_what_the_organisation_sees_and_where_to_call(client, world):
    from app.outreach.tables import Hotline
    from tenants.scope import tenant_scope

    with tenant_scope(world.tenants["a"]["id"]):
        await Hotline(tenant=world.tenants["a"]["id"], label="调解热线", number="0513-88881234").save()
    page = await open_form(client, "district-a")
    html = main(page.text)
    for category in ("Wage arrears", "Labour contract", "Social insurance", "Working hours and leave", "Dismissal",
                     "Occupational injury", "Other"):
        assert category in html
    assert 'href="tel:051388881234"' in html and "call 110" in html
    assert "does not see your name, your phone number or your network address" in html
    assert 'value="anonymous" aria-describedby="f-identity-anonymous-help" checked' in html
    assert "<script" not in html  # nothing on this page needs JavaScript
    # The page is cached for everyone, but each visitor gets their own tokens.
    again = await open_form(client, "district-a")
    assert form_token(again.text) != form_token(page.text)
    assert re.search(r'name="_csrf_token" value="([^"]+)"', again.text).group(1) == client.cookies.get("tiaojie_csrf")


async def test_an_anonymous_submission_gives_a_code_and_a_secret_and_reaches_the_staff(client, world):
    code, secret = await submit(client, "district-a")
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{3}-[2-9A-HJKMNP-Z]{3}-[2-9A-HJKMNP-Z]{3}", code)
    assert re.fullmatch(r"\d{4} \d{4}", secret)
    [item] = await _items()
    assert item["code"] == code.replace("-", "") and item["anonymous"] and item["contact_phone"] == ""
    assert item["tenant"] == item["origin"] == world.tenants["a"]["id"] and item["status"] == "new"
    assert secret.replace(" ", "") not in (item["secret_hash"], item["secret_salt"])  # only a hash is kept
    with unscoped("test"):
        assert await FeedbackAccess.count() == 1 and await FeedbackEvent.count() == 1
        sent = await Notification.select(Notification.channel, Notification.recipient, Notification.payload,
                                         Notification.template_key)
    # District-a's admin and staff member each get an in-app message and an email, without the text.
    assert sorted((n["channel"], n["recipient"]) for n in sent) == sorted(
        (ch, f"a_{role}@test.tiaojie.cn") for ch in ("inapp", "email") for role in ("admin", "staff"))
    assert all(n["template_key"] == "feedback_new" and "工资" not in n["payload"] for n in sent)


async def test_contact_details_are_kept_only_when_chosen(client, world):
    page = await open_form(client, "district-a")
    resp = await post_form(client, "district-a", {**GOOD, "identity": "contact", "name": "王师傅",
                                                  "phone": "138 1234 5678", "form_token": form_token(page.text)})
    assert resp.status_code == 200
    assert "Text them to yourself" in resp.text and 'href="sms:13812345678?&amp;body=' in resp.text
    [item] = await _items()
    assert (item["anonymous"], item["contact_name"], item["contact_phone"]) == (False, "王师傅", "13812345678")


async def test_bad_input_gets_messages_beside_the_fields_and_keeps_everything(client, world):
    page = await open_form(client, "district-a")
    token = form_token(page.text)
    cases = [
        ({"category": "", "message": "   "}, ["f-category-error", "f-message-error"]),
        ({"message": "长" * 5001}, ["At most 5000 characters; this has 5001"]),
        ({"identity": "contact", "name": "李", "phone": "12345"}, ["Enter a Chinese mobile number"]),
        ({"identity": "contact", "name": "李"}, ["Enter the phone number the organisation may call you on."]),
        ({"identity": "anonymous", "name": "李四"}, ["You chose to stay anonymous"]),
        ({"category": "bribery"}, ["Choose one of the options."]),
        ({"message": "工资\x00拖欠"}, ["invisible control characters"]),
    ]
    for change, expected in cases:
        fields = {**GOOD, "form_token": token, **change}
        resp = await post_form(client, "district-a", fields)
        assert resp.status_code == 422, change
        html = main(resp.text)
        for text in expected:
            assert text in html, (change, text)
        shown = fields["message"].replace("\x00", "").strip()
        assert f">{shown}</textarea>" in html, change  # what was typed is still there
        if fields.get("name"):
            assert f'value="{fields["name"]}"' in html
    assert await _items() == []


async def test_a_filled_honeypot_is_refused_with_the_text_kept(client, world):
    page = await open_form(client, "district-a")
    resp = await post_form(client, "district-a", {**GOOD, "website": "http://spam.example", "form_token": form_token(page.text)})
    assert resp.status_code == 422 and "Leave this field empty." in resp.text
    assert GOOD["message"] in resp.text
    assert await _items() == []


async def test_an_expired_form_keeps_what_was_typed_and_works_when_sent_again(client, world):
    await open_form(client, "district-a")
    client.cookies.clear()  # the browser lost its cookie, or the token is stale
    resp = await client.post("/o/district-a/feedback", data={**GOOD, "_csrf_token": "stale"}, follow_redirects=False)
    assert resp.status_code == 403
    assert "This form had expired" in resp.text and GOOD["message"] in resp.text
    new_token = re.search(r'name="_csrf_token" value="([^"]+)"', resp.text).group(1)
    assert client.cookies.get("tiaojie_csrf") == new_token
    again = await client.post("/o/district-a/feedback", data={**GOOD, "_csrf_token": new_token}, follow_redirects=False)
    assert again.status_code == 200 and receipt(again.text)
    assert len(await _items()) == 1


async def test_sending_the_same_form_twice_stores_one_message(client, world):
    page = await open_form(client, "district-a")
    fields = {**GOOD, "form_token": form_token(page.text)}
    first = await post_form(client, "district-a", fields)
    second = await post_form(client, "district-a", fields)
    code, _secret = receipt(first.text)
    assert second.status_code == 200 and "This message had already arrived" in second.text and code in second.text
    assert 'id="secret"' not in second.text
    assert len(await _items()) == 1


async def test_oversized_bodies_are_refused_before_reading(client, world):
    await open_form(client, "district-a")
    resp = await post_form(client, "district-a", {**GOOD, "message": "x" * 300_000})
    assert resp.status_code == 413 and "This message is far too long to be received" in resp.text
    assert await _items() == []


async def test_no_mailbox_for_missing_or_inactive_organisations(client, world):
    from tenants.tables import Tenant

    assert (await client.get("/o/no-such-org/feedback")).status_code == 404
    await Tenant.update({Tenant.active: False}).where(Tenant.slug == "district-b")
    assert (await client.get("/o/district-b/feedback")).status_code == 404


async def test_the_public_page_and_the_card_qr_code_lead_to_the_mailbox(client, world):
    from app.outreach.tables import InfoCard
    from tenants.scope import tenant_scope

    page = await client.get("/o/district-a/")
    assert 'href="/o/district-a/feedback"' in page.text
    with tenant_scope(world.tenants["a"]["id"]):
        await InfoCard(tenant=world.tenants["a"]["id"], code="QRMABC22", title="卡", published=True).save()
    scan = await client.get("/q/QRMABC22", follow_redirects=False)
    assert scan.status_code == 303 and scan.headers["location"] == "/o/district-a/feedback"
    assert (await client.get(scan.headers["location"])).status_code == 200
