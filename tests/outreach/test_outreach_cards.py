"""Information cards: create, validate, print, QR PNG, handed-out counts, scans by /q/<code>."""

from __future__ import annotations

import re
from types import SimpleNamespace


from app.outreach import service
from app.outreach.counters import LIVE_KEY, flush_counts
from app.outreach.routes import scan_target
from app.outreach.tables import DailyCount, InfoCard, OutreachEntry
from tenants.scope import tenant_scope, unscoped
from tenants.tables import Tenant
from tests.qr import decode_png, decode_svg
from tests.support import csrf_token, login, redis_sync


def _data(client, **values):
    return {"title": "欠薪找我们", "body": "免费调解。", "contact_lines": "电话 0513-88881234\n\n地址 甲镇 1 号",
            "audience": "建筑工人", "published": "1", "_csrf_token": csrf_token(client), **values}


async def _card(tenant_id: int, title: str = "卡片", published: bool = True) -> dict:
    with tenant_scope(tenant_id):
        card = InfoCard(tenant=tenant_id, code=service.new_card_code(), title=title, body="正文",
                        contact_lines="电话 12333", published=published)
        await card.save()
        return {"id": card.id, "code": card.code}


async def test_staff_creates_a_published_card_shown_on_the_public_page(client, world):
    await login(client, world.users["a_staff"])
    assert (await client.get("/manage/district-a/cards/new")).status_code == 200
    resp = await client.post("/manage/district-a/cards/new", data=_data(client), follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/manage/district-a/cards"
    with tenant_scope(world.tenants["a"]["id"]):
        card = await InfoCard.select().first()
    assert card["published"] and card["contact_lines"] == "电话 0513-88881234\n地址 甲镇 1 号"
    assert re.fullmatch(f"[{service.CODE_ALPHABET}]{{8}}", card["code"])
    listing = await client.get("/manage/district-a/cards")
    assert f"/q/{card['code']}" in listing.text and f'/o/district-a/cards/{card["id"]}?sheet=a4' in listing.text
    public = (await client.get("/o/district-a/")).text
    assert "欠薪找我们" in public and "地址 甲镇 1 号" in public and f'href="/o/district-a/cards/{card["id"]}"' in public


async def test_empty_title_and_overlong_text_are_refused(client, world):
    await login(client, world.users["a_staff"])
    resp = await client.post("/manage/district-a/cards/new", data=_data(client, title="", body="字" * 401))
    assert resp.status_code == 422
    assert 'id="f-title-error"' in resp.text and 'id="f-body-error"' in resp.text
    assert "建筑工人" in resp.text  # what was typed is kept
    lines = "\n".join(f"第 {i} 行" for i in range(7))
    resp = await client.post("/manage/district-a/cards/new", data=_data(client, contact_lines=lines))
    assert resp.status_code == 422 and "At most 6 contact lines" in resp.text
    with unscoped("test"):
        assert await InfoCard.count() == 0


async def test_edit_unpublish_and_delete(client, world):
    card = await _card(world.tenants["a"]["id"], "旧标题")
    await login(client, world.users["a_staff"])
    page = await client.get(f"/manage/district-a/cards/{card['id']}/edit")
    assert page.status_code == 200 and 'value="旧标题"' in page.text
    resp = await client.post(f"/manage/district-a/cards/{card['id']}/edit", data=_data(client, title="新标题", published=""),
                             follow_redirects=False)
    assert resp.status_code == 303
    public = (await client.get("/o/district-a/")).text
    assert "新标题" not in public[public.index("<article"):]  # a draft is not public
    await client.post(f"/manage/district-a/cards/{card['id']}/distributed",
                      data={"count": "5", "day": "", "_csrf_token": csrf_token(client)})
    resp = await client.post(f"/manage/district-a/cards/{card['id']}/delete",
                             data={"_csrf_token": csrf_token(client), "confirmed": "yes"}, follow_redirects=False)
    assert resp.status_code == 303
    listing = await client.get("/manage/district-a/cards")
    assert "Printed copies keep working: their QR code leads to your organisation" in listing.text
    assert f'action="/manage/district-a/cards/{card["id"]}/edit"' not in listing.text
    assert f'action="/manage/district-a/cards/{card["id"]}/restore"' in listing.text  # under "Deleted cards"
    assert (await client.get(f"/manage/district-a/cards/{card['id']}/edit")).status_code == 404
    assert (await client.get(f"/o/district-a/cards/{card['id']}")).status_code == 404
    with tenant_scope(world.tenants["a"]["id"]):
        assert (await InfoCard.select(InfoCard.code).first())["code"] == card["code"]  # the code lives on
        entries = await OutreachEntry.select(OutreachEntry.kind, OutreachEntry.quantity, OutreachEntry.card)
    assert entries == [{"kind": "cards", "quantity": 5, "card": card["id"]}]  # the log keeps what was handed out
    resp = await client.post(f"/manage/district-a/cards/{card['id']}/restore", data={"_csrf_token": csrf_token(client)},
                             follow_redirects=False)
    assert resp.status_code == 303
    assert (await client.get(f"/manage/district-a/cards/{card['id']}/edit")).status_code == 200


async def test_a_card_of_another_tenant_is_not_found(client, world):
    foreign = await _card(world.tenants["b"]["id"], "乙镇卡片")
    await login(client, world.users["a_admin"])
    assert (await client.get(f"/manage/district-a/cards/{foreign['id']}/edit")).status_code == 404
    for action, data in (("edit", _data(client, title="taken")), ("delete", {"_csrf_token": csrf_token(client)}),
                         ("restore", {"_csrf_token": csrf_token(client)}),
                         ("distributed", {"count": "3", "_csrf_token": csrf_token(client)})):
        resp = await client.post(f"/manage/district-a/cards/{foreign['id']}/{action}", data=data)
        assert resp.status_code == 404, action
    # Nor through the public pages of the wrong tenant.
    assert (await client.get(f"/o/district-a/cards/{foreign['id']}")).status_code == 404
    assert (await client.get(f"/o/district-a/cards/{foreign['id']}/qr.png")).status_code == 404
    with unscoped("test"):
        assert (await InfoCard.select(InfoCard.title).first())["title"] == "乙镇卡片"
        assert await OutreachEntry.count() == 0


async def test_recording_cards_handed_out(client, world):
    card = await _card(world.tenants["a"]["id"])
    await login(client, world.users["a_staff"])
    url = f"/manage/district-a/cards/{card['id']}/distributed"
    for bad in ({"count": ""}, {"count": "0"}, {"count": "-4"}, {"count": "many"}):
        resp = await client.post(url, data={**bad, "day": "2024-05-16", "_csrf_token": csrf_token(client)})
        assert resp.status_code == 422 and f'id="dist-{card["id"]}-count-error"' in resp.text
    future = await client.post(url, data={"count": "3", "day": "2999-01-01", "_csrf_token": csrf_token(client)})
    assert future.status_code == 422 and "cannot be in the future" in future.text and 'value="2999-01-01"' in future.text
    for count in ("120", "30"):
        resp = await client.post(url, data={"count": count, "day": "2024-05-16", "_csrf_token": csrf_token(client)},
                                 follow_redirects=False)
        assert resp.status_code == 303
    page = await client.get("/manage/district-a/cards")
    assert "<strong>150</strong> handed out" in page.text
    with tenant_scope(world.tenants["a"]["id"]):
        rows = await OutreachEntry.select(OutreachEntry.kind, OutreachEntry.day, OutreachEntry.card)
    assert {(r["kind"], str(r["day"]), r["card"]) for r in rows} == {("cards", "2024-05-16", card["id"])}


async def test_print_page_has_the_qr_code_of_the_short_url_without_inline_style(client, world):
    card = await _card(world.tenants["a"]["id"], "打印卡片")
    resp = await client.get(f"/o/district-a/cards/{card['id']}")
    assert resp.status_code == 200
    html = resp.text
    url = f"http://testserver.local/q/{card['code']}"
    assert url in html and "style=" not in html and "<script>" not in html
    svg = re.search(r'<svg[^>]*class="qr".*?</svg>', html, re.S).group(0)
    assert decode_svg(svg) == [url]  # a QR reader finds exactly the short URL
    assert html.count('class="info-card"') == 1 and 'class="print-single"' in html
    sheet = (await client.get(f"/o/district-a/cards/{card['id']}", params={"sheet": "a4"})).text
    assert sheet.count('class="info-card"') == 4 and 'class="print-sheet"' in sheet


async def test_qr_png_download(client, world):
    card = await _card(world.tenants["a"]["id"])
    resp = await client.get(f"/o/district-a/cards/{card['id']}/qr.png")
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/png"
    assert resp.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert decode_png(resp.content) == [f"http://testserver.local/q/{card['code']}"]  # read back by a QR reader
    assert f'filename="tiaojie-card-{card["code"]}.png"' in resp.headers["content-disposition"]


async def test_a_draft_card_is_only_shown_to_its_staff(client, world):
    card = await _card(world.tenants["a"]["id"], "草稿", published=False)
    assert (await client.get(f"/o/district-a/cards/{card['id']}")).status_code == 404
    await login(client, world.users["b_staff"])
    assert (await client.get(f"/o/district-a/cards/{card['id']}")).status_code == 404
    await client.post("/logout", data={"_csrf_token": csrf_token(client)})
    await login(client, world.users["a_staff"])
    assert (await client.get(f"/o/district-a/cards/{card['id']}")).status_code == 200


async def test_scanning_counts_and_redirects_to_the_tenant(client, world):
    card = await _card(world.tenants["a"]["id"])
    for code in (card["code"], card["code"].lower()):
        resp = await client.get(f"/q/{code}", follow_redirects=False)
        assert resp.status_code == 303 and resp.headers["location"] == "/o/district-a/feedback"  # the mailbox
    assert (await client.get("/q/NOSUCH22", follow_redirects=False)).status_code == 404
    assert (await client.get("/q/bad-code!", follow_redirects=False)).status_code == 404
    live = redis_sync().hgetall(LIVE_KEY)
    scans = {k.decode(): int(v) for k, v in live.items() if b"qr_scan" in k}
    assert list(scans.values()) == [2] and list(scans)[0].endswith(f"|{world.tenants['a']['id']}|qr_scan|{card['id']}")
    await flush_counts()
    with unscoped("test"):
        rows = await DailyCount.select(DailyCount.tenant, DailyCount.metric, DailyCount.ref, DailyCount.hits).where(
            DailyCount.metric == "qr_scan")
    assert rows == [{"tenant": world.tenants["a"]["id"], "metric": "qr_scan", "ref": card["id"], "hits": 2}]


def _scans() -> int:
    return sum(int(v) for k, v in redis_sync().hgetall(LIVE_KEY).items() if b"qr_scan" in k)


async def test_codes_of_unpublished_and_deleted_cards_still_lead_to_the_mailbox(client, world):
    card = await _card(world.tenants["a"]["id"])
    await login(client, world.users["a_staff"])
    resp = await client.post(f"/manage/district-a/cards/{card['id']}/edit", data=_data(client, published=""),
                             follow_redirects=False)
    assert resp.status_code == 303
    assert "saved as a draft" in (await client.get("/manage/district-a/cards")).text  # staff are told
    for _ in range(2):
        resp = await client.get(f"/q/{card['code']}", follow_redirects=False)
        assert resp.status_code == 303 and resp.headers["location"] == "/o/district-a/feedback"
    assert _scans() == 0  # not counted while a draft
    await client.post(f"/manage/district-a/cards/{card['id']}/delete",
                      data={"_csrf_token": csrf_token(client), "confirmed": "yes"})
    resp = await client.get(f"/q/{card['code']}", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/o/district-a/feedback"
    assert _scans() == 0


async def test_codes_of_inactive_organisations_lead_to_the_nearest_active_parent(client, world):
    card = await _card(world.tenants["ent_a"]["id"])
    await Tenant.update({Tenant.active: False}).where(Tenant.slug == "ent-a")
    resp = await client.get(f"/q/{card['code']}", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/o/district-a/?closed=ent-a"
    assert _scans() == 0
    page = await client.get(resp.headers["location"])
    assert page.status_code == 200
    assert "The card you scanned is from ent-a name, which no longer takes requests here." in page.text
    # The notice only names a deactivated organisation this one took over from.
    for closed in ("ent-a", "district-b", "no-such-org", "x" * 300):
        other = await client.get("/o/district-b/", params={"closed": closed})
        assert other.status_code == 200 and "The card you scanned" not in other.text
    # Parent deactivated too: the city center takes over.
    await Tenant.update({Tenant.active: False}).where(Tenant.slug == "district-a")
    resp = await client.get(f"/q/{card['code']}", follow_redirects=False)
    assert resp.headers["location"] == "/o/city/?closed=ent-a"
    assert "The card you scanned is from ent-a name" in (await client.get(resp.headers["location"])).text


def test_scan_goes_to_the_feedback_mailbox_once_it_exists():
    def request(*paths):
        return SimpleNamespace(app=SimpleNamespace(routes=[SimpleNamespace(path=p) for p in paths]))

    assert scan_target(request("/o/{slug:str}/", "/q/{code:str}"), "district-a") == "/o/district-a/"
    assert scan_target(request("/o/{slug:str}/", "/o/{slug:str}/feedback"), "district-a") == "/o/district-a/feedback"
    assert scan_target(request("/o/{slug:str}/feedback/"), "x") == "/o/x/feedback/"


async def test_one_address_cannot_inflate_scan_counts(client, world, monkeypatch):
    from app.outreach import routes

    monkeypatch.setattr(routes, "SCANS_COUNTED_PER_ADDRESS", 3)
    card = await _card(world.tenants["a"]["id"])
    for _ in range(5):
        resp = await client.get(f"/q/{card['code']}", follow_redirects=False)
        assert resp.status_code == 303  # the visitor always gets where the card points
    live = redis_sync().hgetall(LIVE_KEY)
    assert sum(int(v) for k, v in live.items() if b"qr_scan" in k) == 3


async def test_a_card_too_long_for_a6_is_refused_beside_the_text(client, world):
    """The issue's card: a 400-character text and 6 contact lines, both within their own
    limits, would print with the QR code cut off."""
    await login(client, world.users["a_staff"])
    body = "工资拖欠、劳动合同、社会保险、工伤等劳动争议，可以免费申请调解。" * 13
    body = body[:400]
    lines = "\n".join(f"第{i}行：海安市城东镇东海大道 9 号 便民服务中心一楼" for i in range(6))
    resp = await client.post("/manage/district-a/cards/new", data=_data(client, body=body, contact_lines=lines))
    assert resp.status_code == 422
    error = resp.text[resp.text.index('id="f-body-error"'):]
    assert "This is too long for an A6 card with its QR code" in error[:300]
    assert body in resp.text  # nothing typed is lost
    assert 'class="card-fit too-long"' in resp.text
    with unscoped("test"):
        assert await InfoCard.count() == 0
    # What fits is accepted, and the form says how much of the card it takes.
    ok = await client.post("/manage/district-a/cards/new", data=_data(client, body=body[:120], contact_lines=lines[:60]),
                           follow_redirects=False)
    assert ok.status_code == 303


async def test_the_fit_meter_answers_htmx_as_staff_type(client, world):
    await login(client, world.users["a_staff"])
    short = await client.post("/manage/district-a/cards/fit", data=_data(client, body="免费调解。"),
                              headers={"HX-Request": "true"})
    assert short.status_code == 200 and short.text.lstrip().startswith('<div id="card-fit" class="card-fit fits"')
    assert "Fits on an A6 card" in short.text and "<html" not in short.text
    long = await client.post("/manage/district-a/cards/fit", data=_data(client, body="字" * 400),
                             headers={"HX-Request": "true"})
    assert 'class="card-fit too-long"' in long.text and "Too long for an A6 card" in long.text
    with unscoped("test"):
        assert await InfoCard.count() == 0  # nothing is saved


def test_the_fit_model_counts_every_kind_of_text():
    base = service.card_fit("甲镇调解中心", "标题", "", "", [])
    assert base.fits and base.percent < 30
    assert not service.card_fit("甲镇调解中心", "标题", "", "字" * 400, []).fits
    assert not service.card_fit("甲镇调解中心", "题" * 100, "", "字" * 200, []).fits
    assert not service.card_fit("甲镇调解中心", "标题", "", "字" * 150, ["一" * 40] * 6).fits
    assert service.card_fit("甲镇调解中心", "标题", "工人", "字" * 150, ["电话 0513-88881234"] * 3).fits
    # A long unbroken address (a URL) takes the lines it would take printed.
    url = service.card_fit("x", "t", "", "", ["https://example.cn/" + "a" * 60])
    assert url.used_mm > service.card_fit("x", "t", "", "", ["https://example.cn/"]).used_mm
