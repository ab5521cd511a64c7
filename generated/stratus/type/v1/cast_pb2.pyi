import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CastContext(_message.Message):
    __slots__ = ("request_id", "auth_token", "user_id", "project_id", "send_time")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    AUTH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SEND_TIME_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    auth_token: str
    user_id: str
    project_id: str
    send_time: _timestamp_pb2.Timestamp
    def __init__(self, request_id: _Optional[str] = ..., auth_token: _Optional[str] = ..., user_id: _Optional[str] = ..., project_id: _Optional[str] = ..., send_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
