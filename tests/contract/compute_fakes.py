"""The far side of the compute host's contracts: conductor, image, network and volume.

Each fake keeps just enough state to answer the host as the real service
would (compare-and-swap task states, port bindings, the volume status machine),
records every call with the token it carried into one journal shared by all
fakes (so a test can check the order of undo steps across services), and can
be told to fail its next call of a method, in the manner of cri-api's fake
runtime.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterator

from components.framework import auth, errors
from components.framework.clock import utcnow
from components.framework.convert import timestamp
from components.framework.server import Service
from stratus.conductor.v1 import conductor_service_pb2 as cond_pb2
from stratus.conductor.v1 import conductor_service_pb2_grpc as cond_grpc
from stratus.image.v1 import image_service_pb2 as image_pb2
from stratus.image.v1 import image_service_pb2_grpc as image_grpc
from stratus.network.v1 import network_service_pb2 as net_pb2
from stratus.network.v1 import network_service_pb2_grpc as net_grpc
from stratus.type.v1 import instance_state_pb2
from stratus.volume.v1 import volume_service_pb2 as vol_pb2
from stratus.volume.v1 import volume_service_pb2_grpc as vol_grpc
from tests.harness import StaticValidator, caller, serving

PROJECT = "5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f"
USER_TOKEN = "user-token"
SERVICE_TOKEN = "service-token"
FAKE_VALIDATOR = StaticValidator(
    {
        USER_TOKEN: caller(["member"], project_id=PROJECT, token=USER_TOKEN),
        SERVICE_TOKEN: caller(["service"], project_id="service", token=SERVICE_TOKEN),
    }
)
CHUNK = 64 * 1024
Instance = cond_pb2.InstanceInfo


@dataclasses.dataclass(frozen=True)
class Call:
    service: str
    method: str
    request: object
    token: str


class Journal:
    """Every call to every fake, in order, and a way to wait for one."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.changed = threading.Condition()

    def add(self, call: Call) -> None:
        with self.changed:
            self.calls.append(call)
            self.changed.notify_all()

    def wait_for(self, predicate: Callable[[], object], timeout: float = 10.0):
        """Wait until ``predicate()`` holds: woken by each call, and polling for what
        changes without one (libvirt domains, files)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not (found := predicate()):
                remaining = deadline - time.monotonic()
                assert remaining > 0, "timed out waiting for the compute host"
                self.changed.wait(min(remaining, 0.05))
        return found

    def methods(self, service: str | None = None) -> list[str]:
        return [c.method for c in self.calls if service in (None, c.service)]


class Fake:
    """Recording and fail-next, shared by every fake."""

    service = ""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.fail_next: dict[str, errors.StratusError] = {}
        # (method, predicate on the request, error): fail every matching call.
        self.fail_when: list[tuple[str, Callable[[object], bool], errors.StratusError]] = []
        self.lock = threading.RLock()

    def record(self, method: str, request) -> None:
        self.journal.add(Call(self.service, method, request, auth.caller().token))
        with self.lock:
            error = self.fail_next.pop(method, None)
            for name, matches, failure in self.fail_when:
                if error is None and name == method and matches(request):
                    error = failure
        if error is not None:
            raise error

    def calls(self, method: str) -> list:
        return [
            c.request
            for c in self.journal.calls
            if c.service == self.service and c.method == method
        ]

    def tokens(self) -> set[str]:
        return {c.token for c in self.journal.calls if c.service == self.service}


# -- conductor --------------------------------------------------------------------------


class FakeConductor(cond_grpc.ConductorServicer, Fake):
    service = "conductor"

    def __init__(self, journal: Journal) -> None:
        Fake.__init__(self, journal)
        self.instances: dict[str, Instance] = {}
        self.casts: list[cond_pb2.ConductorCast] = []
        # Called with each UpdateInstanceRequest before it is applied (to race the host).
        self.before_update: Callable[[cond_pb2.UpdateInstanceRequest], None] | None = None

    def add(self, instance: Instance) -> Instance:
        with self.lock:
            self.instances[instance.id] = instance
        return instance

    def get(self, instance_id: str) -> Instance:
        with self.lock:
            copy = Instance()
            copy.CopyFrom(self.instances[instance_id])
            return copy

    def set_task(self, instance_id: str, task: int) -> None:
        with self.lock:
            self.instances[instance_id].task_state = task

    def GetInstance(self, request, context):
        self.record("GetInstance", request)
        with self.lock:
            if request.instance_id not in self.instances:
                raise errors.NotFound(f"no instance {request.instance_id}")
            return self.get(request.instance_id)

    def UpdateInstance(self, request, context):
        self.record("UpdateInstance", request)
        if self.before_update is not None:
            self.before_update(request)
        with self.lock:
            row = self.instances.get(request.instance_id)
            if row is None or row.vm_state == instance_state_pb2.VM_STATE_DELETED:
                raise errors.NotFound(f"no instance {request.instance_id}")
            if request.HasField("expected_task_state") and (
                row.task_state != request.expected_task_state
            ):
                raise errors.FailedPrecondition(
                    "task state changed", reason="UNEXPECTED_TASK_STATE"
                )
            for path in request.update_mask.paths:
                _copy_field(request, row, path)
            row.update_time.CopyFrom(timestamp(utcnow()))
            return self.get(row.id)

    def AddInstanceFault(self, request, context):
        self.record("AddInstanceFault", request)
        if request.instance_id not in self.instances:
            raise errors.NotFound(f"no instance {request.instance_id}")
        return cond_pb2.AddInstanceFaultResponse()

    def ReportComputeNode(self, request, context):
        self.record("ReportComputeNode", request)
        return cond_pb2.ReportComputeNodeResponse(enabled=True)

    def ListHostInstances(self, request, context):
        self.record("ListHostInstances", request)
        with self.lock:
            found = [
                self.get(i.id)
                for i in self.instances.values()
                if i.host == request.host and i.vm_state != instance_state_pb2.VM_STATE_DELETED
            ]
        return cond_pb2.ListHostInstancesResponse(instances=found)

    def Casts(self, request_iterator, context):
        received = 0
        for message in request_iterator:
            received += 1
            with self.lock:
                self.casts.append(message)
            self.record("Casts", message)
        return cond_pb2.CastsSummary(received=received)

    def casts_of(self, kind: str, instance_id: str) -> list:
        with self.lock:
            return [
                getattr(c, kind)
                for c in self.casts
                if c.WhichOneof("cast") == kind and getattr(c, kind).instance_id == instance_id
            ]

    def updates(self, instance_id: str) -> list[cond_pb2.UpdateInstanceRequest]:
        return [u for u in self.calls("UpdateInstance") if u.instance_id == instance_id]


def _copy_field(source, target, path: str) -> None:
    value = getattr(source, path)
    if path in ("addresses", "volumes"):
        del getattr(target, path)[:]
        getattr(target, path).extend(value)
    elif path == "launched_time":
        target.launched_time.CopyFrom(value)
    else:
        setattr(target, path, value)


# -- image ------------------------------------------------------------------------------


class FakeImages(image_grpc.ImagesServicer, Fake):
    service = "image"

    def __init__(self, journal: Journal) -> None:
        Fake.__init__(self, journal)
        self.images: dict[str, tuple[image_pb2.Image, bytes]] = {}

    def add(self, data: bytes, checksum: str | None = None, disk_format: str = "raw") -> str:
        image_id = str(uuid.uuid4())
        record = image_pb2.Image(
            id=image_id,
            status=image_pb2.Image.STATUS_ACTIVE,
            disk_format=getattr(image_pb2.Image, f"DISK_FORMAT_{disk_format.upper()}"),
            project_id=PROJECT,
            size_bytes=len(data),
            virtual_size_bytes=len(data),
            checksum=checksum or hashlib.md5(data, usedforsecurity=False).hexdigest(),
        )
        self.images[image_id] = (record, data)
        return image_id

    def _find(self, image_id: str) -> tuple[image_pb2.Image, bytes]:
        if image_id not in self.images:
            raise errors.NotFound(f"no image {image_id}")
        return self.images[image_id]

    def GetImage(self, request, context):
        self.record("GetImage", request)
        return self._find(request.image_id)[0]

    def DownloadImage(self, request, context):
        self.record("DownloadImage", request)
        _, data = self._find(request.image_id)
        for offset in range(0, len(data), CHUNK):
            yield image_pb2.DownloadImageResponse(
                chunk=data[offset : offset + CHUNK], offset_bytes=offset
            )


# -- network ----------------------------------------------------------------------------


class FakeNetwork(net_grpc.NetworkServicer, Fake):
    service = "network"

    def __init__(self, journal: Journal) -> None:
        Fake.__init__(self, journal)
        self.networks: dict[str, net_pb2.VirtualNetwork] = {}
        self.ports: dict[str, net_pb2.Port] = {}
        self._numbers = itertools.count(10)
        # Tunnel endpoints by host, and each network's VXLAN VNI.
        self.endpoints: dict[str, str] = {}
        self.vnis: dict[str, int] = {}
        self._vnis = itertools.count(7001)
        # The subnet every fake port's fixed IP is on.
        self.subnets: dict[str, net_pb2.Subnet] = {
            "s-1": net_pb2.Subnet(
                id="s-1",
                cidr="10.0.0.0/24",
                ip_version=4,
                gateway_ip="10.0.0.1",
                dns_nameservers=["10.0.0.2"],
                enable_dhcp=False,
            )
        }

    def add_network(self, name: str = "private", mtu: int = 1450) -> str:
        network_id = str(uuid.uuid4())
        self.networks[network_id] = net_pb2.VirtualNetwork(
            id=network_id, name=name, project_id=PROJECT, admin_state_up=True, mtu=mtu
        )
        self.vnis[network_id] = next(self._vnis)
        return network_id

    def add_port(self, network_id: str, **fields) -> str:
        port = self._new_port(network_id)
        for name, value in fields.items():
            setattr(port, name, value)
        return port.id

    def _new_port(self, network_id: str) -> net_pb2.Port:
        n = next(self._numbers)
        port = net_pb2.Port(
            id=str(uuid.uuid4()),
            project_id=PROJECT,
            network_id=network_id,
            mac_address=f"fa:16:3e:00:00:{n:02x}",
            fixed_ips=[net_pb2.Port.FixedIp(subnet_id="s-1", ip_address=f"10.0.0.{n}")],
            status=net_pb2.Port.STATUS_DOWN,
        )
        with self.lock:
            self.ports[port.id] = port
        return port

    def _port(self, port_id: str) -> net_pb2.Port:
        if port_id not in self.ports:
            raise errors.NotFound(f"no port {port_id}")
        return self.ports[port_id]

    def GetNetwork(self, request, context):
        self.record("GetNetwork", request)
        if request.network_id not in self.networks:
            raise errors.NotFound(f"no network {request.network_id}")
        return self.networks[request.network_id]

    def CreatePort(self, request, context):
        self.record("CreatePort", request)
        if request.network_id not in self.networks:
            raise errors.NotFound(f"no network {request.network_id}")
        port = self._new_port(request.network_id)
        port.device_id, port.device_owner = request.device_id, request.device_owner
        port.binding_host_id = request.binding_host_id
        return port

    def GetPort(self, request, context):
        self.record("GetPort", request)
        return self._port(request.port_id)

    def GetSubnet(self, request, context):
        self.record("GetSubnet", request)
        if request.subnet_id not in self.subnets:
            raise errors.NotFound(f"no subnet {request.subnet_id}")
        return self.subnets[request.subnet_id]

    def UpdatePort(self, request, context):
        self.record("UpdatePort", request)
        with self.lock:
            port = self._port(request.port.id)
            if request.HasField("expected_device_id") and (
                port.device_id != request.expected_device_id
            ):
                raise errors.FailedPrecondition(
                    f"port {port.id} is bound to {port.device_id!r}", reason="DEVICE_CHANGED"
                )
            paths = set(request.update_mask.paths)
            new_device = request.port.device_id
            if "device_id" in paths and new_device and port.device_id not in ("", new_device):
                raise errors.FailedPrecondition(f"port {port.id} is in use")
            for path in paths:
                setattr(port, path, getattr(request.port, path))
            return port

    def DeletePort(self, request, context):
        self.record("DeletePort", request)
        with self.lock:
            self._port(request.port_id)
            del self.ports[request.port_id]
        return net_pb2.DeletePortResponse()

    def ListPorts(self, request, context):
        self.record("ListPorts", request)
        with self.lock:
            found = [
                p
                for p in self.ports.values()
                if not request.device_id or p.device_id == request.device_id
            ]
        return net_pb2.ListPortsResponse(ports=found)

    def RegisterTunnelEndpoint(self, request, context):
        self.record("RegisterTunnelEndpoint", request)
        with self.lock:
            self.endpoints[request.host] = request.ip_address
        return net_pb2.TunnelEndpoint(host=request.host, ip_address=request.ip_address)

    def GetNetworkSegment(self, request, context):
        """The network's VNI and the endpoints of the hosts its ports are bound to."""
        self.record("GetNetworkSegment", request)
        with self.lock:
            if request.network_id not in self.networks:
                raise errors.NotFound(f"no network {request.network_id}")
            hosts = sorted(
                {
                    p.binding_host_id
                    for p in self.ports.values()
                    if p.network_id == request.network_id and p.binding_host_id
                }
            )
            return net_pb2.NetworkSegment(
                network_id=request.network_id,
                network_type="vxlan",
                segmentation_id=self.vnis[request.network_id],
                mtu=self.networks[request.network_id].mtu,
                tunnel_endpoints=[
                    net_pb2.TunnelEndpoint(host=h, ip_address=self.endpoints[h])
                    for h in hosts
                    if h in self.endpoints
                ],
            )


