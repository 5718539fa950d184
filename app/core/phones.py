"""Chinese phone numbers: read them as people type them, store one form, show them grouped.

Input may use full-width digits and punctuation (０５１３－８８８８１２３４), any dash,
spaces, dots, brackets around the area code, and a +86 / 0086 prefix. Validation is
``phonenumbers``' (mainland numbers only), plus the short service numbers it does not
know (12333, 95588, 96xxx).

Stored forms (what ``normalize`` returns): a mobile as its 11 digits, a landline as
``0`` + area code, a hyphen and the local number (``0513-88881234``), a 400/800
number and a service number as digits. ``display`` groups them the way Chinese readers
expect: ``0513-8888 1234``, ``138 1234 5678``, ``400-123-4567``, ``12333``.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import phonenumbers

_SERVICE = re.compile(r"12\d{3}|95\d{3,4}|96\d{3,4}")
_SEPARATORS = re.compile(r"[\s().\-/]")


def _plain(value: str) -> str:
    """Full-width forms folded to ASCII (NFKC), every dash to '-', separators dropped."""
    text = unicodedata.normalize("NFKC", value)
    text = "".join("-" if unicodedata.category(ch) == "Pd" or ch in "‐‑‒–—―−" else ch for ch in text)
    return _SEPARATORS.sub("", text)


def _parse(value: str) -> phonenumbers.PhoneNumber | None:
    plain = _plain(value)
    if not re.fullmatch(r"\+?\d{5,20}", plain):
        return None
    if plain.startswith("0086"):
        plain = "+86" + plain[4:]
    try:
        parsed = phonenumbers.parse(plain, "CN")
    except phonenumbers.NumberParseException:
        return None
    if parsed.country_code != 86 or not phonenumbers.is_valid_number(parsed):
        return None
    return parsed


@functools.lru_cache(maxsize=4096)
def normalize(value: str) -> str | None:
    """The stored form of a valid mainland number, else None."""
    plain = _plain(value)
    if _SERVICE.fullmatch(plain):
        return plain
    parsed = _parse(value)
    if parsed is None:
        return None
    national = phonenumbers.national_significant_number(parsed)
    area = phonenumbers.length_of_geographical_area_code(parsed)
    if area:  # landline: 0 + area code, a hyphen, the local number
        return f"0{national[:area]}-{national[area:]}"
    return national


def digits(value: str) -> str:
    """The number as digits only: for tel: links and for telling two numbers apart."""
    normalized = normalize(value)
    return "".join(ch for ch in (normalized or _plain(value)) if ch.isdigit())


def same_number(a: str, b: str) -> bool:
    return bool(a) and bool(b) and digits(a) == digits(b)


@functools.lru_cache(maxsize=4096)
def display(value: str) -> str:
    """Grouped for reading: 0513-8888 1234, 138 1234 5678, 400-123-4567, 12333.
    Anything that is not a valid number is shown as it was stored."""
    if not value:
        return ""
    plain = _plain(value)
    if _SERVICE.fullmatch(plain):
        return plain
    parsed = _parse(value)
    if parsed is None:
        return value
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    kind = phonenumbers.number_type(parsed)
    if kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE) and \
            not phonenumbers.length_of_geographical_area_code(parsed):
        return national  # 138 1234 5678
    if kind in (phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.SHARED_COST):
        return national.replace(" ", "-")  # 400-123-4567, 800-820-8820
    area, _sep, local = national.partition(" ")
    return f"{area}-{local}" if local else national  # 0513-8888 1234


@functools.lru_cache(maxsize=4096)
def tel_href(value: str) -> str:
    """``tel:`` link target: the digits, with the trunk 0 kept (dialled inside China)."""
    return "tel:" + digits(value)
