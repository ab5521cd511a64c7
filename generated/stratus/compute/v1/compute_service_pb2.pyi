from stratus.type.v1 import cast_pb2 as _cast_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Domain(_message.Message):
    __slots__ = ("name", "instance_id", "state", "vcpus", "memory_mib", "disks", "interfaces")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[Domain.State]
        STATE_NO_STATE: _ClassVar[Domain.State]
        STATE_RUNNING: _ClassVar[Domain.State]
        STATE_BLOCKED: _ClassVar[Domain.State]
        STATE_PAUSED: _ClassVar[Domain.State]
        STATE_SHUTTING_DOWN: _ClassVar[Domain.State]
        STATE_SHUTOFF: _ClassVar[Domain.State]
        STATE_CRASHED: _ClassVar[Domain.State]
        STATE_PM_SUSPENDED: _ClassVar[Domain.State]
    STATE_UNSPECIFIED: Domain.State
    STATE_NO_STATE: Domain.State
    STATE_RUNNING: Domain.State
    STATE_BLOCKED: Domain.State
    STATE_PAUSED: Domain.State
    STATE_SHUTTING_DOWN: Domain.State
    STATE_SHUTOFF: Domain.State
    STATE_CRASHED: Domain.State
    STATE_PM_SUSPENDED: Domain.State
    NAME_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    VCPUS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_MIB_FIELD_NUMBER: _ClassVar[int]
    DISKS_FIELD_NUMBER: _ClassVar[int]
    INTERFACES_FIELD_NUMBER: _ClassVar[int]
    name: str
    instance_id: str
    state: Domain.State
    vcpus: int
    memory_mib: int
    disks: _containers.RepeatedCompositeFieldContainer[DomainDisk]
    interfaces: _containers.RepeatedCompositeFieldContainer[DomainInterface]
    def __init__(self, name: _Optional[str] = ..., instance_id: _Optional[str] = ..., state: _Optional[_Union[Domain.State, str]] = ..., vcpus: _Optional[int] = ..., memory_mib: _Optional[int] = ..., disks: _Optional[_Iterable[_Union[DomainDisk, _Mapping]]] = ..., interfaces: _Optional[_Iterable[_Union[DomainInterface, _Mapping]]] = ...) -> None: ...

class DomainDisk(_message.Message):
    __slots__ = ("target", "source", "format")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    target: str
    source: str
    format: str
    def __init__(self, target: _Optional[str] = ..., source: _Optional[str] = ..., format: _Optional[str] = ...) -> None: ...

class DomainInterface(_message.Message):
    __slots__ = ("mac_address", "type")
    MAC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    mac_address: str
    type: str
    def __init__(self, mac_address: _Optional[str] = ..., type: _Optional[str] = ...) -> None: ...

class ComputeCast(_message.Message):
    __slots__ = ("context", "build_and_run_instance", "terminate_instance", "stop_instance", "start_instance", "reboot_instance")
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    BUILD_AND_RUN_INSTANCE_FIELD_NUMBER: _ClassVar[int]
    TERMINATE_INSTANCE_FIELD_NUMBER: _ClassVar[int]
    STOP_INSTANCE_FIELD_NUMBER: _ClassVar[int]
    START_INSTANCE_FIELD_NUMBER: _ClassVar[int]
    REBOOT_INSTANCE_FIELD_NUMBER: _ClassVar[int]
    context: _cast_pb2.CastContext
    build_and_run_instance: BuildAndRunInstance
    terminate_instance: TerminateInstance
    stop_instance: StopInstance
    start_instance: StartInstance
    reboot_instance: RebootInstance
    def __init__(self, context: _Optional[_Union[_cast_pb2.CastContext, _Mapping]] = ..., build_and_run_instance: _Optional[_Union[BuildAndRunInstance, _Mapping]] = ..., terminate_instance: _Optional[_Union[TerminateInstance, _Mapping]] = ..., stop_instance: _Optional[_Union[StopInstance, _Mapping]] = ..., start_instance: _Optional[_Union[StartInstance, _Mapping]] = ..., reboot_instance: _Optional[_Union[RebootInstance, _Mapping]] = ...) -> None: ...

