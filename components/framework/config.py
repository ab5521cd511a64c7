"""Typed configuration: defaults < TOML file < ``STRATUS_*`` environment.

Every component reads a dataclass derived from :class:`Config`. The file (given
with ``--config`` or ``STRATUS_CONFIG``) has a ``[stratus]`` table for every
component and one table per component (``[compute]``) that wins over it. In the
environment, ``STRATUS_<FIELD>`` applies to every component and
``STRATUS_<COMPONENT>_<FIELD>`` to one, and wins over the plain form.

A field whose type is a dataclass is a table shared by every component that
has it (``placement: PlacementConfig`` reads ``[placement]`` and
``STRATUS_PLACEMENT_<FIELD>``, then ``STRATUS_<FIELD>``), so that two
components needing one setting read the same value; a component's own table
cannot set it.
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
    # TLS (framework/tls.py): the CA peers are verified against, and this component's
    # certificate and key. All three, or none (plaintext, only on loopback).
    tls_ca_file: str = ""
    tls_cert_file: str = ""
    tls_key_file: str = ""
    # Plaintext on a non-loopback address: refused unless this is set (a warning is logged).
    allow_insecure: bool = False
    # With TLS, a component serving users and services takes the services' calls (mutual
    # TLS) on this port; 0: its port + 1000.
    internal_port: int = 0

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
    document: dict[str, Any] = {}
    path = path or env.get("STRATUS_CONFIG")
    if path:
        with open(path, "rb") as fh:
            document = tomllib.load(fh)
    hints = typing.get_type_hints(cls)
    shared = {f.name for f in dataclasses.fields(cls) if dataclasses.is_dataclass(hints[f.name])}
    given = {k: v for k, v in overrides.items() if v is not None}
    tables = [document.get("stratus", {}), document.get(component, {})]
    typed = _table(cls, component, [*tables, given], env, skip=shared)
    for name in shared:
        if name in given:
            typed[name] = given[name]
        else:
            typed[name] = hints[name](**_table(hints[name], name, [document.get(name, {})], env))
    if "component" in hints:
        typed["component"] = component
    return cls(**typed)


def _table(
    cls: type, name: str, tables: list[dict], env: Mapping[str, str], skip: set[str] = frozenset()
) -> dict[str, Any]:
    """``cls``'s fields from ``tables`` and ``STRATUS_[<NAME>_]<FIELD>``, the last table
    (overrides) winning over the environment; typed. ``skip`` are not ``cls``'s to set."""
    *files, last = tables
    values: dict[str, Any] = {}
    for table in files:
        values.update(table)
    hints = typing.get_type_hints(cls)
    fields = [f.name for f in dataclasses.fields(cls) if f.name not in skip]
    for field in fields:
        for key in (f"STRATUS_{field.upper()}", f"STRATUS_{name.upper()}_{field.upper()}"):
            if key in env:
                values[field] = env[key]
    values.update({k: v for k, v in last.items() if k not in skip})
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise InvalidArgument(f"unknown configuration keys: {', '.join(unknown)}")
    return {field: _coerce(field, hints[field], value) for field, value in values.items()}


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
