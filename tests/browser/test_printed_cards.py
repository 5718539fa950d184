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
