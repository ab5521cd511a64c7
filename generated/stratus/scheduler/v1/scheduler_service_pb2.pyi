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

class RequestSpec(_message.Message):
    __slots__ = ("project_id", "user_id", "vcpus", "ram_mib", "disk_gib", "availability_zone", "image_properties", "ignore_hosts", "requested_host")
    class ImagePropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    VCPUS_FIELD_NUMBER: _ClassVar[int]
    RAM_MIB_FIELD_NUMBER: _ClassVar[int]
    DISK_GIB_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_ZONE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    IGNORE_HOSTS_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_HOST_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    user_id: str
    vcpus: int
    ram_mib: int
    disk_gib: int
    availability_zone: str
    image_properties: _containers.ScalarMap[str, str]
    ignore_hosts: _containers.RepeatedScalarFieldContainer[str]
    requested_host: str
    def __init__(self, project_id: _Optional[str] = ..., user_id: _Optional[str] = ..., vcpus: _Optional[int] = ..., ram_mib: _Optional[int] = ..., disk_gib: _Optional[int] = ..., availability_zone: _Optional[str] = ..., image_properties: _Optional[_Mapping[str, str]] = ..., ignore_hosts: _Optional[_Iterable[str]] = ..., requested_host: _Optional[str] = ...) -> None: ...

class Selection(_message.Message):
    __slots__ = ("host", "node", "alternates", "claim_id")
    HOST_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    ALTERNATES_FIELD_NUMBER: _ClassVar[int]
    CLAIM_ID_FIELD_NUMBER: _ClassVar[int]
    host: str
    node: str
    alternates: _containers.RepeatedScalarFieldContainer[str]
    claim_id: str
    def __init__(self, host: _Optional[str] = ..., node: _Optional[str] = ..., alternates: _Optional[_Iterable[str]] = ..., claim_id: _Optional[str] = ...) -> None: ...

class Host(_message.Message):
    __slots__ = ("name", "address", "availability_zone", "hypervisor_type", "hypervisor_version", "architecture", "state", "enabled", "disabled_reason", "vcpus", "ram_mib", "disk_gib", "used_vcpus", "used_ram_mib", "used_disk_gib", "instance_count", "last_heartbeat_time", "create_time")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[Host.State]
        STATE_UP: _ClassVar[Host.State]
        STATE_DOWN: _ClassVar[Host.State]
    STATE_UNSPECIFIED: Host.State
    STATE_UP: Host.State
    STATE_DOWN: Host.State
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_ZONE_FIELD_NUMBER: _ClassVar[int]
    HYPERVISOR_TYPE_FIELD_NUMBER: _ClassVar[int]
    HYPERVISOR_VERSION_FIELD_NUMBER: _ClassVar[int]
    ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    DISABLED_REASON_FIELD_NUMBER: _ClassVar[int]
    VCPUS_FIELD_NUMBER: _ClassVar[int]
    RAM_MIB_FIELD_NUMBER: _ClassVar[int]
    DISK_GIB_FIELD_NUMBER: _ClassVar[int]
    USED_VCPUS_FIELD_NUMBER: _ClassVar[int]
    USED_RAM_MIB_FIELD_NUMBER: _ClassVar[int]
    USED_DISK_GIB_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARTBEAT_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    address: str
    availability_zone: str
    hypervisor_type: str
    hypervisor_version: str
    architecture: str
    state: Host.State
    enabled: bool
    disabled_reason: str
    vcpus: int
    ram_mib: int
    disk_gib: int
    used_vcpus: int
    used_ram_mib: int
    used_disk_gib: int
    instance_count: int
    last_heartbeat_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., address: _Optional[str] = ..., availability_zone: _Optional[str] = ..., hypervisor_type: _Optional[str] = ..., hypervisor_version: _Optional[str] = ..., architecture: _Optional[str] = ..., state: _Optional[_Union[Host.State, str]] = ..., enabled: _Optional[bool] = ..., disabled_reason: _Optional[str] = ..., vcpus: _Optional[int] = ..., ram_mib: _Optional[int] = ..., disk_gib: _Optional[int] = ..., used_vcpus: _Optional[int] = ..., used_ram_mib: _Optional[int] = ..., used_disk_gib: _Optional[int] = ..., instance_count: _Optional[int] = ..., last_heartbeat_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SelectDestinationsRequest(_message.Message):
    __slots__ = ("instance_id", "spec", "max_alternates", "request_id", "auth_token")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    MAX_ALTERNATES_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    AUTH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    spec: RequestSpec
    max_alternates: int
    request_id: str
    auth_token: str
    def __init__(self, instance_id: _Optional[str] = ..., spec: _Optional[_Union[RequestSpec, _Mapping]] = ..., max_alternates: _Optional[int] = ..., request_id: _Optional[str] = ..., auth_token: _Optional[str] = ...) -> None: ...

class SelectDestinationsResponse(_message.Message):
    __slots__ = ("selection",)
    SELECTION_FIELD_NUMBER: _ClassVar[int]
    selection: Selection
    def __init__(self, selection: _Optional[_Union[Selection, _Mapping]] = ...) -> None: ...

class ListHostsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "availability_zone")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_ZONE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    availability_zone: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., availability_zone: _Optional[str] = ...) -> None: ...

class ListHostsResponse(_message.Message):
    __slots__ = ("hosts", "next_page_token")
    HOSTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    hosts: _containers.RepeatedCompositeFieldContainer[Host]
    next_page_token: str
    def __init__(self, hosts: _Optional[_Iterable[_Union[Host, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateHostRequest(_message.Message):
    __slots__ = ("host", "update_mask", "request_id")
    HOST_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    host: Host
    update_mask: _field_mask_pb2.FieldMask
    request_id: str
    def __init__(self, host: _Optional[_Union[Host, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class DeleteHostRequest(_message.Message):
    __slots__ = ("name", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class DeleteHostResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
