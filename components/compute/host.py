"""The compute host: its settings, its hypervisor, its files and the services it talks to."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

from components.compute.accelerator import resolve_domain_type
from components.compute.conductor import Conductor
from components.compute.config import ComputeConfig
from components.compute.domain_xml import NIC_TYPES, Nic
from components.compute.faults import Fault
from components.compute.image_cache import ImageCache
from components.compute.libvirt_driver import LibvirtDriver
from components.compute.network import PluggedPort, Ports
from components.compute.segments import BridgeNetworks, NetworkSegments, bridge_networks
from components.compute.volumes import Volumes
from components.framework import ImageClient, InvalidArgument, KeyedExecutor, Retry
from stratus.image.v1 import image_service_pb2_grpc as image_grpc
from stratus.network.v1 import network_service_pb2_grpc as net_grpc
from stratus.volume.v1 import volume_service_pb2_grpc as vol_grpc

WILDCARD_ADDRESSES = ("", "0.0.0.0", "::", "[::]")


class UnpluggedNics:
    """NICs the host plugs nowhere: an "ethernet" tap is left to a network agent, a "user"
    NIC needs nothing (the same methods as BridgeNetworks, doing nothing)."""

    # Nothing to plug again before a guest starts.
    enabled = False

    def nic(self, port: PluggedPort) -> Nic:
        return Nic(port.port_id, port.mac_address, port.mtu)

    def plug(self, port: PluggedPort) -> None:
        pass

    def unplug(self, network_id: str, mac_address: str) -> None:
        pass


@dataclasses.dataclass
class Host:
    config: ComputeConfig
    driver: LibvirtDriver
    conductor: Conductor
    images: ImageClient
    ports: Ports
    volumes: Volumes
    cache: ImageCache
    # Every cast and every reconciliation of an instance runs here, one at a time
    # per instance id, so a build and its cleanup never overlap.
    executor: KeyedExecutor
    # <data_dir>/compute/<host name>
    root: Path
    # Where real guests' NICs are plugged: VXLAN-backed bridges (nic_type "bridge"),
    # or nowhere ("ethernet", "user").
    networks: BridgeNetworks | UnpluggedNics
    # The <domain type> of the guests: the configured one, or the probe's choice.
    domain_type: str = "qemu"
    port: int = 0
    started: float = dataclasses.field(default_factory=time.monotonic)
    # Instances whose build this process handled: the reconciler leaves their
    # fate to the conductor (it may be rescheduling them right now).
    handled_builds: set[str] = dataclasses.field(default_factory=set)
    # Builds that failed here: instance id -> (claim id, fault, monotonic time), so
    # the reconciler can report a failure again if the conductor never got it.
    failed_builds: dict[str, tuple[str, Fault, float]] = dataclasses.field(default_factory=dict)
    # Failed builds whose undo could not release everything (a service was down):
    # the reconciler tries again.
    unreleased: set[str] = dataclasses.field(default_factory=set)
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    @property
    def name(self) -> str:
        return self.config.host_name

    @property
    def address(self) -> str:
        """Where other components reach this host's Compute service."""
        if self.config.advertised_address:
            return self.config.advertised_address
        bind = self.config.host
        if bind in WILDCARD_ADDRESSES:
            bind = "127.0.0.1"
        elif ":" in bind and not bind.startswith("["):
            bind = f"[{bind}]"  # an IPv6 address: host:port needs the brackets
        return f"{bind}:{self.port}"

    @property
    def availability_zone(self) -> str:
        return self.config.availability_zone

    def instance_dir(self, instance_id: str) -> Path:
        return self.root / "instances" / instance_id

    def mark_build_handled(self, instance_id: str) -> None:
        with self._lock:
            self.handled_builds.add(instance_id)

    def build_was_handled(self, instance_id: str) -> bool:
        with self._lock:
            return instance_id in self.handled_builds

    def forget_builds_except(self, instance_ids: set[str]) -> None:
        with self._lock:
            self.handled_builds &= instance_ids
            for gone in set(self.failed_builds) - instance_ids:
                del self.failed_builds[gone]

    def remember_unreleased(self, instance_id: str) -> None:
        with self._lock:
            self.unreleased.add(instance_id)

    def take_unreleased(self, instance_id: str) -> bool:
        """Whether the instance's failed build left something to release (forgotten now)."""
        with self._lock:
            found = instance_id in self.unreleased
            self.unreleased.discard(instance_id)
            return found

    def remember_failure(self, instance_id: str, claim_id: str, fault: Fault) -> None:
        with self._lock:
            self.failed_builds[instance_id] = (claim_id, fault, time.monotonic())

    def failed_here(self, instance_id: str, claim_id: str) -> bool:
        """Whether this claim's build failed on this host (and was reported)."""
        with self._lock:
            found = self.failed_builds.get(instance_id)
        return found is not None and found[0] == claim_id

    def failure_to_resend(self, instance_id: str, claim_id: str) -> Fault | None:
        """The fault of this claim's failed build, if reported long enough ago that the
        conductor should have acted on it (its cast may have been lost)."""
        with self._lock:
            found = self.failed_builds.get(instance_id)
        if found is None or found[0] != claim_id:
            return None
        age = time.monotonic() - found[2]
        return found[1] if age >= self.config.failure_resend_seconds else None

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        self.conductor.close()
        self.driver.close()


def build_host(runtime) -> Host:
    """The host of a running component, from its config and clients."""
    config: ComputeConfig = runtime.config
    clients = runtime.clients
    root = Path(config.data_dir) / "compute" / config.host_name
    # First: a wrong nic_type or missing underlay setting stops the host before it opens anything.
    networks = _guest_networks(runtime, root)
    cache = ImageCache(root / "_base")
    cache.clean_partial()
    driver = LibvirtDriver(config.libvirt_uri)
    ports = Ports(lambda: clients.stub(net_grpc.NetworkStub, "network"))
    return Host(
        config=config,
        driver=driver,
        conductor=Conductor(clients, config.host_name, Retry(config.conductor_retry_seconds)),
        images=ImageClient(lambda: clients.stub(image_grpc.ImagesStub, "image")),
        ports=ports,
        volumes=Volumes(lambda: clients.stub(vol_grpc.VolumesStub, "volume")),
        cache=cache,
        executor=KeyedExecutor(max_workers=config.cast_workers, name="compute-cast"),
        root=root,
        networks=networks,
        domain_type=resolve_domain_type(config.domain_type, config.libvirt_uri),
    )


def _guest_networks(runtime, root: Path) -> BridgeNetworks | UnpluggedNics:
    """What plugs the guests' NICs, by nic_type; InvalidArgument for an unknown one."""
    config: ComputeConfig = runtime.config
    if config.nic_type not in NIC_TYPES:
        raise InvalidArgument(
            f"nic_type (STRATUS_COMPUTE_NIC_TYPE) must be one of {', '.join(NIC_TYPES)}, "
            f"not {config.nic_type!r}",
            field="nic_type",
        )
    if config.nic_type != "bridge":
        return UnpluggedNics()
    # Segments and endpoints are the cloud's underlay: the host's own identity reads them.
    segments = NetworkSegments(
        lambda: runtime.clients.stub(net_grpc.NetworkStub, "network", as_service=True)
    )
    return bridge_networks(
        segments,
        host_name=config.host_name,
        tunnel_ip=config.tunnel_ip,
        underlay_device=config.underlay_device,
        namespace=config.network_namespace,
        root=root,
    )
