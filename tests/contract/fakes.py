"""Recording fakes for the far side of a contract (never for the component under test).

Each fake records the requests it got and can be told to fail its next call
with a status code, in the manner of cri-api's fake runtime.
"""

from __future__ import annotations

import threading

import grpc

from components.framework import errors
from stratus.compute.v1 import compute_service_pb2 as compute_pb2
from stratus.compute.v1 import compute_service_pb2_grpc as compute_grpc
from stratus.image.v1 import image_service_pb2 as image_pb2
from stratus.image.v1 import image_service_pb2_grpc as image_grpc
from stratus.network.v1 import network_service_pb2 as network_pb2
from stratus.network.v1 import network_service_pb2_grpc as network_grpc
from stratus.scheduler.v1 import scheduler_service_pb2 as scheduler_pb2
from stratus.scheduler.v1 import scheduler_service_pb2_grpc as scheduler_grpc
from stratus.volume.v1 import volume_service_pb2 as volume_pb2
from stratus.volume.v1 import volume_service_pb2_grpc as volume_grpc


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []
        self.fail_next: dict[str, errors.StratusError] = {}
        # Failures of every call to a method, until removed.
        self.failing: dict[str, errors.StratusError] = {}
        self.lock = threading.Lock()

    def record(self, name: str, request) -> None:
        with self.lock:
            self.calls.append((name, request))
            error = self.fail_next.pop(name, None) or self.failing.get(name)
        if error is not None:
            raise error

    def named(self, name: str) -> list:
        return [r for n, r in self.calls if n == name]


class FakeImages(image_grpc.ImagesServicer, Recorder):
    def __init__(self) -> None:
        Recorder.__init__(self)
        self.images: dict[str, image_pb2.Image] = {}

    def add(self, image_id: str, **fields) -> None:
        fields.setdefault("status", image_pb2.Image.STATUS_ACTIVE)
        self.images[image_id] = image_pb2.Image(id=image_id, name=f"img-{image_id[:4]}", **fields)

    def GetImage(self, request, context):
        self.record("GetImage", request)
        if request.image_id not in self.images:
            raise errors.NotFound(f"no image {request.image_id}")
        return self.images[request.image_id]


class FakeNetwork(network_grpc.NetworkServicer, Recorder):
    def __init__(self) -> None:
        Recorder.__init__(self)
        self.networks: set[str] = set()
        self.ports: dict[str, network_pb2.Port] = {}

    def GetNetwork(self, request, context):
        self.record("GetNetwork", request)
        if request.network_id not in self.networks:
            raise errors.NotFound(f"no network {request.network_id}")
        return network_pb2.VirtualNetwork(id=request.network_id, name="net")

    def GetPort(self, request, context):
        self.record("GetPort", request)
        if request.port_id not in self.ports:
            raise errors.NotFound(f"no port {request.port_id}")
        return self.ports[request.port_id]

    def ListPorts(self, request, context):
        self.record("ListPorts", request)
        found = [p for p in self.ports.values() if p.device_id == request.device_id]
        return network_pb2.ListPortsResponse(ports=found)

    def DeletePort(self, request, context):
        self.record("DeletePort", request)
        if self.ports.pop(request.port_id, None) is None:
            raise errors.NotFound(f"no port {request.port_id}")
        return network_pb2.DeletePortResponse()

    def UpdatePort(self, request, context):
        self.record("UpdatePort", request)
        port = self.ports[request.port.id]
        for path in request.update_mask.paths:
            setattr(port, path, getattr(request.port, path))
        return port


class FakeVolumes(volume_grpc.VolumesServicer, Recorder):
    def __init__(self) -> None:
        Recorder.__init__(self)
        self.volumes: dict[str, int] = {}

    def GetVolume(self, request, context):
        self.record("GetVolume", request)
        if request.volume_id not in self.volumes:
            raise errors.NotFound(f"no volume {request.volume_id}")
        return volume_pb2.Volume(id=request.volume_id, status=self.volumes[request.volume_id])

    def DetachVolume(self, request, context):
        self.record("DetachVolume", request)
        return volume_pb2.DetachVolumeResponse()

    def UnreserveVolume(self, request, context):
        self.record("UnreserveVolume", request)
        return volume_pb2.UnreserveVolumeResponse()


class FakeScheduler(scheduler_grpc.SchedulerServicer, Recorder):
    """Places every instance on ``host`` (writing the database as the real one does)."""

    def __init__(self, place=None) -> None:
        Recorder.__init__(self)
        self.place = place

    def SelectDestinations(self, request, context):
        self.record("SelectDestinations", request)
        if self.place is not None:
            self.place(request)
        return scheduler_pb2.SelectDestinationsResponse(
            selection=scheduler_pb2.Selection(host="fake-host")
        )


class FakeCompute(compute_grpc.ComputeServicer, Recorder):
    def __init__(self) -> None:
        Recorder.__init__(self)
        self.casts: list[compute_pb2.ComputeCast] = []
        self.arrived = threading.Condition()

    def Casts(self, request_iterator, context):
        count = 0
        for message in request_iterator:
            count += 1
            with self.arrived:
                self.casts.append(message)
                self.arrived.notify_all()
        return compute_pb2.CastsSummary(received=count)

    def wait_for(self, count: int, timeout: float = 5.0) -> list:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.casts) >= count, timeout)
            return list(self.casts)

    def GetConsoleOutput(self, request, context):
        self.record("GetConsoleOutput", request)
        return compute_pb2.GetConsoleOutputResponse(output=f"console of {request.instance_id}")


def code(error: grpc.RpcError) -> grpc.StatusCode:
    return error.code()
