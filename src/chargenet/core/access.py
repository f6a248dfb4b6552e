"""Who may see and do what: roles and their scope (area, operator)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypedDict, overload

from chargenet.core.areas import official_prefix
from chargenet.core.errors import NotPermitted


class OutsideScope(NotPermitted):
    """A request for something outside the caller's jurisdiction or operator (HTTP 403)."""


class Role(StrEnum):
    PUBLIC = "public"  # the finder and open data only
    DRIVER = "driver"  # a driver's own account, tokens, wallet and sessions; nothing else
    OPERATOR = "operator"  # its own operator's data
    REGULATOR = "regulator"  # everything inside its jurisdiction (an area)
    ADMIN = "admin"  # everything

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Role.PUBLIC: 0, Role.DRIVER: 0, Role.OPERATOR: 1, Role.REGULATOR: 2, Role.ADMIN: 3}


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

    def sees_site(self, access: str, operator_id: str | None, area_code: str | None) -> bool:
        """Whether a station (and what is published about it, such as its prices) is this
        principal's to see: public-access sites are everyone's; dedicated and private ones
        are their operator's, their regulators' and admins' (a home charger's position is
        personal data)."""
        return access == "public" or self.in_scope(operator_id, area_code)

    @overload
    def area_within(self, area: str) -> str: ...

    @overload
    def area_within(self, area: None) -> str | None: ...

    def area_within(self, area: str | None) -> str | None:
        """The area a request is about, kept inside this principal's jurisdiction: a
        regulator's own area when none is asked for; refused when it lies outside. Callers
        without a jurisdiction limit get what they asked for."""
        if self.role is not Role.REGULATOR or self.area_code is None:
            return area
        if area is None:
            return self.area_code
        if not self.sees_area(area):
            raise OutsideScope(f"area {area} is outside your jurisdiction")
        return area

    @property
    def everywhere(self) -> bool:
        """Sees everything: an admin, or a regulator without a jurisdiction limit."""
        return self.role is Role.ADMIN or (self.role is Role.REGULATOR and self.area_code is None)


ANONYMOUS = Principal(name="anonymous", role=Role.PUBLIC)


class Audience(StrEnum):
    """Whom an HTTP endpoint serves. Every route declares one (OpenAPI `x-access`); a test
    calls every route as every role and holds it to its declaration (docs/access.md)."""

    PUBLIC = "public"  # anyone, without logging in (open data, the finder)
    MEMBER = "member"  # a login: operators see their own, regulators their jurisdiction
    REGULATOR = "regulator"  # regulators (their jurisdiction) and admins
    OWN = "own"  # operators their own; platform-wide users all (not divided by area)
    OPERATOR = "operator"  # operators on their own equipment, and admins
    PLATFORM = "platform"  # platform-wide: admins and regulators without a jurisdiction limit
    ADMIN = "admin"  # administrators only
    PARTNER = "partner"  # a connected platform, with the protocol's own credentials
    DRIVER = "driver"  # a logged-in driver, about their own account only


class Declared(TypedDict):
    openapi_extra: dict[str, Any]


def declared(audience: Audience) -> Declared:
    """Route keyword arguments declaring its audience: `@router.get(path, **declared(…))`."""
    return {"openapi_extra": {"x-access": audience.value}}
