"""The feedback mailbox in Chromium, as the issue's "done when" reads: a worker scans a
committee's card, writes anonymously from a phone, later reads the committee's reply
with the code and secret; an escalated message is answered by the district center;
nobody else can read it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from app.directory.demo import PASSWORD
from app.outreach.demo import card_code
from tests.quality import HtmlValidator, format_axe_violations, format_html_errors, horizontal_overflow, run_axe

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 740}, "locale": "zh-CN", "has_touch": True, "is_mobile": True}
COMMITTEE = "海安城东建材有限公司劳动争议调解委员会"
DISTRICT = "城东镇劳动人事争议调解中心"


def _staff(browser: Browser, base_url: str, email: str) -> Page:
    page = browser.new_context(locale="zh-CN", base_url=base_url).new_page()
    page.goto("/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).not_to_have_url(re.compile("/login"))
    return page


def _check(page: Page, validator: HtmlValidator | None = None, name: str = "") -> None:
    violations = run_axe(page)
    assert violations == [], format_axe_violations(page.url, violations)
    assert horizontal_overflow(page) == 0, page.url
    if validator is not None:
        validator.add(name, page.content())


def _write(worker: Page, message: str) -> tuple[str, str]:
    """From the form the card led to: pick a category, write, stay anonymous, send."""
    expect(worker.get_by_role("heading", level=1)).to_have_text("意见信箱")
    worker.get_by_label("拖欠工资").check()
    worker.get_by_label("留言内容").fill(message)
    expect(worker.get_by_label("匿名留言")).to_be_checked()
    worker.get_by_role("button", name="提交留言").click()
    expect(worker.get_by_role("heading", level=1)).to_have_text("留言已提交")
    code = worker.locator("#code").inner_text().strip()
    secret = worker.locator("#secret").inner_text().strip()
    assert re.fullmatch(r"\w{3}-\w{3}-\w{3}", code) and re.fullmatch(r"\d{4} \d{4}", secret)
    return code, secret


def _track(worker: Page, code: str, secret: str) -> None:
    worker.get_by_label("查询码").fill(code)
    worker.get_by_label("查询密码").fill(secret)
    worker.get_by_role("button", name="查询").click()
    expect(worker.get_by_role("heading", level=1)).to_have_text(f"您的留言 {code}")


def test_worker_scans_the_card_writes_anonymously_without_javascript_and_reads_the_reply(browser: Browser, base_url: str):
    # A cheap phone with JavaScript off: everything still works with plain forms and links.
    worker = browser.new_context(**PHONE, base_url=base_url, java_script_enabled=False).new_page()
    worker.goto(f"/q/{card_code('ent-chengdong-jiancai')}")
    expect(worker).to_have_url(base_url + "/o/ent-chengdong-jiancai/feedback")
    expect(worker.get_by_role("link", name=re.compile(r"^0513"))).to_be_visible()  # urgent? call
    # A mistake first: nothing typed is lost.
    worker.get_by_label("留言内容").fill("车间两个月没发工资。")
    worker.get_by_role("button", name="提交留言").click()
    expect(worker.locator("#f-category-error")).to_be_visible()
    expect(worker.get_by_label("留言内容")).to_have_value("车间两个月没发工资。")
    code, secret = _write(worker, "车间两个月没发工资，班长说等老板回款。")
    expect(worker.get_by_role("button", name="复制查询码和密码")).to_be_hidden()  # needs JavaScript

    staff = _staff(browser, base_url, "enterprise.staff@demo.tiaojie.cn")
    staff.get_by_role("link", name="意见信箱").first.click()
    staff.get_by_role("link", name=re.compile(code)).click()
    expect(staff.locator(".message-body").first).to_have_text("车间两个月没发工资，班长说等老板回款。")
    staff.get_by_role("button", name="确认受理").click()
    expect(staff.locator(".flashes")).to_contain_text("已受理")
    staff.get_by_role("textbox", name=re.compile(r"^答复")).fill("已核实，公司承诺本月 25 日前补发，请留意工资到账情况。")
    staff.get_by_role("button", name="发送答复").click()
    expect(staff.locator(".flashes")).to_contain_text("答复已保存")

    worker.get_by_role("link", name="查看答复").first.click()
    _track(worker, code, secret)
    expect(worker.locator(".timeline")).to_contain_text("已核实，公司承诺本月 25 日前补发")
    expect(worker.locator(".badge")).to_have_text("已答复")


def test_an_escalated_message_is_answered_by_the_district_center_and_nobody_else_reads_it(browser: Browser, base_url: str):
    validator = HtmlValidator()
    worker = browser.new_context(**PHONE, base_url=base_url).new_page()
    worker.goto(f"/q/{card_code('ent-chengdong-jiancai')}")
    _check(worker, validator, "form")
    code, secret = _write(worker, "车间主任克扣我们班组的绩效工资，找委员会不方便。")
    _check(worker, validator, "receipt")
    expect(worker.get_by_role("button", name="复制查询码和密码")).to_be_visible()

    committee = _staff(browser, base_url, "enterprise.staff@demo.tiaojie.cn")
    committee.goto("/manage/ent-chengdong-jiancai/feedback")
    committee.get_by_role("link", name=re.compile(code)).click()
    item_url = committee.url
    item_id = item_url.rsplit("/", 1)[1]
    committee.get_by_role("textbox", name=re.compile(r"^备注")).fill("涉及车间主任，委员会回避。")
    committee.get_by_role("button", name="添加备注").click()
    committee.get_by_role("button", name=f"上报至{DISTRICT}").click()
    expect(committee.locator(".flashes")).to_contain_text(f"已上报至{DISTRICT}")
    expect(committee.locator(".notice")).to_contain_text(f"现由{DISTRICT}办理")  # read only now

    district = _staff(browser, base_url, "chengdong.staff@demo.tiaojie.cn")
    district.set_viewport_size({"width": 360, "height": 740})
    district.goto("/manage/chengdong/feedback")
    row = district.locator("tr", has_text=code)
    expect(row).to_contain_text(f"原留言单位：{COMMITTEE}")
    _check(district, validator, "inbox")
    row.get_by_role("link", name=re.compile(code)).click()
    expect(district.locator(".timeline")).to_contain_text("涉及车间主任，委员会回避。")
    _check(district, validator, "item")
    district.get_by_role("textbox", name=re.compile(r"^答复")).fill("区调解中心已受理，将约谈企业负责人，请保持电话畅通。")
    district.get_by_role("button", name="发送答复").click()
    expect(district.locator(".flashes")).to_contain_text("答复已保存")

    worker.goto("/track")
    _track(worker, code, secret)
    timeline = worker.locator(".timeline")
    expect(timeline).to_contain_text(f"您的留言已由{COMMITTEE}上报至{DISTRICT}")
    expect(timeline).to_contain_text("区调解中心已受理，将约谈企业负责人")
    expect(timeline).not_to_contain_text("委员会回避")  # internal notes stay inside
    _check(worker, validator, "track")
    worker.get_by_label("还有什么问题？（选填）").fill("企业还是不认账。")
    worker.get_by_role("button", name="问题没有解决").click()
    expect(worker.locator(".flash")).to_contain_text("您的留言已重新办理")

    # Nobody else: the city center (not escalated to it), another district, the union.
    for email, slug in (("city.admin@demo.tiaojie.cn", "city"), ("union.rep@demo.tiaojie.cn", "union-city"),
                        ("city.admin@demo.tiaojie.cn", "chengdong")):
        other = _staff(browser, base_url, email)
        response = other.goto(f"/manage/{slug}/feedback/{item_id}")
        assert response is not None and response.status in (403, 404), (email, slug, response.status)
        expect(other.locator("main")).not_to_contain_text("车间主任克扣")
        other.context.close()
    # The committee still reads it, and now sees the reply from above.
    committee.reload()
    expect(committee.locator(".timeline")).to_contain_text("区调解中心已受理")

    errors = validator.errors()
    assert not any(errors.values()), format_html_errors(errors)
