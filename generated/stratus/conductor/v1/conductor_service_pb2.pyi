import datetime

from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from stratus.type.v1 import cast_pb2 as _cast_pb2
from stratus.type.v1 import instance_pb2 as _instance_pb2
from stratus.type.v1 import instance_state_pb2 as _instance_state_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class InstanceInfo(_message.Message):
    __slots__ = ("id", "name", "project_id", "user_id", "host", "availability_zone", "flavor", "image_id", "requested_networks", "volume_ids", "metadata", "vm_state", "task_state", "power_state", "claim_id", "attempt", "alternates", "addresses", "volumes", "launched_time", "create_time", "update_time", "key_name", "public_key", "user_data", "config_drive")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_ZONE_FIELD_NUMBER: _ClassVar[int]
    FLAVOR_FIELD_NUMBER: _ClassVar[int]
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_NETWORKS_FIELD_NUMBER: _ClassVar[int]
    VOLUME_IDS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    VM_STATE_FIELD_NUMBER: _ClassVar[int]
    TASK_STATE_FIELD_NUMBER: _ClassVar[int]
    POWER_STATE_FIELD_NUMBER: _ClassVar[int]
    CLAIM_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    ALTERNATES_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    LAUNCHED_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    KEY_NAME_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    USER_DATA_FIELD_NUMBER: _ClassVar[int]
    CONFIG_DRIVE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    project_id: str
    user_id: str
    host: str
    availability_zone: str
    flavor: InstanceFlavor
    image_id: str
    requested_networks: _containers.RepeatedCompositeFieldContainer[RequestedNetwork]
    volume_ids: _containers.RepeatedScalarFieldContainer[str]
    metadata: _containers.ScalarMap[str, str]
    vm_state: _instance_state_pb2.VmState
    task_state: _instance_state_pb2.TaskState
    power_state: _instance_state_pb2.PowerState
    claim_id: str
    attempt: int
    alternates: _containers.RepeatedScalarFieldContainer[str]
    addresses: _containers.RepeatedCompositeFieldContainer[_instance_pb2.Address]
    volumes: _containers.RepeatedCompositeFieldContainer[_instance_pb2.AttachedVolume]
    launched_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    key_name: str
    public_key: str
    user_data: bytes
    config_drive: bool
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., project_id: _Optional[str] = ..., user_id: _Optional[str] = ..., host: _Optional[str] = ..., availability_zone: _Optional[str] = ..., flavor: _Optional[_Union[InstanceFlavor, _Mapping]] = ..., image_id: _Optional[str] = ..., requested_networks: _Optional[_Iterable[_Union[RequestedNetwork, _Mapping]]] = ..., volume_ids: _Optional[_Iterable[str]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., vm_state: _Optional[_Union[_instance_state_pb2.VmState, str]] = ..., task_state: _Optional[_Union[_instance_state_pb2.TaskState, str]] = ..., power_state: _Optional[_Union[_instance_state_pb2.PowerState, str]] = ..., claim_id: _Optional[str] = ..., attempt: _Optional[int] = ..., alternates: _Optional[_Iterable[str]] = ..., addresses: _Optional[_Iterable[_Union[_instance_pb2.Address, _Mapping]]] = ..., volumes: _Optional[_Iterable[_Union[_instance_pb2.AttachedVolume, _Mapping]]] = ..., launched_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., key_name: _Optional[str] = ..., public_key: _Optional[str] = ..., user_data: _Optional[bytes] = ..., config_drive: _Optional[bool] = ...) -> None: ...

class InstanceFlavor(_message.Message):
    __slots__ = ("id", "name", "vcpus", "ram_mib", "disk_gib", "extra_specs")
    class ExtraSpecsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VCPUS_FIELD_NUMBER: _ClassVar[int]
    RAM_MIB_FIELD_NUMBER: _ClassVar[int]
    DISK_GIB_FIELD_NUMBER: _ClassVar[int]
    EXTRA_SPECS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    vcpus: int
    ram_mib: int
    disk_gib: int
    extra_specs: _containers.ScalarMap[str, str]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., vcpus: _Optional[int] = ..., ram_mib: _Optional[int] = ..., disk_gib: _Optional[int] = ..., extra_specs: _Optional[_Mapping[str, str]] = ...) -> None: ...

class RequestedNetwork(_message.Message):
    __slots__ = ("network_id", "port_id")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    PORT_ID_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    port_id: str
    def __init__(self, network_id: _Optional[str] = ..., port_id: _Optional[str] = ...) -> None: ...

class GetInstanceRequest(_message.Message):
    __slots__ = ("instance_id",)
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    def __init__(self, instance_id: _Optional[str] = ...) -> None: ...

