"""Words staff and workers read: one product name everywhere, Chinese a native reader would write."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def _zh() -> dict[str, str]:
    with open(ROOT / "app/locale/zh_Hans/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f)
    return {(m.id if isinstance(m.id, str) else m.id[0]): (m.string if isinstance(m.string, str) else m.string[0])
            for m in catalog if m.id}


async def test_one_product_name_in_header_titles_and_readme(client):
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[0]
    assert readme == "# 调解通 Tiaojietong"
    for lang, name in (("zh-CN", "调解通"), ("en", "Tiaojietong")):
        for path in ("/", "/hotlines", "/login"):
            page = (await client.get(path, headers={"Accept-Language": lang})).text
            title = re.search(r"<title>(.*?)</title>", page).group(1)
            brand = re.search(r'<a class="brand" href="/">([^<]+?) <span', page).group(1)
            assert title.endswith(f" · {name}") and brand == name, (lang, path, title, brand)
            assert "劳动争议调解网络" not in title and "Tiaojie " not in title


def test_chinese_reads_as_a_native_reader_would_write_it():
    zh = _zh()
    # A column of organisations is not "this organisation"; a card's audience is not object-oriented.
    assert zh["Mediation organisation"] == "调解组织"
    assert zh["Audience"] == "适用人群"
    assert zh["Tiaojietong"] == "调解通"
    for msgid, text in zh.items():
        assert "面向对象" not in text, msgid
        assert "本单位" not in text, msgid  # an organisation is 组织; 单位 is someone's employer
        # Chinese punctuation inside Chinese sentences, no space between a Chinese name and text.
        assert not re.search(r"[\u4e00-\u9fff]\s+[，。：；！？、]", text), msgid
        assert not re.search(r"[\u4e00-\u9fff],[\u4e00-\u9fff]", text), msgid
        # The same placeholders as the English.
        assert sorted(re.findall(r"%\((\w+)\)s", msgid)) == sorted(re.findall(r"%\((\w+)\)s", text)), msgid
