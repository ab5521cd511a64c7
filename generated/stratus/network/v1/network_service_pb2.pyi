import datetime

from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VirtualNetwork(_message.Message):
    __slots__ = ("id", "name", "project_id", "admin_state_up", "shared", "mtu", "subnet_ids", "create_time", "update_time", "network_type", "segmentation_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ADMIN_STATE_UP_FIELD_NUMBER: _ClassVar[int]
    SHARED_FIELD_NUMBER: _ClassVar[int]
    MTU_FIELD_NUMBER: _ClassVar[int]
    SUBNET_IDS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    NETWORK_TYPE_FIELD_NUMBER: _ClassVar[int]
    SEGMENTATION_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    project_id: str
    admin_state_up: bool
    shared: bool
    mtu: int
    subnet_ids: _containers.RepeatedScalarFieldContainer[str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    network_type: str
    segmentation_id: int
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., project_id: _Optional[str] = ..., admin_state_up: _Optional[bool] = ..., shared: _Optional[bool] = ..., mtu: _Optional[int] = ..., subnet_ids: _Optional[_Iterable[str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., network_type: _Optional[str] = ..., segmentation_id: _Optional[int] = ...) -> None: ...

class Subnet(_message.Message):
    __slots__ = ("id", "name", "project_id", "network_id", "cidr", "ip_version", "gateway_ip", "allocation_pools", "dns_nameservers", "enable_dhcp", "create_time", "update_time", "ipv6_address_mode")
    class AllocationPool(_message.Message):
        __slots__ = ("start", "end")
        START_FIELD_NUMBER: _ClassVar[int]
        END_FIELD_NUMBER: _ClassVar[int]
        start: str
        end: str
        def __init__(self, start: _Optional[str] = ..., end: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    CIDR_FIELD_NUMBER: _ClassVar[int]
    IP_VERSION_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_IP_FIELD_NUMBER: _ClassVar[int]
    ALLOCATION_POOLS_FIELD_NUMBER: _ClassVar[int]
    DNS_NAMESERVERS_FIELD_NUMBER: _ClassVar[int]
    ENABLE_DHCP_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    IPV6_ADDRESS_MODE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    project_id: str
    network_id: str
    cidr: str
    ip_version: int
    gateway_ip: str
    allocation_pools: _containers.RepeatedCompositeFieldContainer[Subnet.AllocationPool]
    dns_nameservers: _containers.RepeatedScalarFieldContainer[str]
    enable_dhcp: bool
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    ipv6_address_mode: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., project_id: _Optional[str] = ..., network_id: _Optional[str] = ..., cidr: _Optional[str] = ..., ip_version: _Optional[int] = ..., gateway_ip: _Optional[str] = ..., allocation_pools: _Optional[_Iterable[_Union[Subnet.AllocationPool, _Mapping]]] = ..., dns_nameservers: _Optional[_Iterable[str]] = ..., enable_dhcp: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ipv6_address_mode: _Optional[str] = ...) -> None: ...

class Port(_message.Message):
    __slots__ = ("id", "name", "project_id", "network_id", "mac_address", "fixed_ips", "device_id", "device_owner", "binding_host_id", "status", "create_time", "update_time")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[Port.Status]
        STATUS_DOWN: _ClassVar[Port.Status]
        STATUS_ACTIVE: _ClassVar[Port.Status]
        STATUS_BUILD: _ClassVar[Port.Status]
        STATUS_ERROR: _ClassVar[Port.Status]
    STATUS_UNSPECIFIED: Port.Status
    STATUS_DOWN: Port.Status
    STATUS_ACTIVE: Port.Status
    STATUS_BUILD: Port.Status
    STATUS_ERROR: Port.Status
    class FixedIp(_message.Message):
        __slots__ = ("subnet_id", "ip_address")
        SUBNET_ID_FIELD_NUMBER: _ClassVar[int]
        IP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
        subnet_id: str
        ip_address: str
        def __init__(self, subnet_id: _Optional[str] = ..., ip_address: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    MAC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    FIXED_IPS_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_OWNER_FIELD_NUMBER: _ClassVar[int]
    BINDING_HOST_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    project_id: str
    network_id: str
    mac_address: str
    fixed_ips: _containers.RepeatedCompositeFieldContainer[Port.FixedIp]
    device_id: str
    device_owner: str
    binding_host_id: str
    status: Port.Status
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., project_id: _Optional[str] = ..., network_id: _Optional[str] = ..., mac_address: _Optional[str] = ..., fixed_ips: _Optional[_Iterable[_Union[Port.FixedIp, _Mapping]]] = ..., device_id: _Optional[str] = ..., device_owner: _Optional[str] = ..., binding_host_id: _Optional[str] = ..., status: _Optional[_Union[Port.Status, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateNetworkRequest(_message.Message):
    __slots__ = ("name", "shared", "admin_state_up", "mtu", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SHARED_FIELD_NUMBER: _ClassVar[int]
    ADMIN_STATE_UP_FIELD_NUMBER: _ClassVar[int]
    MTU_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    shared: bool
    admin_state_up: bool
    mtu: int
    request_id: str
    def __init__(self, name: _Optional[str] = ..., shared: _Optional[bool] = ..., admin_state_up: _Optional[bool] = ..., mtu: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetNetworkRequest(_message.Message):
    __slots__ = ("network_id",)
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    def __init__(self, network_id: _Optional[str] = ...) -> None: ...

class ListNetworksRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "name")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    name: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ListNetworksResponse(_message.Message):
    __slots__ = ("networks", "next_page_token")
    NETWORKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    networks: _containers.RepeatedCompositeFieldContainer[VirtualNetwork]
    next_page_token: str
    def __init__(self, networks: _Optional[_Iterable[_Union[VirtualNetwork, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateNetworkRequest(_message.Message):
    __slots__ = ("network", "update_mask", "request_id")
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    network: VirtualNetwork
    update_mask: _field_mask_pb2.FieldMask
    request_id: str
    def __init__(self, network: _Optional[_Union[VirtualNetwork, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class DeleteNetworkRequest(_message.Message):
    __slots__ = ("network_id", "request_id")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    request_id: str
    def __init__(self, network_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class DeleteNetworkResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateSubnetRequest(_message.Message):
    __slots__ = ("network_id", "name", "cidr", "ip_version", "gateway_ip", "no_gateway", "allocation_pools", "dns_nameservers", "enable_dhcp", "request_id", "ipv6_address_mode")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CIDR_FIELD_NUMBER: _ClassVar[int]
    IP_VERSION_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_IP_FIELD_NUMBER: _ClassVar[int]
    NO_GATEWAY_FIELD_NUMBER: _ClassVar[int]
    ALLOCATION_POOLS_FIELD_NUMBER: _ClassVar[int]
    DNS_NAMESERVERS_FIELD_NUMBER: _ClassVar[int]
    ENABLE_DHCP_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    IPV6_ADDRESS_MODE_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    name: str
    cidr: str
    ip_version: int
    gateway_ip: str
    no_gateway: bool
    allocation_pools: _containers.RepeatedCompositeFieldContainer[Subnet.AllocationPool]
    dns_nameservers: _containers.RepeatedScalarFieldContainer[str]
    enable_dhcp: bool
    request_id: str
    ipv6_address_mode: str
    def __init__(self, network_id: _Optional[str] = ..., name: _Optional[str] = ..., cidr: _Optional[str] = ..., ip_version: _Optional[int] = ..., gateway_ip: _Optional[str] = ..., no_gateway: _Optional[bool] = ..., allocation_pools: _Optional[_Iterable[_Union[Subnet.AllocationPool, _Mapping]]] = ..., dns_nameservers: _Optional[_Iterable[str]] = ..., enable_dhcp: _Optional[bool] = ..., request_id: _Optional[str] = ..., ipv6_address_mode: _Optional[str] = ...) -> None: ...

class GetSubnetRequest(_message.Message):
    __slots__ = ("subnet_id",)
    SUBNET_ID_FIELD_NUMBER: _ClassVar[int]
    subnet_id: str
    def __init__(self, subnet_id: _Optional[str] = ...) -> None: ...

class ListSubnetsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "network_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    network_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., network_id: _Optional[str] = ...) -> None: ...

class ListSubnetsResponse(_message.Message):
    __slots__ = ("subnets", "next_page_token")
    SUBNETS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    subnets: _containers.RepeatedCompositeFieldContainer[Subnet]
    next_page_token: str
    def __init__(self, subnets: _Optional[_Iterable[_Union[Subnet, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteSubnetRequest(_message.Message):
    __slots__ = ("subnet_id", "request_id")
    SUBNET_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    subnet_id: str
    request_id: str
    def __init__(self, subnet_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class DeleteSubnetResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreatePortRequest(_message.Message):
    __slots__ = ("network_id", "name", "fixed_ips", "mac_address", "device_id", "device_owner", "binding_host_id", "request_id")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    FIXED_IPS_FIELD_NUMBER: _ClassVar[int]
    MAC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_OWNER_FIELD_NUMBER: _ClassVar[int]
    BINDING_HOST_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    name: str
    fixed_ips: _containers.RepeatedCompositeFieldContainer[Port.FixedIp]
    mac_address: str
    device_id: str
    device_owner: str
    binding_host_id: str
    request_id: str
    def __init__(self, network_id: _Optional[str] = ..., name: _Optional[str] = ..., fixed_ips: _Optional[_Iterable[_Union[Port.FixedIp, _Mapping]]] = ..., mac_address: _Optional[str] = ..., device_id: _Optional[str] = ..., device_owner: _Optional[str] = ..., binding_host_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetPortRequest(_message.Message):
    __slots__ = ("port_id",)
    PORT_ID_FIELD_NUMBER: _ClassVar[int]
    port_id: str
    def __init__(self, port_id: _Optional[str] = ...) -> None: ...

class ListPortsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "network_id", "device_id", "project_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    network_id: str
    device_id: str
    project_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., network_id: _Optional[str] = ..., device_id: _Optional[str] = ..., project_id: _Optional[str] = ...) -> None: ...

class ListPortsResponse(_message.Message):
    __slots__ = ("ports", "next_page_token")
    PORTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ports: _containers.RepeatedCompositeFieldContainer[Port]
    next_page_token: str
    def __init__(self, ports: _Optional[_Iterable[_Union[Port, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdatePortRequest(_message.Message):
    __slots__ = ("port", "update_mask", "request_id", "expected_device_id")
    PORT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    port: Port
    update_mask: _field_mask_pb2.FieldMask
    request_id: str
    expected_device_id: str
    def __init__(self, port: _Optional[_Union[Port, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., request_id: _Optional[str] = ..., expected_device_id: _Optional[str] = ...) -> None: ...

class DeletePortRequest(_message.Message):
    __slots__ = ("port_id", "request_id")
    PORT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    port_id: str
    request_id: str
    def __init__(self, port_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class DeletePortResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RegisterTunnelEndpointRequest(_message.Message):
    __slots__ = ("host", "ip_address")
    HOST_FIELD_NUMBER: _ClassVar[int]
    IP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    host: str
    ip_address: str
    def __init__(self, host: _Optional[str] = ..., ip_address: _Optional[str] = ...) -> None: ...

class TunnelEndpoint(_message.Message):
    __slots__ = ("host", "ip_address")
    HOST_FIELD_NUMBER: _ClassVar[int]
    IP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    host: str
    ip_address: str
    def __init__(self, host: _Optional[str] = ..., ip_address: _Optional[str] = ...) -> None: ...

class GetNetworkSegmentRequest(_message.Message):
    __slots__ = ("network_id",)
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    def __init__(self, network_id: _Optional[str] = ...) -> None: ...

class NetworkSegment(_message.Message):
    __slots__ = ("network_id", "network_type", "segmentation_id", "mtu", "tunnel_endpoints")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    NETWORK_TYPE_FIELD_NUMBER: _ClassVar[int]
    SEGMENTATION_ID_FIELD_NUMBER: _ClassVar[int]
    MTU_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    network_type: str
    segmentation_id: int
    mtu: int
    tunnel_endpoints: _containers.RepeatedCompositeFieldContainer[TunnelEndpoint]
    def __init__(self, network_id: _Optional[str] = ..., network_type: _Optional[str] = ..., segmentation_id: _Optional[int] = ..., mtu: _Optional[int] = ..., tunnel_endpoints: _Optional[_Iterable[_Union[TunnelEndpoint, _Mapping]]] = ...) -> None: ...
