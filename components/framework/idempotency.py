"""Safe retries: a repeated ``request_id`` returns the first result instead of acting twice.

Every mutating request in the contracts carries an optional ``request_id``.
The server interceptor calls :func:`replay` before the servicer and
:func:`remember` after a successful call, so every component gets AIP-155
semantics once, here. Records are scoped to the method and the caller's
project and kept for :data:`KEEP` (a day).
"""

from __future__ import annotations

import datetime
import logging

import peewee
from google.protobuf import descriptor_pool, message_factory

from components.framework.clock import utcnow
from components.framework.database import BaseModel, database

log = logging.getLogger(__name__)

KEEP = datetime.timedelta(hours=24)


class RequestRecord(BaseModel):
    """The serialized reply to one (method, project, request_id)."""

    method = peewee.CharField(max_length=191)
    project_id = peewee.CharField(max_length=36, default="")
    request_id = peewee.CharField(max_length=128)
    response = peewee.BlobField()

    class Meta:
        table_name = "stratus_request_record"
        indexes = ((("method", "project_id", "request_id"), True),)


def install() -> None:
    """Create the table in the component's database (called by database.connect)."""
    database.create_tables([RequestRecord], safe=True)


def _response_class(method: str):
    service, name = method.lstrip("/").split("/")
    desc = descriptor_pool.Default().FindServiceByName(service).FindMethodByName(name)
    return message_factory.GetMessageClass(desc.output_type)


def request_id_of(request) -> str:
    descriptor = getattr(request, "DESCRIPTOR", None)
    if descriptor is None or "request_id" not in descriptor.fields_by_name:
        return ""
    return request.request_id


def replay(method: str, project_id: str, request_id: str):
    """The stored reply to this request, or None."""
    if database.obj is None:
        return None
    row = RequestRecord.get_or_none(
        (RequestRecord.method == method)
        & (RequestRecord.project_id == project_id)
        & (RequestRecord.request_id == request_id)
    )
    if row is None:
        return None
    return _response_class(method).FromString(bytes(row.response))


def remember(method: str, project_id: str, request_id: str, response) -> None:
    if database.obj is None:
        return
    try:
        with database.atomic():
            RequestRecord.create(
                method=method,
                project_id=project_id,
                request_id=request_id,
                response=response.SerializeToString(),
            )
    except peewee.IntegrityError:
        log.info("request %s of %s was answered twice concurrently", request_id, method)


def purge() -> int:
    return RequestRecord.delete().where(RequestRecord.create_time < utcnow() - KEEP).execute()
