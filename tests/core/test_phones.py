"""Phone numbers as people type them, stored one way, shown grouped for Chinese readers."""

from __future__ import annotations

import pytest

from app.core import phones


@pytest.mark.parametrize(("typed", "stored", "shown"), [
    ("0513-88881234", "0513-88881234", "0513-8888 1234"),
    ("0513－88881234", "0513-88881234", "0513-8888 1234"),  # full-width hyphen
    ("０５１３－８８８８１２３４", "0513-88881234", "0513-8888 1234"),  # full-width digits too
    ("0513—88881234", "0513-88881234", "0513-8888 1234"),  # an em dash
    ("(0513) 8888 1234", "0513-88881234", "0513-8888 1234"),
    ("（０５１３）８８８８１２３４", "0513-88881234", "0513-8888 1234"),
    ("010 1234 5678", "010-12345678", "010-1234 5678"),
    ("13812345678", "13812345678", "138 1234 5678"),
    ("+86 138-1234-5678", "13812345678", "138 1234 5678"),
    ("0086 13812345678", "13812345678", "138 1234 5678"),
    ("400-123-4567", "4001234567", "400-123-4567"),
    ("4001234567", "4001234567", "400-123-4567"),
    ("800 820 8820", "8008208820", "800-820-8820"),
    ("12333", "12333", "12333"),
    ("95588", "95588", "95588"),
])
def test_numbers_are_normalised_and_grouped(typed, stored, shown):
    assert phones.normalize(typed) == stored
    assert phones.display(stored) == shown
    assert phones.display(typed) == shown
    assert phones.tel_href(stored) == "tel:" + stored.replace("-", "")


@pytest.mark.parametrize("typed", ["99999", "call us", "0513-12", "+1 415 555 0100", "1381234567x", ""])
def test_what_is_not_a_chinese_number_is_refused(typed):
    assert phones.normalize(typed) is None


def test_the_same_number_typed_differently_is_the_same():
    assert phones.same_number("0513-88881234", "０５１３－８８８８ １２３４")
    assert phones.same_number("400-123-4567", "4001234567")
    assert not phones.same_number("0513-88881234", "0513-88881235")
    assert not phones.same_number("", "")


def test_an_old_unparseable_value_is_shown_as_stored():
    assert phones.display("0513-12") == "0513-12"
