"""The feedback mailbox: the public form and receipt, /track, the staff inbox, the
tenant's settings and the city's figures.

The two public forms check their CSRF token themselves (the route opts out of the
middleware) so that a stale token costs nothing typed: the form comes back, with
what was written, a fresh token and a sentence saying to send it again.
"""

from __future__ import annotations

import logging
import secrets
from hmac import compare_digest
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash, generate_csrf_token
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from litestar.utils.scope.state import ScopeState

from app import i18n
from app.audit.sentences import describe
from app.audit.service import client_ip, record
from app.core.forms import Form
from app.core.pagecache import serve_cached
from app.core.render import flash, render
from app.db import atomic
from app.feedback import limits, schemas, service, tracking, workdays
from app.feedback.tables import CATEGORY_LABELS, STATUS_LABELS
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.i18n import ngettext
from app.outreach.routes import public_base
from app.settings import get_settings
from tenants.guards import PUBLIC, city_access, tenant_access

log = logging.getLogger("tiaojie.feedback")

CSRF_COOKIE = "tiaojie_csrf"
# The form page is cached for everyone; these are replaced per visitor after.
CSRF_PLACEHOLDER = "__feedback_csrf_token__"
FORM_TOKEN_PLACEHOLDER = "__feedback_form_token__"
NO_STORE = {"Cache-Control": "no-store"}
PUBLIC_FORM = {"access": PUBLIC, "exclude_from_csrf": True}


def _tenant(request: Request) -> dict:
    return request.scope["state"]["tenant"]


def _public_tenant(request: Request) -> dict:
    tenant = request.scope["state"].get("tenant")
    if tenant is None or not tenant["active"]:
        raise NotFoundException()
    return tenant


# --- CSRF for the public forms ---------------------------------------------------


def _decode(token: str, secret: str) -> str | None:
    if len(token) < CSRF_SECRET_LENGTH + 1:
        return None
    value, digest = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
    return value if compare_digest(digest, generate_csrf_hash(token=value, secret=secret)) else None


def _csrf_ok(request: Request, data: Any) -> bool:
    """The double-submit check Litestar's middleware makes, made here."""
    secret = get_settings().secret_key
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    sent = request.headers.get("x-csrftoken") or str(data.get("_csrf_token") or "")
    mine, theirs = _decode(cookie, secret), _decode(sent, secret)
    return mine is not None and theirs is not None and compare_digest(mine, theirs)


def _token_for(request: Request, valid: bool) -> tuple[str, list[Cookie]]:
    """The CSRF token to put in the answer's forms, and a cookie when it is new."""
    if valid:
        return request.cookies.get(CSRF_COOKIE, ""), []
    token = generate_csrf_token(secret=get_settings().secret_key)
    cookie = Cookie(key=CSRF_COOKIE, value=token, path="/", secure=get_settings().secure_cookies,
                    httponly=False, samesite="lax")
    return token, [cookie]


# --- the public form and its receipt ---------------------------------------------


async def _form_context(request: Request) -> dict[str, Any]:
    tenant = _public_tenant(request)
    urgent, urgent_org = await service.urgent_number(tenant)
    return {"org": tenant, "urgent": urgent, "urgent_org": urgent_org if urgent_org != tenant["name"] else "",
            "categories": CATEGORY_LABELS, "limits": schemas}


def _personalise(request: Request, response: Response) -> Response:
    body = response.content
    if isinstance(body, str):
        body = body.encode()
    token = ScopeState.from_scope(request.scope).csrf_token or ""
    body = body.replace(CSRF_PLACEHOLDER.encode(), token.encode())
    body = body.replace(FORM_TOKEN_PLACEHOLDER.encode(), secrets.token_hex(16).encode())
    return Response(content=body, media_type=response.media_type, status_code=response.status_code,
                    headers={**dict(response.headers), "Cache-Control": "private, no-cache"})


