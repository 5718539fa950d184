"""The directory of mediation organisations: public listing, the tree, edits by the city."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from piccolo.query.functions.aggregate import Count

from app.core import pagecache
from app.core.forms import Form
from app.core.jobs import after_commit
from app.core.prepared import prepared
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from tenants.tables import Tenant
from tenants.tree import ALLOWED_PARENTS, KIND_LABELS, KIND_ORDER, OutsideParentDistrict, child_district, kind_rank
from tenants.tree import load_tree

TENANT_FIELDS = [
    "slug",
    "name",
    "kind",
    "parent",
    "district",
    "address",
    "office_hours",
    "description",
    "reception_window",
    "reception_contact",
    "reception_phone",
    "active",
]

# One limit per field, wherever it is edited (the city's form and the organisation's own settings).
FIELD_LIMITS = {
    "name": 200,
    "district": 100,
    "address": 300,
    "office_hours": 200,
    "description": 5000,
    "reception_window": 300,
    "reception_contact": 100,
}

PUBLIC_COLUMNS = (
    Tenant.id,
    Tenant.slug,
    Tenant.name,
    Tenant.kind,
    Tenant.district,
    Tenant.address,
    Tenant.office_hours,
)


def _like_pattern(text: str) -> str:
    # LIKE wildcards typed by a visitor are dropped: SQLite has no default ESCAPE.
    return "%" + text.replace("%", "").replace("_", "").replace("\\", "") + "%"


async def find_organisations(q: str = "", district: str = "", kind: str = "",
                             city_level: bool = False) -> list[dict[str, Any]]:
    query = Tenant.select(*PUBLIC_COLUMNS).where(Tenant.active == True)  # noqa: E712
    if district or city_level:
        query = query.where(Tenant.district == district)
    if kind in KIND_ORDER:
        query = query.where(Tenant.kind == kind)
    if q:
        pattern = _like_pattern(q)
        query = query.where(
            Tenant.name.ilike(pattern) | Tenant.address.ilike(pattern) | Tenant.district.ilike(pattern)
        )
    return await query.order_by(Tenant.district).order_by(Tenant.name)


def group_by_district(rows: list[dict[str, Any]]) -> "OrderedDict[str, list[dict[str, Any]]]":
    """City-level organisations first, then districts in order, kinds in tree order inside."""
    groups: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
    for row in sorted(rows, key=lambda r: (r["district"] != "", r["district"], kind_rank(r["kind"]), r["name"])):
        groups.setdefault(row["district"], []).append(row)
    return groups


_ACTIVE_BY_DISTRICT = prepared(lambda: Tenant.select(Tenant.district, Count(Tenant.id, alias="n")).where(
    Tenant.active == True  # noqa: E712
).group_by(Tenant.district))


async def active_by_district() -> list[tuple[str, int]]:
    """(district, number of active organisations) in the portal's order, city level first:
    what the portal's first screen shows, counted by the database instead of listing all."""
    rows = await _ACTIVE_BY_DISTRICT.run()
    return sorted(((r["district"], r["n"]) for r in rows), key=lambda pair: (pair[0] != "", pair[0]))


