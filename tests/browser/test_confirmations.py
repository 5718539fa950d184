"""Ask before destroying, undo after: as staff meet it, without JavaScript and with htmx,
on a phone and on a desktop, in Chinese and in English."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from app.directory.demo import PASSWORD
from tests.quality import HtmlValidator, format_axe_violations, format_html_errors, horizontal_overflow, run_axe

pytestmark = pytest.mark.browser

STAFF = "enterprise.staff@demo.tiaojie.cn"
SLUG = "ent-chengdong-jiancai"


def _signed_in(browser: Browser, base_url: str, *, width: int, locale: str, js: bool, email: str = STAFF):
    context = browser.new_context(locale=locale, base_url=base_url, java_script_enabled=js,
                                  viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto("/login")
    page.fill("#f-email", email)
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/manage/**")
    return context, page


def _checked(page, name: str, validator: HtmlValidator, problems: list[str]) -> None:
    validator.add(name, page.content())
    violations = run_axe(page)
    if violations:
        problems.append(format_axe_violations(name, violations))
    if horizontal_overflow(page) > 0:
        problems.append(f"{name}: scrolls sideways")


def test_removing_a_hotline_without_javascript_asks_on_its_own_page_and_can_be_undone(browser: Browser, base_url: str):
    context, page = _signed_in(browser, base_url, width=360, locale="zh-CN", js=False)
    page.goto(f"/manage/{SLUG}/hotlines")
    page.get_by_label("名称").fill("夜间值班电话")
    page.get_by_label("号码").fill("0513-88776655")
    page.get_by_role("button", name="保存热线").click()
    row = page.locator("tr", has_text="夜间值班电话")
    expect(row).to_be_visible()

    row.get_by_role("button", name="移除夜间值班电话").click()  # the accidental click
    expect(page.get_by_role("heading", level=1)).to_have_text("请确认")
    expect(page.locator(".confirm-question")).to_have_text("确定移除热线“夜间值班电话 · 0513-8877 6655”吗？")
    validator, problems = HtmlValidator(), []
    validator.add("confirmation page (no JavaScript)", page.content())
    page.get_by_role("link", name="取消").click()
    expect(page).to_have_url(re.compile(f"/manage/{SLUG}/hotlines$"))
    expect(page.locator("tr", has_text="夜间值班电话")).to_be_visible()  # nothing happened

    page.locator("tr", has_text="夜间值班电话").get_by_role("button", name="移除夜间值班电话").click()
    page.get_by_role("button", name="移除热线").click()
    expect(page.locator(".flash")).to_contain_text("夜间值班电话")
    expect(page.locator("tr", has_text="夜间值班电话")).to_have_count(0)
    expect(page.locator(".removed-list")).to_contain_text("夜间值班电话 · 0513-8877 6655")
    validator.add("hotlines with an undo message", page.content())
    page.locator(".flash").get_by_role("button", name="撤销").click()
    expect(page.locator(".flash")).to_contain_text("已恢复")
    expect(page.locator("tr", has_text="夜间值班电话")).to_be_visible()
    html_errors = validator.errors()
    if any(html_errors.values()):
        problems.append(format_html_errors(html_errors))
    assert not problems, "\n\n".join(problems)
    context.close()


def test_removing_an_outreach_entry_with_htmx_asks_in_place(browser: Browser, base_url: str):
    context, page = _signed_in(browser, base_url, width=1280, locale="en", js=True)
    page.goto(f"/manage/{SLUG}/outreach")
    page.get_by_label("Kind").select_option("visit")
    page.get_by_label("Count").fill("17")
    page.get_by_label("Notes").fill("Visited the night shift")
    page.get_by_role("button", name="Record").click()
    row = page.locator("tr", has_text="Visited the night shift")
    expect(row).to_be_visible()
    url = page.url

    row.get_by_role("button", name=re.compile("^Remove the entry of")).click()
    box = row.locator(".confirm-box")
    expect(box).to_be_visible()  # in place of the button, no page load
    expect(box).to_be_focused()
    expect(box.locator(".confirm-question")).to_contain_text("Remove the entry “")
    expect(box).to_contain_text("Visits · 17")
    assert page.url == url
    validator, problems = HtmlValidator(), []
    _checked(page, "inline confirmation (htmx)", validator, problems)
    box.get_by_role("button", name="Remove entry").click()
    expect(page.locator(".flash")).to_contain_text("The entry was removed.")
    expect(page.locator("tr", has_text="Visited the night shift")).to_have_count(0)
    page.locator(".flash").get_by_role("button", name="Undo").click()
    expect(page.locator(".flash")).to_contain_text("The entry is back.")
    expect(page.locator("tr", has_text="Visited the night shift")).to_be_visible()
    html_errors = validator.errors()
    if any(html_errors.values()):
        problems.append(format_html_errors(html_errors))
    assert not problems, "\n\n".join(problems)
    context.close()


@pytest.mark.parametrize(("width", "locale"), [(360, "zh-CN"), (1280, "en")])
def test_the_confirmation_page_and_the_undo_message_are_accessible(browser: Browser, base_url: str, width: int,
                                                                   locale: str):
    """The page a plain form reaches (htmx blocked, so the form posts as without it)."""
    context, page = _signed_in(browser, base_url, width=width, locale=locale, js=True)
    context.route(re.compile(r".*/htmx-[^/]*\.js(\?.*)?$"), lambda route: route.abort())
    page.goto(f"/manage/{SLUG}/hotlines")
    label = f"axe {width}"
    page.locator("#f-label").fill(label)
    page.locator("#f-number").fill("0513-8877 1" + ("360" if width == 360 else "280"))
    page.locator("form[action$='/hotlines'] button[type=submit]").click()
    page.locator("tr", has_text=label).locator("form.confirm-start button").click()
    expect(page.locator(".confirm-box")).to_be_visible()
    validator, problems = HtmlValidator(), []
    _checked(page, f"confirmation page {width} {locale}", validator, problems)
    page.locator(".confirm-box button[type=submit]").click()
    expect(page.locator(".flash-undo")).to_be_visible()
    _checked(page, f"undo message {width} {locale}", validator, problems)
    html_errors = validator.errors()
    if any(html_errors.values()):
        problems.append(format_html_errors(html_errors))
    assert not problems, "\n\n".join(problems)
    context.close()
