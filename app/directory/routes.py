from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.exceptions import NotFoundException
from litestar.response import Redirect

from app.audit.service import record
from app.core.render import flash, render
from app.db import atomic
from app.directory import service
from app.outreach import service as outreach
from app.i18n import gettext as _
from tenants.guards import PUBLIC, city_access
from tenants.scope import unscoped
from tenants.tables import KIND_LABELS


@get("/", opt={"access": PUBLIC}, name="portal")
async def portal(request: Request, q: FromQuery[str] = "", district: FromQuery[str] = "", kind: FromQuery[str] = "") -> Response:
    q = q.strip()[:100]
    rows = await service.find_organisations(q=q, district=district, kind=kind)
    return render(
        request,
        "directory/portal.html",
        {
            "groups": service.group_by_district(rows),
            "count": len(rows),
            "districts": await service.districts(),
            "kinds": KIND_LABELS,
            "filters": {"q": q, "district": district, "kind": kind},
            "city_hotlines": await outreach.city_hotlines(),
        },
        block="results",
    )


@get("/o/{slug:str}/", opt={"access": PUBLIC}, name="tenant_public")
async def tenant_public(request: Request, slug: FromPath[str]) -> Response:
    tenant = await service.public_tenant(slug)
    if tenant is None:
        raise NotFoundException()
    parent = None
    if tenant["parent"]:
        parent = await service.public_tenant_by_id(tenant["parent"])
    return render(
        request,
        "directory/tenant_public.html",
        {"org": tenant, "parent": parent, "kinds": KIND_LABELS, **await outreach.public_space()},
    )


# --- the city center's console -------------------------------------------------


@get("/city/", opt=city_access("staff"), name="city_home")
async def city_home(request: Request) -> Response:
    with unscoped("the city console lists the whole tenant tree"):
        tree = await service.tenant_tree()
    counts: dict[str, int] = {}
    for row in tree:
        counts[row["kind"]] = counts.get(row["kind"], 0) + 1
    return render(request, "city/home.html", {"tree": tree, "kinds": KIND_LABELS, "counts": counts})


async def _tenant_form_page(request: Request, form, editing=None, status_code: int = 200) -> Response:
    parents = await service.parent_choices()
    return render(
        request,
        "city/tenant_form.html",
        {
            "form": form,
            "editing": editing,
            "parent_options": [(str(p["id"]), p["name"]) for p in parents],
            "kinds": KIND_LABELS,
        },
        status_code=status_code,
    )


@get("/city/tenants/new", opt=city_access("admin"), name="city_tenant_new")
async def city_tenant_new(request: Request, parent: FromQuery[str] = "", kind: FromQuery[str] = "") -> Response:
    form = service.tenant_form(initial={"parent": parent, "kind": kind})
    return await _tenant_form_page(request, form)


@post("/city/tenants/new", opt=city_access("admin"), name="city_tenant_create")
async def city_tenant_create(request: Request) -> Response:
    form = service.tenant_form(await request.form())
    await service.validate_tenant_form(form)
    if not form.ok:
        return await _tenant_form_page(request, form, status_code=422)
    user = request.scope["user"]
    async with atomic():
        tenant_id = await service.create_tenant(form)
        await record(user, "tenant.created", tenant_id=user.city_membership.tenant.id,
                     target=form["slug"], detail={"tenant_id": tenant_id, "name": form["name"]},
                     ip=request.client.host if request.client else "")
    flash(request, _("Organisation “%(name)s” was created.", name=form["name"]))
    return Redirect(path="/city/", status_code=303)


async def _city_tenant(slug: str) -> dict:
    tenant = await service.tenant_for_edit(slug)
    if tenant is None:
        raise NotFoundException()
    return tenant


@get("/city/tenants/{slug:str}/edit", opt=city_access("admin"), name="city_tenant_edit")
async def city_tenant_edit(request: Request, slug: FromPath[str]) -> Response:
    tenant = await _city_tenant(slug)
    return await _tenant_form_page(request, service.tenant_form(initial=tenant), editing=tenant)


@post("/city/tenants/{slug:str}/edit", opt=city_access("admin"), name="city_tenant_update")
async def city_tenant_update(request: Request, slug: FromPath[str]) -> Response:
    tenant = await _city_tenant(slug)
    form = service.tenant_form(await request.form())
    await service.validate_tenant_form(form, editing=tenant)
    if not form.ok:
        return await _tenant_form_page(request, form, editing=tenant, status_code=422)
    user = request.scope["user"]
    async with atomic():
        changes = await service.update_tenant(tenant["id"], form)
        if changes:
            await record(user, "tenant.updated", tenant_id=user.city_membership.tenant.id,
                         target=form["slug"], detail={"tenant_id": tenant["id"], "changes": changes},
                         ip=request.client.host if request.client else "")
    flash(request, _("Organisation “%(name)s” was saved.", name=form["name"]))
    return Redirect(path="/city/", status_code=303)


ROUTES = [portal, tenant_public, city_home, city_tenant_new, city_tenant_create, city_tenant_edit, city_tenant_update]
