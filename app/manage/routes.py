"""A tenant's staff console at /manage/<slug>/ (runs inside that tenant's scope)."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from app.audit.sentences import with_sentences
from app.audit.service import client_ip, recent_for_tenant, record
from app.city import broadcasts
from app.core.confirm import Confirmation, ask_first
from app.core.forms import Form
from app.core.render import flash, render
from app.db import atomic
from app.directory import service as directory
from app.i18n import gettext as _
from app.undo import service as undo
from tenants.guards import tenant_access
from tenants import members
from tenants.tables import KIND_LABELS, ROLE_LABELS, Membership


def _tenant(request: Request) -> dict:
    return request.scope["state"]["tenant"]


@get("/manage/{slug:str}/", opt=tenant_access("member"), name="manage_home")
async def manage_home(request: Request, slug: FromPath[str]) -> Response:
    member_list = await members.tenant_members()
    tenant = _tenant(request)
    user = request.scope["user"]
    union_groups = None
    if tenant["kind"] == "union":
        from app.events import service as events
        from app.events.schemas import REGISTRATION_STATUS_LABELS, labels

        union_groups = (await events.union_groups(tenant["id"]))[:10]
    return render(
        request,
        "manage/home.html",
        {"members": member_list, "kinds": KIND_LABELS, "roles": ROLE_LABELS,
         "notices": await broadcasts.for_tenant(user.id, with_readers=user.role_in(tenant["id"]) == "admin"),
         "admins": [m["name"] for m in member_list if m["role"] == "admin"],
         "union_groups": union_groups,
         "reg_statuses": labels(REGISTRATION_STATUS_LABELS) if union_groups is not None else {}},
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
                         ip=client_ip(request))
    flash(request, _("Settings saved."))
    return Redirect(path=f"/manage/{slug}/settings", status_code=303)


MEMBER_FIELDS = ["email", "role"]


async def _members_page(request: Request, form: Form, status_code: int = 200, row_errors=None) -> Response:
    from app.invitations import service as invitations

    tenant = _tenant(request)
    return render(
        request,
        "manage/members.html",
        {
            "members": await members.tenant_members(),
            "invitations": await invitations.pending(tenant["id"]),
            "form": form,
            "role_options": [(r, ROLE_LABELS[r]) for r in members.roles_for(tenant["kind"])],
            "row_errors": row_errors or {},
            "removed": await undo.recently_removed(Membership),
        },
        status_code=status_code,
    )


@get("/manage/{slug:str}/members", opt=tenant_access("admin"), name="manage_members")
async def manage_members(request: Request, slug: FromPath[str]) -> Response:
    return await _members_page(request, Form(values={"role": members.roles_for(_tenant(request)["kind"])[-1]}))


@post("/manage/{slug:str}/members", opt=tenant_access("admin"), name="manage_members_add")
async def manage_members_add(request: Request, slug: FromPath[str]) -> Response:
    """Adding a person sends them an invitation; the answer is the same whether or not the
    email has an account (app/invitations)."""
    from app.invitations import service as invitations

    tenant = _tenant(request)
    form = Form.from_data(await request.form(), MEMBER_FIELDS)
    form.required("email", "role")
    form.email("email")
    form.max_length("email", 254)
    if form.ok:
        try:
            async with atomic():
                invitation_id = await invitations.invite(tenant, form["email"], form["role"], request.scope["user"])
                await record(request.scope["user"], "member.invited", tenant_id=tenant["id"], target=form["email"],
                             detail={"invitation_id": invitation_id, "role": form["role"]},
                             ip=client_ip(request))
        except members.MemberError as exc:
            form.error(exc.field, exc.message)
        else:
            flash(request, _("An invitation was sent to %(email)s. They become a member when they accept it.",
                             email=form["email"]))
            return Redirect(path=f"/manage/{slug}/members", status_code=303)
    return await _members_page(request, form, status_code=422)


@post("/manage/{slug:str}/members/{member_id:int}/role", opt=tenant_access("admin"), name="manage_member_role")
async def manage_member_role(request: Request, slug: FromPath[str], member_id: FromPath[int]) -> Response:
    tenant = _tenant(request)
    data = await request.form()
    try:
        async with atomic():
            change = await members.change_role(tenant, member_id, str(data.get("role", "")))
            who = await members.member_summary(member_id)
            await record(request.scope["user"], "member.role_changed", tenant_id=tenant["id"],
                         target=f"{who['name']} ({who['email']})", detail=change, ip=client_ip(request))
    except members.MemberError as exc:
        return await _members_page(request, Form(), status_code=422, row_errors={member_id: exc.message})
    flash(request, _("Role changed."))
    return Redirect(path=f"/manage/{slug}/members", status_code=303)


@post("/manage/{slug:str}/members/{member_id:int}/remove", opt=tenant_access("admin"), name="manage_member_remove")
async def manage_member_remove(request: Request, slug: FromPath[str], member_id: FromPath[int]) -> Response:
    tenant = _tenant(request)
    who = await members.member_summary(member_id)
    step = await ask_first(request, Confirmation(
        question=_("Remove %(name)s (%(email)s) from %(org)s?", name=who["name"], email=who["email"],
                   org=tenant["name"]),
        consequences=[_("They can no longer manage this organisation; their account stays."),
                      _("You can restore their membership from this page for 7 days.")],
        confirm_label=_("Remove member"),
        back_url=f"/manage/{slug}/members",
    ))
    if step:
        return step
    try:
        async with atomic():
            removed = await members.remove_member(member_id, removed_by=request.scope["user"].id)
            await record(request.scope["user"], "member.removed", tenant_id=tenant["id"],
                         target=f"{removed['name']} ({removed['email']})",
                         detail={"user_id": removed["user_id"], "role": removed["role"]}, ip=client_ip(request))
    except members.MemberError as exc:
        return await _members_page(request, Form(), status_code=422, row_errors={member_id: exc.message})
    flash(request, _("%(name)s was removed from this organisation.", name=removed["name"]),
          undo=f"/manage/{slug}/members/restore/{removed['removed_id']}")
    return Redirect(path=f"/manage/{slug}/members", status_code=303)


@post("/manage/{slug:str}/members/restore/{removed_member_id:int}", opt=tenant_access("admin"),
      name="manage_member_restore")
async def manage_member_restore(request: Request, slug: FromPath[str], removed_member_id: FromPath[int]) -> Response:
    tenant = _tenant(request)
    try:
        async with atomic():
            back = await members.restore_member(removed_member_id)
            await record(request.scope["user"], "member.restored", tenant_id=tenant["id"],
                         target=f"{back['name']} ({back['email']})",
                         detail={"user_id": back["user_id"], "role": back["role"]}, ip=client_ip(request))
    except undo.UndoError as exc:
        flash(request, _("The membership could not be restored: %(reason)s", reason=exc.message), "error")
    else:
        flash(request, _("%(name)s is a member again.", name=back["name"]))
    return Redirect(path=f"/manage/{slug}/members", status_code=303)


@get("/manage/{slug:str}/audit", opt=tenant_access("admin"), name="manage_audit")
async def manage_audit(request: Request, slug: FromPath[str]) -> Response:
    return render(request, "manage/audit.html", {"entries": await with_sentences(await recent_for_tenant())})


ROUTES = [
    manage_home,
    manage_settings,
    manage_settings_save,
    manage_members,
    manage_members_add,
    manage_member_role,
    manage_member_remove,
    manage_member_restore,
    manage_audit,
]
