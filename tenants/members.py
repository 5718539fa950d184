"""A tenant's members: who they are, adding people, changing roles, removing them.

All of it runs inside the tenant's scope (Membership is tenant-scoped)."""

from __future__ import annotations

import functools
from typing import Any

from app.accounts import service as accounts
from app.accounts.tables import User
from app.core.prepared import prepared
from app.i18n import gettext as _
from tenants.scope import get_in_scope
from tenants.tables import Membership, Role, TenantKind


class MemberError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def roles_for(kind: str) -> list[str]:
    """Unions have representatives; every other organisation has staff."""
    if kind == TenantKind.union.value:
        return [Role.admin.value, Role.union_rep.value]
    return [Role.admin.value, Role.staff.value]


@functools.cache
def _member_columns() -> tuple[tuple[Any, ...], Any]:
    """The columns and the name to sort by, built once per process (each step through
    ``Membership.user`` copies every column of the user table)."""
    user = Membership.user
    return (Membership.id, Membership.role, user.id.as_alias("user_id"), user.name.as_alias("name"),
            user.email.as_alias("email")), user.name


def _members_query(tenant_id: int | None = None) -> Any:
    columns, by_name = _member_columns()
    query = Membership.select(*columns)
    if tenant_id is not None:
        query = query.where(Membership.tenant == tenant_id)
    return query.order_by(Membership.role).order_by(by_name)


_SCOPE_MEMBERS = prepared(lambda: _members_query())  # composed once (app/core/prepared.py)


async def tenant_members(tenant_id: int | None = None) -> list[dict[str, Any]]:
    """Members of the active tenant scope (``tenant_id`` narrows an unscoped read)."""
    if tenant_id is None:
        return await _SCOPE_MEMBERS.run()
    return await _members_query(tenant_id)


async def add_member(tenant: dict[str, Any], email: str, name: str, role: str, password: str) -> tuple[int, bool]:
    """Add a person by email; a new account needs a name and an initial password.
    Returns (user id, whether the account was created)."""
    if role not in roles_for(tenant["kind"]):
        raise MemberError("role", _("Choose one of the options."))
    email = accounts.normalize_email(email)
    user = await User.select(User.id).where(User.email == email).first()
    if user:
        if await Membership.exists().where(Membership.user == user["id"]):
            raise MemberError("email", _("This person is already a member."))
        user_id, created = user["id"], False
    else:
        if not name:
            raise MemberError("name", _("There is no account with this email yet: enter the person's name."))
        if not password:
            raise MemberError("password", _("There is no account with this email yet: set an initial password."))
        try:
            user_id = await accounts.create_user(email, password, name)
        except accounts.AccountError as exc:
            raise MemberError(exc.field, exc.message) from None
        created = True
    await Membership(user=user_id, tenant=tenant["id"], role=role).save()
    return user_id, created


async def _admin_count() -> int:
    return await Membership.count().where(Membership.role == Role.admin.value)


async def _lock_members(tenant_id: int) -> None:
    """Role changes and removals of one organisation take turns (see app.db.lock_for_update):
    two admins demoting each other at once must not leave it with none."""
    from app.db import lock_for_update
    from tenants.tables import Tenant

    await lock_for_update(Tenant, tenant_id)


async def change_role(tenant: dict[str, Any], membership_id: Any, role: str) -> dict[str, Any]:
    await _lock_members(tenant["id"])
    member = await get_in_scope(Membership, membership_id)
    if role not in roles_for(tenant["kind"]):
        raise MemberError("role", _("Choose one of the options."))
    if member.role == Role.admin.value and role != Role.admin.value and await _admin_count() <= 1:
        raise MemberError("role", _("An organisation needs at least one admin."))
    before = member.role
    member.role = role
    await member.save()
    return {"user_id": member.user, "from": before, "to": role}


async def member_summary(membership_id: Any) -> dict[str, Any]:
    """The member (id, user, role, name, email) of the active tenant; 404 when not one."""
    member = await get_in_scope(Membership, membership_id)
    user = await User.select(User.name, User.email).where(User.id == member.user).first()
    return {"id": member.id, "user_id": member.user, "role": member.role, **user}


async def remove_member(membership_id: Any, removed_by: int | None = None) -> dict[str, Any]:
    """Remove a member; restorable for a while (``restore_member``). Returns who it was,
    with ``removed_id`` to restore with."""
    from app.undo import service as undo

    member = await get_in_scope(Membership, membership_id)
    await _lock_members(member.tenant)
    member = await get_in_scope(Membership, membership_id)  # as it is now that we hold the lock
    if member.role == Role.admin.value and await _admin_count() <= 1:
        raise MemberError("member", _("An organisation needs at least one admin."))
    who = await member_summary(member.id)
    removed_id = await undo.remove(member, label=f"{who['name']} · {who['email']}", user_id=removed_by)
    return {"user_id": member.user, "role": member.role, "name": who["name"], "email": who["email"],
            "removed_id": removed_id}


async def restore_member(removed_id: Any) -> dict[str, Any]:
    """Undo a removal: the person gets their role back, unless they were added again meanwhile."""
    from app.undo import service as undo

    data = await undo.removed_data(Membership, removed_id)
    user = await User.select(User.name, User.email).where(User.id == data.get("user")).first()
    if user is None:
        raise undo.UndoError(_("The account no longer exists."))
    if await Membership.exists().where(Membership.user == data["user"]):
        raise undo.UndoError(_("%(name)s is a member again already.", name=user["name"]))
    await undo.restore(Membership, removed_id)
    return {"user_id": data["user"], "role": data["role"], "name": user["name"], "email": user["email"]}


async def organisations_of(user_id: int) -> list[dict[str, Any]]:
    """Every organisation a person belongs to, active or not (slug, name, kind, active, role)."""
    from tenants.scope import unscoped

    with unscoped("a person's own memberships span tenants"):
        rows = await Membership.select(
            Membership.role, Membership.tenant.slug.as_alias("slug"), Membership.tenant.name.as_alias("name"),
            Membership.tenant.kind.as_alias("kind"), Membership.tenant.active.as_alias("active"),
        ).where(Membership.user == user_id).order_by(Membership.id)
    return rows


async def city_center_contact() -> dict[str, Any] | None:
    """Whom to ask about an organisation's status: the city center, with a number to call."""
    from tenants.scope import tenant_scope
    from tenants.tables import Tenant

    city = await Tenant.select(Tenant.id, Tenant.slug, Tenant.name, Tenant.reception_phone).where(
        (Tenant.kind == TenantKind.city_center.value) & (Tenant.active == True)  # noqa: E712
    ).first()
    if city is None:
        return None
    from app.outreach.tables import Hotline

    with tenant_scope(city["id"]):
        line = await Hotline.select(Hotline.number).order_by(Hotline.position).first()
    city["phone"] = line["number"] if line else city["reception_phone"]
    return city
