"""The tree of mediation organisations: its facts live here and every feature asks here.

Kinds and their order, which kinds may sit under which, districts, and the questions
features ask of the tree (the chain of parents an item escalates along, the subtree a
district center guides, whether one organisation lies under another).

The tree is small (tens to a few hundred organisations) and changes rarely, so the
questions are answered from one read of (id, parent) pairs; callers that ask many
questions in one request load it once with ``load_tree()`` and ask the ``Tree``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from app.core.prepared import prepared
from tenants.tables import ALLOWED_PARENTS, KIND_LABELS, Tenant, TenantKind

__all__ = [
    "ALLOWED_PARENTS",
    "KIND_LABELS",
    "KIND_ORDER",
    "Tree",
    "OutsideParentDistrict",
    "ancestor_ids",
    "child_district",
    "city_center_id",
    "district_centers",
    "district_of",
    "districts",
    "is_in_subtree",
    "kind_rank",
    "load_tree",
    "parent_id",
    "subtree_ids",
    "tenant_tree",
]

# Kinds from the root down (DESIGN §1); lists of organisations sort by it.
KIND_ORDER: list[str] = [k.value for k in TenantKind]


def kind_rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


@dataclass(frozen=True)
class Tree:
    """(id → parent id) of every organisation, active or not."""

    parents: dict[int, int | None]

    def children_of(self, tenant_id: int) -> list[int]:
        return [t for t, p in self.parents.items() if p == tenant_id]

    def ancestors(self, tenant_id: int) -> list[int]:
        """Parent, grandparent, … up to the root (the escalation chain)."""
        chain: list[int] = []
        seen = {tenant_id}
        current = self.parents.get(tenant_id)
        while current is not None and current not in seen:
            chain.append(current)
            seen.add(current)
            current = self.parents.get(current)
        return chain

    def subtree(self, tenant_id: int) -> set[int]:
        """The organisation itself and everything below it."""
        children: dict[int | None, list[int]] = {}
        for t, p in self.parents.items():
            children.setdefault(p, []).append(t)
        found = {tenant_id}
        stack = [tenant_id]
        while stack:
            for child in children.get(stack.pop(), []):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return found

    def contains(self, ancestor_id: int, tenant_id: int) -> bool:
        """True when ``tenant_id`` is ``ancestor_id`` or lies below it."""
        return tenant_id == ancestor_id or ancestor_id in self.ancestors(tenant_id)


class OutsideParentDistrict(ValueError):
    """A child organisation named another district than the one its parent lies in."""

    def __init__(self, parent_district: str) -> None:
        super().__init__(parent_district)
        self.parent_district = parent_district


def child_district(parent_district: str, district: str) -> str:
    """The district of an organisation placed under a parent in ``parent_district``.

    A child lies inside its parent's district: left blank it inherits it, and any
    other district is refused (``OutsideParentDistrict``). Under a city-level parent
    (district "") the child names its own district, or none for a city-level body."""
    district = (district or "").strip()
    if not parent_district:
        return district
    if not district:
        return parent_district
    if district != parent_district:
        raise OutsideParentDistrict(parent_district)
    return district


async def district_of(tenant_id: int) -> str | None:
    """The district of one organisation ("" at city level), None when there is no such row."""
    row = await Tenant.select(Tenant.district).where(Tenant.id == tenant_id).first()
    return row["district"] if row else None


async def load_tree() -> Tree:
    rows = await Tenant.select(Tenant.id, Tenant.parent)
    return Tree({r["id"]: r["parent"] for r in rows})


async def parent_id(tenant_id: int) -> int | None:
    row = await Tenant.select(Tenant.parent).where(Tenant.id == tenant_id).first()
    return row["parent"] if row else None


async def ancestor_ids(tenant_id: int) -> list[int]:
    return (await load_tree()).ancestors(tenant_id)


async def subtree_ids(tenant_id: int) -> set[int]:
    return (await load_tree()).subtree(tenant_id)


async def is_in_subtree(ancestor_id: int, tenant_id: int) -> bool:
    return (await load_tree()).contains(ancestor_id, tenant_id)


_CITY_CENTER = prepared(lambda: Tenant.select(Tenant.id).where(
    Tenant.kind == TenantKind.city_center.value).order_by(Tenant.id).first())
_DISTRICT_CENTERS = prepared(lambda: Tenant.select(
    Tenant.id, Tenant.slug, Tenant.name, Tenant.district, Tenant.active,
    Tenant.reception_window, Tenant.reception_contact,
).where(Tenant.kind == TenantKind.district_center.value).order_by(Tenant.district))


async def city_center_id() -> int | None:
    """The root of the tree: the city center (one per city)."""
    row = await _CITY_CENTER.run()
    return row["id"] if row else None


async def district_centers() -> list[dict[str, Any]]:
    """Every district center, active or not, with what coverage asks of it."""
    return await _DISTRICT_CENTERS.run()


_DISTRICTS = prepared(lambda: Tenant.select(Tenant.district).where(
    (Tenant.active == True) & (Tenant.district != "")  # noqa: E712
).distinct().order_by(Tenant.district))


async def districts() -> list[str]:
    """Districts that have an active organisation, in order."""
    return [r["district"] for r in await _DISTRICTS.run()]


async def tenant_tree(columns: Iterable[Any] = ()) -> list[dict[str, Any]]:
    """Every tenant as a flat list in tree order, each with its depth and child count."""
    rows = await Tenant.select(
        Tenant.id, Tenant.slug, Tenant.name, Tenant.kind, Tenant.parent, Tenant.district, Tenant.active, *columns
    ).order_by(Tenant.name)
    children: dict[int | None, list[dict[str, Any]]] = {}
    for row in rows:
        children.setdefault(row["parent"], []).append(row)
    for items in children.values():
        items.sort(key=lambda r: (kind_rank(r["kind"]), r["district"], r["name"]))
    ordered: list[dict[str, Any]] = []

    def walk(parent: int | None, depth: int) -> None:
        for row in children.get(parent, []):
            ordered.append({**row, "depth": depth, "child_count": len(children.get(row["id"], []))})
            walk(row["id"], depth + 1)

    walk(None, 0)
    return ordered
