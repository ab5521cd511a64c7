"""Who may call each network RPC (Neutron's defaults in spirit).

Ports are also created, bound and deleted by other Stratus components acting
for the cloud (the contract names "service" among their callers), so those
three take member_or_service; ownership is checked by the domain code.
Tunnel endpoints are the underlay's addresses: hosts (services) register
theirs, and only they and admins read a network's segment.
"""

from components.framework import (
    SERVICE,
    Caller,
    Policy,
    member,
    member_or_service,
    reader,
    service_or_admin,
)


def service_only(c: Caller) -> bool:
    """A Stratus component with its own token (a compute host); an admin is not one."""
    return SERVICE in c.roles


POLICY = Policy.of(
    {
        "stratus.network.v1.Network": {
            "CreateNetwork": member,
            "GetNetwork": reader,
            "ListNetworks": reader,
            "UpdateNetwork": member,
            "DeleteNetwork": member,
            "CreateSubnet": member,
            "GetSubnet": reader,
            "ListSubnets": reader,
            "DeleteSubnet": member,
            "CreatePort": member_or_service,
            "GetPort": reader,
            "ListPorts": reader,
            "UpdatePort": member_or_service,
            "DeletePort": member_or_service,
            "RegisterTunnelEndpoint": service_only,
            "GetNetworkSegment": service_or_admin,
        }
    }
)
