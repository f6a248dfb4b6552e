"""The official OCPP JSON schemas, compiled once into msgspec types.

The `ocpp` package ships the OCA schemas for 1.6J and 2.0.1. Validating every frame with
jsonschema costs tens to hundreds of µs (and `$ref` resolution a third of it); a msgspec
decoder built from the same schema decodes *and* validates in a few µs. Each schema is
turned into nested `msgspec.Struct` types on first use and cached for the life of the
process: types, required fields, enums, string lengths, array sizes and numeric bounds
are enforced exactly as the schema states them; `format: date-time` stays text (chargers
disagree on the format; `values.parse_time` reads it leniently).
"""

from __future__ import annotations

import json
import keyword
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal

import msgspec

V16 = "ocpp1.6"
V201 = "ocpp2.0.1"
VERSIONS = (V201, V16)  # the server's preference when a charger offers both

# Arrays without a maxItems in the schema still get a ceiling: a hostile charger must not
# make us build millions of objects from one frame.
MAX_ITEMS = 1_000


class SchemaMissing(LookupError):
    """No schema for this action in this version (an unknown action)."""


def _schema_dir(version: str) -> Any:
    package = "ocpp.v16" if version == V16 else "ocpp.v201"
    return resources.files(package) / "schemas"


@cache
def schema(version: str, action: str, response: bool) -> dict[str, Any]:
    suffix = (
        ("Response" if response else "")
        if version == V16
        else ("Response" if response else "Request")
    )
    path = _schema_dir(version) / f"{action}{suffix}.json"
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        raise SchemaMissing(f"{version} has no action {action!r}") from None
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def actions(version: str) -> frozenset[str]:
    """Every action this version defines (from the shipped schema file names)."""
    names = set()
    for entry in _schema_dir(version).iterdir():
        name = entry.name.removesuffix(".json")
        if name.endswith("Response"):
            names.add(name.removesuffix("Response"))
    return frozenset(names)


class _Compiler:
    def __init__(self, root: dict[str, Any], prefix: str) -> None:
        self.root = root
        self.prefix = prefix
        self.named: dict[str, Any] = {}

    def type_of(self, node: dict[str, Any], name: str) -> Any:
        ref = node.get("$ref")
        if ref is not None:
            key = ref.rsplit("/", 1)[-1]
            if key not in self.named:
                self.named[key] = self.type_of(self.root["definitions"][key], key)
            return self.named[key]
        kind = node.get("type")
        if "enum" in node:
            return Literal[tuple(node["enum"])]
        if kind == "object":
            return self.struct(node, name)
        if kind == "array":
            item = self.type_of(node.get("items", {}), name + "Item")
            low = node.get("minItems")
            meta = msgspec.Meta(
                min_length=None if low is None else int(low),
                max_length=int(node.get("maxItems", MAX_ITEMS)),
            )
            return Annotated[list[item], meta]  # type: ignore[valid-type]
        if kind == "string":
            if "maxLength" in node:
                return Annotated[str, msgspec.Meta(max_length=int(node["maxLength"]))]
            return str
        if kind in ("integer", "number"):
            base: Any = int if kind == "integer" else float
            bounds = {
                key: base(node[src])
                for key, src in (("ge", "minimum"), ("le", "maximum"))
                if src in node
            }
            return Annotated[base, msgspec.Meta(**bounds)] if bounds else base
        if kind == "boolean":
            return bool
        return Any  # an unconstrained value (no type in the schema)

    def struct(self, node: dict[str, Any], name: str) -> Any:
        required = set(node.get("required", ()))
        fields: list[tuple[str, Any, Any] | tuple[str, Any]] = []
        renames: dict[str, str] = {}
        for prop, sub in node.get("properties", {}).items():
            attr = prop + "_" if keyword.iskeyword(prop) else prop
            if attr != prop:
                renames[attr] = prop
            kind = self.type_of(sub, name + prop[:1].upper() + prop[1:])
            if prop in required:
                fields.append((attr, kind))
            else:
                fields.append((attr, kind | None, None))
        # Required fields must come first in a Struct.
        fields.sort(key=lambda f: len(f) == 3)
        return msgspec.defstruct(
            f"{self.prefix}{name}",
            fields,
            # additionalProperties false is enforced; CustomDataType stays open (its purpose)
            forbid_unknown_fields=node.get("additionalProperties") is False,
            omit_defaults=True,
            rename=renames or None,
        )


@cache
def payload_type(version: str, action: str, response: bool) -> Any:
    root = schema(version, action, response)
    prefix = ("V16" if version == V16 else "V201") + action + ("Res" if response else "Req")
    return _Compiler(root, prefix).type_of(root, "")


@cache
def decoder(version: str, action: str, response: bool = False) -> msgspec.json.Decoder[Any]:
    """The decoder-and-validator of one message; built on first use, then reused."""
    return msgspec.json.Decoder(payload_type(version, action, response))


# What a charger may send to the central system; the rest of the schemas go the other way.
FROM_CHARGER = {
    V16: frozenset(
        (
            "Authorize", "BootNotification", "DataTransfer", "DiagnosticsStatusNotification",
            "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StartTransaction",
            "StatusNotification", "StopTransaction", "LogStatusNotification",
            "SecurityEventNotification", "SignCertificate", "SignedFirmwareStatusNotification",
        )
    ),
    V201: frozenset(
        (
            "Authorize", "BootNotification", "ClearedChargingLimit", "DataTransfer",
            "FirmwareStatusNotification", "Get15118EVCertificate", "GetCertificateStatus",
            "Heartbeat", "LogStatusNotification", "MeterValues", "NotifyChargingLimit",
            "NotifyCustomerInformation", "NotifyDisplayMessages", "NotifyEVChargingNeeds",
            "NotifyEVChargingSchedule", "NotifyEvent", "NotifyMonitoringReport", "NotifyReport",
            "PublishFirmwareStatusNotification", "ReportChargingProfiles",
            "ReservationStatusUpdate", "SecurityEventNotification", "SignCertificate",
            "StatusNotification", "TransactionEvent",
        )
    ),
}  # fmt: skip


def requires_nothing(version: str, action: str) -> bool:
    """Whether a charger's message is a plain notification: one it may send, to which an
    empty object is a valid answer."""
    return action in FROM_CHARGER.get(version, ()) and not schema(version, action, True).get(
        "required"
    )
