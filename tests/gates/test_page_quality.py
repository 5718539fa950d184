"""Every page passes axe-core (WCAG 2.1 A/AA), fits a 360 px screen (its tables too: no
number broken across lines, no text stacked a character per line), and is valid HTML.

Pages come from tests/gates/pages.py, which must list every HTML GET route.
Forms with errors are checked too: the login form after a bad submission.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser

from app.directory.demo import PASSWORD
from tests.gates.pages import DISTRICT_STAFF, ERROR_PAGES, NOT_PAGES, PAGES, UNION_REP
from tests.gates.test_access_matrix import ROUTES
from tests.quality import (
    HtmlValidator,
    format_axe_violations,
    format_html_errors,
    horizontal_overflow,
    run_axe,
    table_reading_problems,
)


def test_every_html_page_is_listed():
    get_routes = {path for path, method, _access, _params in ROUTES if method == "GET"}
    missing = sorted(get_routes - set(PAGES) - NOT_PAGES)
    assert not missing, f"add these pages to tests/gates/pages.py: {missing}"
    stale = sorted(set(PAGES) - get_routes)
    assert not stale, f"tests/gates/pages.py lists routes that no longer exist: {stale}"


def _context(browser: Browser, base_url: str, account: str | None):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN", base_url=base_url)
    if account:
        page = context.new_page()
        page.goto("/login")
        page.fill("#f-email", account)
        page.fill("#f-password", PASSWORD)
        page.click("button[type=submit].primary")
        page.wait_for_load_state()
        assert "/login" not in page.url, f"could not sign in as {account}"
        page.close()
    return context


def _demo_ids(browser: Browser, base_url: str) -> dict[str, str]:
    """Paths of demo rows, read from the links a staff member of 城东镇 sees."""
    context = _context(browser, base_url, DISTRICT_STAFF)
    page = context.new_page()
    found: dict[str, str] = {}
    for listing, patterns in (
        ("/manage/chengdong/cards", {"CARD:chengdong": r"^/o/chengdong/cards/[^/?]+$",
                                     "CARD_EDIT:chengdong": r"^/manage/chengdong/cards/[^/]+/edit$"}),
        ("/manage/chengdong/hotlines", {"HOTLINE_EDIT:chengdong": r"^/manage/chengdong/hotlines/[^/]+/edit$"}),
        ("/manage/chengdong/notifications", {"NOTIFICATION:chengdong": r"^/manage/chengdong/notifications/\d+$"}),
        ("/manage/chengdong/feedback?status=all", {"FEEDBACK_ITEM:chengdong": r"^/manage/chengdong/feedback/\d+$"}),
        ("/manage/chengdong/training", {"TRAINING_ASSIGNMENT:chengdong":
                                        r"^/manage/chengdong/training/assignments/\d+$"}),
    ):
        page.goto(listing)
        hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
        for key, pattern in patterns.items():
            found[key] = next(h for h in hrefs if re.match(pattern, h))
    found.update(_event_ids(page))
    context.close()
    found.update(_group_ids(browser, base_url))
    found.update(_registry_previews(browser, base_url))
    return found


def _registry_previews(browser: Browser, base_url: str) -> dict[str, str]:
    """Pages of the city console with ids: a notice (from the demo), and previews of register
    imports, which exist once a file is uploaded (uploaded here as the city admin)."""
    from tests.gates.pages import CITY_ADMIN
    from app.registry.creditcode import complete

    rows = ["区镇/街道,企业名称,统一社会信用代码,职工人数,劳动密集型,已建劳动争议调解委员会,平台上的调解委员会",
            f"城东镇,海安城东示例纺织有限公司,{complete('91320621MA9999001')},260,是,否,",
            f"城东镇,海安城东示例电子有限公司,{complete('91320621MA9999002')},130,是,是,"]
    bad = rows + [f"曲塘镇,,{complete('91320621MA9999003')[:-1]}0,很多,是,否,"]
    found = {}
    context = _context(browser, base_url, CITY_ADMIN)
    page = context.new_page()
    for key, lines in (("REGISTRY_PREVIEW:enterprises", rows), ("REGISTRY_PREVIEW_ERRORS:enterprises", bad)):
        page.goto("/city/registry/enterprises/import")
        page.set_input_files("#f-file", files=[{"name": "register.csv", "mimeType": "text/csv",
                                                "buffer": "\r\n".join(lines).encode("utf-8")}])
        page.click("button[type=submit].primary")
        page.wait_for_url(re.compile(r"/city/registry/enterprises/import/[\w-]+$"))
        found[key] = page.url.removeprefix(base_url)
    page.goto("/city/broadcasts")
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    found["BROADCAST:city"] = next(h for h in hrefs if re.match(r"^/city/broadcasts/\d+$", h))
    page.goto("/manage/city/training")
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    found["TRAINING_PROGRAMME:city"] = next(h for h in hrefs if re.match(r"^/manage/city/training/programmes/\d+$", h))
    found["TRAINING_PROGRAMME_EDIT:city"] = found["TRAINING_PROGRAMME:city"] + "/edit"
    context.close()
    return found


def _event_ids(page) -> dict[str, str]:
    """The first upcoming demo event of 城东镇: its staff, edit, check-in, scan and public pages."""
    from app.events.demo import demo_registration_path

    found = {"REGISTRATION:chengdong": demo_registration_path("chengdong")}
    page.goto("/manage/chengdong/events")
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    found["EVENT_STAFF:chengdong"] = next(h for h in hrefs if re.match(r"^/manage/chengdong/events/\d+$", h))
    page.goto(found["EVENT_STAFF:chengdong"])
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    for key, pattern in {"EVENT_EDIT:chengdong": r"^/manage/chengdong/events/\d+/edit$",
                         "EVENT_CHECKIN:chengdong": r"^/manage/chengdong/events/\d+/checkin$",
                         "EVENT_SCAN:chengdong": r"^/manage/chengdong/checkin/[A-Z0-9]+$",
                         "EVENT:chengdong": r"^/o/chengdong/events/\d+$"}.items():
        found[key] = next(h for h in hrefs if re.match(pattern, h))
    return found


def _group_ids(browser: Browser, base_url: str) -> dict[str, str]:
    """A demo group of the city's union, from its representative's group page."""
    context = _context(browser, base_url, UNION_REP)
    page = context.new_page()
    page.goto("/manage/union-city/groups")
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    context.close()
    return {"GROUP:union-city": next(h for h in hrefs if re.match(r"^/manage/union-city/groups/\d+$", h))}


def _resolve(url: str, ids: dict[str, str]) -> str:
    key, _sep, query = url.partition("?")
    if key in ids:
        return ids[key] + (f"?{query}" if query else "")
    return url


@pytest.mark.browser
def test_pages_are_accessible_fit_phones_and_are_valid_html(browser: Browser, base_url: str):
    ids = _demo_ids(browser, base_url)
    visits: dict[str | None, list[tuple[str, int]]] = {}
    for entries in PAGES.values():
        for account, url in entries:
            visits.setdefault(account, []).append((_resolve(url, ids), 200))
    for account, url, status in ERROR_PAGES:
        visits.setdefault(account, []).append((url, status))

    validator = HtmlValidator()
    problems: list[str] = []
    for account, urls in visits.items():
        context = _context(browser, base_url, account)
        page = context.new_page()
        for url, status in urls:
            response = page.goto(url)
            assert response is not None
            name = f"{account or 'anonymous'} {url}"
            # The page checked is the page asked for: not an error page, not a redirect to sign in.
            if response.status != status or response.request.redirected_from is not None:
                problems.append(f"{name}: answered {response.status} at {response.url}, expected {status}")
                continue
            validator.add(name, response.text())
            violations = run_axe(page)
            if violations:
                problems.append(format_axe_violations(name, violations))
            overflow = horizontal_overflow(page)
            if overflow > 0:
                problems.append(f"{name}: scrolls {overflow}px sideways at 360px wide")
            problems.extend(f"{name}: at 360px wide, {p}" for p in table_reading_problems(page))
        if account is None:
            # A form with errors beside its fields.
            page.goto("/login")
            page.fill("#f-email", "not-an-email")
            page.click("button[type=submit].primary")
            page.wait_for_selector("#f-email-error")
            validator.add("login with errors", page.content())
            violations = run_axe(page)
            if violations:
                problems.append(format_axe_violations("login with errors", violations))
        context.close()

    html_errors = validator.errors()
    if any(html_errors.values()):
        problems.append(format_html_errors(html_errors))
    assert not problems, "\n\n".join(problems)
