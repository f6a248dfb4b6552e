"""One pydantic TypeAdapter per distinct route parameter for the whole test process.

FastAPI analyses every endpoint's parameters when an app includes its routers and again
when the app answers its first request, building a pydantic TypeAdapter for each one
(~180 routes: a second or more per app on a loaded machine). Most tests build an app of
their own around their own platform, so the same adapters were built again and again.

An adapter is a pure function of what it is built from (the annotation, its metadata,
the Field attributes and the config; fastapi/_compat/v2.py ModelField.__post_init__), so
fields equal in all of these share the first one built. Equality is checked value by
value with each value's type (1 and True are not one key); a field holding anything
unhashable gets an adapter of its own, as before. The routes themselves, their endpoints
and their platforms stay each app's own.

Nothing changes when FastAPI's internals are not the ones this was written for.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

_shared: dict[Hashable, Any] = {}


def _key(field: Any, asdict: Callable[[Any], dict[str, Any]]) -> Hashable | None:
    try:
        parts = asdict(field.field_info)
        attributes = tuple(sorted((k, type(v), v) for k, v in parts["attributes"].items()))
        metadata = tuple((type(m), m) for m in parts["metadata"])
        config = None if field.config is None else tuple(sorted(field.config.items()))
        annotation = (type(parts["annotation"]), parts["annotation"])
        key = (field.mode, annotation, metadata, attributes, config)
        hash(key)
    except (TypeError, KeyError, AttributeError):
        return None
    return key


def share_type_adapters() -> None:
    try:
        from fastapi._compat import v2
    except ImportError:
        return
    model_field: Any = getattr(v2, "ModelField", None)
    asdict = getattr(v2, "asdict", None)
    build = getattr(model_field, "__post_init__", None)
    if model_field is None or asdict is None or build is None:
        return
    if getattr(build, "shares_adapters", False):
        return

    def post_init(self: Any) -> None:
        key = _key(self, asdict)
        if key is None:
            build(self)
            return
        adapter = _shared.get(key)
        if adapter is None:
            before = set(vars(self))
            build(self)
            if set(vars(self)) - before == {"_type_adapter"}:  # all that building gives
                _shared[key] = self._type_adapter
        else:
            self._type_adapter = adapter

    post_init.shares_adapters = True  # type: ignore[attr-defined]
    model_field.__post_init__ = post_init
