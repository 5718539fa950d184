"""Staff type phone numbers the way phones and IMEs produce them; everyone reads them grouped."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from app.directory.demo import PASSWORD

pytestmark = pytest.mark.browser

STAFF = "enterprise.staff@demo.tiaojie.cn"
SLUG = "ent-chengdong-jiancai"


def _signed_in(browser: Browser, base_url: str, width: int, locale: str):
    context = browser.new_context(locale=locale, base_url=base_url, viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto("/login")
    page.fill("#f-email", STAFF)
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit].primary")
    expect(page).to_have_url(f"{base_url}/manage/{SLUG}/")
    return context, page


def test_full_width_hyphen_is_accepted_shown_grouped_and_a_duplicate_refused(browser: Browser, base_url: str):
    context, page = _signed_in(browser, base_url, 360, "zh-CN")
    page.goto(f"/manage/{SLUG}/hotlines")
    page.get_by_label("名称").fill("调解委员会电话")
    page.get_by_label("号码").fill("0513－88881234")  # as a Chinese IME types it
    page.get_by_role("button", name="保存热线").click()
    expect(page.locator(".flash")).to_contain_text("调解委员会电话")
    expect(page.locator("table a[href='tel:051388881234']")).to_have_text("0513-8888 1234")

    page.get_by_label("名称").fill("服务热线")
    page.get_by_label("号码").fill("400-123-4567")
    page.get_by_role("button", name="保存热线").click()
    expect(page.locator("table a[href='tel:4001234567']")).to_have_text("400-123-4567")

    # The same number again, typed another way: refused beside the field, nothing typed lost.
    page.get_by_label("名称").fill("夜间电话")
    page.get_by_label("号码").fill("０５１３ ８８８８ １２３４")
    page.get_by_role("button", name="保存热线").click()
    expect(page.locator("#f-number-error")).to_have_text("这个号码已登记为“调解委员会电话”，请直接修改那一条。")
    expect(page.get_by_label("名称")).to_have_value("夜间电话")

    public = context.new_page()
    public.goto(f"/o/{SLUG}/")
    expect(public.locator(".hotline-list a[href='tel:051388881234']")).to_have_text("0513-8888 1234")
    expect(public.locator(".hotline-list a[href='tel:4001234567']")).to_have_text("400-123-4567")
    context.close()

    context, page = _signed_in(browser, base_url, 1280, "en")
    page.goto(f"/manage/{SLUG}/hotlines")
    expect(page.locator("table a[href='tel:4001234567']")).to_have_text("400-123-4567")
    page.get_by_label("Label").fill("Night line")
    page.get_by_label("Number").fill("4001234567")
    page.get_by_role("button", name="Save hotline").click()
    expect(page.locator("#f-number-error")).to_have_text(
        "This number is already listed as “服务热线”. Edit that hotline instead.")
    context.close()
