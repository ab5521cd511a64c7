import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Address(_message.Message):
    __slots__ = ("network_id", "network_name", "ip_address", "mac_address", "version", "port_id")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    NETWORK_NAME_FIELD_NUMBER: _ClassVar[int]
    IP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    MAC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PORT_ID_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    network_name: str
    ip_address: str
    mac_address: str
    version: int
    port_id: str
    def __init__(self, network_id: _Optional[str] = ..., network_name: _Optional[str] = ..., ip_address: _Optional[str] = ..., mac_address: _Optional[str] = ..., version: _Optional[int] = ..., port_id: _Optional[str] = ...) -> None: ...

class AttachedVolume(_message.Message):
    __slots__ = ("volume_id", "device")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    device: str
    def __init__(self, volume_id: _Optional[str] = ..., device: _Optional[str] = ...) -> None: ...

class Fault(_message.Message):
    __slots__ = ("code", "message", "details", "create_time")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    details: str
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., details: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
