"""A worker on a phone opens the portal: search, their district and the help they need are on
the first screen; the organisations follow a district choice, with or without JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.quality import format_axe_violations, horizontal_overflow, run_axe

pytestmark = pytest.mark.browser

SCREEN = {"width": 360, "height": 740}


def _within_first_screen(locator) -> None:
    box = locator.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= SCREEN["height"], box


@pytest.mark.parametrize(("locale", "needs", "district_label"), [
    ("zh-CN", "您需要什么帮助？", "区镇/街道"),
    ("en", "What do you need?", "District / town / street"),
])
def test_the_first_screen_has_search_district_and_help(browser: Browser, base_url: str, locale: str, needs: str,
                                                        district_label: str):
    page = browser.new_context(locale=locale, base_url=base_url, viewport=SCREEN).new_page()
    page.goto("/")
    _within_first_screen(page.locator("#q"))
    _within_first_screen(page.get_by_label(district_label))
    _within_first_screen(page.locator("form[role=search] button[type=submit]"))
    nav = page.get_by_role("navigation", name=needs)
    for link in nav.get_by_role("link").all():
        _within_first_screen(link)
        assert link.get_attribute("href") in ("/hotlines", "/events", "#who", "/?kind=district_center", "/o/city/")
    _within_first_screen(page.locator(".quick-hotlines a[href^='tel:']").first)
    # No longer eleven screens of every organisation: about two and a half.
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 3 * SCREEN["height"], height
    assert horizontal_overflow(page) == 0
    violations = run_axe(page)
    assert not violations, format_axe_violations(page.url, violations)
    page.context.close()


def test_choosing_a_district_lists_its_organisations_in_place(browser: Browser, base_url: str):
    page = browser.new_context(locale="zh-CN", base_url=base_url, viewport=SCREEN).new_page()
    page.goto("/")
    page.get_by_label("区镇/街道").select_option("城东镇")
    results = page.locator("#results")
    first = results.get_by_role("link", name="城东镇劳动人事争议调解中心")
    expect(first).to_be_visible()
    expect(results).not_to_contain_text("李堡镇")
    expect(page).to_have_url(re.compile(r"district=%E5%9F%8E%E4%B8%9C%E9%95%87"))
    assert first.bounding_box()["y"] < 1.5 * SCREEN["height"]  # was 1,085 px down before any choice
    first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("城东镇劳动人事争议调解中心")
    page.context.close()


def test_without_javascript_a_district_is_a_link_and_the_full_list_is_one_more(browser: Browser, base_url: str):
    context = browser.new_context(locale="zh-CN", base_url=base_url, viewport=SCREEN, java_script_enabled=False)
    page = context.new_page()
    page.goto("/")
    page.locator(".district-choice").get_by_role("link", name=re.compile("^李堡镇")).click()
    expect(page).to_have_url(re.compile(r"/\?district=%E6%9D%8E%E5%A0%A1%E9%95%87$"))
    expect(page.locator("#results")).to_contain_text("李堡镇劳动人事争议调解中心")
    expect(page.locator("#results")).not_to_contain_text("城东镇")
    page.goto("/")
    page.get_by_role("link", name=re.compile(r"^查看全部 \d+ 个组织$")).click()
    expect(page.locator("#results .org-list li").first).to_be_visible()
    assert page.locator("#results .org-list li").count() > 40
    page.goto("/")
    page.get_by_role("link", name="我该找谁？").first.click()
    expect(page).to_have_url(re.compile("#who$"))
    context.close()
