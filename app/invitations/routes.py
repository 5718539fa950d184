"""The invitation link: /invitations/<token> (public; the token is the permission)."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from app.accounts import service as accounts
from app.audit.service import client_ip, record
from app.core import sessions
from app.core.forms import Form
from app.core.render import flash, render
from app.db import atomic
from app.i18n import gettext as _
from app.invitations import service
from tenants.guards import PUBLIC
from tenants.members import MemberError

FIELDS = ["name", "password", "confirm_password"]


async def _page(request: Request, token: str, invitation: dict | None, form: Form | None = None,
                status_code: int = 200) -> Response:
    if invitation is None:
        return render(request, "invitations/accept.html", {"invitation": None}, status_code=404)
    user = request.scope.get("user")
    return render(request, "invitations/accept.html", {
        "invitation": invitation, "token": token, "form": form or Form(),
        "has_account": await service.account_exists(invitation["email"]),
        "signed_in_as_invited": bool(user and user.email == invitation["email"]),
    }, status_code=status_code)


@get("/invitations/{invitation_token:str}", opt={"access": PUBLIC}, name="invitation")
async def invitation_page(request: Request, invitation_token: FromPath[str]) -> Response:
    return await _page(request, invitation_token, await service.find(invitation_token))


@post("/invitations/{invitation_token:str}", opt={"access": PUBLIC}, name="invitation_accept")
async def invitation_accept(request: Request, invitation_token: FromPath[str]) -> Response:
    token = invitation_token
    user = request.scope.get("user")
    form = Form.from_data(await request.form(), FIELDS)
    async with atomic():
        invitation = await service.find(token, lock=True)
        if invitation is None:
            return await _page(request, token, None)
        if user is not None:
            if user.email != invitation["email"]:
                return await _page(request, token, invitation, status_code=422)
            await service.accept(invitation, user.id)
            user_id, created = user.id, False
        else:
            if await service.account_exists(invitation["email"]):
                return Redirect(path=f"/login?next=/invitations/{token}", status_code=303)
            form.required("name", "password", "confirm_password")
            form.max_length("name", 100)
            if form.ok and form["password"] != form["confirm_password"]:
                form.error("confirm_password", _("The two new passwords do not match."))
            if form.ok:
                try:
                    user_id = await service.create_account_and_accept(invitation, form["name"], form["password"])
                except MemberError as exc:
                    form.error(exc.field, exc.message)
            if not form.ok:
                form.values["password"] = form.values["confirm_password"] = ""
                return await _page(request, token, invitation, form, status_code=422)
            created = True
        from tenants.middleware import load_current_user

        actor = await load_current_user(user_id)
        await record(actor, "member.invitation_accepted", tenant_id=invitation["tenant_id"],
                     target=invitation["email"],
                     detail={"user_id": user_id, "role": invitation["role"], "account_created": created},
                     ip=client_ip(request))
    cookies = []
    if user is None:  # the new account is signed in
        sessions.rotate_session(request)
        request.set_session({"user_id": user_id})
        cookies.append(sessions.bind_csrf(request))
    flash(request, _("Welcome to %(name)s.", name=invitation["tenant_name"]))
    return Redirect(path=f"/manage/{invitation['slug']}/", status_code=303, cookies=cookies)


ROUTES = [invitation_page, invitation_accept]
