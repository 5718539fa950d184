"""Printed information cards as staff and workers meet them: the print button, cards that
fit A6, QR codes that keep working after a card is unpublished or deleted."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

pytestmark = pytest.mark.browser

CARD_PAGE = "/o/chengdong/"


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


def test_a_deleted_cards_printed_code_still_leads_to_the_organisation(browser: Browser, base_url: str):
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
    confirm = page.get_by_role("button", name="删除卡片")
    if confirm.count():  # the confirmation step (issue 13, item 2)
        confirm.click()
    flash = page.locator(".flash").first
    expect(flash).to_contain_text("已印制的卡片仍然有效")
    deleted = page.locator("#deleted-h + p + ul")
    expect(deleted).to_contain_text("旧版宣传卡（测试删除）")

    # A worker scans one of the 200 printed copies: still the organisation, not a 404.
    worker = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740}).new_page()
    response = worker.goto(qr_url)
    assert response is not None and response.status == 200
    expect(worker.get_by_role("heading", level=1)).to_have_text("城东镇劳动人事争议调解中心")
    worker.context.close()
    context.close()
