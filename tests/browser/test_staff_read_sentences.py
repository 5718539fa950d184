"""Staff read sentences and names, never internal codes: the outbox, a message, the audit log."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from app.directory.demo import PASSWORD

pytestmark = pytest.mark.browser

CODES = re.compile(r"staff_notice|demo:chengdong|no longer applies|member\.removed|hotline\.created|#\d+")


def _signed_in(browser: Browser, base_url: str, email: str, *, width: int, locale: str):
    context = browser.new_context(locale=locale, base_url=base_url, viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto("/login")
    page.fill("#f-email", email)
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/manage/**")
    return context, page


def test_the_outbox_lists_subjects_and_reasons_in_the_readers_language(browser: Browser, base_url: str):
    context, page = _signed_in(browser, base_url, "chengdong.staff@demo.tiaojie.cn", width=360, locale="zh-CN")
    page.goto("/manage/chengdong/notifications")
    outbox = page.locator("#outbox")
    expect(outbox.get_by_role("link", name="报名成功：关于《劳动合同法》专题讲座").first).to_be_visible()
    expect(outbox).to_contain_text("未发送：相关事项在发送前已取消或变更。")
    assert not CODES.search(outbox.inner_text()), outbox.inner_text()
    outbox.get_by_role("link", name="讲座时间提醒").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("讲座时间提醒")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("工作通知")
    expect(facts).to_contain_text("未发送：相关事项在发送前已取消或变更。")
    assert not CODES.search(page.locator("main").inner_text())
    context.close()


def test_the_audit_log_reads_as_sentences_with_names(browser: Browser, base_url: str):
    context, page = _signed_in(browser, base_url, "chengdong.admin@demo.tiaojie.cn", width=1280, locale="en")
    page.goto("/manage/chengdong/settings")
    page.get_by_label("Office hours").fill("Mon-Fri 8:30-12:00, 14:00-17:30 (also Sat 9:00-12:00)")
    page.get_by_role("button", name="Save").click()
    page.goto("/manage/chengdong/audit")
    log = page.locator("table")
    expect(log.locator("tbody tr").first).to_contain_text("王立新 changed the public profile: Office hours.")
    codes = re.compile(r"\b(?:account|tenant|member|hotline|card|outreach|notification)\.[a-z_]+\b")
    assert not codes.search(log.locator("tbody").inner_text())
    context.close()
    context, page = _signed_in(browser, base_url, "chengdong.admin@demo.tiaojie.cn", width=360, locale="zh-CN")
    page.goto("/manage/chengdong/audit")
    expect(page.locator("tbody tr").first).to_contain_text("王立新修改了公示信息：办公时间。")
    context.close()


@pytest.mark.parametrize(("width", "locale", "name", "column"), [
    (360, "zh-CN", "调解通", "调解组织"),
    (1280, "en", "Tiaojietong", "Mediation organisation"),
])
def test_one_product_name_and_the_right_word_for_organisations(browser: Browser, base_url: str, width: int,
                                                               locale: str, name: str, column: str):
    context = browser.new_context(locale=locale, base_url=base_url, viewport={"width": width, "height": 800})
    page = context.new_page()
    for path in ("/", "/hotlines", "/o/chengdong/"):
        page.goto(path)
        expect(page.locator(".brand")).to_contain_text(name)
        assert page.title().endswith(f" · {name}"), page.title()
    page.goto("/login")
    page.fill("#f-email", "city.staff@demo.tiaojie.cn")
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit].primary")
    for path in ("/city/outreach", "/city/notifications"):
        page.goto(path)
        expect(page.locator("table thead th").first).to_have_text(column)
        assert page.title().endswith(f" · {name}")
    context.close()
