"""``python -m components.identity [serve|bootstrap|rotate-keys]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from components.framework import Component, Runtime, Service, main
from components.identity import service
from components.identity.bootstrap import bootstrap
from components.identity.config import IdentityConfig
from components.identity.fernet_keys import KeyRepository
from components.identity.policy import POLICY
from components.identity.tokens import TokenProvider
from stratus.identity.v1 import identity_service_pb2 as pb2
from stratus.identity.v1 import identity_service_pb2_grpc as pb2_grpc


def keys_of(config: IdentityConfig) -> KeyRepository:
    directory = Path(config.key_repository or Path(config.data_dir) / "fernet-keys")
    return KeyRepository(directory, config.max_active_keys)


def provider_of(runtime: Runtime) -> TokenProvider:
    if "provider" not in runtime.state:
        keys = keys_of(runtime.config)
        keys.ensure()
        runtime.state["provider"] = TokenProvider(keys, runtime.config.token_lifetime_seconds)
    return runtime.state["provider"]


def services(runtime: Runtime) -> list[Service]:
    config, provider = runtime.config, provider_of(runtime)
    return [
        Service.of(service.IdentityServicer(config, provider), pb2, pb2_grpc, "Identity"),
        Service.of(service.DomainsServicer(provider), pb2, pb2_grpc, "Domains"),
        Service.of(service.ProjectsServicer(provider), pb2, pb2_grpc, "Projects"),
        Service.of(service.UsersServicer(config, provider), pb2, pb2_grpc, "Users"),
        Service.of(service.RolesServicer(provider), pb2, pb2_grpc, "Roles"),
        Service.of(service.CatalogServicer(), pb2, pb2_grpc, "Catalog"),
    ]


def stop_watchers(runtime: Runtime) -> None:
    """End every WatchRevocations stream, so shutdown need not wait out their grace."""
    if "provider" in runtime.state:
        runtime.state["provider"].feed.close()


def bootstrap_command(runtime: Runtime, args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m components.identity bootstrap")
    parser.add_argument("--demo", action="store_true", help="also a demo project and user")
    options = parser.parse_args(args)
    keys_of(runtime.config).ensure()
    written = bootstrap(runtime.config, demo=options.demo)
    for user in sorted(written):
        print(f"password for {user!r} written to the data directory's secrets/")
    print("bootstrap complete")
    return 0


def rotate_keys_command(runtime: Runtime, args: list[str]) -> int:
    primary = keys_of(runtime.config).rotate()
    print(f"rotated: key {primary} is now primary, a new key is staged")
    return 0


COMPONENT = Component(
    name="identity",
    default_port=5000,
    services=services,
    policy=POLICY,
    config_cls=IdentityConfig,
    database="identity",
    migrations=Path(__file__).parent / "migrations",
    validator=lambda runtime: service.LocalValidator(provider_of(runtime)),
    on_stop=stop_watchers,
    commands={"bootstrap": bootstrap_command, "rotate-keys": rotate_keys_command},
)

if __name__ == "__main__":
    sys.exit(main(COMPONENT))
