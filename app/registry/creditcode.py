"""The unified social credit code (统一社会信用代码) of GB 32100-2015.

18 characters: registration authority (1), organisation type (1), the
administrative division of the registering authority (6 digits), the subject
identifier (9), and a check character. Characters come from a 31-character set
(digits and capital letters without I, O, S, V, Z); the check character is
``31 - (Σ value × weight mod 31)`` over the first 17, with 31 written as 0.
"""

from __future__ import annotations

import unicodedata

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {ch: i for i, ch in enumerate(CHARSET)}
# Weight of position i (1-based) is 3^(i-1) mod 31.
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18


class CreditCodeError(ValueError):
    """Why a code is not valid: ``length``, ``charset``, ``division`` or ``check``."""

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(f"{reason}: {code}")
        self.reason = reason
        self.code = code


def normalize(raw: str) -> str:
    """Full-width characters to ASCII, spaces and hyphens dropped, capitals."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(ch for ch in text if not ch.isspace() and ch not in "-_").upper()


def check_character(first17: str) -> str:
    total = sum(VALUES[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def validate(raw: str) -> str:
    """The normalized code, or ``CreditCodeError`` saying what is wrong."""
    code = normalize(raw)
    if len(code) != LENGTH:
        raise CreditCodeError("length", code)
    if any(ch not in VALUES for ch in code):
        raise CreditCodeError("charset", code)
    if not code[2:8].isdigit():
        raise CreditCodeError("division", code)
    if check_character(code[:17]) != code[17]:
        raise CreditCodeError("check", code)
    return code


def is_valid(raw: str) -> bool:
    try:
        validate(raw)
    except CreditCodeError:
        return False
    return True


def complete(first17: str) -> str:
    """A whole code from its first 17 characters (demo and test data)."""
    return first17 + check_character(first17)
