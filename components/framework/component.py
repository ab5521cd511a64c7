"""A component is declared, not assembled.

``components/<name>/__main__.py`` builds one :class:`Component` (its services,
policy table, database and migrations) and calls :func:`main`. Everything else
— configuration, logging, database, token validation, clients, the server with
health and reflection, graceful shutdown — happens here, the same way for all.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from components.framework import lifeline
from components.framework.auth import CachingValidator, Policy, TokenValidator
from components.framework.clients import Clients
from components.framework.config import Config, load_config
from components.framework.logs import configure_logging
from components.framework.server import Server, Service, build_server, serve_until_signalled

log = logging.getLogger(__name__)

# Nothing a component writes (databases with password hashes, images, volumes,
# keys, logs) is for other local users: files 0600, directories 0700.
PRIVATE_UMASK = 0o077


@dataclasses.dataclass
class Runtime:
    """What a running component has: its config, clients and (once started) server."""

    component: Component
    config: Config
    clients: Clients
    validator: TokenValidator | None = None
    server: Server | None = None
    port: int = 0
    state: dict = dataclasses.field(default_factory=dict)
    # Closed, newest first, when the component stops (cast senders, pools, ...).
    closers: list[Callable[[], None]] = dataclasses.field(default_factory=list)

    def close_resources(self) -> None:
        """Run the component's on_stop hook, then every registered closer."""
        if self.component.on_stop is not None:
            self.component.on_stop(self)
        while self.closers:
            self.closers.pop()()

    def stop(self, grace: float | None = None) -> None:
        self.close_resources()
        if self.server is not None:
            self.server.stop(self.config.grace_seconds if grace is None else grace)
        self.clients.close()


@dataclasses.dataclass
class Component:
    """The declaration of one Stratus component."""

    name: str
    default_port: int
    services: Callable[[Runtime], Sequence[Service]]
    policy: Policy
    config_cls: type[Config] = Config
    # The database this component uses ("compute" is shared by api, scheduler and
    # conductor), or None for a component with no database of its own.
    database: str | None = None
    migrations: Path | None = None
    # Builds the token validator; default: ask identity, cache briefly.
    validator: Callable[[Runtime], TokenValidator] | None = None
    on_start: Callable[[Runtime], None] | None = None
    on_stop: Callable[[Runtime], None] | None = None
    # False for a component only other components call (conductor, compute): with TLS it
    # has one port, demanding a client certificate (framework/tls.py).
    serves_users: bool = True
    # Management commands: ``python -m components.<name> <command> [args]``.
    commands: dict[str, Callable[[Runtime, list[str]], int]] = dataclasses.field(
        default_factory=dict
    )

    def load_config(self, path: str | None = None, **overrides) -> Config:
        config = load_config(self.config_cls, self.name, path, **overrides)
        if not config.port:
            config.port = self.default_port
        return config


def prepare(component: Component, config: Config) -> Runtime:
    """Everything but the server: database, clients, validator."""
    from components.framework import identity_client

    private_dir(Path(config.data_dir))
    if component.database is not None:
        # Imported only here: a component without a database (compute) never
        # loads peewee (about 4 MB resident).
        from components.framework import database as db

        db.connect(config.database_url_for(component.database), component.migrations)
    clients = identity_client.clients_for(config)
    runtime = Runtime(component=component, config=config, clients=clients)
    if component.validator is not None:
        runtime.validator = component.validator(runtime)
    else:
        runtime.validator = CachingValidator(
            identity_client.IdentityValidator(clients), config.token_cache_seconds
        )
    closing = getattr(runtime.validator, "close", None)
    if closing is not None:  # the revocation watch stops with the component
        runtime.closers.append(closing)
    return runtime


def private_dir(path: Path) -> Path:
    """``path`` as a directory only its owner can enter (made, or tightened if it exists)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def start(component: Component, config: Config, port: int | None = None) -> Runtime:
    """Prepare and start serving; ``port=0`` picks a free port (tests)."""
    runtime = prepare(component, config)
    services = component.services(runtime)
    replies = keep_replies(runtime) if component.database is not None else None
    server, bound = build_server(
        config,
        services,
        component.policy,
        runtime.validator,
        port,
        replies,
        serves_users=component.serves_users,
    )
    runtime.server, runtime.port = server, bound
    if port is not None:
        config.port = bound
    server.start()
    if component.on_start is not None:
        component.on_start(runtime)
    if server.internal_port:
        log.info(
            "%s serving on %s:%d (TLS), services on %s:%d (mutual TLS)",
            component.name,
            config.host,
            bound,
            config.host,
            server.internal_port,
        )
    else:
        log.info("%s serving on %s:%d", component.name, config.host, bound)
    return runtime


def keep_replies(runtime: Runtime):
    """The component's stored replies to retried requests, purged every hour past a day."""
    from components.framework import database as db
    from components.framework import idempotency
    from components.framework.periodic import Periodic

    replies = idempotency.Replies()

    def purge() -> None:
        try:
            replies.purge()
        finally:
            db.database.close()  # the timer's thread holds no connection between runs

    timer = Periodic("purge-replies", idempotency.PURGE_INTERVAL_SECONDS, purge)
    timer.start()
    runtime.closers.append(timer.stop)
    return replies


def main(component: Component, argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m components.<name>``."""
    lifeline.die_with_supervisor()  # started by run-all: never outlive it
    parser = argparse.ArgumentParser(prog=f"python -m components.{component.name}")
    parser.add_argument("--config", help="TOML configuration file (or STRATUS_CONFIG)")
    parser.add_argument("--port", type=int, help="port to listen on (0: any free port)")
    parser.add_argument(
        "command", nargs="?", default="serve", choices=["serve", *component.commands]
    )
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    os.umask(PRIVATE_UMASK)
    config = component.load_config(options.config, port=options.port)
    configure_logging(component.name, config.log_level)
    if options.command != "serve":
        runtime = prepare(component, config)
        return component.commands[options.command](runtime, options.args)
    runtime = start(component, config, options.port)
    print(
        f"{component.name} listening on {config.host}:{runtime.port}", file=sys.stderr, flush=True
    )
    serve_until_signalled(runtime.server, config.grace_seconds, on_stop=runtime.close_resources)
    runtime.clients.close()
    if component.database is not None:
        from components.framework import database as db

        db.close()
    return 0
