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

class Volume(_message.Message):
    __slots__ = ("id", "name", "description", "project_id", "size_gib", "status", "source_image_id", "attachments", "reserved_instance_id", "create_time", "update_time")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[Volume.Status]
        STATUS_CREATING: _ClassVar[Volume.Status]
        STATUS_AVAILABLE: _ClassVar[Volume.Status]
        STATUS_RESERVED: _ClassVar[Volume.Status]
        STATUS_ATTACHING: _ClassVar[Volume.Status]
        STATUS_IN_USE: _ClassVar[Volume.Status]
        STATUS_DETACHING: _ClassVar[Volume.Status]
        STATUS_DELETING: _ClassVar[Volume.Status]
        STATUS_ERROR: _ClassVar[Volume.Status]
        STATUS_ERROR_DELETING: _ClassVar[Volume.Status]
        STATUS_EXTENDING: _ClassVar[Volume.Status]
    STATUS_UNSPECIFIED: Volume.Status
    STATUS_CREATING: Volume.Status
    STATUS_AVAILABLE: Volume.Status
    STATUS_RESERVED: Volume.Status
    STATUS_ATTACHING: Volume.Status
    STATUS_IN_USE: Volume.Status
    STATUS_DETACHING: Volume.Status
    STATUS_DELETING: Volume.Status
    STATUS_ERROR: Volume.Status
    STATUS_ERROR_DELETING: Volume.Status
    STATUS_EXTENDING: Volume.Status
    class Attachment(_message.Message):
        __slots__ = ("id", "instance_id", "host", "device", "attach_time")
        ID_FIELD_NUMBER: _ClassVar[int]
        INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
        HOST_FIELD_NUMBER: _ClassVar[int]
        DEVICE_FIELD_NUMBER: _ClassVar[int]
        ATTACH_TIME_FIELD_NUMBER: _ClassVar[int]
        id: str
        instance_id: str
        host: str
        device: str
        attach_time: _timestamp_pb2.Timestamp
        def __init__(self, id: _Optional[str] = ..., instance_id: _Optional[str] = ..., host: _Optional[str] = ..., device: _Optional[str] = ..., attach_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SIZE_GIB_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    RESERVED_INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    description: str
    project_id: str
    size_gib: int
    status: Volume.Status
    source_image_id: str
    attachments: _containers.RepeatedCompositeFieldContainer[Volume.Attachment]
    reserved_instance_id: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., project_id: _Optional[str] = ..., size_gib: _Optional[int] = ..., status: _Optional[_Union[Volume.Status, str]] = ..., source_image_id: _Optional[str] = ..., attachments: _Optional[_Iterable[_Union[Volume.Attachment, _Mapping]]] = ..., reserved_instance_id: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Quota(_message.Message):
    __slots__ = ("project_id", "volumes_limit", "size_gib_limit", "volumes_used", "size_gib_used", "is_default")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    VOLUMES_LIMIT_FIELD_NUMBER: _ClassVar[int]
    SIZE_GIB_LIMIT_FIELD_NUMBER: _ClassVar[int]
    VOLUMES_USED_FIELD_NUMBER: _ClassVar[int]
    SIZE_GIB_USED_FIELD_NUMBER: _ClassVar[int]
    IS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    volumes_limit: int
    size_gib_limit: int
    volumes_used: int
    size_gib_used: int
    is_default: bool
    def __init__(self, project_id: _Optional[str] = ..., volumes_limit: _Optional[int] = ..., size_gib_limit: _Optional[int] = ..., volumes_used: _Optional[int] = ..., size_gib_used: _Optional[int] = ..., is_default: _Optional[bool] = ...) -> None: ...

class CreateVolumeRequest(_message.Message):
    __slots__ = ("name", "size_gib", "image_id", "description", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SIZE_GIB_FIELD_NUMBER: _ClassVar[int]
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    size_gib: int
    image_id: str
    description: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., size_gib: _Optional[int] = ..., image_id: _Optional[str] = ..., description: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetVolumeRequest(_message.Message):
    __slots__ = ("volume_id",)
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    def __init__(self, volume_id: _Optional[str] = ...) -> None: ...

class ListVolumesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "status")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    status: Volume.Status
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., status: _Optional[_Union[Volume.Status, str]] = ...) -> None: ...

