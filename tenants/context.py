"""Who is asking, and in which tenant: plain data built once per request."""

from __future__ import annotations

from dataclasses import dataclass, field

from tenants.tables import Role


@dataclass(frozen=True)
class TenantRef:
    id: int
    slug: str
    name: str
    kind: str


@dataclass(frozen=True)
class MembershipRef:
    tenant: TenantRef
    role: str


@dataclass(frozen=True)
class CurrentUser:
    id: int
    email: str
    name: str
    locale: str
    memberships: tuple[MembershipRef, ...] = field(default_factory=tuple)

    def role_in(self, tenant_id: int) -> str | None:
        for m in self.memberships:
            if m.tenant.id == tenant_id:
                return m.role
        return None

    @property
    def city_membership(self) -> MembershipRef | None:
        for m in self.memberships:
            if m.tenant.kind == "city_center":
                return m
        return None


# What each required role accepts. Admins hold every right of their tenant.
ROLE_SATISFIES: dict[str, frozenset[str]] = {
    "member": frozenset(r.value for r in Role),
    "staff": frozenset({Role.staff.value, Role.admin.value}),
    "admin": frozenset({Role.admin.value}),
    "union_rep": frozenset({Role.union_rep.value, Role.admin.value}),
}


def role_allows(held: str | None, required: str) -> bool:
    return held is not None and held in ROLE_SATISFIES[required]