@get("/o/{slug:str}/feedback", opt={"access": PUBLIC}, name="feedback_form")
async def feedback_form(request: Request, slug: FromPath[str]) -> Response:
    _public_tenant(request)

    async def page() -> Response:
        return render(request, "feedback/form.html", {
            **await _form_context(request), "form": Form(values={"identity": "anonymous"}),
            "csrf_token": CSRF_PLACEHOLDER, "form_token": FORM_TOKEN_PLACEHOLDER,
        })

    return _personalise(request, await serve_cached(request, page))


async def _form_again(request: Request, form: Form, status_code: int, token: str, cookies: list[Cookie],
                      notice: str = "") -> Response:
    return render(request, "feedback/form.html", {
        **await _form_context(request), "form": form, "csrf_token": token,
        "form_token": form["form_token"] or secrets.token_hex(16), "notice": notice,
    }, status_code=status_code, cookies=cookies, headers=NO_STORE)


@post("/o/{slug:str}/feedback", opt=PUBLIC_FORM, request_max_body_size=schemas.REQUEST_MAX_BYTES,
      name="feedback_submit")
async def feedback_submit(request: Request, slug: FromPath[str]) -> Response:
    tenant = request.scope["state"].get("tenant")
    if tenant is None or not tenant["active"]:
        # Without a mailbox to show the form again, a bad token is the plain 403 it is everywhere.
        if not _csrf_ok(request, await request.form()):
            raise PermissionDeniedException("CSRF token verification failed")
        raise NotFoundException()
    try:
        data = await request.form()
    except HTTPException as exc:
        if exc.status_code != 413:
            raise
        token, cookies = _token_for(request, False)
        return await _form_again(request, Form(values={"identity": "anonymous"}), 413, token, cookies, notice=_(
            "This message is far too long to be received (it is over %(kb)s KB). Shorten it to at most %(n)s "
            "characters, or call us.", kb=schemas.REQUEST_MAX_BYTES // 1024, n=schemas.MESSAGE_MAX))
    form = schemas.read_form(data, schemas.SUBMIT_FIELDS)
    valid = _csrf_ok(request, data)
    token, cookies = _token_for(request, valid)
    if not valid:
        schemas.validate_submission(form)
        return await _form_again(request, form, 403, token, cookies, notice=_(
            "This form had expired, so it was not sent. What you wrote is still here: check it and press Send again."))
    schemas.validate_submission(form)
    if not form.ok:
        return await _form_again(request, form, 422, token, cookies)
    try:
        refusal = await limits.take_submission(client_ip(request), tenant["id"])
    except limits.LimitUnavailable:
        # Keeping what a worker wrote matters more than the spam limit during a Redis outage.
        log.warning("feedback limits could not be counted (Redis unavailable); the submission is accepted")
        refusal = None
    if refusal is not None:
        minutes = max(1, -(-refusal.retry_after // 60))
        message = (ngettext("You have sent several messages in a short time. Please wait %(num)s minute and send it again.",
                            "You have sent several messages in a short time. Please wait %(num)s minutes and send it again.",
                            minutes)
                   if refusal.scope == "address" else
                   ngettext("This mailbox is receiving very many messages right now. Please wait %(num)s minute and send it again, or call.",
                            "This mailbox is receiving very many messages right now. Please wait %(num)s minutes and send it again, or call.",
                            minutes))
        return await _form_again(request, form, 429, token, cookies, notice=message)
    receipt = await service.submit(form, i18n.get_locale())
    return render(request, "feedback/receipt.html", {"org": tenant, "receipt": receipt, "csrf_token": token,
                                                     "track_url": f"{public_base(request)}/track"},
                  cookies=cookies, headers=NO_STORE)


# --- /track ------------------------------------------------------------------------


@get("/track", opt={"access": PUBLIC}, name="feedback_track")
async def track_page(request: Request) -> Response:
    return render(request, "feedback/track.html", {"form": Form(), "tracked": None}, headers=NO_STORE)


@post("/track", opt=PUBLIC_FORM, request_max_body_size=64 * 1024, name="feedback_track_check")
async def track_check(request: Request) -> Response:
    data = await request.form()
    form = schemas.read_form(data, schemas.TRACK_FIELDS)
    valid = _csrf_ok(request, data)
    token, cookies = _token_for(request, valid)

    def again(status: int, notice: str = "") -> Response:
        return render(request, "feedback/track.html", {"form": form, "tracked": None, "notice": notice,
                                                        "csrf_token": token},
                      status_code=status, cookies=cookies, headers=NO_STORE)

    if not valid:
        return again(403, _("This form had expired. Your code and secret are still here: press the button again."))
    form.required("code", "secret")
    if form.errors:
        return again(422)
    code_key = tracking.normalize_code(form["code"]) or form["code"].upper()[:20]
    address = client_ip(request)
    try:
        wait = await limits.take_track_attempt(address, code_key)
    except limits.LimitUnavailable:
        return again(503, _("We cannot check codes right now. Please try again in a few minutes."))
    if wait is not None:
        minutes = max(1, -(-wait // 60))
        return again(429, ngettext("Too many attempts that did not match. Try again in %(num)s minute.",
                                   "Too many attempts that did not match. Try again in %(num)s minutes.", minutes))
    reopening = form["action"] == "not_resolved"
    if reopening:
        schemas.validate_comment(form)
        if form.errors:
            await limits.refund_track_attempt(address, code_key)
            tracked = await service.track(form["code"], form["secret"])
            if tracked is None:
                return again(422, _("No message matches this code and secret. Check both and try again."))
            return _tracked_page(request, form, tracked, token, cookies, status_code=422)
        tracked = await service.submitter_reopens(form["code"], form["secret"], form["comment"])
    else:
        tracked = await service.track(form["code"], form["secret"])
    if tracked is None:
        return again(422, _("No message matches this code and secret. Check both and try again."))
    await limits.refund_track_attempt(address, code_key)
    if reopening:
        form.values["comment"] = ""
    return _tracked_page(request, form, tracked, token, cookies, reopened=reopening)


def _tracked_page(request: Request, form: Form, tracked: service.Tracked, token: str, cookies: list[Cookie],
                  status_code: int = 200, reopened: bool = False) -> Response:
    return render(request, "feedback/track.html", {
        "form": form, "tracked": tracked, "csrf_token": token, "reopened": reopened,
        "categories": CATEGORY_LABELS, "statuses": STATUS_LABELS,
    }, status_code=status_code, cookies=cookies, headers=NO_STORE)


# --- the staff inbox ----------------------------------------------------------------


def _status(code: object) -> str:
    return str(STATUS_LABELS.get(code, code or ""))


# The audit log names the message by its tracking code, never its text (privacy).
describe("feedback.status_changed", _l("%(who)s moved message %(target)s from “%(from)s” to “%(to)s”."),
         lambda d, n: {"from": _status(d.get("from")), "to": _status(d.get("to"))})
describe("feedback.assigned", _l("%(who)s assigned message %(target)s to %(member)s."),
         lambda d, n: {"member": n.user(d["assignee_user_id"]) if d.get("assignee_user_id") else _("nobody")})
describe("feedback.replied", _l("%(who)s replied to message %(target)s."))
describe("feedback.noted", _l("%(who)s added an internal note to message %(target)s."))
describe("feedback.escalated", _l("%(who)s passed message %(target)s on to %(org)s."),
         lambda d, n: {"org": d.get("to") or n.tenant(None)})
describe("feedback.settings_updated", _l("%(who)s changed the feedback mailbox's settings."))


async def _audit(request: Request, action: str, item: dict[str, Any] | str, detail: dict[str, Any] | None = None) -> None:
    code = item if isinstance(item, str) else item["code_display"]
    await record(request.scope["user"], action, tenant_id=_tenant(request)["id"], target=code,
                 detail={"item": code, **(detail or {})}, ip=client_ip(request))


@get("/manage/{slug:str}/feedback", opt=tenant_access("staff"), name="feedback_inbox")
async def inbox_page(request: Request, slug: FromPath[str], status: FromQuery[str] = "open",
                     category: FromQuery[str] = "", age: FromQuery[str] = "", overdue: FromQuery[str] = "",
                     mine: FromQuery[str] = "", where: FromQuery[str] = "here", q: FromQuery[str] = "") -> Response:
    filters = service.InboxFilter.parse(status, category, age, overdue, mine, where, q)
    items = await service.inbox(filters, request.scope["user"].id)
    return render(request, "feedback/inbox.html", {
        "items": items, "filters": filters, "counts": await service.inbox_counts(),
        "categories": CATEGORY_LABELS, "statuses": STATUS_LABELS, "limit": service.INBOX_LIMIT,
    }, block="results")


async def _item_page(request: Request, item_id: str, status_code: int = 200, forms: dict[str, Form] | None = None,
                     error: str = "") -> Response:
    data = await service.item_page(item_id)
    forms = forms or {}
    return render(request, "feedback/item.html", {
        **data, "categories": CATEGORY_LABELS, "statuses": STATUS_LABELS, "error": error,
        "reply_form": forms.get("reply", Form()), "note_form": forms.get("note", Form()),
        "escalate_form": forms.get("escalate", Form()),
        "calendar_known": workdays.calendar_known(data["item"]["due_at"].date()) if data["item"]["due_at"] else True,
    }, status_code=status_code)


@get("/manage/{slug:str}/feedback/{item_id:str}", opt=tenant_access("staff"), name="feedback_item")
async def item_view(request: Request, slug: FromPath[str], item_id: FromPath[str]) -> Response:
    return await _item_page(request, item_id)


def _back(slug: str, item_id: Any) -> Redirect:
    return Redirect(path=f"/manage/{slug}/feedback/{item_id}", status_code=303)


async def _act(request: Request, slug: str, item_id: str, action, form_name: str | None = None,
               form: Form | None = None) -> Response:
    """Run a staff action on an item; its errors come back beside the form, with the text kept."""
    item = await service.access_item(item_id)
    try:
        async with atomic():
            message = await action(item)
    except service.NotHolder as exc:
        flash(request, exc.message, "error")
        return _back(slug, item["id"])
    except service.FeedbackError as exc:
        if form is not None and form_name and exc.field == "body":
            form.error("body", exc.message)
            return await _item_page(request, item_id, 422, {form_name: form})
        return await _item_page(request, item_id, 422, error=exc.message)
    flash(request, message)
    return _back(slug, item["id"])


@post("/manage/{slug:str}/feedback/{item_id:str}/status", opt=tenant_access("staff"), name="feedback_status")
async def item_status(request: Request, slug: FromPath[str], item_id: FromPath[str]) -> Response:
    to = str((await request.form()).get("to", ""))
    user = request.scope["user"]

    async def action(item):
        before, after = await service.change_status(item["id"], to, user.id)
        await _audit(request, "feedback.status_changed", item, {"from": before, "to": after})
        return _("“%(code)s” is now: %(status)s.", code=item["code_display"], status=str(STATUS_LABELS[after]))

    return await _act(request, slug, item_id, action)


@post("/manage/{slug:str}/feedback/{item_id:str}/assign", opt=tenant_access("staff"), name="feedback_assign")
async def item_assign(request: Request, slug: FromPath[str], item_id: FromPath[str]) -> Response:
    value = str((await request.form()).get("assignee", ""))
    user = request.scope["user"]

    async def action(item):
        if value and not value.isdigit():
            raise service.FeedbackError("assignee", _("Choose a staff member of this organisation."))
        name = await service.assign(item["id"], int(value) if value else None, user.id)
        await _audit(request, "feedback.assigned", item, {"assignee_user_id": int(value) if value else None})
        return (_("“%(code)s” is assigned to %(name)s.", code=item["code_display"], name=name) if name
                else _("“%(code)s” is assigned to nobody.", code=item["code_display"]))

    return await _act(request, slug, item_id, action)


@post("/manage/{slug:str}/feedback/{item_id:str}/reply", opt=tenant_access("staff"), name="feedback_reply")
async def item_reply(request: Request, slug: FromPath[str], item_id: FromPath[str]) -> Response:
    form = schemas.read_form(await request.form(), ["body"])
    schemas.validate_reply(form)
    if not form.ok:
        return await _item_page(request, item_id, 422, {"reply": form})
    user = request.scope["user"]

    async def action(item):
        await service.reply(item["id"], form["body"], user.id)
        await _audit(request, "feedback.replied", item)
        return _("Your reply to “%(code)s” was saved; the submitter reads it with the code and secret.",
                 code=item["code_display"])

    return await _act(request, slug, item_id, action, "reply", form)


@post("/manage/{slug:str}/feedback/{item_id:str}/note", opt=tenant_access("staff"), name="feedback_note")
async def item_note(request: Request, slug: FromPath[str], item_id: FromPath[str]) -> Response:
    form = schemas.read_form(await request.form(), ["body"])
    schemas.validate_note(form)
    if not form.ok:
        return await _item_page(request, item_id, 422, {"note": form})
    user = request.scope["user"]

    async def action(item):
        await service.add_note(item["id"], form["body"], user.id)
        await _audit(request, "feedback.noted", item)
        return _("Internal note added to “%(code)s”.", code=item["code_display"])

    return await _act(request, slug, item_id, action, "note", form)


@post("/manage/{slug:str}/feedback/{item_id:str}/escalate", opt=tenant_access("staff"), name="feedback_escalate")
async def item_escalate(request: Request, slug: FromPath[str], item_id: FromPath[str]) -> Response:
    form = schemas.read_form(await request.form(), ["body"])
    if form["body"]:
        schemas.validate_note(form)
    if form.errors:
        return await _item_page(request, item_id, 422, {"escalate": form})
    user = request.scope["user"]

    async def action(item):
        target = await service.escalate(item["id"], user.id, form["body"])
        await _audit(request, "feedback.escalated", item, {"to": target["name"]})
        return _("“%(code)s” was escalated to %(name)s. You can still read it here.", code=item["code_display"],
                 name=target["name"])

    return await _act(request, slug, item_id, action, "escalate", form)


# --- settings (tenant admin) --------------------------------------------------------


async def _settings_page(request: Request, form: Form, status_code: int = 200) -> Response:
    return render(request, "feedback/settings.html", {
        "form": form, "ranges": schemas.SETTINGS_RANGES, "defaults": service.DEFAULTS,
        "calendar_until": workdays.known_until(),
    }, status_code=status_code)


@get("/manage/{slug:str}/feedback/settings", opt=tenant_access("admin"), name="feedback_settings")
async def settings_page(request: Request, slug: FromPath[str]) -> Response:
    values = await service.settings_of(_tenant(request)["id"])
    return await _settings_page(request, Form(values={k: str(v) for k, v in values.items()}))


@post("/manage/{slug:str}/feedback/settings", opt=tenant_access("admin"), name="feedback_settings_save")
async def settings_save(request: Request, slug: FromPath[str]) -> Response:
    form = schemas.read_form(await request.form(), schemas.SETTINGS_FIELDS)
    schemas.validate_settings(form)
    if not form.ok:
        return await _settings_page(request, form, 422)
    async with atomic():
        changes = await service.save_settings(form)
        if changes:
            await record(request.scope["user"], "feedback.settings_updated", tenant_id=_tenant(request)["id"],
                         target=_tenant(request)["slug"], detail={"changes": changes}, ip=client_ip(request))
    flash(request, _("Mailbox settings saved. They apply to messages received from now on."))
    return Redirect(path=f"/manage/{slug}/feedback/settings", status_code=303)


# --- the city's figures ---------------------------------------------------------------


@get("/city/feedback", opt=city_access("staff"), name="city_feedback")
async def city_feedback(request: Request, days: FromQuery[str] = "90") -> Response:
    period = int(days) if days.isdigit() and int(days) in service.PERIODS else 90
    return render(request, "feedback/city.html", {**await service.network_figures(period), "period": period,
                                                  "periods": service.PERIODS}, block="figures")


ROUTES = [
    feedback_form, feedback_submit, track_page, track_check,
    inbox_page, settings_page, settings_save, item_view, item_status, item_assign, item_reply, item_note,
    item_escalate, city_feedback,
]
