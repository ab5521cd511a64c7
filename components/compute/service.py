"""The Compute gRPC service of one host: casts in, console, host status, domains."""

from __future__ import annotations

import functools
import logging

from components.compute import build, operations
from components.compute import libvirt_driver as virt
from components.compute.console import console_output
from components.compute.host import Host
from components.compute.inventory import domain_page, host_status
from components.compute.libvirt_driver import DomainInfo
from components.framework import CastReceiver, InvalidArgument, StratusError, validation
from stratus.compute.v1 import compute_service_pb2 as pb2
from stratus.compute.v1 import compute_service_pb2_grpc as pb2_grpc

log = logging.getLogger(__name__)

# virDomainState -> Domain.State (the contract names each libvirt state).
DOMAIN_STATES = {
    virt.NOSTATE: pb2.Domain.STATE_NO_STATE,
    virt.RUNNING: pb2.Domain.STATE_RUNNING,
    virt.BLOCKED: pb2.Domain.STATE_BLOCKED,
    virt.PAUSED: pb2.Domain.STATE_PAUSED,
    virt.SHUTDOWN: pb2.Domain.STATE_SHUTTING_DOWN,
    virt.SHUTOFF: pb2.Domain.STATE_SHUTOFF,
    virt.CRASHED: pb2.Domain.STATE_CRASHED,
    virt.PMSUSPENDED: pb2.Domain.STATE_PM_SUSPENDED,
}


def cast_handlers(host: Host) -> dict:
    """The handler of each ComputeCast kind, bound to this host."""
    handlers = {
        "build_and_run_instance": build.build_and_run_instance,
        "terminate_instance": operations.terminate_instance,
        "stop_instance": operations.stop_instance,
        "start_instance": operations.start_instance,
        "reboot_instance": operations.reboot_instance,
    }
    return {kind: _dropping(kind, functools.partial(fn, host)) for kind, fn in handlers.items()}


def _dropping(kind: str, handler):
    """A cast that cannot be handled (bad id, conductor unreachable) is logged and dropped."""

    def handle(context, payload) -> None:
        try:
            handler(context, payload)
        except StratusError as exc:
            log.warning("%s for %r dropped: %s", kind, payload.instance_id, exc)

    return handle


def domain_pb(domain: DomainInfo) -> pb2.Domain:
    return pb2.Domain(
        name=domain.name,
        instance_id=domain.instance_id,
        state=DOMAIN_STATES.get(domain.state, pb2.Domain.STATE_NO_STATE),
        vcpus=domain.vcpus,
        memory_mib=domain.memory_mib,
        disks=[pb2.DomainDisk(target=t, source=src, format=f) for t, src, f in domain.disks],
        interfaces=[pb2.DomainInterface(mac_address=m, type=k) for m, k in domain.interfaces],
    )


class ComputeServicer(pb2_grpc.ComputeServicer):
    """One compute host. Casts are handled in the background, one at a time per
    instance; the unary calls read the host's files and libvirt."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.receiver = CastReceiver(cast_handlers(host), executor=host.executor)

    def Casts(self, request_iterator, context):
        return pb2.CastsSummary(received=self.receiver.receive(request_iterator))

    def GetConsoleOutput(self, request, context):
        instance_id = validation.uuid_str("instance_id", request.instance_id)
        length = request.length if request.HasField("length") else None
        if length is not None and length < 0:
            raise InvalidArgument("length must not be negative", field="length")
        output = console_output(self.host, instance_id, length)
        return pb2.GetConsoleOutputResponse(output=output.text, truncated=output.truncated)

    def GetHostStatus(self, request, context):
        status = host_status(self.host)
        return pb2.GetHostStatusResponse(
            host=status.host,
            hypervisor_type=status.hypervisor_type,
            hypervisor_version=status.hypervisor_version,
            libvirt_uri=status.libvirt_uri,
            domain_count=status.domain_count,
            running_domain_count=status.running_domain_count,
            uptime_seconds=status.uptime_seconds,
        )

    def ListDomains(self, request, context):
        domains, token = domain_page(self.host, request.page_size, request.page_token)
        return pb2.ListDomainsResponse(
            domains=[domain_pb(d) for d in domains], next_page_token=token
        )
