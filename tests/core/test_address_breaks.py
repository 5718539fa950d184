"""An email address in a narrow column wraps between its parts, never inside a run of digits."""

from __future__ import annotations

from app.core.render import address_breaks


def test_breaks_only_after_at_and_dots_and_escapes():
    assert str(address_breaks("li.ming2024@example.cn")) == "li.<wbr>ming2024@<wbr>example.<wbr>cn"
    assert str(address_breaks('a"<b>@x.cn')) == "a&#34;&lt;b&gt;@<wbr>x.<wbr>cn"
