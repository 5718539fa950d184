"""A tracking code shown to staff never wraps at its hyphens (a phone column is narrow), and
the text around it stays escaped."""

from __future__ import annotations

from app.feedback.tracking import format_code, new_code, unbroken_codes


def test_codes_in_a_sentence_are_kept_whole_and_the_rest_escaped():
    shown = unbroken_codes("问题未解决：留言 MZ5-6V7-D3H 重新办理 <script>")
    assert str(shown) == '问题未解决：留言 <span class="nowrap">MZ5-6V7-D3H</span> 重新办理 &lt;script&gt;'
    assert str(unbroken_codes("上报留言：拖欠工资（MZ5-6V7-D3H）")) == '上报留言：拖欠工资（<span class="nowrap">MZ5-6V7-D3H</span>）'
    code = format_code(new_code())
    assert str(unbroken_codes(f"{code}。")) == f'<span class="nowrap">{code}</span>。'


def test_phone_numbers_and_longer_runs_are_left_alone():
    for text in ("0513-8888-1234", "AB2-CD3-EF4-GH5", "ab2-cd3-ef4"):
        assert str(unbroken_codes(text)) == text
