"""The outbox as staff see it: /manage/<slug>/notifications, the in-app inbox, and
the city center's counts per tenant at /city/notifications."""

from __future__ import annotations

import secrets

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from app.audit.sentences import describe
from app.audit.service import client_ip, record
from app.core.render import flash, render
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.notifications import service
from app.notifications.messages import payload_of, render_message, render_subject
from app.notifications.tables import Notification
from tenants.guards import city_access, tenant_access
from tenants.scope import get_in_scope

STATUS_LABELS = {
    "pending": _l("Pending"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
    "cancelled": _l("Cancelled"),
}
CHANNEL_LABELS = {"email": _l("By email"), "sms": _l("By SMS"), "inapp": _l("In-app")}


describe("notification.retried", _l("%(who)s asked for the message “%(target)s” to be sent again."))
describe("notification.test_sent", _l("%(who)s sent a test message to %(target)s."))


def _tenant(request: Request) -> dict:
    return request.scope["state"]["tenant"]


@get("/manage/{slug:str}/notifications", opt=tenant_access("staff"), name="notifications_list")
async def notifications_list(request: Request, slug: FromPath[str], status: FromQuery[str] = "",
                             before: FromQuery[str] = "") -> Response:
    status = status if status in service.STATUSES else ""
    before_id = int(before) if before.isdigit() else None
    rows = await service.list_for_tenant(status, limit=service.PAGE_SIZE + 1, before=before_id)
    more = len(rows) > service.PAGE_SIZE
    tenant_name = _tenant(request)["name"]
    rows = [{**r, "subject": render_subject(r, tenant_name), "why": service.explain(r["status"], r["last_error"])}
            for r in rows[: service.PAGE_SIZE]]
    return render(
        request,
        "notifications/list.html",
        {
            "rows": rows,
            "status": status,
            "counts": await service.status_counts(),
            "statuses": STATUS_LABELS,
            "channels": CHANNEL_LABELS,
            "next_before": rows[-1]["id"] if more and rows else None,
        },
        block="outbox",
    )


@get("/manage/{slug:str}/notifications/{notification_id:int}", opt=tenant_access("staff"),
     name="notifications_detail")
async def notifications_detail(request: Request, slug: FromPath[str], notification_id: FromPath[int]) -> Response:
    row = await get_in_scope(Notification, notification_id)
    data = row.to_dict()
    rendered = render_message({**data, "payload": payload_of(data)}, _tenant(request)["name"])
    return render(
        request,
        "notifications/detail.html",
        {"n": data, "rendered": rendered, "statuses": STATUS_LABELS, "channels": CHANNEL_LABELS,
         "kind": service.kind_label(data["template_key"]), "why": service.explain(data["status"], data["last_error"])},
    )


@post("/manage/{slug:str}/notifications/{notification_id:int}/retry", opt=tenant_access("staff"),
      name="notifications_retry")
async def notifications_retry(request: Request, slug: FromPath[str], notification_id: FromPath[int]) -> Response:
    row = await get_in_scope(Notification, notification_id)
    if await service.retry_failed(row.id):
        subject = render_subject(row.to_dict(), _tenant(request)["name"])
        await record(request.scope["user"], "notification.retried", tenant_id=_tenant(request)["id"],
                     target=subject, detail={"notification_id": row.id, "last_error": row.last_error[:200]},
                     ip=client_ip(request))
        flash(request, _("The message will be sent again."))
    else:
        flash(request, _("Only a failed message can be retried."), "error")
    return Redirect(path=f"/manage/{slug}/notifications?status=failed", status_code=303)


@post("/manage/{slug:str}/notifications/test", opt=tenant_access("staff"), name="notifications_test")
async def notifications_test(request: Request, slug: FromPath[str]) -> Response:
    """Send a test message to oneself, to see delivery end to end."""
    tenant = _tenant(request)
    user = request.scope["user"]
    contact = await service.user_contact(user.id)
    await service.notify(
        tenant["id"],
        "staff_notice",
        f"test:{tenant['id']}:{user.id}:{secrets.token_hex(6)}",
        email=contact["email"] if contact else user.email,
        phone=contact["phone"] if contact else "",
        user_id=user.id,
        locale=user.locale or "zh_Hans",
        payload={
            "subject": _("Test message from %(tenant)s", tenant=tenant["name"]),
            "body": _("If you can read this, messages from the platform reach you."),
        },
    )
    await record(user, "notification.test_sent", tenant_id=tenant["id"], target=user.email, ip=client_ip(request))
    flash(request, _("A test message is on its way to %(email)s.", email=user.email))
    return Redirect(path=f"/manage/{slug}/notifications", status_code=303)


@get("/manage/{slug:str}/inbox", opt=tenant_access("member"), name="notifications_inbox")
async def notifications_inbox(request: Request, slug: FromPath[str]) -> Response:
    user = request.scope["user"]
    tenant = _tenant(request)
    messages = []
    for row in await service.inbox(user.id):
        rendered = render_message({**row, "recipient": user.email, "payload": payload_of(row)}, tenant["name"])
        messages.append({**row, "subject": rendered.subject, "text": rendered.text})
    return render(request, "notifications/inbox.html", {"messages": messages})


@post("/manage/{slug:str}/inbox/read", opt=tenant_access("member"), name="notifications_inbox_read")
async def notifications_inbox_read(request: Request, slug: FromPath[str]) -> Response:
    await service.mark_read(request.scope["user"].id)
    return Redirect(path=f"/manage/{slug}/inbox", status_code=303)


@get("/city/notifications", opt=city_access("staff"), name="city_notifications")
async def city_notifications(request: Request) -> Response:
    rows = await service.city_counts()
    totals = {s: sum(r["counts"][s] for r in rows) for s in service.STATUSES}
    return render(request, "notifications/city.html",
                  {"rows": rows, "totals": totals, "statuses": STATUS_LABELS})


ROUTES = [
    notifications_list,
    notifications_test,
    notifications_detail,
    notifications_retry,
    notifications_inbox,
    notifications_inbox_read,
    city_notifications,
]
