"""Every organisation has someone who can fill in its page, and its page says whom to ask
while details are missing; an admin removes a member only after confirming, and can undo."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from app.directory.demo import PASSWORD, org_admin_email

pytestmark = pytest.mark.browser


def _signed_in(browser: Browser, base_url: str, email: str, *, width: int = 360, locale: str = "zh-CN",
               js: bool = True):
    context = browser.new_context(locale=locale, base_url=base_url, java_script_enabled=js,
                                  viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto("/login")
    page.fill("#f-email", email)
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_load_state()
    return context, page


def test_a_union_rep_knows_whom_to_ask_and_the_unions_admin_fills_in_the_page(browser: Browser, base_url: str):
    context, page = _signed_in(browser, base_url, "union.rep@demo.tiaojie.cn")
    expect(page).to_have_url(f"{base_url}/manage/union-city/")
    profile = page.locator("#profile-h + dl + p")
    expect(profile).to_contain_text("只有管理员能修改公示信息，请联系")
    admin_name = re.search(r"请联系(.+)。", profile.inner_text()).group(1)
    context.close()

    context, page = _signed_in(browser, base_url, org_admin_email("union-city"), width=1280, locale="en")
    expect(page).to_have_url(f"{base_url}/manage/union-city/")
    expect(page.get_by_text(f"You are signed in as {admin_name}")).to_be_visible()
    page.get_by_role("link", name="Edit the public profile").click()
    page.get_by_label("Reception phone").fill("0513-8861 2345")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_have_text("Settings saved.")
    public = context.new_page()
    public.goto("/o/union-city/")
    expect(public.locator(".urgent a[href='tel:051388612345']")).to_have_text("0513-8861 2345")
    context.close()


@pytest.mark.parametrize(("width", "locale", "text"), [
    (360, "zh-CN", "本组织尚未公布完整的联系方式"),
    (1280, "en", "has not published all its contact details yet"),
])
def test_a_committee_without_a_phone_sends_workers_to_its_district_center(browser: Browser, base_url: str,
                                                                        width: int, locale: str, text: str):
    page = browser.new_context(locale=locale, base_url=base_url, viewport={"width": width, "height": 800}).new_page()
    page.goto("/o/ent-libao-dianzi/")
    notice = page.locator(".ask-parent")
    expect(notice).to_contain_text(text)
    expect(notice.get_by_role("link", name="李堡镇劳动人事争议调解中心")).to_be_visible()
    call = page.locator(".urgent a[href^='tel:']")
    expect(call).to_be_visible()
    assert call.get_attribute("href") == notice.locator("a[href^='tel:']").get_attribute("href")
    page.context.close()


@pytest.mark.parametrize("js", [False, True])
def test_an_admin_removes_a_member_after_confirming_and_can_undo(browser: Browser, base_url: str, js: bool):
    context, page = _signed_in(browser, base_url, "chengdong.admin@demo.tiaojie.cn", js=js,
                               width=360 if not js else 1280)
    page.goto("/manage/chengdong/members")
    row = page.locator("tr", has_text="chengdong.mediator@demo.tiaojie.cn")
    row.get_by_role("button", name="移除赵明").click()
    question = page.locator(".confirm-question")
    expect(question).to_have_text("确定将赵明（chengdong.mediator@demo.tiaojie.cn）移出城东镇劳动人事争议调解中心吗？")
    if js:
        assert page.url.endswith("/manage/chengdong/members")  # asked in place
    page.get_by_role("button", name="移除成员").click()
    expect(page.locator(".flash")).to_contain_text("已将赵明移出本组织。")
    expect(page.locator("tr", has_text="chengdong.mediator@demo.tiaojie.cn")).to_have_count(0)
    page.locator(".flash").get_by_role("button", name="撤销").click()
    expect(page.locator(".flash")).to_contain_text("赵明已恢复为成员。")
    expect(page.locator("tr", has_text="chengdong.mediator@demo.tiaojie.cn")).to_be_visible()
    context.close()
