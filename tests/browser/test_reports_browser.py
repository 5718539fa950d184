"""Network reports as people use them, on a phone, in Chinese: the city admin opens the
report from the city console, narrows it to one district (htmx swaps the figures and the
address follows), downloads the Excel file; a district admin opens its own district's."""

from __future__ import annotations

import io
import re
from urllib.parse import quote

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_demo_flows import sign_in
from tests.quality import format_axe_violations, horizontal_overflow, run_axe

pytestmark = pytest.mark.browser


def _check(page: Page) -> None:
    violations = run_axe(page)
    assert violations == [], format_axe_violations(page.url, violations)
    assert horizontal_overflow(page) == 0


def test_city_admin_filters_the_report_and_downloads_it(page: Page, base_url: str):
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, base_url, "city.admin@demo.tiaojie.cn")
    page.get_by_role("link", name="市级工作台").click()
    page.locator(".city-nav").get_by_role("link", name="报表").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("全市报表")
    expect(page.locator(".city-nav a[aria-current=page]")).to_have_text("报表")
    by_district = page.locator("#report-by-district")
    expect(by_district).to_contain_text("城东镇")
    _check(page)

    # Choosing a district swaps the figures in place (htmx) and the address follows.
    page.get_by_label("区镇/街道").select_option("城东镇")
    expect(page).to_have_url(re.compile(r"district=" + re.escape(quote("城东镇"))))
    expect(page.locator("#report-by-district")).to_have_count(0)
    expect(page.locator("#report-by-month caption")).to_contain_text("城东镇")
    expect(page.locator(".report-period")).to_contain_text("城东镇")

    # The export follows the filter: the Excel file holds this district only.
    with page.expect_download() as info:
        page.get_by_role("link", name="下载 Excel（XLSX）").click()
    download = info.value
    assert download.suggested_filename.startswith("tiaojie-network-report-")
    book = openpyxl.load_workbook(io.BytesIO(open(download.path(), "rb").read()), read_only=True)
    rows = list(book["按月按区镇"].iter_rows(values_only=True))
    assert rows[0][:3] == ("月份", "区镇/街道", "举办活动场次")
    assert {r[1] for r in rows[1:]} == {"城东镇"}
    book.close()

    # A preset period is a plain link.
    page.get_by_role("link", name="最近 3 个月").click()
    expect(page.locator("#report-by-month tbody tr")).to_have_count(3)
    _check(page)


def test_a_district_admin_opens_its_own_report(page: Page, base_url: str):
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, base_url, "chengdong.admin@demo.tiaojie.cn")
    page.get_by_role("link", name="城东镇劳动人事争议调解中心").first.click()
    page.locator(".console-menu summary").click()
    page.locator(".console-nav").get_by_role("link", name="报表").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("城东镇报表")
    expect(page.locator("main")).not_to_contain_text("角斜镇")
    expect(page.get_by_label("区镇/街道")).to_have_count(0)
    expect(page.get_by_role("link", name="下载 CSV")).to_have_attribute(
        "href", re.compile(r"^/manage/chengdong/reports/export\?"))
    _check(page)
