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

class Image(_message.Message):
    __slots__ = ("id", "name", "status", "disk_format", "container_format", "visibility", "project_id", "size_bytes", "virtual_size_bytes", "checksum", "os_hash_algo", "os_hash_value", "min_disk_gib", "min_ram_mib", "properties", "protected", "create_time", "update_time")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[Image.Status]
        STATUS_QUEUED: _ClassVar[Image.Status]
        STATUS_SAVING: _ClassVar[Image.Status]
        STATUS_ACTIVE: _ClassVar[Image.Status]
        STATUS_KILLED: _ClassVar[Image.Status]
        STATUS_DELETED: _ClassVar[Image.Status]
        STATUS_DEACTIVATED: _ClassVar[Image.Status]
    STATUS_UNSPECIFIED: Image.Status
    STATUS_QUEUED: Image.Status
    STATUS_SAVING: Image.Status
    STATUS_ACTIVE: Image.Status
    STATUS_KILLED: Image.Status
    STATUS_DELETED: Image.Status
    STATUS_DEACTIVATED: Image.Status
    class DiskFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        DISK_FORMAT_UNSPECIFIED: _ClassVar[Image.DiskFormat]
        DISK_FORMAT_RAW: _ClassVar[Image.DiskFormat]
        DISK_FORMAT_QCOW2: _ClassVar[Image.DiskFormat]
    DISK_FORMAT_UNSPECIFIED: Image.DiskFormat
    DISK_FORMAT_RAW: Image.DiskFormat
    DISK_FORMAT_QCOW2: Image.DiskFormat
    class ContainerFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        CONTAINER_FORMAT_UNSPECIFIED: _ClassVar[Image.ContainerFormat]
        CONTAINER_FORMAT_BARE: _ClassVar[Image.ContainerFormat]
    CONTAINER_FORMAT_UNSPECIFIED: Image.ContainerFormat
    CONTAINER_FORMAT_BARE: Image.ContainerFormat
    class Visibility(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        VISIBILITY_UNSPECIFIED: _ClassVar[Image.Visibility]
        VISIBILITY_PRIVATE: _ClassVar[Image.Visibility]
        VISIBILITY_PUBLIC: _ClassVar[Image.Visibility]
    VISIBILITY_UNSPECIFIED: Image.Visibility
    VISIBILITY_PRIVATE: Image.Visibility
    VISIBILITY_PUBLIC: Image.Visibility
    class PropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DISK_FORMAT_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_FORMAT_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    VIRTUAL_SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM_FIELD_NUMBER: _ClassVar[int]
    OS_HASH_ALGO_FIELD_NUMBER: _ClassVar[int]
    OS_HASH_VALUE_FIELD_NUMBER: _ClassVar[int]
    MIN_DISK_GIB_FIELD_NUMBER: _ClassVar[int]
    MIN_RAM_MIB_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    PROTECTED_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    status: Image.Status
    disk_format: Image.DiskFormat
    container_format: Image.ContainerFormat
    visibility: Image.Visibility
    project_id: str
    size_bytes: int
    virtual_size_bytes: int
    checksum: str
    os_hash_algo: str
    os_hash_value: str
    min_disk_gib: int
    min_ram_mib: int
    properties: _containers.ScalarMap[str, str]
    protected: bool
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., status: _Optional[_Union[Image.Status, str]] = ..., disk_format: _Optional[_Union[Image.DiskFormat, str]] = ..., container_format: _Optional[_Union[Image.ContainerFormat, str]] = ..., visibility: _Optional[_Union[Image.Visibility, str]] = ..., project_id: _Optional[str] = ..., size_bytes: _Optional[int] = ..., virtual_size_bytes: _Optional[int] = ..., checksum: _Optional[str] = ..., os_hash_algo: _Optional[str] = ..., os_hash_value: _Optional[str] = ..., min_disk_gib: _Optional[int] = ..., min_ram_mib: _Optional[int] = ..., properties: _Optional[_Mapping[str, str]] = ..., protected: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateImageRequest(_message.Message):
    __slots__ = ("name", "disk_format", "container_format", "visibility", "min_disk_gib", "min_ram_mib", "properties", "protected", "request_id")
    class PropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISK_FORMAT_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_FORMAT_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    MIN_DISK_GIB_FIELD_NUMBER: _ClassVar[int]
    MIN_RAM_MIB_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    PROTECTED_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    disk_format: Image.DiskFormat
    container_format: Image.ContainerFormat
    visibility: Image.Visibility
    min_disk_gib: int
    min_ram_mib: int
    properties: _containers.ScalarMap[str, str]
    protected: bool
    request_id: str
    def __init__(self, name: _Optional[str] = ..., disk_format: _Optional[_Union[Image.DiskFormat, str]] = ..., container_format: _Optional[_Union[Image.ContainerFormat, str]] = ..., visibility: _Optional[_Union[Image.Visibility, str]] = ..., min_disk_gib: _Optional[int] = ..., min_ram_mib: _Optional[int] = ..., properties: _Optional[_Mapping[str, str]] = ..., protected: _Optional[bool] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetImageRequest(_message.Message):
    __slots__ = ("image_id",)
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    image_id: str
    def __init__(self, image_id: _Optional[str] = ...) -> None: ...

class ListImagesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "name", "status", "visibility")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    name: str
    status: Image.Status
    visibility: Image.Visibility
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., name: _Optional[str] = ..., status: _Optional[_Union[Image.Status, str]] = ..., visibility: _Optional[_Union[Image.Visibility, str]] = ...) -> None: ...

