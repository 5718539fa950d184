"""Message catalogs: every UI string has a Simplified Chinese translation.

A new ``_()`` / ``{{ _("...") }}`` without a zh_Hans msgstr fails
``test_every_msgid_has_a_zh_hans_translation``; fix it with
``scripts/i18n.sh update``, translate the new entries in
``app/locale/zh_Hans/LC_MESSAGES/messages.po``, then ``scripts/i18n.sh compile``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app import i18n

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "i18n.sh"


def _run(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs() -> None:
    result = _run("compile")
    assert result.returncode == 0, f"scripts/i18n.sh compile failed:\n{result.stdout}\n{result.stderr}"
    i18n.translations.cache_clear()


@pytest.fixture
def locale() -> Iterator[object]:
    """Set a locale for one test and put the previous one back afterwards."""
    tokens = []

    def use(code: str) -> None:
        tokens.append(i18n.set_locale(code))

    yield use
    for token in reversed(tokens):
        i18n.reset_locale(token)


def test_every_msgid_has_a_zh_hans_translation() -> None:
    result = _run("check")
    assert result.returncode == 0, (
        "UI strings without a Simplified Chinese translation (run scripts/i18n.sh update, "
        "translate them in app/locale/zh_Hans/LC_MESSAGES/messages.po):\n"
        f"{result.stdout}\n{result.stderr}"
    )


def test_catalogs_are_compiled() -> None:
    assert i18n.catalogs_compiled()


def test_zh_hans_is_served_from_the_compiled_catalog(locale) -> None:
    locale("zh_Hans")
    assert i18n.get_locale() == "zh_Hans"
    assert i18n.gettext("Staff sign-in") == "工作人员登录"
    assert i18n.gettext("Tiaojietong") == "调解通"
    assert i18n.gettext("Staff / mediator") == "工作人员/调解员"
    assert i18n.gettext("staffed by %(name)s", name="王芳") == "值班人员：王芳"
    assert i18n.ngettext("%(num)s organisation found.", "%(num)s organisations found.", 3) == "共找到 3 个组织。"
    assert str(i18n.lazy_gettext("Audit log")) == "操作日志"


def test_english_is_the_msgid(locale) -> None:
    locale("en")
    assert i18n.get_locale() == "en"
    assert i18n.gettext("Staff sign-in") == "Staff sign-in"
    assert i18n.gettext("staffed by %(name)s", name="Wang Fang") == "staffed by Wang Fang"
    assert i18n.ngettext("%(num)s organisation found.", "%(num)s organisations found.", 1) == "1 organisation found."
    assert i18n.ngettext("%(num)s organisation found.", "%(num)s organisations found.", 2) == "2 organisations found."


def test_templates_translate_per_locale_and_escape_what_they_are_given(locale) -> None:
    """Templates' _() keeps Jinja's new-style behaviour (Markup, variables escaped, %%
    always formatted) while looking each translation up once per locale."""
    from app.core.render import get_env

    template = get_env().from_string(
        '{{ _("Staff sign-in") }}|{{ _("staffed by %(name)s", name=who) }}|'
        '{{ ngettext("%(num)s organisation found.", "%(num)s organisations found.", n) }}|'
        '{% trans %}Audit log{% endtrans %}')
    locale("zh_Hans")
    assert template.render(who="<b>王芳</b>", n=3) == (
        "工作人员登录|值班人员：&lt;b&gt;王芳&lt;/b&gt;|共找到 3 个组织。|操作日志")
    locale("en")
    assert template.render(who="A & B", n=1) == "Staff sign-in|staffed by A &amp; B|1 organisation found.|Audit log"
    locale("zh_Hans")
    assert template.render(who="x", n=2).startswith("工作人员登录|")


def test_unknown_locale_falls_back_to_zh_hans(locale) -> None:
    locale("fr")
    assert i18n.get_locale() == "zh_Hans"
    assert i18n.gettext("Staff sign-in") == "工作人员登录"


def test_english_catalog_keeps_msgstrs_empty() -> None:
    with open(ROOT / "app/locale/en/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f, locale="en")
    filled = [
        m.id
        for m in catalog
        if m.id and any(s for s in (m.string if isinstance(m.string, (list, tuple)) else [m.string]))
    ]
    assert not filled, f"the en catalog must leave msgstrs empty (English is the msgid): {filled}"


@pytest.mark.parametrize(
    ("cookie", "accept_language", "expected"),
    [
        (None, "zh-CN,zh;q=0.9", "zh_Hans"),
        (None, "en-US,en;q=0.8", "en"),
        (None, "en;q=0.5,zh-CN;q=0.9", "zh_Hans"),
        ("en", "zh-CN,zh;q=0.9", "en"),
        ("zh_Hans", "en-US,en;q=0.8", "zh_Hans"),
        ("xx", "en-US,en;q=0.8", "en"),
        (None, None, "zh_Hans"),
        (None, "", "zh_Hans"),
        (None, "fr-FR,fr;q=0.9", "zh_Hans"),
    ],
)
def test_negotiate(cookie: str | None, accept_language: str | None, expected: str) -> None:
    assert i18n.negotiate(cookie, accept_language) == expected


def test_catalog_files_parse_strictly():
    """A merge of two branches' catalogs (merge=union) can leave a broken entry behind."""
    from babel.messages.pofile import read_po

    locale_dir = Path(__file__).resolve().parent.parent / "app" / "locale"
    for path in [locale_dir / "messages.pot", *locale_dir.glob("*/LC_MESSAGES/messages.po")]:
        with open(path, "rb") as handle:
            read_po(handle, abort_invalid=True)
