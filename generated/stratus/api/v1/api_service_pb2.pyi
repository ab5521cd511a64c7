import datetime

from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from stratus.type.v1 import instance_pb2 as _instance_pb2
from stratus.type.v1 import instance_state_pb2 as _instance_state_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Server(_message.Message):
    __slots__ = ("id", "name", "project_id", "user_id", "status", "vm_state", "task_state", "power_state", "flavor", "image_id", "addresses", "volumes", "host", "availability_zone", "fault", "metadata", "create_time", "update_time", "launched_time", "key_name", "config_drive")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[Server.Status]
        STATUS_BUILD: _ClassVar[Server.Status]
        STATUS_ACTIVE: _ClassVar[Server.Status]
        STATUS_SHUTOFF: _ClassVar[Server.Status]
        STATUS_REBOOT: _ClassVar[Server.Status]
        STATUS_ERROR: _ClassVar[Server.Status]
        STATUS_DELETED: _ClassVar[Server.Status]
    STATUS_UNSPECIFIED: Server.Status
    STATUS_BUILD: Server.Status
    STATUS_ACTIVE: Server.Status
    STATUS_SHUTOFF: Server.Status
    STATUS_REBOOT: Server.Status
    STATUS_ERROR: Server.Status
    STATUS_DELETED: Server.Status
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
    STATUS_FIELD_NUMBER: _ClassVar[int]
    VM_STATE_FIELD_NUMBER: _ClassVar[int]
    TASK_STATE_FIELD_NUMBER: _ClassVar[int]
    POWER_STATE_FIELD_NUMBER: _ClassVar[int]
    FLAVOR_FIELD_NUMBER: _ClassVar[int]
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_ZONE_FIELD_NUMBER: _ClassVar[int]
    FAULT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    LAUNCHED_TIME_FIELD_NUMBER: _ClassVar[int]
    KEY_NAME_FIELD_NUMBER: _ClassVar[int]
    CONFIG_DRIVE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    project_id: str
    user_id: str
    status: Server.Status
    vm_state: _instance_state_pb2.VmState
    task_state: _instance_state_pb2.TaskState
    power_state: _instance_state_pb2.PowerState
    flavor: FlavorSummary
    image_id: str
    addresses: _containers.RepeatedCompositeFieldContainer[_instance_pb2.Address]
    volumes: _containers.RepeatedCompositeFieldContainer[_instance_pb2.AttachedVolume]
    host: str
    availability_zone: str
    fault: _instance_pb2.Fault
    metadata: _containers.ScalarMap[str, str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    launched_time: _timestamp_pb2.Timestamp
    key_name: str
    config_drive: bool
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., project_id: _Optional[str] = ..., user_id: _Optional[str] = ..., status: _Optional[_Union[Server.Status, str]] = ..., vm_state: _Optional[_Union[_instance_state_pb2.VmState, str]] = ..., task_state: _Optional[_Union[_instance_state_pb2.TaskState, str]] = ..., power_state: _Optional[_Union[_instance_state_pb2.PowerState, str]] = ..., flavor: _Optional[_Union[FlavorSummary, _Mapping]] = ..., image_id: _Optional[str] = ..., addresses: _Optional[_Iterable[_Union[_instance_pb2.Address, _Mapping]]] = ..., volumes: _Optional[_Iterable[_Union[_instance_pb2.AttachedVolume, _Mapping]]] = ..., host: _Optional[str] = ..., availability_zone: _Optional[str] = ..., fault: _Optional[_Union[_instance_pb2.Fault, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., launched_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., key_name: _Optional[str] = ..., config_drive: _Optional[bool] = ...) -> None: ...

class FlavorSummary(_message.Message):
    __slots__ = ("id", "name", "vcpus", "ram_mib", "disk_gib")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VCPUS_FIELD_NUMBER: _ClassVar[int]
    RAM_MIB_FIELD_NUMBER: _ClassVar[int]
    DISK_GIB_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    vcpus: int
    ram_mib: int
    disk_gib: int
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., vcpus: _Optional[int] = ..., ram_mib: _Optional[int] = ..., disk_gib: _Optional[int] = ...) -> None: ...

class Flavor(_message.Message):
    __slots__ = ("id", "name", "vcpus", "ram_mib", "disk_gib", "extra_specs", "is_public", "create_time")
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
    IS_PUBLIC_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    vcpus: int
    ram_mib: int
    disk_gib: int
    extra_specs: _containers.ScalarMap[str, str]
    is_public: bool
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., vcpus: _Optional[int] = ..., ram_mib: _Optional[int] = ..., disk_gib: _Optional[int] = ..., extra_specs: _Optional[_Mapping[str, str]] = ..., is_public: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Quota(_message.Message):
    __slots__ = ("project_id", "instances", "cores", "ram_mib")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    CORES_FIELD_NUMBER: _ClassVar[int]
    RAM_MIB_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    instances: QuotaDetail
    cores: QuotaDetail
    ram_mib: QuotaDetail
    def __init__(self, project_id: _Optional[str] = ..., instances: _Optional[_Union[QuotaDetail, _Mapping]] = ..., cores: _Optional[_Union[QuotaDetail, _Mapping]] = ..., ram_mib: _Optional[_Union[QuotaDetail, _Mapping]] = ...) -> None: ...

class QuotaDetail(_message.Message):
    __slots__ = ("limit", "in_use")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    IN_USE_FIELD_NUMBER: _ClassVar[int]
    limit: int
    in_use: int
    def __init__(self, limit: _Optional[int] = ..., in_use: _Optional[int] = ...) -> None: ...

class CreateServerRequest(_message.Message):
    __slots__ = ("name", "flavor_id", "image_id", "network_ids", "volume_ids", "metadata", "availability_zone", "request_id", "port_ids", "key_name", "user_data", "config_drive")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    FLAVOR_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    NETWORK_IDS_FIELD_NUMBER: _ClassVar[int]
    VOLUME_IDS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_ZONE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PORT_IDS_FIELD_NUMBER: _ClassVar[int]
    KEY_NAME_FIELD_NUMBER: _ClassVar[int]
    USER_DATA_FIELD_NUMBER: _ClassVar[int]
    CONFIG_DRIVE_FIELD_NUMBER: _ClassVar[int]
    name: str
    flavor_id: str
    image_id: str
    network_ids: _containers.RepeatedScalarFieldContainer[str]
    volume_ids: _containers.RepeatedScalarFieldContainer[str]
    metadata: _containers.ScalarMap[str, str]
    availability_zone: str
    request_id: str
    port_ids: _containers.RepeatedScalarFieldContainer[str]
    key_name: str
    user_data: bytes
    config_drive: bool
    def __init__(self, name: _Optional[str] = ..., flavor_id: _Optional[str] = ..., image_id: _Optional[str] = ..., network_ids: _Optional[_Iterable[str]] = ..., volume_ids: _Optional[_Iterable[str]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., availability_zone: _Optional[str] = ..., request_id: _Optional[str] = ..., port_ids: _Optional[_Iterable[str]] = ..., key_name: _Optional[str] = ..., user_data: _Optional[bytes] = ..., config_drive: _Optional[bool] = ...) -> None: ...

class GetServerRequest(_message.Message):
    __slots__ = ("server_id",)
    SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    server_id: str
    def __init__(self, server_id: _Optional[str] = ...) -> None: ...

class ListServersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "status", "name", "all_projects", "name_contains", "host")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ALL_PROJECTS_FIELD_NUMBER: _ClassVar[int]
    NAME_CONTAINS_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    status: Server.Status
    name: str
    all_projects: bool
    name_contains: str
    host: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., status: _Optional[_Union[Server.Status, str]] = ..., name: _Optional[str] = ..., all_projects: _Optional[bool] = ..., name_contains: _Optional[str] = ..., host: _Optional[str] = ...) -> None: ...

