"""An administrator invites a new mediator on a phone; the mediator opens the link, creates
an account and lands in the organisation's console; the link works once."""

from __future__ import annotations

import json
import random
import re
import string

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.test_demo_flows import sign_in
from tests.quality import format_axe_violations, horizontal_overflow, run_axe
from tests.support import query_database

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 740}, "locale": "zh-CN"}


def invitation_path(database: str, email: str) -> str:
    """The link the invitation message carries (the outbox row's payload; the page never shows it)."""
    rows = query_database(database, "SELECT payload FROM notification WHERE recipient = $1 "
                                     "AND template_key = 'member_invited' ORDER BY id DESC", email)
    assert rows, f"no invitation message to {email}"
    payload = rows[0][0]
    return (json.loads(payload) if isinstance(payload, str) else payload)["path"]


def test_an_invited_mediator_joins_through_the_link_on_a_phone(browser: Browser, base_url: str, live_database: str):
    # Letters only: the live server's outbox is shared with later browser tests, whose table
    # checks would read digits in an address as a number.
    email = "new.mediator." + "".join(random.choice(string.ascii_lowercase) for _ in range(6)) + "@example.cn"
    admin = browser.new_context(base_url=base_url, **PHONE)
    page = admin.new_page()
    sign_in(page, base_url, "chengdong.admin@demo.tiaojie.cn")
    page.goto(base_url + "/manage/chengdong/members")
    page.get_by_label("电子邮箱").fill(email)
    page.get_by_label("角色", exact=True).select_option("staff")
    page.get_by_role("button", name="发送邀请").click()
    expect(page.locator(".flashes")).to_contain_text(email)
    expect(page.locator("main")).to_contain_text("已邀请、尚未接受")
    admin.close()

    path = invitation_path(live_database, email)
    person = browser.new_context(base_url=base_url, **PHONE)
    page = person.new_page()
    page.goto(base_url + path)
    expect(page.get_by_role("heading", level=1)).to_have_text("加入城东镇劳动人事争议调解中心")
    expect(page.locator("main")).to_contain_text(email)
    violations = run_axe(page)
    assert violations == [], format_axe_violations(page.url, violations)
    assert horizontal_overflow(page) == 0

    # Two different passwords: said beside the field, the name kept.
    page.get_by_label("姓名").fill("周晓梅")
    page.get_by_label(re.compile("^密码")).fill("调解员-Password-2026")
    page.get_by_label("再次输入密码").fill("something-else-2026")
    page.get_by_role("button", name="创建账号并加入").click()
    expect(page.get_by_label("姓名")).to_have_value("周晓梅")
    expect(page.locator("#f-confirm_password-error")).to_have_text("两次输入的新密码不一致。")
    page.get_by_label(re.compile("^密码")).fill("调解员-Password-2026")
    page.get_by_label("再次输入密码").fill("调解员-Password-2026")
    page.get_by_role("button", name="创建账号并加入").click()

    expect(page).to_have_url(base_url + "/manage/chengdong/")
    expect(page.locator(".flashes")).to_contain_text("欢迎加入城东镇劳动人事争议调解中心。")
    expect(page.locator("body")).to_contain_text("周晓梅")

    # The link worked once.
    again = person.new_page()
    response = again.goto(base_url + path)
    assert response is not None and response.status == 404
    expect(again.get_by_role("heading", level=1)).to_have_text("此邀请无法使用")
    person.close()
