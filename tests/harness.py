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
