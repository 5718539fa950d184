"""Form input: keep every value typed, collect one clear message per field."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from app.core import phones
from app.i18n import gettext as _

# Control characters other than tab and newlines (NUL first among them: PostgreSQL refuses it
# in text, SQLite stores it and cuts the text short in places), and the replacement character
# that stands where the browser sent bytes that are not UTF-8.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NOT_UTF8 = "\ufffd"

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")


@dataclass
class Form:
    """Values as typed (strings) and errors by field name."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: Mapping[str, Any], names: Iterable[str]) -> "Form":
        values, errors = {}, {}
        for name in names:
            raw = data.get(name, "")
            value = raw.strip() if isinstance(raw, str) else ("" if raw is None else str(raw))
            # Nothing that cannot be stored as typed gets in: the text comes back without it,
            # with a message beside the field, and is not saved until sent again.
            if _CONTROL.search(value):
                value = _CONTROL.sub("", value).strip()
                errors[name] = _("This contained invisible control characters, which cannot be saved. "
                                 "We removed them: check the text and send it again.")
            if _NOT_UTF8 in value:
                value = value.replace(_NOT_UTF8, "").strip()
                errors.setdefault(name, _("This contained characters that are not valid text (not UTF-8), which "
                                          "cannot be saved. We removed them: check the text and send it again."))
            values[name] = value
        return cls(values=values, errors=errors)

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
