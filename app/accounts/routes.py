from __future__ import annotations

from urllib.parse import urlparse

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.datastructures import Cookie
from litestar.response import Redirect

from app.accounts import service
from app.audit.service import client_ip, record
from app.core.forms import Form
from app.core.middleware import LOCALE_COOKIE
from app.core.render import flash, render
from app.core import sessions
from app.core.sessions import rotate_session
from app.i18n import LOCALES, gettext as _
from tenants.guards import LOGIN, PUBLIC


def _safe_next(target: str | None) -> str:
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def home_for(user) -> str:
    if user.city_membership is not None:
        return "/city/"
    if user.memberships:
        return f"/manage/{user.memberships[0].tenant.slug}/"
    return "/"


@get("/login", opt={"access": PUBLIC}, name="login")
async def login_page(request: Request, next: FromQuery[str | None] = None) -> Response:
    if request.scope.get("user"):
        return Redirect(path=_safe_next(next) if next else home_for(request.scope["user"]))
    return render(request, "accounts/login.html", {"form": Form(), "next": _safe_next(next)})


@post("/login", opt={"access": PUBLIC}, name="login_submit")
async def login_submit(request: Request) -> Response:
    data = await request.form()
    form = Form.from_data(data, ["email", "password"])
    next_url = _safe_next(data.get("next"))
    form.required("email", "password")
    form.email("email")
    if form.ok:
        ip = client_ip(request)
        result = await service.authenticate(form["email"], form.values["password"], ip)
        if result.user_id is None:
            form.error("password", result.error or _("Wrong email or password."))
            status = 429 if result.retry_after else 400
            form.values["password"] = ""
            return render(request, "accounts/login.html", {"form": form, "next": next_url}, status_code=status)
        rotate_session(request)
        request.set_session({"user_id": result.user_id})
        csrf = sessions.bind_csrf(request)  # a new token, bound to this session
        from tenants.middleware import load_current_user

        user = await load_current_user(result.user_id)
        await record(user, "account.login", tenant_id=None, target=form["email"], ip=ip)
        if not user.memberships:  # no active organisation: say why rather than leave them on the portal
            return Redirect(path="/account/organisations", status_code=303, cookies=[csrf])
        return Redirect(path=next_url if next_url != "/" else home_for(user), status_code=303, cookies=[csrf])
    form.values["password"] = ""
    return render(request, "accounts/login.html", {"form": form, "next": next_url}, status_code=400)


@post("/logout", opt={"access": LOGIN}, name="logout")
async def logout(request: Request) -> Response:
    request.clear_session()
    return Redirect(path="/", status_code=303)


@get("/account/password", opt={"access": LOGIN}, name="password")
async def password_page(request: Request) -> Response:
    return render(request, "accounts/password.html", {"form": Form()})


@post("/account/password", opt={"access": LOGIN}, name="password_submit")
async def password_submit(request: Request) -> Response:
    data = await request.form()
    form = Form.from_data(data, ["current_password", "new_password", "confirm_password"])
    form.required("current_password", "new_password", "confirm_password")
    if form.ok and form["new_password"] != form["confirm_password"]:
        form.error("confirm_password", _("The two new passwords do not match."))
    if form.ok:
        user = request.scope["user"]
        try:
            await service.change_password(user.id, form["current_password"], form["new_password"])
        except service.AccountError as exc:
            form.error(exc.field, exc.message)
        else:
            ended = await sessions.end_other_sessions(request, user.id)
            rotate_session(request)
            await record(user, "account.password_changed", tenant_id=None, target=user.email,
                         detail={"sessions_ended": ended})
            flash(request, _("Your password has been changed."))
            if ended:
                flash(request, _("You were signed out everywhere else."))
            return Redirect(path="/account/password", status_code=303)
    # Passwords are never echoed back into the page.
    form.values = {k: "" for k in form.values}
    return render(request, "accounts/password.html", {"form": form}, status_code=400)


@post("/account/sign-out-everywhere", opt={"access": LOGIN}, name="sign_out_everywhere")
async def sign_out_everywhere(request: Request) -> Response:
    """End every session of this account, on every device, this one included."""
    user = request.scope["user"]
    await record(user, "account.signed_out_everywhere", tenant_id=None, target=user.email, ip=client_ip(request))
    await sessions.end_all_sessions(request, user.id)
    return Redirect(path="/login", status_code=303)


@get("/lang/{locale:str}", opt={"access": PUBLIC}, name="set_language")
async def set_language(locale: FromPath[str], next: FromQuery[str | None] = None) -> Response:
    """A plain link, so it works everywhere and keeps public pages free of per-visitor tokens;
    it only stores a display preference."""
    target = _safe_next(next)
    cookies = []
    if locale in LOCALES:
        cookies.append(Cookie(key=LOCALE_COOKIE, value=locale, max_age=365 * 86400, samesite="lax", path="/"))
    return Redirect(path=target, status_code=303, cookies=cookies)


@get("/account/organisations", opt={"access": LOGIN}, name="account_organisations")
async def account_organisations(request: Request) -> Response:
    """Where a person stands with each organisation; the landing page when none is active
    (an organisation deactivated by the city, or a membership removed)."""
    from tenants import members

    user = request.scope["user"]
    return render(request, "accounts/organisations.html",
                  {"organisations": await members.organisations_of(user.id),
                   "city": await members.city_center_contact()})


ROUTES = [login_page, login_submit, logout, password_page, password_submit, sign_out_everywhere, set_language, account_organisations]
