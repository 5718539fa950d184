"""The main flows work with JavaScript switched off: htmx makes pages faster, not possible."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from app.directory.demo import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def nojs_page(browser: Browser, base_url: str):
    context = browser.new_context(java_script_enabled=False, locale="zh-CN", base_url=base_url,
                                  viewport={"width": 360, "height": 740})
    yield context.new_page()
    context.close()


def test_portal_search_is_a_plain_form(nojs_page):
    page = nojs_page
    page.goto("/")
    page.fill("#q", "李堡")
    page.select_option("#kind", "district_center")
    page.click("form[role=search] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/\?q=%E6%9D%8E%E5%A0%A1&district=&kind=district_center$"))
    expect(page.locator("#results")).to_contain_text("李堡镇劳动人事争议调解中心")
    expect(page.locator("#results")).not_to_contain_text("城东镇劳动人事争议调解中心")
    expect(page.locator("#q")).to_have_value("李堡")


def test_sign_in_edit_and_sign_out_without_javascript(nojs_page):
    page = nojs_page
    page.goto("/login")
    page.fill("#f-email", "chengdong.admin@demo.tiaojie.cn")
    page.fill("#f-password", "wrong-password-1")
    page.click("button[type=submit].primary")
    expect(page.locator("#f-password-error")).to_be_visible()
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit].primary")
    expect(page).to_have_url("/manage/chengdong/")
    page.goto("/manage/chengdong/settings")
    page.fill("#f-reception_phone", "not a phone")
    page.fill("#f-office_hours", "周一至周五 9:00-17:00")
    page.click("button[type=submit].primary")
    expect(page.locator("#f-reception_phone-error")).to_be_visible()
    expect(page.locator("#f-office_hours")).to_have_value("周一至周五 9:00-17:00")
    page.fill("#f-reception_phone", "0513-88200000")
    page.click("button[type=submit].primary")
    expect(page.locator(".flash")).to_be_visible()
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url("/")
    page.goto("/manage/chengdong/")
    expect(page).to_have_url("/login?next=/manage/chengdong/")
