from __future__ import annotations

from piccolo.columns import Boolean, Timestamptz, Varchar
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