class ListImagesResponse(_message.Message):
    __slots__ = ("images", "next_page_token")
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    images: _containers.RepeatedCompositeFieldContainer[Image]
    next_page_token: str
    def __init__(self, images: _Optional[_Iterable[_Union[Image, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateImageRequest(_message.Message):
    __slots__ = ("image", "update_mask", "request_id")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    image: Image
    update_mask: _field_mask_pb2.FieldMask
    request_id: str
    def __init__(self, image: _Optional[_Union[Image, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class DeleteImageRequest(_message.Message):
    __slots__ = ("image_id", "request_id")
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    image_id: str
    request_id: str
    def __init__(self, image_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class DeleteImageResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UploadImageRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: UploadImageHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[UploadImageHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class UploadImageHeader(_message.Message):
    __slots__ = ("image_id", "checksum", "os_hash_value", "size_bytes", "request_id")
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM_FIELD_NUMBER: _ClassVar[int]
    OS_HASH_VALUE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    image_id: str
    checksum: str
    os_hash_value: str
    size_bytes: int
    request_id: str
    def __init__(self, image_id: _Optional[str] = ..., checksum: _Optional[str] = ..., os_hash_value: _Optional[str] = ..., size_bytes: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class DownloadImageRequest(_message.Message):
    __slots__ = ("image_id", "offset_bytes")
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    OFFSET_BYTES_FIELD_NUMBER: _ClassVar[int]
    image_id: str
    offset_bytes: int
    def __init__(self, image_id: _Optional[str] = ..., offset_bytes: _Optional[int] = ...) -> None: ...

class DownloadImageResponse(_message.Message):
    __slots__ = ("chunk", "offset_bytes")
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    OFFSET_BYTES_FIELD_NUMBER: _ClassVar[int]
    chunk: bytes
    offset_bytes: int
    def __init__(self, chunk: _Optional[bytes] = ..., offset_bytes: _Optional[int] = ...) -> None: ...

class DeactivateImageRequest(_message.Message):
    __slots__ = ("image_id", "request_id")
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    image_id: str
    request_id: str
    def __init__(self, image_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class DeactivateImageResponse(_message.Message):
    __slots__ = ("image",)
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    image: Image
    def __init__(self, image: _Optional[_Union[Image, _Mapping]] = ...) -> None: ...

class ReactivateImageRequest(_message.Message):
    __slots__ = ("image_id", "request_id")
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    image_id: str
    request_id: str
    def __init__(self, image_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ReactivateImageResponse(_message.Message):
    __slots__ = ("image",)
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    image: Image
    def __init__(self, image: _Optional[_Union[Image, _Mapping]] = ...) -> None: ...
