"""Typed configuration: defaults < TOML file < ``STRATUS_*`` environment.

Every component reads a dataclass derived from :class:`Config`. The file (given
with ``--config`` or ``STRATUS_CONFIG``) has a ``[stratus]`` table for every
component and one table per component (``[compute]``) that wins over it. In the
environment, ``STRATUS_<FIELD>`` applies to every component and
``STRATUS_<COMPONENT>_<FIELD>`` to one, and wins over the plain form.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from components.framework.errors import InvalidArgument

C = TypeVar("C")


@dataclasses.dataclass
class Config:
    """Settings every component has."""

    component: str = ""
    host: str = "127.0.0.1"
    # 0 in the file or environment means "the component's default port".
    port: int = 0
    data_dir: str = "./var"
    # Empty: a SQLite file named after the component's database in data_dir.
    database_url: str = ""
    identity_address: str = "127.0.0.1:5000"
    # Explicit addresses by service type ("image=10.0.0.5:9292,network=...");
    # any type not named here is looked up in the identity catalog.
    endpoints: dict[str, str] = dataclasses.field(default_factory=dict)
    region: str = "RegionOne"
    log_level: str = "INFO"
    grace_seconds: float = 5.0
    max_workers: int = 64
    token_cache_seconds: float = 30.0
    call_timeout_seconds: float = 10.0
    service_project: str = "service"
    # Empty: the component's name.
    service_user: str = ""
    # Empty: read from <data_dir>/secrets/<service_user>.password.
    service_password: str = ""

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    def database_url_for(self, database: str) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_path / f'{database}.sqlite').resolve()}"


def load_config(
    cls: type[C],
    component: str,
    path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> C:
    """Build ``cls`` for ``component`` from defaults, the file, the environment, then overrides.

    ``cls`` is a :class:`Config` or any dataclass of settings (the supervisor's)."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    path = path or env.get("STRATUS_CONFIG")
    if path:
        with open(path, "rb") as fh:
            document = tomllib.load(fh)
        values.update(document.get("stratus", {}))
        values.update(document.get(component, {}))
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for name in fields:
        for key in (f"STRATUS_{name.upper()}", f"STRATUS_{component.upper()}_{name.upper()}"):
            if key in env:
                values[name] = env[key]
    values.update({k: v for k, v in overrides.items() if v is not None})
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise InvalidArgument(f"unknown configuration keys: {', '.join(unknown)}")
    typed = {name: _coerce(name, hints[name], value) for name, value in values.items()}
    if "component" in fields:
        typed["component"] = component
    return cls(**typed)


def _coerce(name: str, hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
        origin = typing.get_origin(hint)
    try:
        if hint is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(value)
        if hint in (int, float, str):
            return hint(value)
        if origin is list:
            if isinstance(value, str):
                return [item.strip() for item in value.split(",") if item.strip()]
            return list(value)
        if origin is dict:
            if isinstance(value, str):
                pairs = (item.split("=", 1) for item in value.split(",") if item.strip())
                return {k.strip(): v.strip() for k, v in pairs}
            return dict(value)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"configuration {name}={value!r} is not a valid {hint}") from exc
    return value
