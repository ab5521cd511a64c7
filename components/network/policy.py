"""Who may call each network RPC (Neutron's defaults in spirit).

Ports are also created, bound and deleted by other Stratus components acting
for the cloud (the contract names "service" among their callers), so those
three take member_or_service; ownership is checked by the domain code.
"""

from components.framework import Policy, member, member_or_service, reader

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
        }
    }
)
