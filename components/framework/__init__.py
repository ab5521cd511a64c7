"""The Stratus component framework: what a component may import.

A component imports framework names from here and nowhere else::

    from components.framework import Component, InvalidArgument, paging, validation

Every name below is the framework's stable surface: it keeps its meaning, and a
change to it is announced in docs/framework.md. The submodules behind them
(``components.framework.errors``, ``.interceptors``, ...) are internal and may
change; ``tests/unit/test_framework_surface.py`` fails when a component or the
example under ``examples/`` imports one directly.

Names are loaded on first use (PEP 562), so a process pays only for what it
uses: a component without a database never imports peewee.
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> the internal module it lives in. Modules exported whole (validation,
# paging, transactions) map to themselves.
_SURFACE: dict[str, str] = {
    # Declaring and running a component.
    "Component": "component",
    "Runtime": "component",
    "main": "component",
    "Config": "config",
    "Service": "server",
    # Policy: who may call what.
    "Caller": "auth",
    "Policy": "auth",
    "caller": "auth",
    "public": "auth",
    "authenticated": "auth",
    "reader": "auth",
    "member": "auth",
    "admin_required": "auth",
    "service_or_admin": "auth",
    "member_or_service": "auth",
    "ADMIN": "auth",
    "MEMBER": "auth",
    "READER": "auth",
    "SERVICE": "auth",
    # Errors a domain raises; the framework turns them into status + ErrorInfo.
    "StratusError": "errors",
    "InvalidArgument": "errors",
    "NotFound": "errors",
    "AlreadyExists": "errors",
    "FailedPrecondition": "errors",
    "PermissionDenied": "errors",
    "Unauthenticated": "errors",
    "ResourceExhausted": "errors",
    "QuotaExceeded": "errors",
    "NoValidHost": "errors",
    "Unavailable": "errors",
    "DeadlineExceeded": "errors",
    "Internal": "errors",
    # Request checking, pages, time.
    "validation": "validation",
    "quote": "validation",
    "paging": "paging",
    "utcnow": "clock",
    "timestamp": "convert",
    "from_timestamp": "convert",
    # The database: ``db`` is the component's (a peewee DatabaseProxy).
    "db": "database",
    "BaseModel": "database",
    "JSONField": "database",
    "new_id": "database",
    "transactions": "transactions",
    # Calling other components.
    "Clients": "clients",
    "Retry": "clients",
    "call": "clients",
    "acting_as": "clients",
    "ImageClient": "image_client",
    "Image": "image_client",
    "ImageCorrupt": "image_client",
    # Where identity's bootstrap leaves a service user's password, and Clients reads it.
    "secret_path": "identity_client",
    # One-way cast streams.
    "CastClient": "cast_clients",
    "CastSender": "casts",
    "CastReceiver": "casts",
    "CastFailed": "casts",
    "KeyedExecutor": "casts",
    # Programs a component runs as children, found again by pid file after a crash.
    "daemons": "daemons",
    # The kernel's links, bridges and namespaces through iproute2 (ip, bridge): run,
    # CommandFailed (subclassed by each caller's own error).
    "iproute": "iproute",
    # Whether a TCP port is free to bind, before a server or daemon binds it.
    "bindable": "ports",
    # Background work and request ids in logs.
    "Periodic": "periodic",
    "current_request_id": "logs",
    "new_request_id": "logs",
}

# For Stratus's own tools, not for components: the supervisor (``make run-all``)
# and the CLI. They load as the names above do but are not in ``__all__``, and
# tests/unit/test_framework_surface.py refuses them outside components/supervisor/
# and components/cli/: they may change with those tools.
_TOOLS: dict[str, str] = {
    # The supervisor starts every process in a private data directory and has
    # each one die with it; it reads its settings as a component does.
    "lifeline": "lifeline",
    "PRIVATE_UMASK": "component",
    "private_dir": "component",
    "load_config": "config",
    # The dashboard is a web process, not a gRPC component: it logs as components do.
    "configure_logging": "logs",
    # The CLI reports the ErrorInfo reason of a failed call.
    "error_info": "errors",
    # Both reach components over TLS as components reach each other, replicas as one
    # round-robin target.
    "tls": "tls",
    "grpc_target": "targets",
    "ROUND_ROBIN": "targets",
}

# Public names that differ from their internal one (a submodule is called database).
_RENAMED = {"db": "database"}

__all__ = sorted(_SURFACE)


def __getattr__(name: str) -> Any:
    module_name = _SURFACE.get(name) or _TOOLS.get(name)
    if module_name is None:
        raise AttributeError(f"components.framework has no public name {name!r}")
    module = importlib.import_module(f"{__name__}.{module_name}")
    value = module if module_name == name else getattr(module, _RENAMED.get(name, name))
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return __all__
