"""The unified social credit code validator (GB 32100-2015)."""

from __future__ import annotations

import pytest

from app.registry.creditcode import CHARSET, WEIGHTS, CreditCodeError, check_character, complete, is_valid, validate

# Codes of real, registered enterprises, as printed on their business licences.
KNOWN_GOOD = [
    "91440300708461136T",
    "914403001922038216",
    "91330100799655058B",
    "91110000600037341L",
    "91350100M000100Y43",
    "91110108551385082Q",
]


def test_the_standard_character_set_and_weights():
    assert len(CHARSET) == 31 and not set("IOSVZ") & set(CHARSET)
    assert list(WEIGHTS) == [3 ** i % 31 for i in range(17)]


@pytest.mark.parametrize("code", KNOWN_GOOD)
def test_known_good_codes_pass(code):
    assert validate(code) == code
    assert is_valid(code)


def test_input_is_normalized_before_checking():
    assert validate(" 9144 0300-7084 6113 6t ") == "91440300708461136T"
    assert validate("９１４４０３００７０８４６１１３６Ｔ") == "91440300708461136T"  # full-width, as typed in Chinese IMEs


@pytest.mark.parametrize("code", KNOWN_GOOD)
def test_every_single_character_change_is_caught(code):
    for pos in range(18):
        for ch in CHARSET:
            if ch == code[pos]:
                continue
            corrupted = code[:pos] + ch + code[pos + 1:]
            if pos >= 2 and pos < 8 and not ch.isdigit():
                expected = "division"
            else:
                expected = "check"
            with pytest.raises(CreditCodeError) as exc:
                validate(corrupted)
            assert exc.value.reason == expected, corrupted


@pytest.mark.parametrize("code", KNOWN_GOOD)
def test_swapped_neighbours_are_caught(code):
    swaps = 0
    for pos in range(17):
        swapped = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2:]
        if swapped != code:
            swaps += 1
            assert not is_valid(swapped), swapped
    assert swaps >= 10


@pytest.mark.parametrize("code,reason", [
    ("", "length"),
    ("91440300708461136", "length"),
    ("91440300708461136TT", "length"),
    ("91440300708461136I", "charset"),  # I is not in the set
    ("9144030070846113OT", "charset"),  # nor O
    ("91A40300708461136T", "division"),  # positions 3-8 are the division code, digits only
])
def test_malformed_codes_say_why(code, reason):
    with pytest.raises(CreditCodeError) as exc:
        validate(code)
    assert exc.value.reason == reason


def test_complete_writes_the_check_character():
    assert complete("91440300708461136") == "91440300708461136T"
    assert check_character("91350100M000100Y4") == "3"
    assert is_valid(complete("93320621MA1XYZ123".replace("Z", "2")))
