from __future__ import annotations

from piccolo.columns import Boolean, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class User(Table, tablename="account_user"):
    email = Varchar(length=254, unique=True, index=True)
    name = Varchar(length=100)
    phone = Varchar(length=40, default="")
    password_hash = Varchar(length=255, secret=True)
    locale = Varchar(length=16, default="")
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_login_at = Timestamptz(null=True, default=None)
    password_changed_at = Timestamptz(null=True, default=None)


class Session(Table, tablename="account_session"):
    """A signed-in (or flash-carrying) browser session. The cookie holds a random id; only its
    SHA-256 is stored, so a copy of the database does not hand out sessions."""

    key_hash = Varchar(length=64, unique=True)
    user = ForeignKey(User, null=True, index=True, on_delete=OnDelete.cascade)
    data = Text(default="{}")
    expires_at = Timestamptz(index=True)


class LoginThrottle(Table, tablename="account_login_throttle"):
    """Sign-in attempts of one account from one address (``pair``) or of one address
    (``address``), see app/accounts/throttle.py. ``key_hash`` is the SHA-256 of the key, so the
    table holds neither emails nor addresses."""

    key_hash = Varchar(length=64, unique=True)
    attempts = Integer(default=0)
    window_start = Timestamptz(default=TimestamptzNow())
    strikes = Integer(default=0)
    blocked_until = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow(), index=True)
