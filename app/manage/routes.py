"""A tenant's staff console at /manage/<slug>/ (runs inside that tenant's scope)."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from app.audit.service import recent_for_tenant, record
from app.core.forms import Form
from app.core.render import flash, render
from app.db import atomic
from app.directory import service as directory
from app.i18n import gettext as _
from tenants.guards import tenant_access
from tenants.members import tenant_members
from tenants.tables import KIND_LABELS, ROLE_LABELS


def _tenant(request: Request) -> dict:
    return request.scope["state"]["tenant"]


@get("/manage/{slug:str}/", opt=tenant_access("member"), name="manage_home")
async def manage_home(request: Request, slug: FromPath[str]) -> Response:
    tenant = _tenant(request)
    members = await tenant_members(tenant["id"])
    return render(
        request,
        "manage/home.html",
        {"members": members, "kinds": KIND_LABELS, "roles": ROLE_LABELS},
    )


@get("/manage/{slug:str}/settings", opt=tenant_access("admin"), name="manage_settings")
async def manage_settings(request: Request, slug: FromPath[str]) -> Response:
    form = Form(values={k: str(_tenant(request)[k] or "") for k in directory.PROFILE_FIELDS})
    return render(request, "manage/settings.html", {"form": form})


@post("/manage/{slug:str}/settings", opt=tenant_access("admin"), name="manage_settings_save")
async def manage_settings_save(request: Request, slug: FromPath[str]) -> Response:
    tenant = _tenant(request)
    form = Form.from_data(await request.form(), directory.PROFILE_FIELDS)
    directory.validate_profile_form(form)
    if not form.ok:
        return render(request, "manage/settings.html", {"form": form}, status_code=422)
    async with atomic():
        changes = await directory.update_profile(tenant["id"], form)
        if changes:
            await record(request.scope["user"], "tenant.profile_updated", tenant_id=tenant["id"],
                         target=tenant["slug"], detail={"changes": changes},
                         ip=request.client.host if request.client else "")
    flash(request, _("Settings saved."))
    return Redirect(path=f"/manage/{slug}/settings", status_code=303)


@get("/manage/{slug:str}/audit", opt=tenant_access("admin"), name="manage_audit")
async def manage_audit(request: Request, slug: FromPath[str]) -> Response:
    return render(request, "manage/audit.html", {"entries": await recent_for_tenant()})


ROUTES = [manage_home, manage_settings, manage_settings_save, manage_audit]