# -- volume -----------------------------------------------------------------------------


class FakeVolumes(vol_grpc.VolumesServicer, Fake):
    service = "volume"

    def __init__(self, journal: Journal, directory) -> None:
        Fake.__init__(self, journal)
        self.directory = directory
        self.volumes: dict[str, vol_pb2.Volume] = {}
        # "file": connection info names the volume's file; "nbd": an export per attachment.
        self.transport = "file"

    def add(self) -> str:
        volume_id = str(uuid.uuid4())
        (self.directory / volume_id).write_bytes(b"\0" * 4096)
        self.volumes[volume_id] = vol_pb2.Volume(
            id=volume_id, project_id=PROJECT, size_gib=1, status=vol_pb2.Volume.STATUS_AVAILABLE
        )
        return volume_id

    def status(self, volume_id: str) -> str:
        return vol_pb2.Volume.Status.Name(self.volumes[volume_id].status)

    def _volume(self, volume_id: str) -> vol_pb2.Volume:
        if volume_id not in self.volumes:
            raise errors.NotFound(f"no volume {volume_id}")
        return self.volumes[volume_id]

    def ReserveVolume(self, request, context):
        self.record("ReserveVolume", request)
        with self.lock:
            volume = self._volume(request.volume_id)
            if volume.status == vol_pb2.Volume.STATUS_AVAILABLE:
                volume.status = vol_pb2.Volume.STATUS_RESERVED
                volume.reserved_instance_id = request.instance_id
            elif volume.reserved_instance_id != request.instance_id:
                raise errors.FailedPrecondition(f"volume {volume.id} is not available")
            return vol_pb2.ReserveVolumeResponse(volume=volume)

    def UnreserveVolume(self, request, context):
        self.record("UnreserveVolume", request)
        with self.lock:
            volume = self._volume(request.volume_id)
            if volume.status == vol_pb2.Volume.STATUS_RESERVED:
                if request.instance_id not in ("", volume.reserved_instance_id):
                    raise errors.FailedPrecondition("reserved for another instance")
                volume.status = vol_pb2.Volume.STATUS_AVAILABLE
                volume.reserved_instance_id = ""
            elif volume.status != vol_pb2.Volume.STATUS_AVAILABLE:
                raise errors.FailedPrecondition(f"volume {volume.id} is attached")
            return vol_pb2.UnreserveVolumeResponse(volume=volume)

    def AttachVolume(self, request, context):
        self.record("AttachVolume", request)
        with self.lock:
            volume = self._volume(request.volume_id)
            attached = [a.instance_id for a in volume.attachments]
            if attached != [request.instance_id]:
                if volume.status not in (
                    vol_pb2.Volume.STATUS_AVAILABLE,
                    vol_pb2.Volume.STATUS_RESERVED,
                ) or volume.reserved_instance_id not in ("", request.instance_id):
                    raise errors.FailedPrecondition(f"volume {volume.id} cannot be attached")
                volume.status = vol_pb2.Volume.STATUS_IN_USE
                volume.reserved_instance_id = ""
                volume.attachments.add(
                    id=str(uuid.uuid4()),
                    instance_id=request.instance_id,
                    host=request.host,
                    device=request.device,
                )
            return vol_pb2.AttachVolumeResponse(
                attachment_id=volume.attachments[0].id,
                connection_info=self._connection(volume),
                volume=volume,
            )

    def _connection(self, volume: vol_pb2.Volume) -> vol_pb2.ConnectionInfo:
        if self.transport == "nbd":
            return vol_pb2.ConnectionInfo(
                driver_volume_type="nbd",
                format="raw",
                host="10.254.0.30",
                port=10809,
                export_name=f"export-{volume.attachments[0].id}",
                tls=True,
            )
        return vol_pb2.ConnectionInfo(
            driver_volume_type="file", path=str(self.directory / volume.id), format="raw"
        )

    def DetachVolume(self, request, context):
        self.record("DetachVolume", request)
        with self.lock:
            volume = self._volume(request.volume_id)
            if [a.instance_id for a in volume.attachments] == [request.instance_id]:
                del volume.attachments[:]
                volume.status = vol_pb2.Volume.STATUS_AVAILABLE
            return vol_pb2.DetachVolumeResponse(volume=volume)


