"""Friendly error pages in the visitor's language; a 500 shows only a request id."""

from __future__ import annotations

import logging
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.response import Redirect

from app.core.render import render, request_path
from app.i18n import gettext as _

log = logging.getLogger("tiaojie.errors")


def _titles() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood. Check the address and try again.")),
        403: (_("Not allowed"), _("Your role in this organisation does not allow this action.")),
        404: (_("Page not found"), _("There is no such page, or it is not available to you.")),
        405: (_("Not allowed"), _("This address does not accept that kind of request.")),
        429: (_("Too many requests"), _("Please wait a moment and try again.")),
        500: (_("Something went wrong"), _("We could not complete your request. It has been logged; please try again later.")),
    }


def login_redirect(request: Request, exc: NotAuthorizedException) -> Response:
    target = "/login?next=" + quote(request_path(request) + (f"?{request.url.query}" if request.url.query else ""), safe="/")
    if request.headers.get("hx-request") == "true":
        return Response(content="", status_code=200, headers={"HX-Redirect": target})
    return Redirect(path=target, status_code=303)


def error_page(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status not in _titles():
        status = 500 if status >= 500 else 400
    title, message = _titles()[status]
    detail = getattr(exc, "detail", "")
    if status == 403 and "CSRF" in str(detail):
        message = _("This form has expired or was sent from elsewhere. Go back, reload the page and send it again.")
    request_id = request.scope.get("state", {}).get("request_id", "")
    if status == 500:
        log.exception("unhandled error, request id %s", request_id, exc_info=exc)
    headers = {}
    if status == 429 and isinstance(exc, HTTPException) and exc.headers:
        headers.update(exc.headers)
    try:
        return render(
            request,
            "errors/error.html",
            {"status": status, "title": title, "message": message, "show_request_id": status == 500},
            status_code=status,
            headers=headers,
        )
    except Exception:  # the error page itself failed: plain text, still no internals
        log.exception("error page failed, request id %s", request_id)
        return Response(content=f"{status} {title} ({request_id})", status_code=status, media_type="text/plain; charset=utf-8")


EXCEPTION_HANDLERS = {
    NotAuthorizedException: login_redirect,
    HTTPException: error_page,
    Exception: error_page,
}
