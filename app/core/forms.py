"""Form input: keep every value typed, collect one clear message per field."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import phonenumbers

from app.i18n import gettext as _

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")


@dataclass
class Form:
    """Values as typed (strings) and errors by field name."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: Mapping[str, Any], names: Iterable[str]) -> "Form":
        values = {}
        for name in names:
            raw = data.get(name, "")
            values[name] = raw.strip() if isinstance(raw, str) else ("" if raw is None else str(raw))
        return cls(values=values)

    def __getitem__(self, name: str) -> str:
        return self.values.get(name, "")

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    @property
    def ok(self) -> bool:
        return not self.errors

    def required(self, *names: str) -> None:
        for name in names:
            if not self.values.get(name):
                self.error(name, _("This field is required."))

    def max_length(self, name: str, limit: int) -> None:
        if len(self.values.get(name, "")) > limit:
            self.error(name, _("At most %(limit)s characters.", limit=limit))

    def email(self, name: str) -> None:
        value = self.values.get(name, "")
        if value and not EMAIL_RE.match(value):
            self.error(name, _("Enter a valid email address, like name@example.com."))

    def choice(self, name: str, allowed: Iterable[str]) -> None:
        value = self.values.get(name, "")
        if value and value not in set(allowed):
            self.error(name, _("Choose one of the options."))

    def slug(self, name: str) -> None:
        value = self.values.get(name, "")
        if value and not SLUG_RE.match(value):
            self.error(
                name,
                _("Use 3-64 lowercase letters, digits and hyphens, starting and ending with a letter or digit."),
            )

    def phone(self, name: str) -> None:
        value = self.values.get(name, "")
        if value:
            normalized = normalize_cn_phone(value)
            if normalized is None:
                self.error(
                    name,
                    _("Enter a Chinese mobile number (11 digits, e.g. 13812345678) or a landline with area code (e.g. 0513-88881234)."),
                )
            else:
                self.values[name] = normalized


def normalize_cn_phone(value: str) -> str | None:
    """A valid mainland China mobile or landline number in national format, else None."""
    digits = re.sub(r"[\s\-()（）]", "", value)
    if not re.fullmatch(r"\+?\d{5,20}", digits):
        return None
    # Short service numbers such as 12333 (the HR & social security hotline).
    if re.fullmatch(r"12\d{3}|95\d{3,4}|96\d{3,4}", digits):
        return digits
    try:
        parsed = phonenumbers.parse(digits, "CN")
    except phonenumbers.NumberParseException:
        return None
    if parsed.country_code != 86 or not phonenumbers.is_valid_number(parsed):
        return None
    national = phonenumbers.national_significant_number(parsed)
    area = phonenumbers.length_of_geographical_area_code(parsed)
    if area:  # landline: 0 + area code, a hyphen, the local number
        return f"0{national[:area]}-{national[area:]}"
    return national
