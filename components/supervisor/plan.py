"""What ``make run-all`` starts: every component as its own process, on loopback."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

DEFAULT_PORTS = {
    "identity": 5000,
    "image": 9292,
    "network": 9696,
    "volume": 8776,
    "api": 8774,
    "scheduler": 8780,
    "conductor": 8781,
}
COMPUTE_PORT = 8782
# Started in this order; each waits for the ones before it to be SERVING.
ORDER = ("identity", "image", "network", "volume", "conductor", "scheduler", "api")


@dataclasses.dataclass(frozen=True)
class ProcessSpec:
    name: str
    module: str
    port: int
    env: dict[str, str]
    # A process that is not a Stratus component (libvirtd): its command line, and
    # the unix socket that answers once it is ready (instead of gRPC health).
    command: tuple[str, ...] = ()
    unix_socket: str = ""

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        if self.command:
            return list(self.command)
        return [sys.executable, "-m", self.module]


@dataclasses.dataclass(frozen=True)
class Plan:
    data_dir: Path
    port_offset: int = 0
    compute_hosts: int = 1
    libvirt_uri: str = "test:///default"
    extra_env: dict[str, str] = dataclasses.field(default_factory=dict)
    # Settings of every compute host beyond its name, port and libvirt URI
    # (STRATUS_COMPUTE_* variables; real guests need several).
    compute_env: dict[str, str] = dataclasses.field(default_factory=dict)

    def port(self, name: str) -> int:
        return DEFAULT_PORTS[name] + self.port_offset

    def catalog(self) -> str:
        return ",".join(f"{n}=127.0.0.1:{self.port(n)}" for n in DEFAULT_PORTS)

    def base_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            STRATUS_DATA_DIR=str(self.data_dir),
            STRATUS_IDENTITY_ADDRESS=f"127.0.0.1:{self.port('identity')}",
            STRATUS_IDENTITY_CATALOG_ENDPOINTS=self.catalog(),
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def components(self) -> list[ProcessSpec]:
        specs = []
        for name in ORDER:
            env = self.base_env()
            env[f"STRATUS_{name.upper()}_PORT"] = str(self.port(name))
            specs.append(ProcessSpec(name, f"components.{name}", self.port(name), env))
        return specs

    def computes(self) -> list[ProcessSpec]:
        specs = []
        for index in range(1, self.compute_hosts + 1):
            port = COMPUTE_PORT + self.port_offset + (index - 1) * 10
            host = f"compute-{index}"
            env = self.base_env()
            env.update(
                STRATUS_COMPUTE_PORT=str(port),
                STRATUS_COMPUTE_HOST_NAME=host,
                STRATUS_COMPUTE_LIBVIRT_URI=self.libvirt_uri,
            )
            env.update(self.compute_env)
            specs.append(ProcessSpec(host, "components.compute", port, env))
        return specs
