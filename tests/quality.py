"""Browser quality-check helpers for Tiaojie's tests (plain module, no fixtures).

* axe-core accessibility checks on a Playwright **sync** ``Page``
  (:func:`run_axe`, :func:`format_axe_violations`);
* horizontal-overflow measurement for narrow viewports (:func:`horizontal_overflow`);
* HTML conformance with the Nu HTML Checker, many documents per JVM start
  (:class:`HtmlValidator`, :func:`format_html_errors`);
* how to launch Debian's Chromium with Playwright (:data:`CHROMIUM_EXECUTABLE`,
  :data:`CHROMIUM_ARGS`, :func:`launch_chromium`).

The tools come from ``npm ci --prefix tests/tools --ignore-scripts`` (axe-core,
vnu-jar) and ``bash scripts/ensure-chromium.sh`` (chromium, java, node/npm).
Every helper raises :class:`QualityToolMissing` naming the command to run when
its tool is absent: these checks must fail, never skip.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

if TYPE_CHECKING:  # pragma: no cover - typing only
    from playwright.sync_api import Browser, Page, Playwright

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
TOOLS_DIR = TESTS_DIR / "tools"
NODE_MODULES = TOOLS_DIR / "node_modules"

AXE_JS_PATH = NODE_MODULES / "axe-core" / "axe.min.js"
VNU_JAR_PATH = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"

CHROMIUM_EXECUTABLE = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

NPM_INSTALL_CMD = "npm ci --prefix tests/tools --ignore-scripts"
ENSURE_SYSTEM_CMD = "bash scripts/ensure-chromium.sh"

#: axe tags checked by default: WCAG 2.0 and 2.1, levels A and AA.
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")


class QualityToolMissing(RuntimeError):
    """A tool needed by a quality check is not installed."""


def _missing(what: str, path: Path | str, cmd: str) -> QualityToolMissing:
    hint = f"\n(npm itself comes from: {ENSURE_SYSTEM_CMD})" if cmd == NPM_INSTALL_CMD else ""
    return QualityToolMissing(
        f"{what} not found at {path}.\n"
        f"Install it from the repository root with:\n    {cmd}{hint}"
    )


# --------------------------------------------------------------------------
# Chromium
# --------------------------------------------------------------------------


def require_chromium() -> str:
    """Return the Chromium path, or raise :class:`QualityToolMissing`."""
    if not os.access(CHROMIUM_EXECUTABLE, os.X_OK):
        raise _missing("Chromium", CHROMIUM_EXECUTABLE, ENSURE_SYSTEM_CMD)
    return CHROMIUM_EXECUTABLE


def launch_chromium(playwright: Playwright, **kwargs: Any) -> Browser:
    """Launch Debian's headless Chromium with the project's standard flags."""
    options: dict[str, Any] = {
        "executable_path": require_chromium(),
        "headless": True,
        "args": list(CHROMIUM_ARGS),
    }
    options.update(kwargs)
    return playwright.chromium.launch(**options)


# --------------------------------------------------------------------------
# axe-core
# --------------------------------------------------------------------------


@functools.cache
def _axe_source() -> str:
    if not AXE_JS_PATH.is_file():
        raise _missing("axe-core", AXE_JS_PATH, NPM_INSTALL_CMD)
    return AXE_JS_PATH.read_text(encoding="utf-8")


_AXE_PRESENT_JS = "() => typeof window.axe === 'object' && typeof window.axe.run === 'function'"

_AXE_RUN_JS = """
async (options) => {
  const result = await window.axe.run(document, options);
  return result.violations;
}
"""


def inject_axe(page: Page) -> None:
    """Load axe-core into the page's main frame (no-op if already there).

    Uses ``page.evaluate`` with the library source: DevTools-protocol
    evaluation is not subject to the page's Content-Security-Policy, so the
    app's real ``script-src 'self'`` stays on during the test.
    (``page.add_script_tag`` inserts an inline ``<script>``, which that CSP blocks.)
    """
    source = _axe_source()
    if page.evaluate(_AXE_PRESENT_JS):
        return
    page.evaluate(source)
    if not page.evaluate(_AXE_PRESENT_JS):
        raise RuntimeError(f"axe-core was evaluated on {page.url} but window.axe is not defined")


def run_axe(page: Page, tags: tuple[str, ...] | list[str] = WCAG_TAGS) -> list[dict]:
    """Run axe-core on the page's document and return the violations list.

    Only rules tagged with one of ``tags`` run (default: WCAG 2.0/2.1 A+AA).
    Each violation is axe's dict: ``id``, ``impact``, ``help``, ``helpUrl``,
    ``description``, ``nodes`` (each with ``target``, ``html``, ``failureSummary``).
    """
    inject_axe(page)
    options = {
        "runOnly": {"type": "tag", "values": list(tags)},
        "resultTypes": ["violations"],
    }
    return page.evaluate(_AXE_RUN_JS, options)


def _truncate(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_axe_violations(url: str, violations: list[dict], max_nodes: int = 5) -> str:
    """A readable report of axe violations for an assertion message."""
    if not violations:
        return f"axe: no violations on {url}"
    lines = [f"axe: {len(violations)} accessibility violation(s) on {url}:"]
    for v in violations:
        lines.append(
            f"- {v.get('id')} [{v.get('impact') or 'n/a'}]: {v.get('help')}"
            + (f" ({v['helpUrl']})" if v.get("helpUrl") else "")
        )
        nodes = v.get("nodes") or []
        for node in nodes[:max_nodes]:
            target = node.get("target") or []
            selector = " ".join(
                " >> ".join(t) if isinstance(t, list) else str(t) for t in target
            )
            lines.append(f"    target: {selector}")
            lines.append(f"      html: {_truncate(node.get('html', ''), 200)}")
            summary = node.get("failureSummary")
            if summary:
                parts = [part.strip() for part in summary.splitlines() if part.strip()]
                lines.append(f"      fix:  {_truncate(' | '.join(parts), 300)}")
        if len(nodes) > max_nodes:
            lines.append(f"    … and {len(nodes) - max_nodes} more node(s)")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------


def horizontal_overflow(page: Page) -> int:
    """Pixels the document scrolls horizontally (0 = fits the viewport width)."""
    return int(
        page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


_TABLE_READING_JS = r"""
() => {
  const problems = [];
  const lineCount = (rects) => new Set(Array.from(rects).filter(r => r.width > 0 && r.height > 0)
                                   .map(r => Math.round(r.top))).size;
  const describe = (cell) => {
    const row = cell.closest("tr");
    const head = row ? (row.querySelector("th") || row.cells[0]) : null;
    return `${cell.tagName.toLowerCase()} "${cell.innerText.trim().slice(0, 40)}"` +
           (head && head !== cell ? ` (row "${head.innerText.trim().slice(0, 30)}")` : "");
  };
  const hidden = (el) => {  // not displayed, or visually hidden (a 1px clipped box) on the way up
    for (let e = el; e && e !== document.body; e = e.parentElement) {
      const box = e.getBoundingClientRect();
      if (box.width <= 1 || box.height <= 1) return true;
    }
    return !el.offsetParent;
  };
  for (const cell of document.querySelectorAll("main table th, main table td")) {
    if (hidden(cell)) continue;
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    let chars = 0, lines = 0;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent;
      const parent = node.parentElement;
      if (!text.trim() || !parent || parent.getBoundingClientRect().width <= 1) continue;
      // A number (digits with , . : / - inside: 1,024, 2026-11-05, 0513-8888) sits on one
      // line; a range of times (8:30-17:30) may break after its dash.
      for (const m of text.matchAll(/\d[\d,.:\/\-]*\d/g)) {
        let offset = m.index;
        for (const part of (m[0].includes(":") ? m[0].split("-") : [m[0]])) {
          if (/\d/.test(part)) {
            const range = document.createRange();
            range.setStart(node, offset);
            range.setEnd(node, offset + part.length);
            if (lineCount(range.getClientRects()) > 1) problems.push(`number "${part}" broken across lines in ${describe(cell)}`);
          }
          offset += part.length + 1;
        }
      }
      const range = document.createRange();
      range.selectNodeContents(node);
      chars += text.replace(/\s/g, "").length;
      lines += lineCount(range.getClientRects());
    }
    // Text stacked character by character: three or more lines of fewer than two characters each.
    if (lines >= 3 && chars / lines < 2) problems.push(`text stacked ${lines} lines for ${chars} characters in ${describe(cell)}`);
  }
  return problems;
}
"""


def table_reading_problems(page: Page) -> list[str]:
    """Where a table on the page does not read well at the current width: a number broken
    across lines, or a cell's text stacked a character or so per line (a squeezed column)."""
    return list(page.evaluate(_TABLE_READING_JS))


