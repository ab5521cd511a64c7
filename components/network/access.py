"""Who sees and who may change networks, subnets and ports.

A network is seen by its project, by everyone when shared, and by admins and
services; a subnet follows its network; a port is seen by its own project and
by the project owning its network. What a caller cannot see is NOT_FOUND, so
its existence does not leak; what it sees but may not change is
PERMISSION_DENIED.
"""

from __future__ import annotations

import peewee

from components.framework import Caller, NotFound, PermissionDenied, validation
from components.network.models import Network, Port, Subnet


def sees_all(who: Caller) -> bool:
    return who.is_admin or who.is_service


def sees_segments(who: Caller) -> bool:
    """Whether ``who`` sees a network's network_type and segmentation_id (Neutron: admins)."""
    return who.is_admin or who.is_service


def owns(who: Caller, project_id: str) -> bool:
    """Whether ``who`` may change what ``project_id`` owns (admins may change anything)."""
    return who.is_admin or who.project_id == project_id


def sees_network(who: Caller, network: Network) -> bool:
    return network.shared or who.can_access(network.project_id)


def visible_networks(who: Caller) -> peewee.Expression | bool:
    """The condition on Network rows the caller may see (True: all of them)."""
    if sees_all(who):
        return True
    return (Network.project_id == who.project_id) | (Network.shared == True)  # noqa: E712


def visible_ports(who: Caller) -> peewee.Expression | bool:
    """The condition on Port rows (joined with their Network) the caller may see."""
    if sees_all(who):
        return True
    return (Port.project_id == who.project_id) | (Network.project_id == who.project_id)


def network(who: Caller, network_id: str, field: str = "network_id") -> Network:
    """The network, if the caller may see it."""
    network_id = validation.uuid_str(field, network_id)
    row = Network.get_or_none(Network.id == network_id)
    if row is None or not sees_network(who, row):
        raise NotFound(f"network {network_id} not found", field=field)
    return row


def owned_network(who: Caller, network_id: str, action: str) -> Network:
    """The network, if the caller may see it and change it."""
    row = network(who, network_id)
    if not owns(who, row.project_id):
        raise PermissionDenied(f"only the network's project may {action}")
    return row


def subnet(who: Caller, subnet_id: str, field: str = "subnet_id") -> Subnet:
    """The subnet, if the caller may see its network."""
    subnet_id = validation.uuid_str(field, subnet_id)
    row = Subnet.select(Subnet, Network).join(Network).where(Subnet.id == subnet_id).first()
    if row is None or not sees_network(who, row.network):
        raise NotFound(f"subnet {subnet_id} not found", field=field)
    return row


def port(who: Caller, port_id: str) -> Port:
    """The port, if the caller may see it."""
    port_id = validation.uuid_str("port_id", port_id)
    row = Port.select(Port, Network).join(Network).where(Port.id == port_id).first()
    if row is None or not (
        who.can_access(row.project_id) or who.can_access(row.network.project_id)
    ):
        raise NotFound(f"port {port_id} not found", field="port_id")
    return row
