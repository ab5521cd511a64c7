"""Serving a servicer for a test: the real framework server on 127.0.0.1:0."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Sequence

import grpc

from components.framework import auth, errors
from components.framework.config import Config
from components.framework.server import Service, build_server


@dataclasses.dataclass
class StaticValidator:
    """The far side of the token contract: a fixed table of tokens to callers."""

    tokens: dict[str, auth.Caller]

    def validate(self, token: str) -> auth.Caller:
        try:
            return self.tokens[token]
        except KeyError:
            raise errors.Unauthenticated("token is not valid", reason="TOKEN_INVALID") from None


def caller(roles: Sequence[str], project_id: str = "p-1", token: str = "t") -> auth.Caller:
    return auth.Caller(
        user_id=f"u-{token}",
        user_name=f"user-{token}",
        project_id=project_id,
        project_name=f"project-{project_id}",
        roles=frozenset(roles),
        token=token,
    )


@contextlib.contextmanager
def serving(
    services: Sequence[Service],
    policy: auth.Policy,
    validator: auth.TokenValidator | None = None,
    component: str = "test",
) -> Iterator[tuple[grpc.Channel, int]]:
    """Serve ``services`` through build_server on a free port; yields (channel, port)."""
    config = Config(component=component, host="127.0.0.1", max_workers=16)
    server, port = build_server(config, services, policy, validator, port=0)
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield channel, port
    finally:
        channel.close()
        server.stop(0)


def metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    return () if token is None else ((auth.TOKEN_HEADER, token),)


@contextlib.contextmanager
def serving_component(
    component,
    validator: auth.TokenValidator | None,
    database_url: str | None = None,
    config=None,
    endpoints: dict[str, str] | None = None,
    service_token: str = "service-token",
    start_hooks: bool = True,
):
    """Serve a declared component on a free port, as its __main__ would, but with
    ``validator`` in place of identity (None: the component's own). Yields (runtime, channel)."""
    from components.framework import database as db
    from components.framework import idempotency
    from components.framework.clients import Clients, ServiceToken
    from components.framework.component import Runtime

    config = config or component.config_cls(component=component.name)
    config.component = component.name
    config.host = "127.0.0.1"
    config.max_workers = max(config.max_workers, 16)
    if database_url is not None and component.database is not None:
        db.connect(database_url, component.migrations)
    resolve = (endpoints or {}).__getitem__
    clients = Clients(resolve, ServiceToken(lambda: (service_token, 4102444800.0)))
    runtime = Runtime(component=component, config=config, clients=clients, validator=validator)
    if validator is None and component.validator is not None:
        validator = runtime.validator = component.validator(runtime)
    services = component.services(runtime)
    replies = idempotency.Replies() if component.database is not None else None
    server, port = build_server(config, services, component.policy, validator, 0, replies)
    runtime.server, runtime.port = server, port
    server.start()
    if start_hooks and component.on_start is not None:
        component.on_start(runtime)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield runtime, channel
    finally:
        channel.close()
        if start_hooks:
            runtime.close_resources()
        server.stop(0)
        clients.close()
        db.close()
