"""Printed information cards as staff and workers meet them: the print button, cards that
fit A6, QR codes that keep working after a card is unpublished or deleted."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

pytestmark = pytest.mark.browser

CARD_PAGE = "/o/chengdong/"
MM_TO_PT = 72 / 25.4


def _page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    return [(float(w), float(h)) for w, h in re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)]


def _open_demo_card(page) -> None:
    page.goto(CARD_PAGE)
    page.get_by_role("link", name="查看带二维码的卡片").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("遇到劳动纠纷？先找我们调解")


@pytest.mark.parametrize("width", [360, 1280])
def test_print_button_shows_only_when_it_can_print(browser: Browser, base_url: str, width: int):
    """Without JavaScript the print button would do nothing: it stays hidden, and the
    page still offers what works (the A4 sheet, the PNG, the browser's own print)."""
    for js in (False, True):
        context = browser.new_context(java_script_enabled=js, locale="zh-CN", base_url=base_url,
                                      viewport={"width": width, "height": 800})
        page = context.new_page()
        _open_demo_card(page)
        button = page.get_by_role("button", name="打印")
        if js:
            expect(button).to_be_visible()
        else:
            expect(button).to_be_hidden()
            expect(page.get_by_role("link", name="下载二维码（PNG）")).to_be_visible()
        context.close()


def _staff(browser: Browser, base_url: str, width: int = 360, locale: str = "zh-CN",
           email: str = "chengdong.staff@demo.tiaojie.cn", js: bool = True):
    from app.directory.demo import PASSWORD

    context = browser.new_context(locale=locale, base_url=base_url, java_script_enabled=js,
                                  viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto("/login")
    page.fill("#f-email", email)
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/manage/**")
    return context, page


def test_a_deleted_cards_printed_code_still_leads_to_the_organisations_mailbox(browser: Browser, base_url: str):
    context, page = _staff(browser, base_url)
    page.goto("/manage/chengdong/cards/new")
    page.get_by_label("标题").fill("旧版宣传卡（测试删除）")
    page.get_by_label("简要说明").fill("这张卡片印了两百份，后来删除了。")
    page.get_by_role("button", name="保存信息公示卡").click()
    expect(page.locator(".flash")).to_contain_text("旧版宣传卡（测试删除）")
    card = page.locator("section.card", has=page.get_by_role("heading", name="旧版宣传卡（测试删除）"))
    card.get_by_role("link", name="打印（A6 卡片）").click()
    qr_url = page.locator(".info-card-url").inner_text().strip()
    assert "/q/" in qr_url

    page.goto("/manage/chengdong/cards")
    card = page.locator("section.card", has=page.get_by_role("heading", name="旧版宣传卡（测试删除）"))
    card.get_by_role("button", name="删除旧版宣传卡（测试删除）").click()
    confirm = card.locator(".confirm-box")  # asked first, in place
    expect(confirm).to_contain_text("已发出的卡片仍然有效：扫码后进入本组织的意见信箱，但不再计数。")
    confirm.get_by_role("button", name="删除卡片").click()
    flash = page.locator(".flash").first
    expect(flash).to_contain_text("已印制的卡片仍然有效")
    deleted = page.locator("#deleted-h + p + ul")
    expect(deleted).to_contain_text("旧版宣传卡（测试删除）")

    # A worker scans one of the 200 printed copies: still the organisation's mailbox, not a 404.
    worker = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740}).new_page()
    response = worker.goto(qr_url)
    assert response is not None and response.status == 200
    assert worker.url.endswith("/o/chengdong/feedback")
    expect(worker.get_by_role("heading", level=1)).to_have_text("意见信箱")
    expect(worker.locator("main")).to_contain_text("城东镇劳动人事争议调解中心")
    worker.context.close()
    context.close()


ENTERPRISE = "海安城东建材有限公司劳动争议调解委员会"
CJK_TEXT = ("工资拖欠、劳动合同、社会保险、工伤、加班费等劳动争议，都可以免费申请调解。"
            "调解员会在五个工作日内联系您，调解不成的，可以依法申请劳动仲裁。") * 8
LATIN_TEXT = ("Email help@ent-chengdong-jiancai.example.cn or visit https://www.example.cn/tiaojie/help, "
              "WeChat tiaojie_chengdong_2024, tel 0513-88881234. ") * 6
SIX_LINES = ["调解热线：0513-8820 0111", "欠薪求助：0513-8830 0222", "地址：城东镇东海大道 9 号",
             "接待窗口：便民服务中心一楼", "接待时间：工作日 8:30-17:30", "网址：tiaojie.example.cn/o/chengdong"]
LONG_LINES = [f"第{i}条：海安市城东镇东海大道 9 号便民服务中心一楼调解接待窗口" for i in range(1, 3)]


def _longest_body(title: str, audience: str, text: str, lines: list[str]) -> str:
    """The longest start of ``text`` the form accepts with the rest of the card."""
    from app.outreach.service import card_fit

    low, high = 0, min(len(text), 400)
    while low < high:
        mid = (low + high + 1) // 2
        if card_fit(ENTERPRISE, title, audience, text[:mid].strip(), lines).fits:
            low = mid
        else:
            high = mid - 1
    return text[:low].strip()


@pytest.mark.parametrize(("title", "audience", "text", "lines"), [
    ("欠薪找我们", "", CJK_TEXT, []),
    ("欠薪找我们", "建筑工地务工人员", CJK_TEXT, SIX_LINES),
    ("Unpaid wages? We can help", "drivers", LATIN_TEXT, ["tel 0513-88881234", "help@example.cn"]),
    ("劳动争议免费调解" * 12, "", CJK_TEXT, LONG_LINES),
], ids=["chinese-text", "chinese-text-six-lines", "latin-text", "long-title"])
def test_the_longest_card_the_form_accepts_prints_on_one_a6_page_with_its_qr_code(
        browser: Browser, base_url: str, title: str, audience: str, text: str, lines: list[str]):
    body = _longest_body(title, audience, text, lines)
    assert len(body) > 40
    context, page = _staff(browser, base_url, width=1280, email="enterprise.staff@demo.tiaojie.cn")
    page.goto("/manage/ent-chengdong-jiancai/cards/new")
    page.get_by_label("标题").fill(title)
    page.get_by_label("适用人群").fill(audience)
    page.get_by_label("联系方式").fill("\n".join(lines))
    # One character more than fits is refused, beside the text, keeping what was typed.
    page.get_by_label("简要说明").fill(text[:len(body) + 1] if len(body) < len(text) else body + "字")
    page.get_by_role("button", name="保存信息公示卡").click()
    expect(page.locator("#f-body-error")).to_contain_text("A6")
    page.get_by_label("简要说明").fill(body)
    page.get_by_role("button", name="保存信息公示卡").click()
    expect(page.locator(".flash")).to_contain_text(title[:10])
    page.locator("section.card").last.get_by_role("link", name="打印（A6 卡片）").click()
    page.emulate_media(media="print")
    card = page.locator(".info-card")
    qr = page.locator(".info-card svg.qr")
    expect(qr).to_be_visible()
    card_box, qr_box = card.bounding_box(), qr.bounding_box()
    padding = 8 * 96 / 25.4
    assert qr_box["y"] + qr_box["height"] <= card_box["y"] + card_box["height"] - padding + 1, (qr_box, card_box)
    clipped = page.locator(".info-card-text").evaluate("el => el.scrollHeight - el.clientHeight")
    assert clipped <= 1, f"the text is cut by {clipped}px"
    sizes = _page_sizes(page.pdf(prefer_css_page_size=True, print_background=True))
    assert len(sizes) == 1 and abs(sizes[0][0] - 105 * MM_TO_PT) < 2 and abs(sizes[0][1] - 148 * MM_TO_PT) < 2
    context.close()


def test_the_card_form_says_as_you_type_whether_it_still_fits(browser: Browser, base_url: str):
    context, page = _staff(browser, base_url, width=360, locale="en", email="enterprise.staff@demo.tiaojie.cn")
    page.goto("/manage/ent-chengdong-jiancai/cards/new")
    meter = page.locator("#card-fit")
    expect(meter).to_contain_text("Fits on an A6 card")
    page.get_by_label("Title").fill("Unpaid wages?")
    page.get_by_label("Short text").fill("字" * 380)
    expect(meter).to_contain_text("Too long for an A6 card")
    expect(meter).to_have_class(re.compile("too-long"))
    page.get_by_label("Short text").fill("字" * 100)
    expect(meter).to_contain_text("Fits on an A6 card")
    context.close()
