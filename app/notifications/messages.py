"""Render a message from ``templates/notifications/<template_key>.{txt,html}`` in its locale.

The ``.txt`` template has blocks ``subject``, ``body`` (the plain-text part and the
in-app text) and optionally ``sms`` (shorter; defaults to the body). The ``.html``
template is the HTML part. Templates get the payload, the sending tenant's name
and the recipient.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2_fragments import render_block

from app import i18n
from app.core.render import TEMPLATES
from app.settings import get_settings


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    sms: str


@functools.cache
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["datetime"] = i18n.format_datetime
    env.filters["date"] = i18n.format_date
    return env


def payload_of(row: dict[str, Any]) -> dict[str, Any]:
    """Piccolo returns JSON columns as text unless asked otherwise."""
    payload = row.get("payload") or {}
    return json.loads(payload) if isinstance(payload, str) else payload


def render_message(row: dict[str, Any], tenant_name: str) -> Rendered:
    env = _env()
    key = row["template_key"]
    ctx = {
        "payload": payload_of(row),
        "tenant_name": tenant_name,
        "recipient": row["recipient"],
        "base_url": get_settings().base_url,
        "html_lang": i18n.HTML_LANG.get(row["locale"], "zh-CN"),
    }
    token = i18n.set_locale(row["locale"] or i18n.DEFAULT_LOCALE)
    try:
        txt = f"notifications/{key}.txt"
        subject = " ".join(render_block(env, txt, "subject", **ctx).split())
        text = render_block(env, txt, "body", **ctx).strip() + "\n"
        template = env.get_template(txt)
        sms = ""
        if row.get("channel", "sms") == "sms" and "sms" in template.blocks:
            sms = render_block(env, txt, "sms", **ctx).strip()
        html = env.get_template(f"notifications/{key}.html").render(**ctx)
    finally:
        i18n.reset_locale(token)
    return Rendered(subject=subject, text=text, html=html, sms=sms or f"【{tenant_name}】{subject}")


def render_subject(row: dict[str, Any], tenant_name: str) -> str:
    """Only the subject line, in the message's own language (for lists staff read)."""
    env = _env()
    ctx = {
        "payload": payload_of(row),
        "tenant_name": tenant_name,
        "recipient": row.get("recipient", ""),
        "base_url": get_settings().base_url,
        "html_lang": i18n.HTML_LANG.get(row.get("locale") or "", "zh-CN"),
    }
    token = i18n.set_locale(row.get("locale") or i18n.DEFAULT_LOCALE)
    try:
        return " ".join(render_block(env, f"notifications/{row['template_key']}.txt", "subject", **ctx).split())
    finally:
        i18n.reset_locale(token)