def district_counts(rows: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """(district, number of organisations) in the portal's order: city level first."""
    return [(district, len(orgs)) for district, orgs in group_by_district(rows).items()]


async def parent_choices(kind: str | None = None) -> list[dict[str, Any]]:
    kinds = ALLOWED_PARENTS.get(kind, ()) if kind else ("city_center", "district_center")
    if not kinds:
        return []
    return await Tenant.select(Tenant.id, Tenant.name, Tenant.kind).where(Tenant.kind.is_in(list(kinds))).order_by(
        Tenant.kind
    ).order_by(Tenant.name)


def tenant_form(data: Any | None = None, initial: dict[str, Any] | None = None) -> Form:
    if data is not None:
        form = Form.from_data(data, TENANT_FIELDS)
        form.values["active"] = "1" if data.get("active") else ""
        return form
    initial = initial or {}
    values = {name: "" if initial.get(name) is None else str(initial.get(name, "")) for name in TENANT_FIELDS}
    values["active"] = "1" if initial.get("active", True) else ""
    return Form(values=values)


async def validate_tenant_form(form: Form, editing: dict[str, Any] | None = None) -> None:
    form.required("slug", "name", "kind")
    form.slug("slug")
    form.choice("kind", KIND_ORDER)
    for name, limit in FIELD_LIMITS.items():
        form.max_length(name, limit)
    form.phone("reception_phone")
    slug = form["slug"]
    if slug and "slug" not in form.errors:
        clash = await Tenant.select(Tenant.id).where(Tenant.slug == slug).first()
        if clash and (editing is None or clash["id"] != editing["id"]):
            form.error("slug", _("This address is taken by another organisation."))
    kind = form["kind"]
    if kind in KIND_ORDER:
        allowed = ALLOWED_PARENTS[kind]
        if not allowed:
            if form["parent"]:
                form.error("parent", _("The city center is the root and has no parent."))
            elif await Tenant.exists().where(
                (Tenant.kind == "city_center") & (Tenant.id != (editing or {}).get("id", 0))
            ):
                form.error("kind", _("There is already a city center."))
        elif not form["parent"]:
            form.error("parent", _("Choose the organisation this one belongs to."))
        else:
            parent = None
            from app.core.ids import parse_id

            if parse_id(form["parent"]) is not None:
                parent = await Tenant.select(Tenant.id, Tenant.kind, Tenant.district).where(
                    Tenant.id == parse_id(form["parent"])
                ).first()
            if parent is None or parent["kind"] not in allowed:
                form.error(
                    "parent",
                    _("A %(kind)s must belong to: %(allowed)s.", kind=str(KIND_LABELS[kind]),
                      allowed="、".join(str(KIND_LABELS[k]) for k in allowed)),
                )
            elif editing and parent["id"] == editing["id"]:
                form.error("parent", _("An organisation cannot belong to itself."))
            else:
                _district_under_parent(form, parent)
    if editing and editing.get("kind") == "city_center":
        # The city center's accounts are the only way into /city/: it cannot switch itself off.
        if not form["active"]:
            form.error("active", _("The city center cannot be deactivated: its accounts would lose the city console, "
                                   "with no one left to turn it back on."))
        if kind and kind != "city_center":
            form.error("kind", _("The city center cannot become another kind of organisation."))
    if kind == "district_center" and not form["district"] and "district" not in form.errors:
        form.error("district", _("A district center needs the name of its district, town or street."))


def _district_under_parent(form: Form, parent: dict[str, Any]) -> None:
    """Left blank, the district is the parent's; another district than the parent's is refused."""
    try:
        form.values["district"] = child_district(parent["district"], form["district"])
    except OutsideParentDistrict as exc:
        form.error(
            "district",
            _("The organisation it belongs to is in %(district)s, so this one must be too. "
              "Leave the field empty to use %(district)s.", district=exc.parent_district),
        )


def _row_values(form: Form) -> dict[str, Any]:
    values: dict[str, Any] = {name: form[name] for name in TENANT_FIELDS if name not in ("parent", "active")}
    values["parent"] = int(form["parent"]) if form["parent"] else None
    values["active"] = bool(form["active"])
    return values


async def create_tenant(form: Form) -> int:
    tenant = Tenant(**_row_values(form))
    await tenant.save()
    await after_commit(pagecache.Changed((tenant.id, tenant.parent)))
    return tenant.id


async def update_tenant(tenant_id: int, form: Form) -> dict[str, Any]:
    """Apply the form; returns the changed fields as {name: [old, new]}.

    A new district carries the organisations below along (those that were in the
    old one), so no child is left outside its parent's district."""
    before = await Tenant.select().where(Tenant.id == tenant_id).first()
    values = _row_values(form)
    changes = {k: [before[k], v] for k, v in values.items() if before.get(k) != v}
    if changes:
        await Tenant.update({getattr(Tenant, k): v for k, v in values.items()}).where(Tenant.id == tenant_id)
        below: set[int] = set()
        if "district" in changes and before["district"]:
            below = (await load_tree()).subtree(tenant_id) - {tenant_id}
            if below:
                await Tenant.update({Tenant.district: values["district"]}).where(
                    Tenant.id.is_in(list(below)) & (Tenant.district == before["district"])
                )
        # Its pages and its children's, and the parents' (which name a closed child).
        await after_commit(pagecache.Changed((tenant_id, before["parent"], values["parent"], *sorted(below))))
    return changes


FIELD_LABELS = {
    "slug": _l("Web address"),
    "name": _l("Name"),
    "kind": _l("Kind"),
    "parent": _l("Belongs to"),
    "district": _l("District / town / street"),
    "address": _l("Address"),
    "office_hours": _l("Office hours"),
    "description": _l("Description"),
    "reception_window": _l("Reception window"),
    "reception_contact": _l("Person staffing the reception window"),
    "reception_phone": _l("Reception phone"),
    "active": _l("Active or deactivated"),
}


def field_label(name: str) -> str:
    """An organisation's field as staff know it from its form (for the audit log)."""
    return str(FIELD_LABELS.get(name, name))


PROFILE_FIELDS = ["address", "office_hours", "description", "reception_window", "reception_contact", "reception_phone"]


async def update_profile(tenant_id: int, form: Form) -> dict[str, Any]:
    before = await Tenant.select().where(Tenant.id == tenant_id).first()
    values = {k: form[k] for k in PROFILE_FIELDS}
    changes = {k: [before[k], v] for k, v in values.items() if before.get(k) != v}
    if changes:
        await Tenant.update({getattr(Tenant, k): v for k, v in values.items()}).where(Tenant.id == tenant_id)
        await after_commit(pagecache.Changed((tenant_id,)))
    return changes


def validate_profile_form(form: Form) -> None:
    for name in PROFILE_FIELDS:
        if name in FIELD_LIMITS:
            form.max_length(name, FIELD_LIMITS[name])
    form.phone("reception_phone")


_PUBLIC_TENANT = prepared(lambda tenant_id: Tenant.select(
    Tenant.id, Tenant.slug, Tenant.name, Tenant.kind, Tenant.reception_phone,
).where((Tenant.id == tenant_id) & (Tenant.active == True)).first())  # noqa: E712


async def public_tenant_by_id(tenant_id: int) -> dict[str, Any] | None:
    return await _PUBLIC_TENANT.run(tenant_id=tenant_id)


async def tenant_for_edit(slug: str) -> dict[str, Any] | None:
    return await Tenant.select().where(Tenant.slug == slug).first()
