"""Adding a person to an organisation is an invitation they accept.

An admin (or the city, for an organisation's administrators) enters an email and a role.
Whether or not an account with that email exists, the same thing happens and the admin reads
the same sentence: an invitation is written and a link is sent to that email through the
outbox. Opening the link, a person without an account sets their name and password there; a
person with an account signs in as that email and accepts. Nobody becomes a member, let alone
an admin, without having the mailbox and saying yes.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from app.accounts import service as accounts
from app.accounts.tables import User
from app.db import get_engine
from app.core.prepared import prepared
from app.i18n import gettext as _
from app.invitations.tables import Invitation
from app.notifications import service as outbox
from tenants.members import MemberError, roles_for
from tenants.scope import tenant_scope, unscoped
from tenants.tables import Membership, Tenant

VALID_FOR = timedelta(days=7)
TEMPLATE = "member_invited"

outbox.register(TEMPLATE)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


async def invite(tenant: dict[str, Any], email: str, role: str, inviter: Any) -> int:
    """Invite ``email`` to ``role`` in ``tenant`` (inside its scope and a transaction);
    a newer invitation for the same email replaces a pending one. Returns the invitation id."""
    if role not in roles_for(tenant["kind"]):
        raise MemberError("role", _("Choose one of the options."))
    email = accounts.normalize_email(email)
    user = await User.select(User.id).where(User.email == email).first()
    if user and await Membership.exists().where(Membership.user == user["id"]):
        raise MemberError("email", _("This person is already a member."))
    await Invitation.delete().where((Invitation.email == email) & (Invitation.accepted_at.is_null()))
    token = secrets.token_urlsafe(32)
    row = Invitation(tenant=tenant["id"], email=email, role=role, token_hash=_hash(token),
                     invited_by=inviter.id if inviter else None, expires_at=_now() + VALID_FOR)
    await row.save()
    await outbox.notify(
        tenant["id"], TEMPLATE, f"invitation:{row.id}", email=email,
        payload={"path": f"/invitations/{token}", "inviter": inviter.name if inviter else "",
                 "days": VALID_FOR.days},
    )
    return row.id


_PENDING = prepared(lambda now: Invitation.select(
    Invitation.id, Invitation.email, Invitation.role, Invitation.expires_at,
).where(Invitation.accepted_at.is_null() & (Invitation.expires_at > now)).order_by(Invitation.created_at))


async def pending(tenant_id: int) -> list[dict[str, Any]]:
    with tenant_scope(tenant_id):
        return await _PENDING.run(now=_now())


async def find(token: str, lock: bool = False) -> dict[str, Any] | None:
    """The pending, unexpired invitation of this link, with its organisation; else None."""
    if not token or len(token) > 100:
        return None
    with unscoped("an invitation is opened by its secret link, before any tenant is known"):
        query = Invitation.select(
            Invitation.id, Invitation.email, Invitation.role, Invitation.expires_at, Invitation.accepted_at,
            Invitation.tenant.id.as_alias("tenant_id"), Invitation.tenant.slug.as_alias("slug"),
            Invitation.tenant.name.as_alias("tenant_name"), Invitation.tenant.active.as_alias("active"),
        ).where(Invitation.token_hash == _hash(token))
        row = await query.first()
        if row and lock and get_engine().engine_type == "postgres":
            await Invitation.objects().where(Invitation.id == row["id"]).lock_rows().first()
    if row is None or row["accepted_at"] is not None or _aware(row["expires_at"]) <= _now() or not row["active"]:
        return None
    return row


async def account_exists(email: str) -> bool:
    return await User.exists().where(User.email == email)


async def accept(invitation: dict[str, Any], user_id: int) -> None:
    """Make the person a member (inside a transaction, after ``find(token, lock=True)``)."""
    with tenant_scope(invitation["tenant_id"]):
        existing = await Membership.objects().where(Membership.user == user_id).first()
        if existing is None:
            await Membership(user=user_id, tenant=invitation["tenant_id"], role=invitation["role"]).save()
        await Invitation.update({Invitation.accepted_at: _now()}).where(Invitation.id == invitation["id"])


async def create_account_and_accept(invitation: dict[str, Any], name: str, password: str) -> int:
    try:
        user_id = await accounts.create_user(invitation["email"], password, name)
    except accounts.AccountError as exc:
        raise MemberError(exc.field, exc.message) from None
    await accept(invitation, user_id)
    return user_id


async def tenant_row(tenant_id: int) -> dict[str, Any]:
    return await Tenant.select(Tenant.id, Tenant.slug, Tenant.name, Tenant.kind).where(Tenant.id == tenant_id).first()
