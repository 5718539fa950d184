"""Proves the browser quality helpers in tests/quality.py work.

Never skipped: a missing tool fails with the command to run
(``npm ci --prefix tests/tools --ignore-scripts`` / ``bash scripts/ensure-chromium.sh``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, Page

from tests.quality import (
    AXE_JS_PATH,
    NPM_INSTALL_CMD,
    VNU_JAR_PATH,
    HtmlValidator,
    QualityToolMissing,
    format_axe_violations,
    format_html_errors,
    horizontal_overflow,
    require_chromium,
    run_axe,
)

pytestmark = pytest.mark.browser

CSP = "default-src 'self'; script-src 'self'"

INACCESSIBLE_HTML = """<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>不可访问</title></head>
<body>
<main>
  <h1>报名</h1>
  <img src="/logo.svg">
  <form><input type="text" name="phone"></form>
  <script>window.inlineScriptRan = true;</script>
</main>
</body>
</html>
"""

ACCESSIBLE_HTML = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>劳动争议调解培训</title>
  <script src="/app.js"></script>
</head>
<body>
<main>
  <h1>劳动争议调解培训</h1>
  <p>欢迎参加基层调解员培训。</p>
  <img src="/logo.svg" alt="调解中心标志" width="40" height="40">
  <form action="/search" method="get">
    <label for="q">搜索课程</label>
    <input id="q" type="search" name="q">
    <button type="submit">搜索</button>
  </form>
</main>
</body>
</html>
"""

APP_JS = "document.documentElement.dataset.js = 'on';\n"
LOGO_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
    '<rect width="40" height="40" fill="#036"/></svg>'
)

ROUTES: dict[str, tuple[str, str]] = {
    "/inaccessible": ("text/html; charset=utf-8", INACCESSIBLE_HTML),
    "/accessible": ("text/html; charset=utf-8", ACCESSIBLE_HTML),
    "/app.js": ("text/javascript; charset=utf-8", APP_JS),
    "/logo.svg": ("image/svg+xml", LOGO_SVG),
}


class _CSPHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server API
        route = ROUTES.get(self.path.split("?", 1)[0])
        if route is None:
            self.send_error(404)
            return
        content_type, body = route
        data = body.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Security-Policy", CSP)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def csp_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CSPHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def quality_browser(browser: Browser) -> Browser:
    # pytest-playwright's session browser (Debian's Chromium, see conftest): one
    # sync Playwright per process, shared with the other browser tests.
    require_chromium()  # fails (not skips) with the install command
    return browser


@pytest.fixture
def narrow_page(quality_browser: Browser) -> Iterator[Page]:
    context = quality_browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


# ---------------------------------------------------------------- axe-core


def test_axe_finds_missing_alt_and_label_under_strict_csp(narrow_page: Page, csp_server: str) -> None:
    url = f"{csp_server}/inaccessible"
    response = narrow_page.goto(url)
    assert response is not None
    assert response.headers["content-security-policy"] == CSP
    # The CSP is really enforced: the page's own inline script was blocked...
    assert narrow_page.evaluate("typeof window.inlineScriptRan") == "undefined"

    violations = run_axe(narrow_page)  # ...yet axe is injected and runs.

    ids = {v["id"] for v in violations}
    assert {"image-alt", "label"} <= ids, format_axe_violations(url, violations)
    message = format_axe_violations(url, violations)
    assert url in message
    assert "image-alt [critical]" in message
    assert "Images must have alternative text" in message
    assert "target: img" in message
    assert '<img src="/logo.svg">' in message
    assert "target: input" in message


def test_axe_clean_page_has_no_violations_under_strict_csp(narrow_page: Page, csp_server: str) -> None:
    url = f"{csp_server}/accessible"
    narrow_page.goto(url)
    # Same-origin scripts still run under the CSP.
    assert narrow_page.evaluate("document.documentElement.dataset.js") == "on"

    violations = run_axe(narrow_page)
    assert violations == [], format_axe_violations(url, violations)
    # Running again reuses the injected axe.
    assert run_axe(narrow_page) == []


