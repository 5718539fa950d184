"""A person in Chromium, on the demo data: find an organisation, sign in, see the right pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app.directory.demo import PASSWORD

pytestmark = pytest.mark.browser


def sign_in(page: Page, base_url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_worker_finds_an_organisation_by_typing(page: Page, base_url: str):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(base_url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    search = page.get_by_label(re.compile("名称"))
    search.press_sequentially("城东", delay=30)
    # htmx swaps the results without a reload; the URL follows the filter.
    expect(page.locator("#results")).to_contain_text("城东镇劳动人事争议调解中心")
    expect(page.locator("#results")).not_to_contain_text("李堡镇劳动人事争议调解中心")
    expect(page).to_have_url(re.compile(r"q=%E5%9F%8E%E4%B8%9C"))
    page.get_by_role("link", name="城东镇劳动人事争议调解中心").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("城东镇劳动人事争议调解中心")
    expect(page.locator("a[href^='tel:']").first).to_be_visible()


def test_wrong_password_then_city_admin_console(page: Page, base_url: str):
    sign_in(page, base_url, "city.admin@demo.tiaojie.cn", "not-the-password-1")
    expect(page.locator("#f-password-error")).to_be_visible()
    expect(page.get_by_label("邮箱")).to_have_value("city.admin@demo.tiaojie.cn")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(base_url + "/city/")
    expect(page.locator(".tree")).to_contain_text("海安市劳动人事争议联合调处中心")
    expect(page.locator(".tree")).to_contain_text("城东镇劳动人事争议调解中心")


def test_district_staff_sees_own_console_and_not_others(page: Page, base_url: str):
    sign_in(page, base_url, "chengdong.staff@demo.tiaojie.cn")
    expect(page).to_have_url(base_url + "/manage/chengdong/")
    expect(page.get_by_role("heading", level=1)).to_have_text("城东镇劳动人事争议调解中心")
    response = page.goto(base_url + "/manage/qutang/")
    assert response is not None and response.status == 404
    response = page.goto(base_url + "/manage/chengdong/settings")
    assert response is not None and response.status == 403


def test_language_switch_to_english(page: Page, base_url: str):
    page.goto(base_url + "/o/chengdong/")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(base_url + "/o/chengdong/")
    expect(page.get_by_text("Office hours")).to_be_visible()