# -- serving them -----------------------------------------------------------------------


def _open_policy(pb2, short: str) -> auth.Policy:
    service = pb2.DESCRIPTOR.services_by_name[short]
    return auth.Policy.of(
        {service.full_name: {m.name: auth.authenticated for m in service.methods}}
    )


@dataclasses.dataclass
class Fakes:
    journal: Journal
    conductor: FakeConductor
    images: FakeImages
    network: FakeNetwork
    volumes: FakeVolumes
    endpoints: dict[str, str]


@contextlib.contextmanager
def serving_fakes(volume_dir) -> Iterator[Fakes]:
    journal = Journal()
    fakes = Fakes(
        journal=journal,
        conductor=FakeConductor(journal),
        images=FakeImages(journal),
        network=FakeNetwork(journal),
        volumes=FakeVolumes(journal, volume_dir),
        endpoints={},
    )
    served = [
        ("conductor", fakes.conductor, cond_pb2, cond_grpc, "Conductor"),
        ("image", fakes.images, image_pb2, image_grpc, "Images"),
        ("network", fakes.network, net_pb2, net_grpc, "Network"),
        ("volume", fakes.volumes, vol_pb2, vol_grpc, "Volumes"),
    ]
    with contextlib.ExitStack() as stack:
        for kind, fake, pb2, pb2_grpc, short in served:
            service = Service.of(fake, pb2, pb2_grpc, short)
            _, port = stack.enter_context(
                serving([service], _open_policy(pb2, short), FAKE_VALIDATOR, component=kind)
            )
            fakes.endpoints[kind] = f"127.0.0.1:{port}"
        yield fakes