# --------------------------------------------------------------------------
# Nu HTML Checker
# --------------------------------------------------------------------------


class HtmlValidator:
    """Validate many HTML documents with the Nu HTML Checker in one JVM run.

    >>> v = HtmlValidator()
    >>> v.add("home", html_text)
    >>> v.add("login", other_html)
    >>> errs = v.errors()          # {"home": [], "login": ["line 12: ..."]}
    >>> assert not any(errs.values()), format_html_errors(errs)

    Only ``"type": "error"`` messages count (warnings/info are ignored).
    Documents added after :meth:`errors` was called are validated on the
    next call; earlier results are kept.
    """

    def __init__(self, jar: Path | str = VNU_JAR_PATH, timeout: float = 300) -> None:
        self.jar = Path(jar)
        self.timeout = timeout
        if not self.jar.is_file():
            raise _missing("The Nu HTML Checker (vnu.jar)", self.jar, NPM_INSTALL_CMD)
        java = shutil.which("java")
        if java is None:
            raise _missing("java (needed by vnu.jar)", "PATH", ENSURE_SYSTEM_CMD)
        self.java = java
        self._pending: dict[str, str] = {}
        self._results: dict[str, list[str]] = {}

    def add(self, name: str, html: str) -> None:
        """Queue a document; ``name`` (e.g. a URL path) must be unique."""
        if name in self._pending or name in self._results:
            raise ValueError(f"HtmlValidator: document {name!r} added twice")
        self._pending[name] = html

    def __len__(self) -> int:
        return len(self._pending) + len(self._results)

    def errors(self) -> dict[str, list[str]]:
        """Validate queued documents; map every document name to its errors."""
        if self._pending:
            self._results.update(self._run(self._pending))
            self._pending = {}
        return {name: list(errs) for name, errs in self._results.items()}

    def _run(self, docs: dict[str, str]) -> dict[str, list[str]]:
        results: dict[str, list[str]] = {name: [] for name in docs}
        with tempfile.TemporaryDirectory(prefix="vnu-") as tmp:
            by_file: dict[str, str] = {}
            for i, (name, html) in enumerate(docs.items()):
                filename = f"doc{i:05d}.html"
                (Path(tmp) / filename).write_text(html, encoding="utf-8")
                by_file[filename] = name
            cmd = [
                self.java,
                "-Xss4m",
                "-Dfile.encoding=UTF-8",
                "-Dstdout.encoding=UTF-8",
                "-Dsun.stdout.encoding=UTF-8",
                "-jar",
                str(self.jar),
                "--format",
                "json",
                "--exit-zero-always",
                "--stdout",
                "--no-langdetect",
                "--html",
                tmp,
            ]
            try:
                proc = subprocess.run(
                    cmd, capture_output=True, timeout=self.timeout, check=False
                )
            except FileNotFoundError as exc:  # java vanished since __init__
                raise _missing("java (needed by vnu.jar)", self.java, ENSURE_SYSTEM_CMD) from exc
            stdout = proc.stdout.decode("utf-8", errors="replace")
            try:
                report = json.loads(stdout)
            except json.JSONDecodeError as exc:
                raise RuntimeError(
                    f"vnu.jar did not print JSON (exit {proc.returncode}).\n"
                    f"command: {' '.join(cmd)}\nstdout: {stdout[:2000]}\n"
                    f"stderr: {proc.stderr.decode('utf-8', 'replace')[:2000]}"
                ) from exc

        for msg in report.get("messages", []):
            kind = msg.get("type")
            filename = Path(unquote(urlparse(msg.get("url", "")).path)).name
            name = by_file.get(filename)
            if kind == "non-document-error":
                raise RuntimeError(
                    f"vnu.jar could not check {name or msg.get('url')!r}: {msg.get('message')}"
                )
            if kind != "error":
                continue
            if name is None:
                raise RuntimeError(f"vnu.jar reported on an unknown document: {msg!r}")
            line = msg.get("lastLine") or msg.get("firstLine")
            where = f"line {line}" if line else "document"
            text = f"{where}: {msg.get('message', '').strip()}"
            extract = msg.get("extract")
            if extract:
                text += f"  [{_truncate(extract, 120)}]"
            results[name].append(text)
        return results


def format_html_errors(errors: dict[str, list[str]]) -> str:
    """A readable report of :meth:`HtmlValidator.errors` (documents with errors only)."""
    bad = {name: errs for name, errs in errors.items() if errs}
    if not bad:
        return f"vnu: no HTML errors in {len(errors)} document(s)"
    total = sum(len(e) for e in bad.values())
    lines = [f"vnu: {total} HTML error(s) in {len(bad)} of {len(errors)} document(s):"]
    for name, errs in bad.items():
        lines.append(f"- {name}:")
        lines.extend(f"    {e}" for e in errs)
    return "\n".join(lines)
