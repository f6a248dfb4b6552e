"""Who may see and do what: roles and their scope (area, operator)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chargenet.core.areas import official_prefix


class Role(StrEnum):
    PUBLIC = "public"  # the finder and open data only
    OPERATOR = "operator"  # its own operator's data
    REGULATOR = "regulator"  # everything inside its jurisdiction (an area)
    ADMIN = "admin"  # everything

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Role.PUBLIC: 0, Role.OPERATOR: 1, Role.REGULATOR: 2, Role.ADMIN: 3}


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role
    operator_id: str | None = None  # for operators
    area_code: str | None = None  # a regulator's jurisdiction; None = everywhere

    def sees_operator(self, operator_id: str) -> bool:
        if self.role is Role.OPERATOR:
            return operator_id == self.operator_id
        return self.role in (Role.REGULATOR, Role.ADMIN)

    def sees_area(self, area_code: str | None) -> bool:
        """Whether an object placed in `area_code` lies in this principal's jurisdiction."""
        if self.everywhere:
            return True
        if self.role is not Role.REGULATOR or area_code is None or self.area_code is None:
            return False
        return area_code.startswith(official_prefix(self.area_code))

    def in_scope(self, operator_id: str | None, area_code: str | None) -> bool:
        """Whether a non-public object (an operator's equipment, sessions) is this
        principal's to see: admins everything, regulators their jurisdiction, operators
        their own."""
        if self.role is Role.ADMIN:
            return True
        if self.role is Role.REGULATOR:
            return self.sees_area(area_code)
        if self.role is Role.OPERATOR:
            return operator_id is not None and operator_id == self.operator_id
        return False

    @property
    def everywhere(self) -> bool:
        """Sees everything: an admin, or a regulator without a jurisdiction limit."""
        return self.role is Role.ADMIN or (self.role is Role.REGULATOR and self.area_code is None)


ANONYMOUS = Principal(name="anonymous", role=Role.PUBLIC)
