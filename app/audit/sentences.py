"""How staff read the audit log: each stored action rendered as a sentence with names.

The rows stay data (action code, target text, detail JSON); the page turns them into
sentences through this registry. A domain registers its actions next to the code that
records them:

    from app.audit.sentences import describe
    describe("hotline.deleted", _l("%(who)s removed the hotline “%(target)s” (%(number)s)."),
             lambda detail, names: {"number": phones.display(detail.get("number", ""))})

A sentence is a lazy_gettext string (translated when the page renders) with ``%(who)s``
(the person who acted), ``%(target)s`` (the stored target text) and whatever the optional
``values(detail, names)`` function returns. ``names.user(id)`` and ``names.tenant(id)``
give people's and organisations' names for ids kept in the detail, looked up once per
page. An action nobody registered still reads as a sentence (never its code); the
test ``tests/core/test_audit_sentences.py`` fails while any recorded action is missing here.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l

log = logging.getLogger(__name__)


@dataclass
class Names:
    """People's and organisations' names by id, for the ids the details mention."""

    users: dict[int, str] = field(default_factory=dict)
    tenants: dict[int, str] = field(default_factory=dict)

    def user(self, user_id: Any, fallback: str = "") -> str:
        return self.users.get(user_id) or fallback or _("a former member")

    def tenant(self, tenant_id: Any, fallback: str = "") -> str:
        return self.tenants.get(tenant_id) or fallback or _("an organisation")


Values = Callable[[dict[str, Any], Names], dict[str, Any]]


@dataclass(frozen=True)
class Sentence:
    template: Any  # lazy_gettext string
    values: Values | None = None


_REGISTRY: dict[str, Sentence] = {}


def describe(action: str, template: Any, values: Values | None = None) -> None:
    """Register (or replace) the sentence of an audit action."""
    _REGISTRY[action] = Sentence(template, values)


def is_described(action: str) -> bool:
    return action in _REGISTRY


def _detail(entry: dict[str, Any]) -> dict[str, Any]:
    detail = entry.get("detail") or {}
    if isinstance(detail, str):
        try:
            detail = json.loads(detail)
        except ValueError:
            return {}
    return detail if isinstance(detail, dict) else {}


def _ids(details: list[dict[str, Any]], suffix: str) -> set[int]:
    return {v for d in details for k, v in d.items() if k.endswith(suffix) and isinstance(v, int)}


async def _names(details: list[dict[str, Any]]) -> Names:
    from app.accounts.tables import User
    from tenants.tables import Tenant

    names = Names()
    user_ids, tenant_ids = _ids(details, "user_id"), _ids(details, "tenant_id")
    if user_ids:
        names.users = {r["id"]: r["name"] for r in await User.select(User.id, User.name).where(User.id.is_in(list(user_ids)))}
    if tenant_ids:
        names.tenants = {r["id"]: r["name"] for r in
                         await Tenant.select(Tenant.id, Tenant.name).where(Tenant.id.is_in(list(tenant_ids)))}
    return names


def sentence(entry: dict[str, Any], names: Names) -> str:
    detail = _detail(entry)
    who = entry.get("user_name") or _("Someone")
    values: dict[str, Any] = {"who": who, "target": entry.get("target") or ""}
    registered = _REGISTRY.get(entry["action"])
    if registered is None:
        log.warning("audit action %r has no sentence", entry["action"])
        return _("%(who)s made a change (%(target)s).", **values) if values["target"] else \
            _("%(who)s made a change.", who=who)
    try:
        if registered.values:
            values.update(registered.values(detail, names))
        return str(registered.template) % values
    except (KeyError, TypeError, ValueError):
        log.exception("audit sentence of %r failed", entry["action"])
        return _("%(who)s made a change.", who=who)


async def with_sentences(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries, each with ``sentence``; names are looked up once for all of them."""
    names = await _names([_detail(e) for e in entries])
    return [{**e, "sentence": sentence(e, names)} for e in entries]


# --- the actions of accounts, organisations and members -------------------------------


def _role(code: Any) -> str:
    from tenants.tables import ROLE_LABELS

    return str(ROLE_LABELS.get(code, _("member")))


def _fields(changes: Any) -> str:
    from app.directory.service import field_label

    keys = list(changes) if isinstance(changes, dict) else []
    return _(", ").join(field_label(k) for k in keys) or _("nothing")


describe("account.login", _l("%(who)s signed in."))
describe("account.password_changed", _l("%(who)s changed their password."))
describe("account.signed_out_everywhere", _l("%(who)s signed out on every device."))
describe("tenant.profile_updated", _l("%(who)s changed the public profile: %(fields)s."),
         lambda d, n: {"fields": _fields(d.get("changes"))})
describe("tenant.created", _l("%(who)s added the organisation “%(name)s”."),
         lambda d, n: {"name": d.get("name") or n.tenant(d.get("tenant_id"))})
describe("tenant.updated", _l("%(who)s changed %(org)s: %(fields)s."),
         lambda d, n: {"org": n.tenant(d.get("tenant_id")), "fields": _fields(d.get("changes"))})
describe("tenant.admin_added", _l("%(who)s made %(member)s an administrator of %(org)s."),
         lambda d, n: {"member": n.user(d.get("user_id")), "org": n.tenant(d.get("tenant_id"))})
describe("member.added", _l("%(who)s added %(member)s as %(role)s."),
         lambda d, n: {"member": n.user(d.get("user_id")), "role": _role(d.get("role"))})
describe("member.invited", _l("%(who)s invited %(target)s to join as %(role)s."),
         lambda d, n: {"role": _role(d.get("role"))})
describe("member.invitation_accepted", _l("%(who)s accepted the invitation and joined as %(role)s."),
         lambda d, n: {"role": _role(d.get("role"))})
describe("tenant.admin_invited", _l("%(who)s invited %(target)s to administer %(org)s."),
         lambda d, n: {"org": n.tenant(d.get("tenant_id"))})
describe("member.role_changed", _l("%(who)s changed the role of %(member)s from %(from)s to %(to)s."),
         lambda d, n: {"member": n.user(d.get("user_id")), "from": _role(d.get("from")), "to": _role(d.get("to"))})
describe("member.removed", _l("%(who)s removed %(member)s (%(role)s) from the organisation."),
         lambda d, n: {"member": n.user(d.get("user_id")), "role": _role(d.get("role"))})
describe("member.restored", _l("%(who)s restored %(member)s (%(role)s) as a member."),
         lambda d, n: {"member": n.user(d.get("user_id")), "role": _role(d.get("role"))})