class ListVolumesResponse(_message.Message):
    __slots__ = ("volumes", "next_page_token")
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    volumes: _containers.RepeatedCompositeFieldContainer[Volume]
    next_page_token: str
    def __init__(self, volumes: _Optional[_Iterable[_Union[Volume, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteVolumeRequest(_message.Message):
    __slots__ = ("volume_id", "request_id")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    request_id: str
    def __init__(self, volume_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class DeleteVolumeResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ExtendVolumeRequest(_message.Message):
    __slots__ = ("volume_id", "new_size_gib", "request_id")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_SIZE_GIB_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    new_size_gib: int
    request_id: str
    def __init__(self, volume_id: _Optional[str] = ..., new_size_gib: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class ExtendVolumeResponse(_message.Message):
    __slots__ = ("volume",)
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    volume: Volume
    def __init__(self, volume: _Optional[_Union[Volume, _Mapping]] = ...) -> None: ...

class ReserveVolumeRequest(_message.Message):
    __slots__ = ("volume_id", "instance_id", "request_id")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    instance_id: str
    request_id: str
    def __init__(self, volume_id: _Optional[str] = ..., instance_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ReserveVolumeResponse(_message.Message):
    __slots__ = ("volume",)
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    volume: Volume
    def __init__(self, volume: _Optional[_Union[Volume, _Mapping]] = ...) -> None: ...

class UnreserveVolumeRequest(_message.Message):
    __slots__ = ("volume_id", "instance_id", "request_id")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    instance_id: str
    request_id: str
    def __init__(self, volume_id: _Optional[str] = ..., instance_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class UnreserveVolumeResponse(_message.Message):
    __slots__ = ("volume",)
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    volume: Volume
    def __init__(self, volume: _Optional[_Union[Volume, _Mapping]] = ...) -> None: ...

class AttachVolumeRequest(_message.Message):
    __slots__ = ("volume_id", "instance_id", "host", "device", "request_id")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    instance_id: str
    host: str
    device: str
    request_id: str
    def __init__(self, volume_id: _Optional[str] = ..., instance_id: _Optional[str] = ..., host: _Optional[str] = ..., device: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class AttachVolumeResponse(_message.Message):
    __slots__ = ("attachment_id", "connection_info", "volume")
    ATTACHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_INFO_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    attachment_id: str
    connection_info: ConnectionInfo
    volume: Volume
    def __init__(self, attachment_id: _Optional[str] = ..., connection_info: _Optional[_Union[ConnectionInfo, _Mapping]] = ..., volume: _Optional[_Union[Volume, _Mapping]] = ...) -> None: ...

class ConnectionInfo(_message.Message):
    __slots__ = ("driver_volume_type", "path", "format", "host", "port", "export_name", "tls")
    DRIVER_VOLUME_TYPE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    EXPORT_NAME_FIELD_NUMBER: _ClassVar[int]
    TLS_FIELD_NUMBER: _ClassVar[int]
    driver_volume_type: str
    path: str
    format: str
    host: str
    port: int
    export_name: str
    tls: bool
    def __init__(self, driver_volume_type: _Optional[str] = ..., path: _Optional[str] = ..., format: _Optional[str] = ..., host: _Optional[str] = ..., port: _Optional[int] = ..., export_name: _Optional[str] = ..., tls: _Optional[bool] = ...) -> None: ...

class DetachVolumeRequest(_message.Message):
    __slots__ = ("volume_id", "instance_id", "attachment_id", "request_id")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    instance_id: str
    attachment_id: str
    request_id: str
    def __init__(self, volume_id: _Optional[str] = ..., instance_id: _Optional[str] = ..., attachment_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class DetachVolumeResponse(_message.Message):
    __slots__ = ("volume",)
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    volume: Volume
    def __init__(self, volume: _Optional[_Union[Volume, _Mapping]] = ...) -> None: ...

class GetQuotaRequest(_message.Message):
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class UpdateQuotaRequest(_message.Message):
    __slots__ = ("quota", "update_mask", "request_id")
    QUOTA_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    quota: Quota
    update_mask: _field_mask_pb2.FieldMask
    request_id: str
    def __init__(self, quota: _Optional[_Union[Quota, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...
