"""An organisation the city deactivates: its admin is told why and what to do after signing
in, and the cards it printed still lead workers somewhere useful."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from app.directory.demo import PASSWORD, org_admin_email

pytestmark = pytest.mark.browser

SLUG = "ent-baidian-wuliu"
NAME = "海安白甸物流科技有限公司劳动争议调解委员会"


def _sign_in(browser: Browser, base_url: str, email: str, *, width: int, locale: str):
    context = browser.new_context(locale=locale, base_url=base_url, viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto("/login")
    page.fill("#f-email", email)
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_load_state()
    return context, page


def test_deactivated_organisation_admin_and_its_printed_cards(browser: Browser, base_url: str):
    # The committee's admin prints a card while the committee is active.
    context, page = _sign_in(browser, base_url, org_admin_email(SLUG), width=360, locale="zh-CN")
    expect(page).to_have_url(f"{base_url}/manage/{SLUG}/")
    page.goto(f"/manage/{SLUG}/cards/new")
    page.get_by_label("标题").fill("物流司机维权指南")
    page.get_by_label("发布：在公开页面展示").check()
    page.get_by_role("button", name="保存信息公示卡").click()
    page.get_by_role("link", name="打印（A6 卡片）").click()
    qr_url = page.locator(".info-card-url").inner_text().strip()
    context.close()

    # The city deactivates the committee.
    context, page = _sign_in(browser, base_url, "city.admin@demo.tiaojie.cn", width=1280, locale="zh-CN")
    page.goto(f"/city/tenants/{SLUG}/edit")
    page.get_by_label("启用（对外公示）").uncheck()
    page.locator("form[action$='/edit'] button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text(NAME)
    context.close()

    # Its admin signs in: not the portal without a word, but why and what to do.
    for width, locale, why, what in (
        (360, "zh-CN", f"{NAME}已被市联合调处中心停用", "请联系市联合调处中心"),
        (1280, "en", f"{NAME} has been deactivated by the city center.", "contact the city center"),
    ):
        context, page = _sign_in(browser, base_url, org_admin_email(SLUG), width=width, locale=locale)
        expect(page).to_have_url(f"{base_url}/account/organisations")
        notice = page.locator(".notice")
        expect(notice).to_contain_text(why)
        expect(notice).to_contain_text(what)
        expect(notice.get_by_role("link", name="海安市劳动人事争议联合调处中心")).to_be_visible()
        expect(notice.locator("a[href^='tel:']")).to_be_visible()
        context.close()

    # A worker scans one of the printed cards: the district center, which says why.
    worker = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740}).new_page()
    worker.goto(qr_url)
    expect(worker.get_by_role("heading", level=1)).to_have_text("白甸镇劳动人事争议调解中心")
    expect(worker.locator(".notice")).to_contain_text(f"您扫描的卡片来自{NAME}")
    worker.context.close()
