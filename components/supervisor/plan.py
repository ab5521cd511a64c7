"""What ``make run-all`` starts: every component as its own process.

On one machine (the default) everything listens on loopback. With machines
(``make run-all MACHINES=3``) the control plane runs on machine ``controller``
(api, scheduler and conductor twice, the replicas on the controller's second
address) and each compute host on a machine of its own, every process bound to
its machine's underlay address; :class:`Machines` says where that is. With
real guests the network service runs on a machine of its own (``placement``)
and the settings wiring.py names reach the services (``component_env``,
``host_env``).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import Protocol

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
# The web dashboard (Horizon's role): HTTP, or HTTPS when the run has TLS; not a gRPC
# service, so it is in neither catalog. Ready once GET DASHBOARD_HEALTH answers 200.
DASHBOARD = "dashboard"
DASHBOARD_PORT = 8080
DASHBOARD_HEALTH = "/healthz"
# The size of a test-hypervisor host unless told otherwise (COMPUTE_VCPUS,
# COMPUTE_RAM_MIB); its disk is the file system holding the data directory.
TEST_HOST_VCPUS = 16
TEST_HOST_RAM_MIB = 8192
# Started in this order; each waits for the ones before it to be SERVING.
ORDER = ("identity", "image", "network", "volume", "conductor", "scheduler", "api")
# The database each component keeps its tables in (api, scheduler and conductor share one).
DATABASES = {
    "identity": "identity",
    "image": "image",
    "network": "network",
    "volume": "volume",
    "api": "compute",
    "scheduler": "compute",
    "conductor": "compute",
}
# What runs as several processes with machines (replicas): stateless but for the database.
REPLICATED = ("api", "scheduler", "conductor")
# Components only other components call: with TLS their one port demands a certificate.
SERVICE_ONLY = ("conductor", "compute")
# With TLS, a component serving users takes the services' calls on its port + this.
INTERNAL_PORT_STEP = 1000
CONTROLLER = "controller"
LIBVIRT_URI = "STRATUS_COMPUTE_LIBVIRT_URI"


class Machines(Protocol):
    """Where processes run: a machine's addresses and the command prefix entering it."""

    def address(self, machine: str, index: int = 0) -> str: ...

    def exec_prefix(self, machine: str) -> list[str]: ...


class Loopback:
    """One machine: every process on 127.0.0.1, started as it is."""

    def address(self, machine: str, index: int = 0) -> str:
        return "127.0.0.1"

    def exec_prefix(self, machine: str) -> list[str]:
        return []


