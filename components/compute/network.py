"""The network service as the compute host sees it: the ports of an instance's NICs.

The host creates a port per requested network (or binds a port the user
passed in), reports it ACTIVE once the guest's NIC is up, and on cleanup
deletes the ports it created and unbinds the ones it was given. Calls carry the
user's token (the caller wraps them in ``acting_as``); releasing treats an
already missing port as released.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator

from google.protobuf import field_mask_pb2

from components.framework import FailedPrecondition, NotFound, call
from stratus.network.v1 import network_service_pb2 as net_pb2

log = logging.getLogger(__name__)

BINDING = ("device_id", "device_owner", "binding_host_id")


@dataclasses.dataclass(frozen=True)
class PluggedPort:
    """A port bound to an instance: what its NIC and its Address need."""

    port_id: str
    network_id: str
    network_name: str
    mac_address: str
    ip_address: str
    mtu: int
    # (subnet id, address) of every fixed IP of the port (the config drive's networks).
    fixed_ips: tuple[tuple[str, str], ...] = ()


class Ports:
    """The network service, reached through ``stub()`` (a NetworkStub)."""

    def __init__(self, stub: Callable[[], object]) -> None:
        self._stub = stub

    def create(self, network_id: str, instance_id: str, owner: str, host: str):
        request = net_pb2.CreatePortRequest(
            network_id=network_id, device_id=instance_id, device_owner=owner, binding_host_id=host
        )
        return call(self._stub().CreatePort, request)

    def bind(self, port_id: str, instance_id: str, owner: str, host: str):
        """Bind a port the user passed in; FailedPrecondition if another device uses it."""
        port = net_pb2.Port(
            id=port_id, device_id=instance_id, device_owner=owner, binding_host_id=host
        )
        return self._update(port, BINDING)

    def activate(self, port_id: str) -> None:
        self._update(net_pb2.Port(id=port_id, status=net_pb2.Port.STATUS_ACTIVE), ("status",))

    def plugged(self, port) -> PluggedPort:
        """The port, with the name and MTU of its network."""
        network = call(
            self._stub().GetNetwork, net_pb2.GetNetworkRequest(network_id=port.network_id)
        )
        return PluggedPort(
            port_id=port.id,
            network_id=port.network_id,
            network_name=network.name,
            mac_address=port.mac_address,
            ip_address=port.fixed_ips[0].ip_address if port.fixed_ips else "",
            mtu=network.mtu,
            fixed_ips=tuple((f.subnet_id, f.ip_address) for f in port.fixed_ips),
        )

    def subnet(self, subnet_id: str):
        """The subnet of a fixed IP (its cidr, gateway, DNS servers and DHCP)."""
        return call(self._stub().GetSubnet, net_pb2.GetSubnetRequest(subnet_id=subnet_id))

    def get(self, port_id: str):
        return call(self._stub().GetPort, net_pb2.GetPortRequest(port_id=port_id))

    def delete(self, port_id: str) -> None:
        try:
            call(self._stub().DeletePort, net_pb2.DeletePortRequest(port_id=port_id))
            log.info("deleted port %s", port_id)
        except NotFound:
            log.info("port %s was already deleted", port_id)

    def unbind(self, port_id: str, instance_id: str) -> None:
        """Unbind the port from the instance, unless it is no longer the instance's (a
        server that took it meanwhile keeps it)."""
        port = net_pb2.Port(id=port_id, status=net_pb2.Port.STATUS_DOWN)
        try:
            self._update(port, (*BINDING, "status"), expected_device_id=instance_id)
            log.info("unbound port %s", port_id)
        except NotFound:
            log.info("port %s is gone; nothing to unbind", port_id)
        except FailedPrecondition as exc:
            if exc.reason != "DEVICE_CHANGED":
                raise
            log.info("port %s is no longer instance %s's; left as it is", port_id, instance_id)

    def of_instance(self, instance_id: str) -> Iterator:
        """Every port bound to the instance (device_id), page by page."""
        token = ""
        while True:
            page = call(
                self._stub().ListPorts,
                net_pb2.ListPortsRequest(device_id=instance_id, page_size=100, page_token=token),
            )
            yield from page.ports
            token = page.next_page_token
            if not token:
                return

    def _update(self, port, paths, expected_device_id: str | None = None):
        request = net_pb2.UpdatePortRequest(
            port=port,
            update_mask=field_mask_pb2.FieldMask(paths=list(paths)),
            expected_device_id=expected_device_id,
        )
        return call(self._stub().UpdatePort, request)
