"""What ``make run-all`` starts: every component as its own process, on loopback."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

from components.compute.libvirt_driver import empty_host_xml

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
# The size of a test-hypervisor host unless told otherwise (COMPUTE_VCPUS,
# COMPUTE_RAM_MIB); its disk is the file system holding the data directory.
TEST_HOST_VCPUS = 16
TEST_HOST_RAM_MIB = 8192
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
class HostSize:
    """What each compute host offers the scheduler; 0: the hypervisor's own figure (for a
    test host TEST_HOST_VCPUS and TEST_HOST_RAM_MIB; the disk is the data directory's
    file system)."""

    vcpus: int = 0
    ram_mib: int = 0
    disk_gib: int = 0

    def env(self) -> dict[str, str]:
        """The STRATUS_COMPUTE_* settings of what was given."""
        given = {"VCPUS": self.vcpus, "RAM_MIB": self.ram_mib, "DISK_GIB": self.disk_gib}
        return {f"STRATUS_COMPUTE_{k}": str(v) for k, v in given.items() if v}


@dataclasses.dataclass(frozen=True)
class Plan:
    data_dir: Path
    port_offset: int = 0
    compute_hosts: int = 1
    # Empty: each host gets a test-driver host of its own, empty, sized by host_size
    # (test_node_files); else the libvirt every host uses (real guests).
    libvirt_uri: str = ""
    extra_env: dict[str, str] = dataclasses.field(default_factory=dict)
    # Settings of every compute host beyond its name, port and libvirt URI
    # (STRATUS_COMPUTE_* variables; real guests need several).
    compute_env: dict[str, str] = dataclasses.field(default_factory=dict)
    host_size: HostSize = HostSize()

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

    def host_names(self) -> list[str]:
        return [f"compute-{index}" for index in range(1, self.compute_hosts + 1)]

    def test_node_path(self, host: str) -> Path:
        """The node definition of a test host: <data_dir>/compute/<host>/test-node.xml."""
        return self.data_dir / "compute" / host / "test-node.xml"

    def test_node_files(self) -> dict[Path, str]:
        """What each test host is made from (nothing when libvirt_uri names a libvirt)."""
        if self.libvirt_uri:
            return {}
        vcpus = self.host_size.vcpus or TEST_HOST_VCPUS
        ram_mib = self.host_size.ram_mib or TEST_HOST_RAM_MIB
        node = empty_host_xml(vcpus, ram_mib)
        return {self.test_node_path(host): node for host in self.host_names()}

    def computes(self) -> list[ProcessSpec]:
        specs = []
        for index, host in enumerate(self.host_names()):
            port = COMPUTE_PORT + self.port_offset + index * 10
            env = self.base_env()
            env.update(
                STRATUS_COMPUTE_PORT=str(port),
                STRATUS_COMPUTE_HOST_NAME=host,
                STRATUS_COMPUTE_LIBVIRT_URI=self.libvirt_uri
                or f"test://{self.test_node_path(host)}",
            )
            env.update(self.host_size.env())
            env.update(self.compute_env)
            specs.append(ProcessSpec(host, "components.compute", port, env))
        return specs
