"""Identities: OCPI objects are named by party (country code + party id) and the party's
own id; chargenet ids are global strings. Objects received over OCPI get
`CC*PID*LOCAL` ids; chargenet's own objects (OCPP chargers, imports) get the party of
their operator and their own id (shortened when longer than OCPI's 36 characters).

OCPI ids are CiString, "Case Insensitive String" (OCPI 2.2.1 types, CiString type):
`p3` and `P3` name the same Location. So the local part of a global id is upper-cased:
every spelling of an id leads to the one object, whichever arrives first, and no lookup
needs to ignore case. The spelling the party used is kept in its own statement of the
object (`ObjectStated`) and sent back as it was."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from chargenet.app.ocpi import Party
from chargenet.kit.ids import stable_id

_GLOBAL = re.compile(r"^([A-Z]{2})\*([A-Z0-9]{3})\*(.+)$")
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def party(country_code: str, party_id: str) -> Party:
    return Party(country_code.upper(), party_id.upper())


def parse_party(text: str) -> Party:
    """`CN*XZP` (or `CN-XZP`, `CNXZP`) → Party; ValueError otherwise."""
    cleaned = text.replace("*", "").replace("-", "").strip().upper()
    if len(cleaned) != 5 or not cleaned[:2].isalpha() or not cleaned[2:].isalnum():
        raise ValueError(f"{text!r} is not a party: use country code and party id, e.g. CN*XZP")
    return Party(cleaned[:2], cleaned[2:])


def same_id(a: str, b: str) -> bool:
    """Whether two OCPI ids name the same object (CiString: case-insensitive)."""
    return a.upper() == b.upper()


def global_id(owner: Party, local: str) -> str:
    return f"{owner.country_code}*{owner.party_id}*{local.upper()}"


def split_global(value: str) -> tuple[Party, str] | None:
    match = _GLOBAL.match(value)
    if match is None:
        return None
    return Party(match[1], match[2]), match[3]


def connector_global(charger_id: str, connector_id: str) -> str:
    return f"{charger_id}*{connector_id.upper()}"


def local_id(value: str) -> str:
    """An id OCPI accepts (printable ASCII, ≤ 36): the value itself when it is one, else a
    stable digest of it."""
    if len(value) <= 36 and value.isascii() and value.isprintable() and value.strip() == value:
        return value
    return stable_id("ocpi-local", value)


def local_part(value: str, owner: Party) -> str:
    """The OCPI id of a chargenet object owned by `owner`."""
    split = split_global(value)
    if split is not None and split[0] == owner:
        return split[1]
    return local_id(value)


def derived_party(operator_id: str, country_code: str, taken: Iterable[Party] = ()) -> Party:
    """A party id for an operator that has none assigned: three characters from a digest
    of its id, skipping ones already taken."""
    used = set(taken)
    for salt in range(1000):
        digest = int(stable_id("ocpi-party", operator_id, salt), 16)
        chars = ""
        for _ in range(3):
            digest, rest = divmod(digest, len(_ALPHABET))
            chars += _ALPHABET[rest]
        candidate = Party(country_code, chars)
        if candidate not in used:
            return candidate
    raise RuntimeError(f"no free party id for operator {operator_id}")


class PartyBook:
    """Which party speaks for which operator: assigned parties first, derived otherwise."""

    def __init__(self, assigned: Mapping[Party, str], country_code: str) -> None:
        self._operator_of = dict(assigned)
        self._party_of: dict[str, Party] = {}
        for owner, operator_id in sorted(assigned.items(), key=lambda kv: str(kv[0])):
            self._party_of.setdefault(operator_id, owner)
        self._country_code = country_code

    def party_of(self, operator_id: str) -> Party:
        found = self._party_of.get(operator_id)
        if found is None:
            found = derived_party(operator_id, self._country_code, self._operator_of)
            self._party_of[operator_id] = found
            self._operator_of[found] = operator_id
        return found

    def operator_of(self, owner: Party) -> str | None:
        return self._operator_of.get(owner)


def route(to: Party | None, sender: Party) -> tuple[tuple[str, str], tuple[str, str]] | None:
    """The routing of a request from `sender` to `to` (wire.routing_headers); None when
    the receiving party is not known."""
    if to is None:
        return None
    return (to.country_code, to.party_id), (sender.country_code, sender.party_id)
