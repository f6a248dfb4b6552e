"""Typed settings, read once at start-up (environment, then command-line overrides) and
passed down; nothing below `bootstrap` reads them."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from chargenet.kit.timeutil import DEFAULT_LOCAL_TZ

DEFAULT_DB = "sqlite:///var/chargenet.db"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DB
    host: str = "127.0.0.1"
    port: int = 8080
    local_timezone: str = DEFAULT_LOCAL_TZ  # only for display and local-day boundaries
    currency: str = "CNY"
    auto_migrate: bool = True
    sqlite_synchronous: str = "FULL"  # FULL: a committed batch survives power loss
    ingest_max_batch: int = 2000
    log_level: str = "INFO"
    supervision_config: str | None = None  # TOML file: zombie, alarm, scorecard settings

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = dict(os.environ) if env is None else env
        values: dict[str, Any] = {}
        for name, kind in (
            ("database_url", str),
            ("host", str),
            ("port", int),
            ("local_timezone", str),
            ("currency", str),
            ("sqlite_synchronous", str),
            ("ingest_max_batch", int),
            ("log_level", str),
            ("supervision_config", str),
        ):
            key = f"CHARGENET_{name.upper()}"
            if key in env:
                values[name] = kind(env[key])
        if "CHARGENET_AUTO_MIGRATE" in env:
            values["auto_migrate"] = env["CHARGENET_AUTO_MIGRATE"].lower() in ("1", "true", "yes")
        settings = cls(**values)
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})

    def with_database_path(self, path: Path) -> Settings:
        return replace(self, database_url=f"sqlite:///{path}")
