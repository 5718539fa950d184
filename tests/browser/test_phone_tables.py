"""Every staff table reads well on a phone and on a desktop, in Chinese and in English:
no number broken mid-number, no header stacked character by character, no page that
scrolls sideways (a wide table of figures scrolls inside its own frame)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from app.directory.demo import PASSWORD
from tests.quality import format_axe_violations, horizontal_overflow, run_axe, table_reading_problems

pytestmark = pytest.mark.browser

TABLES = {
    "chengdong.staff@demo.tiaojie.cn": ["/manage/chengdong/", "/manage/chengdong/hotlines",
                                        "/manage/chengdong/notifications", "/manage/chengdong/outreach"],
    "chengdong.admin@demo.tiaojie.cn": ["/manage/chengdong/members", "/manage/chengdong/audit"],
    "city.staff@demo.tiaojie.cn": ["/city/outreach", "/city/notifications"],
}


@pytest.mark.parametrize(("width", "locale"), [(360, "zh-CN"), (360, "en"), (1280, "zh-CN"), (1280, "en")])
def test_staff_tables_read_well(browser: Browser, base_url: str, width: int, locale: str):
    problems = []
    for account, urls in TABLES.items():
        context = browser.new_context(locale=locale, base_url=base_url, viewport={"width": width, "height": 800})
        page = context.new_page()
        page.goto("/login")
        page.fill("#f-email", account)
        page.fill("#f-password", PASSWORD)
        page.click("button[type=submit].primary")
        page.wait_for_load_state()
        for url in urls:
            page.goto(url)
            if not url.endswith("/audit"):  # the audit log may still be empty here
                expect(page.locator("main table").first).to_be_visible()
            problems += [f"{url} at {width}px {locale}: {p}" for p in table_reading_problems(page)]
            if horizontal_overflow(page):
                problems.append(f"{url} at {width}px {locale}: the page scrolls sideways")
        context.close()
    assert not problems, "\n".join(problems)


def test_a_wide_table_of_figures_scrolls_in_its_frame_with_the_names_in_view(browser: Browser, base_url: str):
    context = browser.new_context(locale="zh-CN", base_url=base_url, viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto("/login")
    page.fill("#f-email", "city.staff@demo.tiaojie.cn")
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit].primary")
    page.goto("/city/outreach")
    frame = page.locator(".table-wrap[role=region]")
    name = frame.get_by_role("rowheader", name="城东镇劳动人事争议调解中心")
    before = name.bounding_box()
    frame.focus()  # a keyboard reaches it too
    page.keyboard.press("End")
    frame.evaluate("el => el.scrollLeft = el.scrollWidth")
    after = name.bounding_box()
    assert frame.evaluate("el => el.scrollLeft") > 100  # it scrolled ...
    assert abs(after["x"] - before["x"]) < 1  # ... and the organisation's name stayed put
    violations = run_axe(page)
    assert not violations, format_axe_violations(page.url, violations)
    context.close()