def join(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


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
    # A web application (the dashboard): the path that answers 200 over HTTP (HTTPS
    # with TLS) once it is ready, instead of gRPC health.
    http_health: str = ""
    # The address it listens on, and the machine it runs on (the prefix entering it).
    host: str = "127.0.0.1"
    machine: str = ""
    exec_prefix: tuple[str, ...] = ()
    # Its service type ("api" for api-2); empty for a process that is not a component.
    service: str = ""
    # With TLS and users: the port of mutual TLS for the other components (else 0).
    internal_port: int = 0

    @property
    def address(self) -> str:
        return join(self.host, self.port)

    @property
    def internal_address(self) -> str:
        """Where other components call it (its only address if it has one port)."""
        return join(self.host, self.internal_port or self.port)

    def argv(self) -> list[str]:
        if self.command:
            return [*self.exec_prefix, *self.command]
        return [*self.exec_prefix, sys.executable, "-m", self.module]


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
class Tls:
    """The run's certificate files (components/supervisor/pki.py names them so)."""

    pki_dir: Path

    @property
    def ca_file(self) -> Path:
        return self.pki_dir / "ca.pem"

    def files(self, instance: str) -> tuple[Path, Path]:
        """The certificate and key of one process."""
        return self.pki_dir / f"{instance}.pem", self.pki_dir / f"{instance}-key.pem"

    def env(self, instance: str) -> dict[str, str]:
        cert, key = self.files(instance)
        return {
            "STRATUS_TLS_CA_FILE": str(self.ca_file),
            "STRATUS_TLS_CERT_FILE": str(cert),
            "STRATUS_TLS_KEY_FILE": str(key),
        }


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
    # Where each process runs (Loopback: this machine; a Rack: machines of their own).
    machines: Machines = dataclasses.field(default_factory=Loopback)
    # Processes of each of api, scheduler and conductor (more than 1 only with machines).
    replicas: int = 1
    # Certificates for every process (None: plaintext on loopback).
    tls: Tls | None = None
    # Database name -> URL (empty: each component's SQLite file in data_dir).
    database_urls: dict[str, str] = dataclasses.field(default_factory=dict)
    # Component -> the machine it runs on, if not the controller (real guests across
    # machines: the network service on machine "network").
    placement: dict[str, str] = dataclasses.field(default_factory=dict)
    # Component -> settings of its processes beyond the common ones (wiring.py).
    component_env: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    # Compute host -> its settings beyond compute_env (its own libvirtd, tunnel address).
    host_env: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)

    def port(self, name: str) -> int:
        return DEFAULT_PORTS[name] + self.port_offset

    def internal_port(self, name: str) -> int:
        if self.tls is None or name in SERVICE_ONLY:
            return 0
        return self.port(name) + INTERNAL_PORT_STEP

    def instances(self, name: str) -> list[str]:
        """``api``, ``api-2``, ...: the processes of one component."""
        count = self.replicas if name in REPLICATED else 1
        return [name if r == 1 else f"{name}-{r}" for r in range(1, count + 1)]

    def machine_of(self, name: str) -> str:
        """The machine the processes of component ``name`` run on."""
        return self.placement.get(name, CONTROLLER)

    def _specs_of(self, name: str) -> list[ProcessSpec]:
        """Where each process of ``name`` listens (before its environment is known)."""
        machine = self.machine_of(name)
        return [
            ProcessSpec(
                instance,
                f"components.{name}",
                self.port(name),
                {},
                host=self.machines.address(machine, index),
                machine=machine,
                exec_prefix=tuple(self.machines.exec_prefix(machine)),
                service=name,
                internal_port=self.internal_port(name),
            )
            for index, instance in enumerate(self.instances(name))
        ]

    def _catalog(self, internal: bool) -> str:
        """``api=a:p|b:p,...``: every process of each type, public or internal addresses."""
        entries = []
        for name in DEFAULT_PORTS:
            specs = self._specs_of(name)
            if internal and not specs[0].internal_port:
                continue
            pick = (lambda s: s.internal_address) if internal else (lambda s: s.address)
            entries.append(f"{name}={'|'.join(pick(s) for s in specs)}")
        return ",".join(entries)

    def catalog(self) -> str:
        return self._catalog(internal=False)

    def identity_address(self, internal: bool = True) -> str:
        (identity,) = self._specs_of("identity")
        return identity.internal_address if internal else identity.address

    def base_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            STRATUS_DATA_DIR=str(self.data_dir),
            STRATUS_IDENTITY_ADDRESS=self.identity_address(),
            STRATUS_IDENTITY_CATALOG_ENDPOINTS=self.catalog(),
            STRATUS_IDENTITY_CATALOG_INTERNAL_ENDPOINTS=self._catalog(internal=True),
            PYTHONUNBUFFERED="1",
        )
        if self.tls is not None:
            env["STRATUS_TLS_CA_FILE"] = str(self.tls.ca_file)
        env.update(self.extra_env)
        return env

    def _env_of(self, spec: ProcessSpec, database: str | None) -> dict[str, str]:
        env = self.base_env()
        env[f"STRATUS_{spec.service.upper()}_PORT"] = str(spec.port)
        env[f"STRATUS_{spec.service.upper()}_HOST"] = spec.host
        if spec.internal_port:
            env[f"STRATUS_{spec.service.upper()}_INTERNAL_PORT"] = str(spec.internal_port)
        if self.tls is not None:
            env.update(self.tls.env(spec.name))
        if database and database in self.database_urls:
            env[f"STRATUS_{spec.service.upper()}_DATABASE_URL"] = self.database_urls[database]
        env.update(self.component_env.get(spec.service, {}))
        return env

    def components(self) -> list[ProcessSpec]:
        specs = []
        for name in ORDER:
            for spec in self._specs_of(name):
                specs.append(dataclasses.replace(spec, env=self._env_of(spec, DATABASES[name])))
        return specs

    def dashboard(self) -> ProcessSpec:
        """The web dashboard, on the controller's first address (like api). It signs users
        in at identity's public address and calls the catalog's public endpoints."""
        machine = self.machine_of(DASHBOARD)
        spec = ProcessSpec(
            DASHBOARD,
            f"components.{DASHBOARD}",
            DASHBOARD_PORT + self.port_offset,
            {},
            http_health=DASHBOARD_HEALTH,
            host=self.machines.address(machine),
            machine=machine,
            exec_prefix=tuple(self.machines.exec_prefix(machine)),
            service=DASHBOARD,
        )
        env = self._env_of(spec, None)
        env["STRATUS_DASHBOARD_IDENTITY_URL"] = self.identity_address(internal=False)
        return dataclasses.replace(spec, env=env)

    def dashboard_url(self) -> str:
        """Where a browser opens the dashboard: ``http://127.0.0.1:8080/`` (https with TLS)."""
        scheme = "http" if self.tls is None else "https"
        return f"{scheme}://{self.dashboard().address}/"

    def processes(self) -> list[ProcessSpec]:
        """Every process of the cloud in the order run-all starts them: the components,
        the compute hosts, and last the dashboard (users need the cloud up behind it)."""
        return [*self.components(), *self.computes(), self.dashboard()]

    def host_names(self) -> list[str]:
        return [f"compute-{index}" for index in range(1, self.compute_hosts + 1)]

    def test_node_path(self, host: str) -> Path:
        """The node definition of a test host: <data_dir>/compute/<host>/test-node.xml."""
        return self.data_dir / "compute" / host / "test-node.xml"

    def test_node_files(self) -> dict[Path, str]:
        """What each test host is made from (nothing when libvirt_uri names a libvirt)."""
        if self.libvirt_uri or LIBVIRT_URI in self.compute_env:
            return {}
        vcpus = self.host_size.vcpus or TEST_HOST_VCPUS
        ram_mib = self.host_size.ram_mib or TEST_HOST_RAM_MIB
        node = empty_host_xml(vcpus, ram_mib)
        return {
            self.test_node_path(host): node
            for host in self.host_names()
            if LIBVIRT_URI not in self.host_env.get(host, {})
        }

    def computes(self) -> list[ProcessSpec]:
        specs = []
        on_loopback = isinstance(self.machines, Loopback)
        for index, host in enumerate(self.host_names()):
            # One machine: the hosts share loopback, so each has a port of its own.
            port = COMPUTE_PORT + self.port_offset + (index * 10 if on_loopback else 0)
            spec = ProcessSpec(
                host,
                "components.compute",
                port,
                {},
                host=self.machines.address(host),
                machine=host,
                exec_prefix=tuple(self.machines.exec_prefix(host)),
                service="compute",
            )
            env = self._env_of(spec, None)
            env.update(
                STRATUS_COMPUTE_HOST_NAME=host,
                STRATUS_COMPUTE_LIBVIRT_URI=self.libvirt_uri
                or f"test://{self.test_node_path(host)}",
            )
            env.update(self.host_size.env())
            env.update(self.compute_env)
            env.update(self.host_env.get(host, {}))
            specs.append(dataclasses.replace(spec, env=env))
        return specs
