"""Form input: keep every value typed, collect one clear message per field."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from app.core import phones
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
    """A valid mainland China number in its stored form, else None (see app.core.phones)."""
    return phones.normalize(value)
