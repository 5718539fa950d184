"""Accounts: password hashing (Argon2), sign-in with rate limits, password changes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.accounts.tables import User
from app.core import ratelimit
from app.i18n import gettext as _
from app.settings import get_settings
from tenants.scope import tenant_scope
from tenants.tables import Membership, Role, Tenant

# Tests hash dozens of passwords per test; they use a cheap profile. Everything
# else gets argon2-cffi's defaults (RFC 9106 low-memory profile).
_hasher = (
    PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    if get_settings().env == "test"
    else PasswordHasher()
)
# Verified against when the email is unknown, so timing does not reveal accounts.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10


class AccountError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def password_problem(password: str) -> str | None:
    """Why a password is too weak, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("Use at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
    classes = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9]"))
    if classes < 2 or len(set(password)) < 5:
        return _("Mix letters with digits or symbols; avoid repeated characters.")
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def create_user(email: str, password: str, name: str, phone: str = "") -> int:
    email = normalize_email(email)
    problem = password_problem(password)
    if problem:
        raise AccountError("password", problem)
    if await User.exists().where(User.email == email):
        raise AccountError("email", _("An account with this email already exists."))
    user = User(email=email, name=name or email.split("@")[0], phone=phone, password_hash=hash_password(password))
    await user.save()
    return user.id


async def add_membership(user_id: int, tenant_id: int, role: str) -> None:
    """Give a person a role in a tenant (replacing any role they had there)."""
    if role not in {r.value for r in Role}:
        raise AccountError("role", _("Unknown role."))
    with tenant_scope(tenant_id):
        existing = await Membership.objects().where(Membership.user == user_id).first()
        if existing:
            existing.role = role
            await existing.save()
        else:
            await Membership(user=user_id, tenant=tenant_id, role=role).save()


async def tenant_by_slug(slug: str) -> dict | None:
    return await Tenant.select(Tenant.id, Tenant.slug, Tenant.kind).where(Tenant.slug == slug).first()


@dataclass(frozen=True)
class SignIn:
    user_id: int | None
    error: str | None = None
    retry_after: int = 0


def _minutes(seconds: int) -> int:
    return max(1, (seconds + 59) // 60)


async def authenticate(email: str, password: str, ip: str) -> SignIn:
    """Check credentials. Failed attempts are limited per account and per address
    for a window (LOGIN_WINDOW_SECONDS); the limit lifts by itself, so the real
    owner is never locked out for good, and a success clears the account's count."""
    settings = get_settings()
    email = normalize_email(email)
    account_key, ip_key = f"login:acct:{email}", f"login:ip:{ip}"
    for key, limit in ((account_key, settings.login_attempts), (ip_key, settings.login_attempts * 4)):
        state = await ratelimit.check(key, limit)
        if not state.allowed:
            return SignIn(
                None,
                _("Too many failed sign-in attempts. Try again in %(m)s minutes.", m=_minutes(state.retry_after)),
                state.retry_after,
            )
    user = await User.select(User.id, User.password_hash, User.is_active).where(User.email == email).first()
    ok = False
    try:
        ok = _hasher.verify(user["password_hash"] if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or not user or not user["is_active"]:
        await ratelimit.hit(account_key, settings.login_window_seconds)
        await ratelimit.hit(ip_key, settings.login_window_seconds)
        return SignIn(None, _("Wrong email or password."))
    await ratelimit.reset(account_key)
    if _hasher.check_needs_rehash(user["password_hash"]):
        await User.update({User.password_hash: hash_password(password)}).where(User.id == user["id"])
    await User.update({User.last_login_at: datetime.now(timezone.utc)}).where(User.id == user["id"])
    return SignIn(user["id"])


async def change_password(user_id: int, current: str, new: str) -> None:
    user = await User.select(User.password_hash).where(User.id == user_id).first()
    try:
        _hasher.verify(user["password_hash"], current)
    except (VerificationError, InvalidHashError, TypeError):
        raise AccountError("current_password", _("Your current password is not correct.")) from None
    problem = password_problem(new)
    if problem:
        raise AccountError("new_password", problem)
    await User.update(
        {User.password_hash: hash_password(new), User.password_changed_at: datetime.now(timezone.utc)}
    ).where(User.id == user_id)
