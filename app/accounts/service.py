"""Accounts: password hashing (Argon2), sign-in with rate limits, password changes."""

from __future__ import annotations

import asyncio
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.accounts.tables import User
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

# Argon2 takes tens of milliseconds of CPU (and its memory) per hash: never on the event loop.
# A small pool bounds how many run at once; a burst of sign-ins queues here while pages keep
# being served. argon2-cffi releases the GIL while it hashes.
HASH_THREADS = max(1, min(4, os.cpu_count() or 1))
_pool = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="argon2")


async def _off_loop(fn, *args):
    return await asyncio.get_running_loop().run_in_executor(_pool, fn, *args)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError, TypeError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches (always does the work, also without a hash)."""
    ok = await _off_loop(_verify, password_hash or _DUMMY_HASH, password)
    return ok and password_hash is not None


async def hash_password_async(password: str) -> str:
    return await _off_loop(_hasher.hash, password)


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
    user = User(email=email, name=name or email.split("@")[0], phone=phone, password_hash=await hash_password_async(password))
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
    """Check credentials under the sign-in limits of app/accounts/throttle.py: the attempt is
    counted before the password is checked; limits are per account and address (growing
    waits) and per address, so nobody can lock an account out from elsewhere."""
    from app.accounts import throttle

    email = normalize_email(email)
    decision = await throttle.reserve(email, ip)
    if not decision.allowed:
        return SignIn(
            None,
            _("Too many failed sign-in attempts. Try again in %(m)s minutes.", m=_minutes(decision.retry_after)),
            decision.retry_after,
        )
    user = await User.select(User.id, User.password_hash, User.is_active).where(User.email == email).first()
    ok = await verify_password(user["password_hash"] if user else None, password)
    if not ok or not user or not user["is_active"]:
        await throttle.failed(email, ip)
        return SignIn(None, _("Wrong email or password."))
    await throttle.succeeded(email, ip)
    if _hasher.check_needs_rehash(user["password_hash"]):
        await User.update({User.password_hash: await hash_password_async(password)}).where(User.id == user["id"])
    await User.update({User.last_login_at: datetime.now(timezone.utc)}).where(User.id == user["id"])
    return SignIn(user["id"])


async def change_password(user_id: int, current: str, new: str) -> None:
    user = await User.select(User.password_hash).where(User.id == user_id).first()
    if not await verify_password(user["password_hash"] if user else None, current):
        raise AccountError("current_password", _("Your current password is not correct.")) from None
    problem = password_problem(new)
    if problem:
        raise AccountError("new_password", problem)
    await User.update(
        {User.password_hash: await hash_password_async(new), User.password_changed_at: datetime.now(timezone.utc)}
    ).where(User.id == user_id)
