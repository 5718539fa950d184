"""Events in Chromium on a phone (360 px): a district center publishes a case explanation, a
union uploads its group of 12, people register until the waitlist, one cancels through the
private link and the first waiting gets the seat, staff check people in with a tap."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.test_demo_flows import sign_in
from tests.quality import format_axe_violations, horizontal_overflow, run_axe

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
TITLE = "以案释法：工伤怎么认定（浏览器）"


def _phone(browser: Browser, base_url: str, js: bool = True):
    return browser.new_context(viewport=PHONE, locale="zh-CN", base_url=base_url, java_script_enabled=js)


def _accessible(page: Page) -> None:
    violations = run_axe(page)
    assert violations == [], format_axe_violations(page.url, violations)
    assert horizontal_overflow(page) == 0


def _sheet(path, n: int) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["姓名", "手机号"])
    for i in range(n):
        sheet.append([f"工会会员{i + 1}", f"1371234{i:04d}"])
    book.save(path)


def _register(page: Page, url: str, name: str, phone: str) -> None:
    page.goto(url)
    page.get_by_label("您的姓名").fill(name)
    page.get_by_label("手机号").fill(phone)
    page.locator("#register button[type=submit]").click()


def test_publish_group_register_waitlist_cancel_and_check_in(browser: Browser, base_url: str, tmp_path):
    starts = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(hours=1)  # check-in opens before the start

    # Staff of 城东镇 publish a case explanation for 14 people, from a phone.
    staff = _phone(browser, base_url).new_page()
    sign_in(staff, base_url, "chengdong.staff@demo.tiaojie.cn")
    staff.locator(".console-home").get_by_role("link", name="活动", exact=True).click()
    staff.get_by_role("link", name="新建活动").click()
    staff.get_by_label(re.compile("^标题")).fill(TITLE)
    staff.get_by_label("类型").select_option("case_explanation")
    staff.get_by_label("工伤", exact=True).check()
    staff.get_by_label("开始时间").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    staff.get_by_label("结束时间").fill((starts + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    staff.get_by_label("地点", exact=True).fill("城东镇便民服务中心二楼")
    staff.get_by_label(re.compile("^座位")).fill("14")
    staff.get_by_label("允许工会团体报名").check()
    staff.get_by_role("button", name="保存为草稿").click()
    expect(staff.locator(".flashes")).to_contain_text("已保存为草稿")
    staff.get_by_role("button", name="发布").click()
    expect(staff.locator(".flashes")).to_contain_text("已发布")
    _accessible(staff)
    event_path = re.search(r"/manage/chengdong/events/(\d+)$", staff.url)
    assert event_path
    public_url = f"/o/chengdong/events/{event_path.group(1)}"

    # The city's union uploads its group of 12.
    union = _phone(browser, base_url).new_page()
    sign_in(union, base_url, "union.rep@demo.tiaojie.cn")
    union.get_by_role("link", name="团体报名").first.click()
    union.get_by_role("link", name=TITLE).click()
    union.get_by_label(re.compile("^人数")).fill("12")
    sheet = tmp_path / "会员名单.xlsx"
    _sheet(sheet, 12)
    union.get_by_label("…或上传名单表格").set_input_files(str(sheet))
    union.get_by_role("button", name="提交团体报名").click()
    expect(union.locator(".flashes")).to_contain_text("12 人全部获得座位")
    expect(union.locator("table")).to_contain_text("工会会员12")
    _accessible(union)

    # People register on their phones: two seats are left, then the waitlist.
    person = _phone(browser, base_url).new_page()
    _register(person, public_url, "陈一", "13912345551")
    expect(person.get_by_role("heading", level=1)).to_have_text("报名成功")
    expect(person.locator(".qr-box svg.qr")).to_be_visible()
    _accessible(person)
    first_link = person.url.split("?")[0]
    _register(person, public_url, "陈二", "13912345552")
    expect(person.get_by_role("heading", level=1)).to_have_text("报名成功")
    _register(person, public_url, "陈三", "13912345553")
    expect(person.get_by_role("heading", level=1)).to_have_text("您已进入候补名单")
    expect(person.locator(".registration-status")).to_contain_text("候补名单第 1 位")
    waiting_link = person.url.split("?")[0]
    _register(person, public_url, "陈四", "13912345554")
    expect(person.locator(".registration-status")).to_contain_text("候补名单第 2 位")
    # The same phone again is refused beside the field, keeping the name.
    _register(person, public_url, "陈一一", "13912345551")
    expect(person.locator("#f-phone-error")).to_contain_text("已报名本场活动")
    expect(person.get_by_label("您的姓名")).to_have_value("陈一一")

    # 陈一 cannot come and cancels through the private link: 陈三 gets the seat.
    person.goto(first_link)
    person.get_by_text("取消我的报名").click()
    person.get_by_role("button", name="确认放弃座位").click()
    expect(person.locator(".registration-status")).to_contain_text("这条报名已取消")
    person.goto(waiting_link)
    expect(person.locator(".registration-status")).to_contain_text("您的座位已确认")

    # Staff check people in from the phone: found by the end of the number, one tap.
    staff.get_by_role("link", name="签到").first.click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("签到")
    expect(staff.locator(".checkin-list")).not_to_contain_text("陈四")  # waiting: not an attendee
    checkin_url = staff.url
    staff.get_by_label("姓名或手机尾号").press_sequentially("5553", delay=30)
    row = staff.locator(".checkin-person", has_text="陈三")
    expect(staff.locator(".checkin-person")).to_have_count(1)
    row.get_by_role("button", name="陈三签到").click()
    expect(staff.locator(".checkin-person.is-present", has_text="陈三")).to_be_visible()
    expect(staff.locator("#checkin-count")).to_contain_text("已签到 1 人")
    assert staff.url.startswith(checkin_url.split("?")[0])  # no page load: htmx swapped the row
    _accessible(staff)
    staff.get_by_label("姓名或手机尾号").fill("")
    staff.locator("#w-name").fill("现场来的人")
    staff.get_by_role("button", name="登记并签到").click()
    expect(staff.locator(".flashes")).to_contain_text("已添加现场来的人并签到")
    expect(staff.locator("#checkin-count")).to_contain_text("已签到 2 人")


def test_register_and_cancel_without_javascript(browser: Browser, base_url: str):
    page = _phone(browser, base_url, js=False).new_page()
    page.goto("/events")
    page.get_by_label("类型").select_option("special_session")
    page.get_by_role("button", name="查看").click()
    expect(page).to_have_url(re.compile(r"/events\?.*kind=special_session"))
    page.locator(".event-item a", has_text="农民工欠薪劳动争议专场").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("农民工欠薪劳动争议专场")
    page.get_by_label("您的姓名").fill("无脚本")
    page.get_by_label("手机号").fill("not a phone")
    page.locator("#register button[type=submit]").click()
    expect(page.locator("#f-phone-error")).to_be_visible()
    expect(page.get_by_label("您的姓名")).to_have_value("无脚本")
    page.get_by_label("手机号").fill("13700001234")
    page.locator("#register button[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("报名成功")
    page.get_by_text("取消我的报名").click()  # a <details>: opens without JavaScript
    page.get_by_role("button", name="确认放弃座位").click()
    expect(page.locator(".registration-status")).to_contain_text("这条报名已取消")


def test_calendar_month_view_and_filters_without_reload(page: Page, base_url: str):
    page.set_viewport_size(PHONE)
    page.goto(base_url + "/")
    page.get_by_role("link", name="全市活动日历").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("全市活动日历")
    page.get_by_label("区镇/街道").select_option("城东镇")
    expect(page).to_have_url(re.compile(r"district=%E5%9F%8E%E4%B8%9C%E9%95%87"))
    results = page.locator("#event-results")
    expect(results).to_contain_text("城东镇劳动人事争议调解中心")
    expect(results).not_to_contain_text("李堡镇劳动人事争议调解中心")
    page.locator(".view-switch").get_by_role("link", name="月份").click()
    expect(page.locator("table.month-grid")).to_be_visible()
    expect(page).to_have_url(re.compile(r"view=month"))
    _accessible(page)
    page.get_by_role("link", name="下个月").click()
    expect(page.locator(".month-title")).not_to_have_text("")
    _accessible(page)


def test_console_menu_is_one_line_on_a_phone_and_grouped_by_role(browser: Browser, base_url: str):
    page = _phone(browser, base_url).new_page()
    sign_in(page, base_url, "chengdong.staff@demo.tiaojie.cn")
    page.goto("/manage/chengdong/events")
    summary = page.locator(".console-menu summary")
    expect(summary).to_have_text("菜单 · 活动")
    box = summary.bounding_box()
    assert box and box["height"] < 60  # one line, not two thirds of the screen
    hotlines = page.locator(".console-nav a[href='/manage/chengdong/hotlines']")
    expect(hotlines).to_be_hidden()
    summary.focus()
    page.keyboard.press("Enter")  # a native disclosure: the keyboard opens it
    expect(hotlines).to_be_visible()
    sections = page.locator(".console-section-title")
    expect(sections).to_have_text(["活动与报名", "培训", "劳动者意见", "对外宣传", "消息", "本组织"])
    expect(page.locator(".console-nav a[href='/manage/chengdong/settings']")).to_have_count(0)  # admins only
    expect(page.locator(".console-nav a[aria-current=page]")).to_have_text("活动")
    _accessible(page)

    union = _phone(browser, base_url).new_page()
    sign_in(union, base_url, "union.rep@demo.tiaojie.cn")
    union.locator(".console-menu summary").click()
    expect(union.locator(".console-nav")).to_contain_text("团体报名")
    expect(union.locator(".console-nav")).not_to_contain_text("热线电话")
