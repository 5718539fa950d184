"""Information cards in Chromium: print the card, follow its QR code; find a hotline on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app.directory.demo import PASSWORD
from app.outreach.demo import card_code
from tests.qr import decode_png
from tests.quality import HtmlValidator, format_axe_violations, format_html_errors, horizontal_overflow, run_axe

pytestmark = pytest.mark.browser

MM_TO_PT = 72 / 25.4


def _page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    return [(float(w), float(h)) for w, h in re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)]


def _open_card(page: Page, base_url: str) -> None:
    page.goto(base_url + "/o/chengdong/")
    page.get_by_role("link", name="查看带二维码的卡片").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("遇到劳动纠纷？先找我们调解")


def test_print_a_card_and_follow_its_qr_code(page: Page, base_url: str):
    _open_card(page, base_url)
    violations = run_axe(page)
    assert not violations, format_axe_violations(page.url, violations)
    page.emulate_media(media="print")
    expect(page.locator(".info-card svg.qr")).to_be_visible()
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".no-print")).to_be_hidden()
    box = page.locator(".info-card svg.qr").bounding_box()
    assert box and box["width"] > 100 and abs(box["width"] - box["height"]) < 1  # big and square enough to scan
    # One A6 page (105 x 148 mm) as the print CSS asks.
    sizes = _page_sizes(page.pdf(prefer_css_page_size=True, print_background=True))
    assert len(sizes) == 1
    assert abs(sizes[0][0] - 105 * MM_TO_PT) < 2 and abs(sizes[0][1] - 148 * MM_TO_PT) < 2, sizes
    # The QR encodes the short URL printed under it.
    url = page.locator(".info-card-url").inner_text().strip()
    assert url == f"{base_url}/q/{card_code('chengdong')}"
    # What a phone reads from the printed code (a screenshot of it, read by a QR reader) is that URL.
    assert decode_png(page.locator(".info-card svg.qr").screenshot()) == [url]
    page.emulate_media(media="screen")
    page.goto(url)  # the card's QR code opens the organisation's feedback mailbox
    expect(page).to_have_url(base_url + "/o/chengdong/feedback")
    expect(page.get_by_role("link", name="城东镇劳动人事争议调解中心")).to_be_visible()


def test_a4_sheet_prints_four_cards_on_one_page(page: Page, base_url: str):
    _open_card(page, base_url)
    page.get_by_role("link", name="A4 纸一页 4 张卡").click()
    page.emulate_media(media="print")
    expect(page.locator(".info-card")).to_have_count(4)
    sizes = _page_sizes(page.pdf(prefer_css_page_size=True))
    assert len(sizes) == 1
    assert abs(sizes[0][0] - 210 * MM_TO_PT) < 2 and abs(sizes[0][1] - 297 * MM_TO_PT) < 2, sizes


def test_worker_on_a_phone_finds_a_hotline_in_a_few_taps(page: Page, base_url: str):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(base_url + "/")
    expect(page.locator(".quick-hotlines a[href^='tel:']").first).to_be_visible()  # the city center, at once
    page.get_by_role("link", name="全部热线电话（按区镇）").click()
    page.get_by_label("区镇/街道").select_option("城东镇")
    results = page.locator("#hotline-results")
    expect(results).to_contain_text("城东镇劳动人事争议调解中心")
    expect(results).not_to_contain_text("李堡镇")
    expect(page).to_have_url(re.compile(r"/hotlines\?district="))
    call = results.locator("a[href^='tel:']").first
    expect(call).to_be_visible()
    assert re.fullmatch(r"tel:\d+", call.get_attribute("href"))
    assert horizontal_overflow(page) == 0
    violations = run_axe(page)
    assert not violations, format_axe_violations(page.url, violations)


def _valid(validator: HtmlValidator) -> None:
    # Templates write htmx attributes as data-hx-*, which is valid HTML: nothing is filtered.
    errors = {doc: errs for doc, errs in validator.errors().items() if errs}
    assert not errors, format_html_errors(errors)


def _sign_in(page: Page, base_url: str, email: str) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_public_outreach_pages_are_valid_html(page: Page, base_url: str):
    validator = HtmlValidator()
    for path in ("/", "/hotlines", "/o/chengdong/", "/o/city/"):
        page.goto(base_url + path)
        validator.add(path, page.content())
    _open_card(page, base_url)
    validator.add("card", page.content())
    page.goto(page.url + "?sheet=a4")
    validator.add("card sheet", page.content())
    _valid(validator)


def test_city_sees_outreach_by_district(page: Page, base_url: str):
    _sign_in(page, base_url, "city.staff@demo.tiaojie.cn")
    page.get_by_role("link", name="全市宣传工作").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("全市宣传工作")
    table = page.locator("table.figures")
    expect(table.get_by_role("rowheader", name="城东镇小计")).to_be_visible()
    expect(table.get_by_role("link", name="城东镇劳动人事争议调解中心")).to_be_visible()
    violations = run_axe(page)
    assert not violations, format_axe_violations(page.url, violations)
    validator = HtmlValidator()
    validator.add("/city/outreach", page.content())
    _valid(validator)


def test_staff_pages_are_accessible_and_fit_a_phone(page: Page, base_url: str):
    page.set_viewport_size({"width": 360, "height": 740})
    _sign_in(page, base_url, "chengdong.staff@demo.tiaojie.cn")
    expect(page).to_have_url(base_url + "/manage/chengdong/")
    validator = HtmlValidator()
    for path, heading in (("/manage/chengdong/outreach", "宣传工作"), ("/manage/chengdong/cards", "信息公示卡"),
                          ("/manage/chengdong/hotlines", "热线电话")):
        page.goto(base_url + path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        violations = run_axe(page)
        assert not violations, format_axe_violations(page.url, violations)
        assert horizontal_overflow(page) == 0, path
        validator.add(path, page.content())
    page.locator(".console-menu summary").click()  # the console's menu is one line until opened
    expect(page.locator("a[href='/manage/chengdong/outreach']")).to_be_visible()
    page.goto(base_url + "/manage/chengdong/outreach")
    expect(page.locator(".chart svg")).to_have_count(4)
    _valid(validator)