def test_axe_works_on_set_content_pages(narrow_page: Page) -> None:
    narrow_page.set_content(INACCESSIBLE_HTML)
    ids = {v["id"] for v in run_axe(narrow_page)}
    assert {"image-alt", "label"} <= ids


def test_format_axe_violations_without_violations() -> None:
    assert "no violations" in format_axe_violations("/x", [])


# ---------------------------------------------------------------- overflow


def test_horizontal_overflow_detects_fixed_width_content(narrow_page: Page) -> None:
    assert narrow_page.viewport_size == {"width": 360, "height": 740}
    narrow_page.set_content(
        '<!DOCTYPE html><html lang="en"><head>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>wide</title></head>"
        '<body><div style="width:600px;height:20px;background:#ccc">wide</div></body></html>'
    )
    overflow = horizontal_overflow(narrow_page)
    assert overflow > 0
    assert overflow >= 600 - 360  # at least the div's excess width


def test_horizontal_overflow_is_zero_for_responsive_content(narrow_page: Page) -> None:
    narrow_page.set_content(
        '<!DOCTYPE html><html lang="en"><head>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>fits</title></head>"
        '<body><div style="width:600px;max-width:100%;height:20px;background:#ccc">fits</div>'
        '<p style="overflow-wrap:anywhere">'
        + "长" * 200
        + "</p></body></html>"
    )
    assert horizontal_overflow(narrow_page) == 0


# ---------------------------------------------------------------- vnu


VALID_DOC = """<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>有效文档</title></head>
<body>
<main>
  <h1 id="top">劳动争议调解</h1>
  <p>内容</p>
</main>
</body>
</html>
"""

INVALID_DOC = """<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>无效文档</title></head>
<body>
<main>
  <p id="dup"><b>加粗</p></b>
  <span id="dup">重复</span>
  <div>
</main>
</body>
</html>
"""


def test_html_validator_reports_errors_per_document_in_one_run() -> None:
    validator = HtmlValidator()
    validator.add("/valid", VALID_DOC)
    validator.add("/invalid", INVALID_DOC)
    assert len(validator) == 2

    errors = validator.errors()

    assert set(errors) == {"/valid", "/invalid"}
    assert errors["/valid"] == [], format_html_errors(errors)
    invalid = errors["/invalid"]
    assert any("Duplicate ID" in e and "dup" in e for e in invalid), invalid
    assert any("End tag “p” seen, but there were open elements" in e for e in invalid), invalid
    assert any(e.startswith("line 6: ") for e in invalid), invalid

    report = format_html_errors(errors)
    assert "/invalid" in report and "/valid" not in report.replace("/invalid", "")
    assert "Duplicate ID" in report

    # Documents added later are checked on the next call; earlier results are kept.
    validator.add("/later", VALID_DOC)
    again = validator.errors()
    assert again["/later"] == [] and again["/invalid"] == invalid


def test_html_validator_rejects_duplicate_names() -> None:
    validator = HtmlValidator()
    validator.add("/a", VALID_DOC)
    with pytest.raises(ValueError, match="added twice"):
        validator.add("/a", VALID_DOC)


def test_format_html_errors_when_clean() -> None:
    assert "no HTML errors in 2 document(s)" in format_html_errors({"/a": [], "/b": []})


# ---------------------------------------------------------------- tooling


def test_tools_are_installed_where_expected() -> None:
    assert AXE_JS_PATH.is_file(), f"run: {NPM_INSTALL_CMD}"
    assert VNU_JAR_PATH.is_file(), f"run: {NPM_INSTALL_CMD}"


def test_missing_tool_errors_name_the_install_command(tmp_path) -> None:
    with pytest.raises(QualityToolMissing, match="npm ci --prefix tests/tools"):
        HtmlValidator(jar=tmp_path / "missing-vnu.jar")
