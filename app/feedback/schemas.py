"""Input of the mailbox's forms: field names, limits and validation (messages beside fields)."""

from __future__ import annotations

import re
from typing import Any, Mapping

from app.core.forms import Form
from app.feedback.tables import CATEGORY_LABELS
from app.i18n import gettext as _

MESSAGE_MAX = 5000
REPLY_MAX = 5000
NOTE_MAX = 2000
NAME_MAX = 50
# A body larger than this is refused before it is read (a 5,000-character Chinese
# message is about 45 KB form-encoded; this leaves room to say "too long" and keep it).
REQUEST_MAX_BYTES = 256 * 1024

SUBMIT_FIELDS = ["category", "message", "identity", "name", "phone", "website", "form_token"]
IDENTITIES = ("anonymous", "contact")
HONEYPOT = "website"

# Control characters other than tab and newlines: NUL first among them (PostgreSQL
# cannot store it at all, and none of them belong in a message).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MOBILE = re.compile(r"^1\d{10}$")


def read_form(data: Mapping[str, Any], names: list[str]) -> Form:
    """The form as typed, with control characters taken out and a message beside
    every field that had one (the text is kept, without them)."""
    form = Form.from_data(data, names)
    for name, value in form.values.items():
        if _CONTROL.search(value):
            form.values[name] = _CONTROL.sub("", value).strip()
            form.error(name, _("This contained invisible control characters, which cannot be saved. We removed them: "
                               "check the text and send it again."))
    return form


def _text(form: Form, name: str, limit: int) -> None:
    length = len(form[name])
    if length > limit:
        form.error(name, _("At most %(limit)s characters; this has %(length)s. Shorten it and send it again.",
                           limit=limit, length=length))


def validate_submission(form: Form) -> None:
    if form[HONEYPOT]:
        form.error(HONEYPOT, _("Leave this field empty."))
    form.required("category", "message")
    form.choice("category", CATEGORY_LABELS)
    _text(form, "message", MESSAGE_MAX)
    identity = form["identity"] or "anonymous"
    form.values["identity"] = identity
    form.choice("identity", IDENTITIES)
    _text(form, "name", NAME_MAX)
    if identity == "anonymous":
        if form["name"] or form["phone"]:
            form.error("identity", _("You chose to stay anonymous, so we will not keep a name or phone number. "
                                     "Clear them, or choose to leave your contact details."))
    elif identity == "contact":
        if not form["phone"]:
            form.error("phone", _("Enter the phone number the organisation may call you on."))
        form.phone("phone")
        phone = form["phone"]
        if phone and "phone" not in form.errors and not (is_mobile(phone) or "-" in phone):
            # A service number such as 12333 is a valid hotline but nobody's own phone.
            form.error("phone", _("Enter a Chinese mobile number (11 digits, e.g. 13812345678) or a landline with "
                                  "area code (e.g. 0513-88881234)."))
    if len(form["form_token"]) > 40:
        form.values["form_token"] = ""


def is_mobile(phone: str) -> bool:
    return bool(MOBILE.match(phone or ""))


def mask_phone(phone: str) -> str:
    """138****5678, 0513-****1234: enough to recognise, not to call."""
    if not phone:
        return ""
    if is_mobile(phone):
        return f"{phone[:3]}****{phone[-4:]}"
    if "-" in phone:
        area, number = phone.split("-", 1)
        return f"{area}-{'*' * max(len(number) - 4, 0)}{number[-4:]}"
    return "*" * max(len(phone) - 4, 0) + phone[-4:]


TRACK_FIELDS = ["code", "secret", "action", "comment"]
COMMENT_MAX = 2000


def validate_reply(form: Form) -> None:
    form.required("body")
    _text(form, "body", REPLY_MAX)


def validate_note(form: Form) -> None:
    form.required("body")
    _text(form, "body", NOTE_MAX)


def validate_comment(form: Form) -> None:
    _text(form, "comment", COMMENT_MAX)


SETTINGS_FIELDS = ["response_days", "escalate_after_days", "retention_days"]
SETTINGS_RANGES = {"response_days": (1, 30), "escalate_after_days": (0, 30), "retention_days": (30, 1095)}


def validate_settings(form: Form) -> None:
    form.required(*SETTINGS_FIELDS)
    for name, (low, high) in SETTINGS_RANGES.items():
        value = form[name]
        if value and not (value.isdigit() and low <= int(value) <= high):
            form.error(name, _("Enter a whole number from %(low)s to %(high)s.", low=low, high=high))

