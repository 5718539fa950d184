"""Staff read their organisation's outbox on a phone, retry a failed message, read the inbox."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_demo_flows import sign_in
from tests.quality import format_axe_violations, horizontal_overflow, run_axe

pytestmark = pytest.mark.browser


def test_staff_sees_why_a_message_failed_and_retries_it(page: Page, base_url: str):
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, base_url, "chengdong.staff@demo.tiaojie.cn")
    page.get_by_role("link", name="消息记录").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("消息记录")
    expect(page.locator("#outbox")).to_contain_text("li.ming@example.cn")
    violations = run_axe(page)
    assert violations == [], format_axe_violations(page.url, violations)
    assert horizontal_overflow(page) == 0
    # The status filter swaps the list in place (htmx) and the URL follows.
    page.locator(".status-filter").get_by_role("link", name="发送失败").click()
    expect(page).to_have_url(base_url + "/manage/chengdong/notifications?status=failed")
    expect(page.locator("#outbox")).to_contain_text("邮件服务器拒收这个地址：地址可能有误或已停用。")
    expect(page.locator("#outbox")).not_to_contain_text("li.ming@example.cn")
    page.get_by_role("button", name="重发").first.click()
    expect(page.locator(".flashes")).to_contain_text("该消息将重新发送。")
    page.goto(base_url + "/manage/chengdong/inbox")
    expect(page.locator(".inbox")).to_contain_text("意见信箱有 2 条留言待回复")
    violations = run_axe(page)
    assert violations == [], format_axe_violations(page.url, violations)
