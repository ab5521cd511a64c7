"""The Network servicer: translate each request, call one domain function, translate back."""

from __future__ import annotations

from components.framework import caller, validation
from components.network import access, messages, networks, ports, segments, subnets, tunnels
from components.network.config import NetworkConfig
from components.network.dhcp_agent import DhcpAgent
from stratus.network.v1 import network_service_pb2 as pb2
from stratus.network.v1 import network_service_pb2_grpc as pb2_grpc


def _changes(resource, mask, allowed: set[str]) -> dict[str, object]:
    return {path: getattr(resource, path) for path in validation.update_mask(mask.paths, allowed)}


class NetworkServicer(pb2_grpc.NetworkServicer):
    def __init__(self, config: NetworkConfig, dhcp: DhcpAgent | None = None) -> None:
        self.config = config
        self.vni_ranges = segments.parse_ranges(config.vni_ranges)
        self.dhcp = dhcp

    def _changed(self, *network_ids: str) -> None:
        """After the change committed: the DHCP agent (if any) brings the networks in line."""
        if self.dhcp is not None:
            self.dhcp.changed(*network_ids)

    # Networks ---------------------------------------------------------------------

    def CreateNetwork(self, request, context):
        spec = networks.NetworkSpec(
            name=request.name,
            shared=request.shared,
            admin_state_up=request.admin_state_up if request.HasField("admin_state_up") else True,
            mtu=request.mtu,
        )
        who = caller()
        row = networks.create(who, spec, self.config.physical_mtu, self.vni_ranges)
        return messages.network(row, access.sees_segments(who))

    def GetNetwork(self, request, context):
        who = caller()
        return messages.network(networks.get(who, request.network_id), access.sees_segments(who))

    def ListNetworks(self, request, context):
        who = caller()
        rows, token = networks.list_page(who, request.name, request.page_size, request.page_token)
        segment = access.sees_segments(who)
        return pb2.ListNetworksResponse(
            networks=[messages.network(row, segment) for row in rows], next_page_token=token
        )

    def UpdateNetwork(self, request, context):
        changes = _changes(request.network, request.update_mask, networks.UPDATABLE)
        who = caller()
        row = networks.update(who, request.network.id, changes)
        self._changed(row.id)  # admin_state_up down: no DHCP
        return messages.network(row, access.sees_segments(who))

    def DeleteNetwork(self, request, context):
        self._changed(networks.delete(caller(), request.network_id))
        return pb2.DeleteNetworkResponse()

    # Subnets ----------------------------------------------------------------------

    def CreateSubnet(self, request, context):
        spec = subnets.SubnetSpec(
            network_id=request.network_id,
            name=request.name,
            cidr=request.cidr,
            ip_version=request.ip_version,
            gateway_ip=request.gateway_ip,
            no_gateway=request.no_gateway,
            allocation_pools=tuple((p.start, p.end) for p in request.allocation_pools),
            dns_nameservers=tuple(request.dns_nameservers),
            enable_dhcp=request.enable_dhcp if request.HasField("enable_dhcp") else True,
            ipv6_address_mode=request.ipv6_address_mode,
        )
        row = subnets.create(caller(), spec)
        self._changed(row.network_id)
        return messages.subnet(row)

    def GetSubnet(self, request, context):
        return messages.subnet(subnets.get(caller(), request.subnet_id))

    def ListSubnets(self, request, context):
        rows, token = subnets.list_page(
            caller(), request.network_id, request.page_size, request.page_token
        )
        return pb2.ListSubnetsResponse(
            subnets=[messages.subnet(row) for row in rows], next_page_token=token
        )

    def DeleteSubnet(self, request, context):
        self._changed(subnets.delete(caller(), request.subnet_id))
        return pb2.DeleteSubnetResponse()

    # Ports ------------------------------------------------------------------------

    def CreatePort(self, request, context):
        spec = ports.PortSpec(
            network_id=request.network_id,
            name=request.name,
            fixed_ips=tuple((ip.subnet_id, ip.ip_address) for ip in request.fixed_ips),
            mac_address=request.mac_address,
            device_id=request.device_id,
            device_owner=request.device_owner,
            binding_host_id=request.binding_host_id,
        )
        port = ports.create(
            caller(), spec, self.config.mac_prefix, self.config.max_fixed_ips_per_port
        )
        self._changed(port.network_id)
        return messages.port(port)

    def GetPort(self, request, context):
        return messages.port(ports.get(caller(), request.port_id))

    def ListPorts(self, request, context):
        rows, token = ports.list_page(
            caller(),
            request.network_id,
            request.device_id,
            request.project_id,
            request.page_size,
            request.page_token,
        )
        return pb2.ListPortsResponse(
            ports=[messages.port(row) for row in rows], next_page_token=token
        )

    def UpdatePort(self, request, context):
        changes = _changes(request.port, request.update_mask, ports.UPDATABLE)
        expected = request.expected_device_id if request.HasField("expected_device_id") else None
        port = ports.update(caller(), request.port.id, changes, expected)
        self._changed(port.network_id)
        return messages.port(port)

    def DeletePort(self, request, context):
        self._changed(ports.delete(caller(), request.port_id))
        return pb2.DeletePortResponse()

    # Tunnel endpoints and segments ------------------------------------------------

    def RegisterTunnelEndpoint(self, request, context):
        row, moved = tunnels.register(request.host, request.ip_address)
        if moved:
            self._changed(*tunnels.networks_on(row.host))
        return pb2.TunnelEndpoint(host=row.host, ip_address=row.ip_address)

    def GetNetworkSegment(self, request, context):
        return messages.segment(tunnels.segment(request.network_id))
