"""Helpers for feedback tests: submit through the public form, read a receipt."""

from __future__ import annotations

import re
from html import unescape

from tests.support import csrf_token

GOOD = {"category": "wage_arrears", "message": "三个月没发工资了，老板说等年底再说。", "identity": "anonymous"}


async def open_form(client, slug: str):
    resp = await client.get(f"/o/{slug}/feedback")
    assert resp.status_code == 200, resp.text[:500]
    return resp


def form_token(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]*)"', html).group(1)


async def post_form(client, slug: str, fields: dict, *, csrf: bool = True, headers: dict | None = None):
    data = dict(fields)
    if csrf:
        data["_csrf_token"] = csrf_token(client)
    return await client.post(f"/o/{slug}/feedback", data=data, headers=headers or {}, follow_redirects=False)


async def submit(client, slug: str, **fields) -> tuple[str, str]:
    """Send a valid message; returns (code, secret) as the receipt shows them."""
    page = await open_form(client, slug)
    data = {**GOOD, "form_token": form_token(page.text), **fields}
    resp = await post_form(client, slug, data)
    assert resp.status_code == 200, resp.text[:2000]
    return receipt(resp.text)


def receipt(html: str) -> tuple[str, str]:
    code = re.search(r'id="code">([^<]+)<', html).group(1).strip()
    secret = re.search(r'id="secret">([^<]+)<', html).group(1).strip()
    return unescape(code), unescape(secret)


async def track(client, code: str, secret: str, **extra):
    if not client.cookies.get("tiaojie_csrf"):
        await client.get("/track")
    return await client.post("/track", data={"code": code, "secret": secret, "_csrf_token": csrf_token(client),
                                             **extra}, follow_redirects=False)


def main(html: str) -> str:
    return html[html.index("<main"): html.index("</main>")]


async def make_item(tenant_id: int, escalations: int = 0, **fields) -> int:
    """An item sent to ``tenant_id`` (through the service, as the form would), then
    escalated ``escalations`` times up the tree. Returns its id."""
    from app.core.forms import Form
    from app.feedback import service
    from app.feedback.tables import FeedbackItem
    from tenants.scope import tenant_scope

    form = Form(values={**GOOD, "name": "", "phone": "", "form_token": "", **fields})
    with tenant_scope(tenant_id):
        receipt = await service.submit(form, "zh_Hans")
        item = await FeedbackItem.select(FeedbackItem.id).where(FeedbackItem.code == receipt.code).first()
    holder = tenant_id
    for _ in range(escalations):
        with tenant_scope(holder):
            holder = (await service.escalate(item["id"], None, "matrix"))["id"]
    return item["id"]
