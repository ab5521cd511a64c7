"""Deleting a server whose host is down or unreachable (Nova's local delete).

The host would release the server's ports and volume attachments; while it
cannot, the api does it itself, acting with the caller's token as the host
would: the ports the host created for the server are deleted, the ports the
user gave (CreateServer's port_ids) are unbound, and each volume is detached
and unreserved. Each release is idempotent on the owning service's side, so
the host repeating them when it comes back (its reconciler destroys the
guest) changes nothing. A service that cannot be reached is logged and
skipped: the server is deleted regardless, as in Nova.
"""

from __future__ import annotations

import datetime
import logging

from google.protobuf import field_mask_pb2

from components.compute_db.models import ComputeNode, Instance
from components.framework import (
    Clients,
    FailedPrecondition,
    NotFound,
    StratusError,
    call,
    utcnow,
)
from stratus.network.v1 import network_service_pb2 as network_pb2
from stratus.network.v1 import network_service_pb2_grpc as network_grpc
from stratus.volume.v1 import volume_service_pb2 as volume_pb2
from stratus.volume.v1 import volume_service_pb2_grpc as volume_grpc

log = logging.getLogger(__name__)

UNBIND = ("device_id", "device_owner", "binding_host_id", "status")


def host_is_down(row: Instance, down_time_seconds: float) -> bool:
    """Whether the server's host has reported, but not for ``down_time_seconds``."""
    node = ComputeNode.get_or_none(ComputeNode.host == row.host) if row.host else None
    if node is None or node.last_heartbeat is None:
        return False
    cutoff = utcnow() - datetime.timedelta(seconds=down_time_seconds)
    return node.last_heartbeat < cutoff


def release(clients: Clients, row: Instance) -> None:
    """Give back the server's ports and volume attachments (best effort, logged)."""
    _release_ports(clients, row)
    _release_volumes(clients, row)


def _release_ports(clients: Clients, row: Instance) -> None:
    given = {n.get("port_id") for n in row.requested_networks or [] if n.get("port_id")}
    stub = clients.stub(network_grpc.NetworkStub, "network")
    try:
        ports = list(_ports_of(stub, row.id))
    except StratusError as exc:
        log.warning("server %s: its ports could not be listed (%s)", row.id, exc)
        return
    for port in ports:
        try:
            if port.id in given:
                unbound = network_pb2.Port(id=port.id, status=network_pb2.Port.STATUS_DOWN)
                mask = field_mask_pb2.FieldMask(paths=list(UNBIND))
                request = network_pb2.UpdatePortRequest(
                    port=unbound, update_mask=mask, expected_device_id=row.id
                )
                call(stub.UpdatePort, request)
            else:
                call(stub.DeletePort, network_pb2.DeletePortRequest(port_id=port.id))
        except NotFound:
            pass
        except StratusError as exc:
            if exc.reason == "DEVICE_CHANGED":  # another server took it meanwhile
                continue
            log.warning("server %s: port %s not released (%s)", row.id, port.id, exc)


def _ports_of(stub, instance_id: str):
    token = ""
    while True:
        page = call(
            stub.ListPorts,
            network_pb2.ListPortsRequest(device_id=instance_id, page_size=100, page_token=token),
        )
        yield from page.ports
        token = page.next_page_token
        if not token:
            return


def _release_volumes(clients: Clients, row: Instance) -> None:
    stub = clients.stub(volume_grpc.VolumesStub, "volume")
    for volume_id in row.volume_ids or []:
        try:
            call(
                stub.DetachVolume,
                volume_pb2.DetachVolumeRequest(volume_id=volume_id, instance_id=row.id),
            )
            call(
                stub.UnreserveVolume,
                volume_pb2.UnreserveVolumeRequest(volume_id=volume_id, instance_id=row.id),
            )
        except (NotFound, FailedPrecondition):
            pass  # gone, or now another instance's: nothing of this server's to release
        except StratusError as exc:
            log.warning("server %s: volume %s not released (%s)", row.id, volume_id, exc)
