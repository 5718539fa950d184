"""Training in a browser, in Chinese, on a phone: the city staff member assigns a programme to
every district center, 城东镇 passes it down to its enterprise committees, a committee
nominates a person and records completion, and the city's overview shows it done, rolled up.
No URL is typed after signing in."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_demo_flows import sign_in
from tests.quality import format_axe_violations, horizontal_overflow, run_axe

pytestmark = pytest.mark.browser
TITLE = "调解员技能（浏览器测试）"


def _check(page: Page) -> None:
    violations = run_axe(page)
    assert violations == [], format_axe_violations(page.url, violations)
    assert horizontal_overflow(page) == 0


def _console(page: Page, entry: str) -> None:
    page.locator(".console-menu summary").click()
    page.locator(".console-nav").get_by_role("link", name=entry, exact=True).click()


def test_assign_pass_down_complete_and_see_it_in_the_overview(page: Page, base_url: str):
    page.set_viewport_size({"width": 360, "height": 740})
    due = (date.today() + timedelta(days=20)).isoformat()

    # The city center's staff member defines the programme and assigns it to every district center.
    sign_in(page, base_url, "city.staff@demo.tiaojie.cn")
    page.get_by_role("link", name="市级工作台").click()
    page.get_by_role("link", name="培训总览").first.click()
    _console(page, "培训")
    page.get_by_role("link", name="新建培训项目").click()
    page.get_by_label("标题").fill(TITLE)
    page.get_by_label("要求学时").fill("0")
    page.get_by_role("button", name="保存培训项目").click()
    expect(page.locator("#f-hours-error")).to_contain_text("0.5")
    expect(page.get_by_label("标题")).to_have_value(TITLE)  # nothing typed is lost
    page.get_by_label("要求学时").fill("2")
    page.get_by_role("button", name="保存培训项目").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    page.get_by_label("……或下级中某一类别的全部组织").select_option("district_center")
    page.get_by_label("截止日期").fill(due)
    page.get_by_label("每个组织应训人数").fill("1")
    page.get_by_role("button", name="布置培训", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("已布置给 14 个组织")
    _check(page)

    # 城东镇 passes it down to its enterprise committees.
    page.context.clear_cookies()
    sign_in(page, base_url, "chengdong.admin@demo.tiaojie.cn")
    page.get_by_role("link", name="城东镇劳动人事争议调解中心").first.click()
    _console(page, "培训")
    page.get_by_role("link", name=TITLE).click()
    page.get_by_label("……或下级中某一类别的全部组织").select_option("enterprise_committee")
    page.get_by_label("每个组织应训人数").fill("1")
    page.get_by_role("button", name="下达", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("已布置给 2 个组织")
    expect(page.locator("#passed-down")).to_be_visible()
    _check(page)

    # An enterprise committee nominates a person and records a full attendance.
    page.context.clear_cookies()
    sign_in(page, base_url, "enterprise.staff@demo.tiaojie.cn")
    page.get_by_role("link", name="海安城东建材有限公司劳动争议调解委员会").first.click()
    _console(page, "培训")
    page.get_by_role("link", name=TITLE).click()
    page.locator("#p-name").fill("周小燕")
    page.locator("#p-phone").fill("13912345678")
    page.get_by_role("button", name="报名", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("周小燕")
    page.locator("#c-participant").select_option(label="周小燕")
    page.locator("#c-hours").fill("2")
    page.locator("#c-day").fill(date.today().isoformat())
    page.get_by_role("button", name="登记完成情况").click()
    expect(page.locator("#people").locator("xpath=..")).to_contain_text("已达标")
    _check(page)

    # The city sees it done: the committee and, rolled up, 城东镇; the others are in progress.
    page.context.clear_cookies()
    sign_in(page, base_url, "city.staff@demo.tiaojie.cn")
    page.get_by_role("link", name="市级工作台").click()
    page.get_by_role("link", name="培训总览").first.click()
    page.get_by_label("培训项目").select_option(label=TITLE)
    page.get_by_role("button", name="查看").click()
    rows = page.locator("table.training-rows tbody tr")
    expect(rows.filter(has_text="城东镇劳动人事争议调解中心")).to_contain_text("已完成")
    expect(rows.filter(has_text="海安城东建材有限公司")).to_contain_text("已完成")
    expect(rows.filter(has_text="李堡镇劳动人事争议调解中心")).to_contain_text("未完成")
    expect(page.locator("#district-caption")).to_be_visible()
    _check(page)