class BuildAndRunInstance(_message.Message):
    __slots__ = ("instance_id", "claim_id", "attempt", "alternates")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    CLAIM_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    ALTERNATES_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    claim_id: str
    attempt: int
    alternates: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, instance_id: _Optional[str] = ..., claim_id: _Optional[str] = ..., attempt: _Optional[int] = ..., alternates: _Optional[_Iterable[str]] = ...) -> None: ...

class TerminateInstance(_message.Message):
    __slots__ = ("instance_id",)
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    def __init__(self, instance_id: _Optional[str] = ...) -> None: ...

class StopInstance(_message.Message):
    __slots__ = ("instance_id",)
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    def __init__(self, instance_id: _Optional[str] = ...) -> None: ...

class StartInstance(_message.Message):
    __slots__ = ("instance_id",)
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    def __init__(self, instance_id: _Optional[str] = ...) -> None: ...

class RebootInstance(_message.Message):
    __slots__ = ("instance_id", "reboot_type")
    class RebootType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        REBOOT_TYPE_UNSPECIFIED: _ClassVar[RebootInstance.RebootType]
        REBOOT_TYPE_SOFT: _ClassVar[RebootInstance.RebootType]
        REBOOT_TYPE_HARD: _ClassVar[RebootInstance.RebootType]
    REBOOT_TYPE_UNSPECIFIED: RebootInstance.RebootType
    REBOOT_TYPE_SOFT: RebootInstance.RebootType
    REBOOT_TYPE_HARD: RebootInstance.RebootType
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    REBOOT_TYPE_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    reboot_type: RebootInstance.RebootType
    def __init__(self, instance_id: _Optional[str] = ..., reboot_type: _Optional[_Union[RebootInstance.RebootType, str]] = ...) -> None: ...

class CastsSummary(_message.Message):
    __slots__ = ("received",)
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    received: int
    def __init__(self, received: _Optional[int] = ...) -> None: ...

class GetConsoleOutputRequest(_message.Message):
    __slots__ = ("instance_id", "length")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    length: int
    def __init__(self, instance_id: _Optional[str] = ..., length: _Optional[int] = ...) -> None: ...

class GetConsoleOutputResponse(_message.Message):
    __slots__ = ("output", "truncated")
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    output: str
    truncated: bool
    def __init__(self, output: _Optional[str] = ..., truncated: _Optional[bool] = ...) -> None: ...

class GetHostStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetHostStatusResponse(_message.Message):
    __slots__ = ("host", "hypervisor_type", "hypervisor_version", "libvirt_uri", "domain_count", "running_domain_count", "uptime_seconds")
    HOST_FIELD_NUMBER: _ClassVar[int]
    HYPERVISOR_TYPE_FIELD_NUMBER: _ClassVar[int]
    HYPERVISOR_VERSION_FIELD_NUMBER: _ClassVar[int]
    LIBVIRT_URI_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_COUNT_FIELD_NUMBER: _ClassVar[int]
    RUNNING_DOMAIN_COUNT_FIELD_NUMBER: _ClassVar[int]
    UPTIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    host: str
    hypervisor_type: str
    hypervisor_version: str
    libvirt_uri: str
    domain_count: int
    running_domain_count: int
    uptime_seconds: int
    def __init__(self, host: _Optional[str] = ..., hypervisor_type: _Optional[str] = ..., hypervisor_version: _Optional[str] = ..., libvirt_uri: _Optional[str] = ..., domain_count: _Optional[int] = ..., running_domain_count: _Optional[int] = ..., uptime_seconds: _Optional[int] = ...) -> None: ...

class ListDomainsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDomainsResponse(_message.Message):
    __slots__ = ("domains", "next_page_token")
    DOMAINS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    domains: _containers.RepeatedCompositeFieldContainer[Domain]
    next_page_token: str
    def __init__(self, domains: _Optional[_Iterable[_Union[Domain, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