class UpdateInstanceRequest(_message.Message):
    __slots__ = ("instance_id", "vm_state", "task_state", "power_state", "expected_task_state", "host", "launched_time", "addresses", "volumes", "update_mask", "request_id")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    VM_STATE_FIELD_NUMBER: _ClassVar[int]
    TASK_STATE_FIELD_NUMBER: _ClassVar[int]
    POWER_STATE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_TASK_STATE_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    LAUNCHED_TIME_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    vm_state: _instance_state_pb2.VmState
    task_state: _instance_state_pb2.TaskState
    power_state: _instance_state_pb2.PowerState
    expected_task_state: _instance_state_pb2.TaskState
    host: str
    launched_time: _timestamp_pb2.Timestamp
    addresses: _containers.RepeatedCompositeFieldContainer[_instance_pb2.Address]
    volumes: _containers.RepeatedCompositeFieldContainer[_instance_pb2.AttachedVolume]
    update_mask: _field_mask_pb2.FieldMask
    request_id: str
    def __init__(self, instance_id: _Optional[str] = ..., vm_state: _Optional[_Union[_instance_state_pb2.VmState, str]] = ..., task_state: _Optional[_Union[_instance_state_pb2.TaskState, str]] = ..., power_state: _Optional[_Union[_instance_state_pb2.PowerState, str]] = ..., expected_task_state: _Optional[_Union[_instance_state_pb2.TaskState, str]] = ..., host: _Optional[str] = ..., launched_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., addresses: _Optional[_Iterable[_Union[_instance_pb2.Address, _Mapping]]] = ..., volumes: _Optional[_Iterable[_Union[_instance_pb2.AttachedVolume, _Mapping]]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class AddInstanceFaultRequest(_message.Message):
    __slots__ = ("instance_id", "code", "message", "details", "request_id")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    code: int
    message: str
    details: str
    request_id: str
    def __init__(self, instance_id: _Optional[str] = ..., code: _Optional[int] = ..., message: _Optional[str] = ..., details: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class AddInstanceFaultResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReportComputeNodeRequest(_message.Message):
    __slots__ = ("host", "address", "availability_zone", "hypervisor_type", "hypervisor_version", "architecture", "vcpus", "ram_mib", "disk_gib", "enabled", "request_id")
    HOST_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_ZONE_FIELD_NUMBER: _ClassVar[int]
    HYPERVISOR_TYPE_FIELD_NUMBER: _ClassVar[int]
    HYPERVISOR_VERSION_FIELD_NUMBER: _ClassVar[int]
    ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    VCPUS_FIELD_NUMBER: _ClassVar[int]
    RAM_MIB_FIELD_NUMBER: _ClassVar[int]
    DISK_GIB_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    host: str
    address: str
    availability_zone: str
    hypervisor_type: str
    hypervisor_version: str
    architecture: str
    vcpus: int
    ram_mib: int
    disk_gib: int
    enabled: bool
    request_id: str
    def __init__(self, host: _Optional[str] = ..., address: _Optional[str] = ..., availability_zone: _Optional[str] = ..., hypervisor_type: _Optional[str] = ..., hypervisor_version: _Optional[str] = ..., architecture: _Optional[str] = ..., vcpus: _Optional[int] = ..., ram_mib: _Optional[int] = ..., disk_gib: _Optional[int] = ..., enabled: _Optional[bool] = ..., request_id: _Optional[str] = ...) -> None: ...

class ReportComputeNodeResponse(_message.Message):
    __slots__ = ("report_interval_seconds", "enabled")
    REPORT_INTERVAL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    report_interval_seconds: int
    enabled: bool
    def __init__(self, report_interval_seconds: _Optional[int] = ..., enabled: _Optional[bool] = ...) -> None: ...

class ListHostInstancesRequest(_message.Message):
    __slots__ = ("host", "page_size", "page_token")
    HOST_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    host: str
    page_size: int
    page_token: str
    def __init__(self, host: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListHostInstancesResponse(_message.Message):
    __slots__ = ("instances", "next_page_token")
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    instances: _containers.RepeatedCompositeFieldContainer[InstanceInfo]
    next_page_token: str
    def __init__(self, instances: _Optional[_Iterable[_Union[InstanceInfo, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ConductorCast(_message.Message):
    __slots__ = ("context", "instance_build_failed", "instance_deleted")
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_BUILD_FAILED_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_DELETED_FIELD_NUMBER: _ClassVar[int]
    context: _cast_pb2.CastContext
    instance_build_failed: InstanceBuildFailed
    instance_deleted: InstanceDeleted
    def __init__(self, context: _Optional[_Union[_cast_pb2.CastContext, _Mapping]] = ..., instance_build_failed: _Optional[_Union[InstanceBuildFailed, _Mapping]] = ..., instance_deleted: _Optional[_Union[InstanceDeleted, _Mapping]] = ...) -> None: ...

class InstanceBuildFailed(_message.Message):
    __slots__ = ("instance_id", "host", "claim_id", "fault", "retryable")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    CLAIM_ID_FIELD_NUMBER: _ClassVar[int]
    FAULT_FIELD_NUMBER: _ClassVar[int]
    RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    host: str
    claim_id: str
    fault: _instance_pb2.Fault
    retryable: bool
    def __init__(self, instance_id: _Optional[str] = ..., host: _Optional[str] = ..., claim_id: _Optional[str] = ..., fault: _Optional[_Union[_instance_pb2.Fault, _Mapping]] = ..., retryable: _Optional[bool] = ...) -> None: ...

class InstanceDeleted(_message.Message):
    __slots__ = ("instance_id", "host")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    host: str
    def __init__(self, instance_id: _Optional[str] = ..., host: _Optional[str] = ...) -> None: ...

class CastsSummary(_message.Message):
    __slots__ = ("received",)
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    received: int
    def __init__(self, received: _Optional[int] = ...) -> None: ...
