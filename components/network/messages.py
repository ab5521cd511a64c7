"""Network rows as protobuf messages."""

from __future__ import annotations

from components.framework import timestamp
from components.network import subnets, tunnels
from components.network.models import Network, Port, Subnet
from stratus.network.v1 import network_service_pb2 as pb2


def network(row: Network, segment: bool) -> pb2.VirtualNetwork:
    """The network; with ``segment``, its network_type and segmentation_id too."""
    message = pb2.VirtualNetwork(
        id=row.id,
        name=row.name,
        project_id=row.project_id,
        admin_state_up=row.admin_state_up,
        shared=row.shared,
        mtu=row.mtu,
        subnet_ids=row.subnet_ids,
        create_time=timestamp(row.create_time),
        update_time=timestamp(row.update_time),
    )
    if segment:
        message.network_type = row.network_type
        message.segmentation_id = row.segmentation_id
    return message


def subnet(row: Subnet) -> pb2.Subnet:
    return pb2.Subnet(
        id=row.id,
        name=row.name,
        project_id=row.project_id,
        network_id=row.network_id,
        cidr=row.cidr,
        ip_version=row.ip_version,
        gateway_ip=row.gateway_ip,
        allocation_pools=[
            pb2.Subnet.AllocationPool(start=start, end=end) for start, end in subnets.pools(row)
        ],
        dns_nameservers=row.dns_nameservers,
        enable_dhcp=row.enable_dhcp,
        ipv6_address_mode=row.ipv6_address_mode,
        create_time=timestamp(row.create_time),
        update_time=timestamp(row.update_time),
    )


def port(row: Port) -> pb2.Port:
    return pb2.Port(
        id=row.id,
        name=row.name,
        project_id=row.project_id,
        network_id=row.network_id,
        mac_address=row.mac_address,
        fixed_ips=[
            pb2.Port.FixedIp(subnet_id=subnet_id, ip_address=address)
            for subnet_id, address in row.fixed_ips
        ],
        device_id=row.device_id,
        device_owner=row.device_owner,
        binding_host_id=row.binding_host_id,
        status=row.status,
        create_time=timestamp(row.create_time),
        update_time=timestamp(row.update_time),
    )


def segment(found: tunnels.Segment) -> pb2.NetworkSegment:
    return pb2.NetworkSegment(
        network_id=found.network.id,
        network_type=found.network.network_type,
        segmentation_id=found.network.segmentation_id,
        mtu=found.network.mtu,
        tunnel_endpoints=[
            pb2.TunnelEndpoint(host=host, ip_address=ip) for host, ip in found.endpoints
        ],
    )
