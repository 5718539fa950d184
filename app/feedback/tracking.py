"""Tracking codes and secrets: a code easy to read aloud, and a separate secret.

The code names the item (9 characters from an alphabet without 0/O, 1/I/L lookalikes,
shown as ``K7M-3QX-9PA``); the secret (8 digits, shown as ``4829 1730``) proves the
visitor is the submitter. Only a salted HMAC-SHA256 of the secret is stored and it is
compared in constant time. The secret guards the /track page, whose content is in the
database anyway, so a slow password hash would add cost without protecting anything
more; online guessing is what matters, and /track limits failed attempts per address
and per code (10^8 secrets).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from markupsafe import Markup, escape

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
CODE_LENGTH = 9
SECRET_LENGTH = 8
# A code typed with common slips: lower case, spaces, hyphens, O for 0 does not occur.
_SEPARATORS = re.compile(r"[\s\-_.·—–]+")


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    return "-".join(code[i: i + 3] for i in range(0, len(code), 3))


_SHOWN_CODE = re.compile(rf"(?<![{CODE_ALPHABET}-])(?:[{CODE_ALPHABET}]{{3}}-){{2}}[{CODE_ALPHABET}]{{3}}(?![{CODE_ALPHABET}-])")


def unbroken_codes(text: str) -> Markup:
    """``text`` escaped, with every tracking code in it kept on one line (a code read aloud
    from a phone must not wrap at its hyphens): the ``|unbroken_codes`` template filter."""
    escaped = str(escape(text))
    return Markup(_SHOWN_CODE.sub(lambda m: f'<span class="nowrap">{m.group(0)}</span>', escaped))


def normalize_code(text: str) -> str | None:
    code = _SEPARATORS.sub("", text or "").upper()
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def new_secret() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(SECRET_LENGTH))


def format_secret(secret: str) -> str:
    return f"{secret[:4]} {secret[4:]}"


def normalize_secret(text: str) -> str | None:
    secret = _SEPARATORS.sub("", text or "")
    if len(secret) != SECRET_LENGTH or not secret.isdigit():
        return None
    return secret


def new_salt() -> str:
    return secrets.token_hex(16)


def hash_secret(code: str, salt: str, secret: str) -> str:
    return hmac.new(salt.encode(), f"{code}:{secret}".encode(), hashlib.sha256).hexdigest()


def secret_matches(code: str, salt: str, stored: str, secret: str) -> bool:
    return hmac.compare_digest(hash_secret(code, salt, secret), stored)


# Compared against when the code is unknown, so both answers take the same work.
DUMMY_SALT = "0" * 32
DUMMY_HASH = hash_secret("0" * CODE_LENGTH, DUMMY_SALT, "0" * SECRET_LENGTH)
