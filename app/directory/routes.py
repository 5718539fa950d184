from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.exceptions import NotFoundException
from litestar.response import Redirect

from app.audit.service import client_ip, record
from app.core.pagecache import serve_cached
from app.core.render import flash, render
from app.db import atomic
from app.directory import service
from tenants import tree
from app.outreach import service as outreach
from app.events import service as events
from app.i18n import gettext as _
from tenants.guards import PUBLIC, city_access
from app.core.forms import Form
from tenants import members
from tenants.scope import tenant_scope, unscoped
from tenants.tables import KIND_LABELS


def kind_labels() -> dict[str, str]:
    """Kind labels translated once per render, not once per listed organisation."""
    return {code: str(label) for code, label in KIND_LABELS.items()}


@get("/", opt={"access": PUBLIC}, name="portal")
async def portal(request: Request, q: FromQuery[str] = "", district: FromQuery[str] = "", kind: FromQuery[str] = "",
                 all: FromQuery[str] = "", city: FromQuery[str] = "") -> Response:  # noqa: A002 - query names
    q = q.strip()[:100]
    city_level = city == "1" and not district
    # A phone first: search, the visitor's district and what they came for fit the first
    # screen; the organisations are listed once a district, a kind or words narrow them
    # (or the visitor asks for all of them).
    listing = bool(q or district or kind or city_level or all == "1")

    async def page() -> Response:
        by_district = await service.active_by_district()
        if listing:
            rows = await service.find_organisations(q=q, district=district, kind=kind, city_level=city_level)
            counts, count = service.district_counts(rows), len(rows)
        else:  # the first screen lists no organisation: their number by district is enough
            rows, counts, count = [], by_district, sum(n for _d, n in by_district)
        return render(
            request,
            "directory/portal.html",
            {
                "listing": listing,
                "groups": service.group_by_district(rows) if listing else {},
                "count": count,
                "district_counts": counts,
                "districts": [d for d, _n in by_district if d],
                "kinds": kind_labels(),
                "filters": {"q": q, "district": district, "kind": kind},
                "city_hotlines": await outreach.city_hotlines(),
            },
            block="results",
        )

    return await serve_cached(request, page)


@get("/o/{slug:str}/", opt={"access": PUBLIC}, name="tenant_public")
async def tenant_public(request: Request, slug: FromPath[str], closed: FromQuery[str] = "") -> Response:
    tenant = request.scope["state"]["tenant"]
    if tenant is None or not tenant["active"]:
        raise NotFoundException()

    async def page() -> Response:
        parent = await service.public_tenant_by_id(tenant["parent"]) if tenant["parent"] else None
        if parent:  # whom to ask while this organisation's own contact details are missing
            with tenant_scope(parent["id"]):
                parent_lines = await outreach.hotlines()
            parent["phone"] = parent_lines[0]["number"] if parent_lines else parent["reception_phone"]
        return render(
            request,
            "directory/tenant_public.html",
            {"org": tenant, "parent": parent, "kinds": kind_labels(), **await outreach.public_space(),
             # a visitor sent here by the QR code of a deactivated organisation below this one
             "closed_org": await outreach.closed_predecessor(tenant["id"], closed),
             "upcoming_events": await events.upcoming_for_tenant()},
        )

    return await serve_cached(request, page)


# --- the city center's console -------------------------------------------------


@get("/city/", opt=city_access("staff"), name="city_home")
async def city_home(request: Request) -> Response:
    with unscoped("the city console lists the whole tenant tree"):
        rows = await tree.tenant_tree()
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["kind"]] = counts.get(row["kind"], 0) + 1
    return render(request, "city/home.html", {"tree": rows, "kinds": KIND_LABELS, "counts": counts})


async def _tenant_form_page(request: Request, form, editing=None, status_code: int = 200, admin_form=None) -> Response:
    parents = await service.parent_choices()
    admins = []
    if editing:
        with tenant_scope(editing["id"]):
            admins = [m for m in await members.tenant_members() if m["role"] == "admin"]
    return render(
        request,
        "city/tenant_form.html",
        {
            "form": form,
            "editing": editing,
            "parent_options": [(str(p["id"]), p["name"]) for p in parents],
            "kinds": KIND_LABELS,
            "admins": admins,
            "admin_form": admin_form or Form(),
        },
        status_code=status_code,
    )


@get("/city/tenants/new", opt=city_access("admin"), name="city_tenant_new")
async def city_tenant_new(request: Request, parent: FromQuery[str] = "", kind: FromQuery[str] = "",
                          district: FromQuery[str] = "") -> Response:
    form = service.tenant_form(initial={"parent": parent, "kind": kind, "district": district.strip()[:100]})
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
                     ip=client_ip(request))
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
                         ip=client_ip(request))
    flash(request, _("Organisation “%(name)s” was saved.", name=form["name"]))
    return Redirect(path="/city/", status_code=303)


@post("/city/tenants/{slug:str}/admins", opt=city_access("admin"), name="city_tenant_add_admin")
async def city_tenant_add_admin(request: Request, slug: FromPath[str]) -> Response:
    """The city invites a new organisation's first administrator (or another one); the
    person becomes one when they accept (app/invitations)."""
    from app.invitations import service as invitations

    tenant = await _city_tenant(slug)
    form = Form.from_data(await request.form(), ["email"])
    form.required("email")
    form.email("email")
    if form.ok:
        user = request.scope["user"]
        try:
            with tenant_scope(tenant["id"]):
                async with atomic():
                    invitation_id = await invitations.invite(tenant, form["email"], "admin", user)
                    await record(user, "tenant.admin_invited", tenant_id=user.city_membership.tenant.id, target=form["email"],
                                 detail={"tenant_id": tenant["id"], "invitation_id": invitation_id},
                                 ip=client_ip(request))
        except members.MemberError as exc:
            form.error(exc.field, exc.message)
        else:
            flash(request, _("An invitation to administer %(name)s was sent to %(email)s.", email=form["email"],
                             name=tenant["name"]))
            return Redirect(path=f"/city/tenants/{slug}/edit", status_code=303)
    return await _tenant_form_page(request, service.tenant_form(initial=tenant), editing=tenant,
                                   status_code=422, admin_form=form)


ROUTES = [city_tenant_add_admin, portal, tenant_public, city_home, city_tenant_new, city_tenant_create, city_tenant_edit, city_tenant_update]