class ListServersResponse(_message.Message):
    __slots__ = ("servers", "next_page_token")
    SERVERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    servers: _containers.RepeatedCompositeFieldContainer[Server]
    next_page_token: str
    def __init__(self, servers: _Optional[_Iterable[_Union[Server, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteServerRequest(_message.Message):
    __slots__ = ("server_id", "request_id")
    SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    server_id: str
    request_id: str
    def __init__(self, server_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class DeleteServerResponse(_message.Message):
    __slots__ = ("server",)
    SERVER_FIELD_NUMBER: _ClassVar[int]
    server: Server
    def __init__(self, server: _Optional[_Union[Server, _Mapping]] = ...) -> None: ...

class StopServerRequest(_message.Message):
    __slots__ = ("server_id", "request_id")
    SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    server_id: str
    request_id: str
    def __init__(self, server_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class StopServerResponse(_message.Message):
    __slots__ = ("server",)
    SERVER_FIELD_NUMBER: _ClassVar[int]
    server: Server
    def __init__(self, server: _Optional[_Union[Server, _Mapping]] = ...) -> None: ...

class StartServerRequest(_message.Message):
    __slots__ = ("server_id", "request_id")
    SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    server_id: str
    request_id: str
    def __init__(self, server_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class StartServerResponse(_message.Message):
    __slots__ = ("server",)
    SERVER_FIELD_NUMBER: _ClassVar[int]
    server: Server
    def __init__(self, server: _Optional[_Union[Server, _Mapping]] = ...) -> None: ...

class RebootServerRequest(_message.Message):
    __slots__ = ("server_id", "reboot_type", "request_id")
    class RebootType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        REBOOT_TYPE_UNSPECIFIED: _ClassVar[RebootServerRequest.RebootType]
        REBOOT_TYPE_SOFT: _ClassVar[RebootServerRequest.RebootType]
        REBOOT_TYPE_HARD: _ClassVar[RebootServerRequest.RebootType]
    REBOOT_TYPE_UNSPECIFIED: RebootServerRequest.RebootType
    REBOOT_TYPE_SOFT: RebootServerRequest.RebootType
    REBOOT_TYPE_HARD: RebootServerRequest.RebootType
    SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    REBOOT_TYPE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    server_id: str
    reboot_type: RebootServerRequest.RebootType
    request_id: str
    def __init__(self, server_id: _Optional[str] = ..., reboot_type: _Optional[_Union[RebootServerRequest.RebootType, str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class RebootServerResponse(_message.Message):
    __slots__ = ("server",)
    SERVER_FIELD_NUMBER: _ClassVar[int]
    server: Server
    def __init__(self, server: _Optional[_Union[Server, _Mapping]] = ...) -> None: ...

class GetConsoleOutputRequest(_message.Message):
    __slots__ = ("server_id", "length")
    SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    server_id: str
    length: int
    def __init__(self, server_id: _Optional[str] = ..., length: _Optional[int] = ...) -> None: ...

class GetConsoleOutputResponse(_message.Message):
    __slots__ = ("output",)
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    output: str
    def __init__(self, output: _Optional[str] = ...) -> None: ...

class WatchServerRequest(_message.Message):
    __slots__ = ("server_id",)
    SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    server_id: str
    def __init__(self, server_id: _Optional[str] = ...) -> None: ...

class WatchServerResponse(_message.Message):
    __slots__ = ("server", "event_time")
    SERVER_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    server: Server
    event_time: _timestamp_pb2.Timestamp
    def __init__(self, server: _Optional[_Union[Server, _Mapping]] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WatchServersRequest(_message.Message):
    __slots__ = ("server_ids",)
    SERVER_IDS_FIELD_NUMBER: _ClassVar[int]
    server_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, server_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class WatchServersResponse(_message.Message):
    __slots__ = ("server", "event_time", "missing_server_id")
    SERVER_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    MISSING_SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    server: Server
    event_time: _timestamp_pb2.Timestamp
    missing_server_id: str
    def __init__(self, server: _Optional[_Union[Server, _Mapping]] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., missing_server_id: _Optional[str] = ...) -> None: ...

class CreateFlavorRequest(_message.Message):
    __slots__ = ("name", "vcpus", "ram_mib", "disk_gib", "extra_specs", "is_public", "request_id")
    class ExtraSpecsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    VCPUS_FIELD_NUMBER: _ClassVar[int]
    RAM_MIB_FIELD_NUMBER: _ClassVar[int]
    DISK_GIB_FIELD_NUMBER: _ClassVar[int]
    EXTRA_SPECS_FIELD_NUMBER: _ClassVar[int]
    IS_PUBLIC_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    vcpus: int
    ram_mib: int
    disk_gib: int
    extra_specs: _containers.ScalarMap[str, str]
    is_public: bool
    request_id: str
    def __init__(self, name: _Optional[str] = ..., vcpus: _Optional[int] = ..., ram_mib: _Optional[int] = ..., disk_gib: _Optional[int] = ..., extra_specs: _Optional[_Mapping[str, str]] = ..., is_public: _Optional[bool] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetFlavorRequest(_message.Message):
    __slots__ = ("flavor_id",)
    FLAVOR_ID_FIELD_NUMBER: _ClassVar[int]
    flavor_id: str
    def __init__(self, flavor_id: _Optional[str] = ...) -> None: ...

class ListFlavorsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListFlavorsResponse(_message.Message):
    __slots__ = ("flavors", "next_page_token")
    FLAVORS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    flavors: _containers.RepeatedCompositeFieldContainer[Flavor]
    next_page_token: str
    def __init__(self, flavors: _Optional[_Iterable[_Union[Flavor, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteFlavorRequest(_message.Message):
    __slots__ = ("flavor_id", "request_id")
    FLAVOR_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    flavor_id: str
    request_id: str
    def __init__(self, flavor_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class DeleteFlavorResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetQuotaRequest(_message.Message):
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class UpdateQuotaRequest(_message.Message):
    __slots__ = ("project_id", "instances", "cores", "ram_mib", "update_mask", "request_id")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    CORES_FIELD_NUMBER: _ClassVar[int]
    RAM_MIB_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    instances: int
    cores: int
    ram_mib: int
    update_mask: _field_mask_pb2.FieldMask
    request_id: str
    def __init__(self, project_id: _Optional[str] = ..., instances: _Optional[int] = ..., cores: _Optional[int] = ..., ram_mib: _Optional[int] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class Keypair(_message.Message):
    __slots__ = ("name", "user_id", "public_key", "fingerprint", "key_type", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    KEY_TYPE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    user_id: str
    public_key: str
    fingerprint: str
    key_type: str
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., user_id: _Optional[str] = ..., public_key: _Optional[str] = ..., fingerprint: _Optional[str] = ..., key_type: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateKeypairRequest(_message.Message):
    __slots__ = ("name", "key_type")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KEY_TYPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    key_type: str
    def __init__(self, name: _Optional[str] = ..., key_type: _Optional[str] = ...) -> None: ...

class CreateKeypairResponse(_message.Message):
    __slots__ = ("keypair", "private_key")
    KEYPAIR_FIELD_NUMBER: _ClassVar[int]
    PRIVATE_KEY_FIELD_NUMBER: _ClassVar[int]
    keypair: Keypair
    private_key: str
    def __init__(self, keypair: _Optional[_Union[Keypair, _Mapping]] = ..., private_key: _Optional[str] = ...) -> None: ...

class ImportKeypairRequest(_message.Message):
    __slots__ = ("name", "public_key")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    name: str
    public_key: str
    def __init__(self, name: _Optional[str] = ..., public_key: _Optional[str] = ...) -> None: ...

class GetKeypairRequest(_message.Message):
    __slots__ = ("name", "user_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    user_id: str
    def __init__(self, name: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class ListKeypairsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "user_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    user_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class ListKeypairsResponse(_message.Message):
    __slots__ = ("keypairs", "next_page_token")
    KEYPAIRS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    keypairs: _containers.RepeatedCompositeFieldContainer[Keypair]
    next_page_token: str
    def __init__(self, keypairs: _Optional[_Iterable[_Union[Keypair, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteKeypairRequest(_message.Message):
    __slots__ = ("name", "user_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    user_id: str
    def __init__(self, name: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class DeleteKeypairResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
