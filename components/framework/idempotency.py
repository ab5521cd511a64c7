"""Safe retries: a repeated ``request_id`` returns the first result instead of acting twice.

A request message with a ``request_id`` field is a change the contract lets a
client retry (AIP-155). The server interceptor hands every such call to
:meth:`Replies.run`, so every component with a database gets the same
semantics, here and nowhere else:

* The first successful reply to (method, caller's project, request_id) is
  stored; a retry with the same request gets that reply, and the servicer does
  not run again. A failed call stores nothing: a retry runs again.
* The same request_id with a different request (another body, as Stripe's
  idempotency keys) is refused with INVALID_ARGUMENT (reason
  ``REQUEST_ID_REUSED``): answering it with the first call's reply would tell
  the client that a change it never made was made.
* Another project's request_id is another key: it is never replayed across
  projects.
* Replies are kept for :data:`KEEP`; :meth:`Replies.purge` (run on a timer by
  the framework) deletes older ones.

For a client stream (UploadImage) the request_id is that of the first
message's ``header``, and the compared body is that first message. A
``request_id`` deeper in a request (a cast's context) is not a key.

Two concurrent calls with one request_id can both run (the record is written
after the first finishes); a creation that must not happen twice guards that
race with a unique constraint of its own (volumes, servers).

The table is created by the framework's migrations (``migrations/`` beside
this module), applied to every component's database by
:func:`components.framework.database.connect`.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import itertools
import logging
from collections.abc import Callable, Iterator
from typing import TypeVar

import peewee
from google.protobuf import descriptor_pool, message_factory

from components.framework import transactions
from components.framework.clock import utcnow
from components.framework.database import BaseModel
from components.framework.errors import InvalidArgument

log = logging.getLogger(__name__)

KEEP = datetime.timedelta(hours=24)
# How often a component deletes replies older than KEEP.
PURGE_INTERVAL_SECONDS = 3600.0
MAX_REQUEST_ID = 128

T = TypeVar("T")


class RequestRecord(BaseModel):
    """The serialized reply to one (method, project, request_id)."""

    method = peewee.CharField(max_length=191)
    project_id = peewee.CharField(max_length=36, default="")
    request_id = peewee.CharField(max_length=128)
    # SHA-256 of the request (deterministic serialization); "" for a record
    # written before fingerprints were kept, which replays without comparing.
    fingerprint = peewee.CharField(max_length=64, default="")
    response = peewee.BlobField()

    class Meta:
        table_name = "stratus_request_record"
        indexes = (
            (("method", "project_id", "request_id"), True),
            (("create_time",), False),
        )


def request_id_of(message, stream: bool = False) -> str:
    """The message's own ``request_id``; for a stream's first message, also its header's.

    Only these: a ``request_id`` deeper in a message (a cast's context, which
    names the user request for the logs) is not an idempotency key.
    """
    fields = message.DESCRIPTOR.fields_by_name
    if "request_id" in fields:
        return message.request_id
    if stream and "header" in fields and message.HasField("header"):
        header = message.header
        if "request_id" in header.DESCRIPTOR.fields_by_name:
            return header.request_id
    return ""


def fingerprint(message) -> str:
    return hashlib.sha256(message.SerializeToString(deterministic=True)).hexdigest()


def _method(method: str):
    service, name = method.lstrip("/").split("/")
    return descriptor_pool.Default().FindServiceByName(service).FindMethodByName(name)


@functools.cache
def _keyed(method: str) -> bool:
    """Whether the method's request has a ``request_id`` (a client stream: in its header)."""
    try:
        fields = _method(method).input_type.fields_by_name
    except (KeyError, ValueError):
        return False
    if "request_id" in fields:
        return True
    header = fields.get("header")
    return (
        _method(method).client_streaming
        and header is not None
        and header.message_type is not None
        and "request_id" in header.message_type.fields_by_name
    )


def _response_class(method: str):
    return message_factory.GetMessageClass(_method(method).output_type)


class Replies:
    """The first replies of one component, in its database, kept for ``keep``."""

    def __init__(self, keep: datetime.timedelta = KEEP) -> None:
        self.keep = keep

    def keyed(self, method: str) -> bool:
        """Whether calls of ``method`` run once per request_id (their request has one)."""
        return _keyed(method)

    def run(self, method: str, project_id: str, request, call: Callable[[object], T]) -> T:
        """``call(request)`` once per request_id (see the module docstring)."""
        request_id = _checked(request_id_of(request))
        if not request_id:
            return call(request)
        print_ = fingerprint(request)
        return self._once(method, project_id, request_id, print_, lambda: call(request))

    def run_stream(
        self, method: str, project_id: str, requests: Iterator, call: Callable[[Iterator], T]
    ) -> T:
        """``call(requests)`` once per request_id of the stream's first message."""
        first = next(requests, None)
        if first is None:
            return call(iter(()))
        whole = itertools.chain([first], requests)
        request_id = _checked(request_id_of(first, stream=True))
        if not request_id:
            return call(whole)
        return self._once(method, project_id, request_id, fingerprint(first), lambda: call(whole))

    def _once(self, method: str, project_id: str, request_id: str, print_: str, call):
        key = (
            (RequestRecord.method == method)
            & (RequestRecord.project_id == project_id)
            & (RequestRecord.request_id == request_id)
        )
        row = RequestRecord.get_or_none(key & (RequestRecord.create_time >= utcnow() - self.keep))
        if row is not None:
            if row.fingerprint and row.fingerprint != print_:
                raise InvalidArgument(
                    f"request_id {request_id!r} was already used for a different request",
                    field="request_id",
                    reason="REQUEST_ID_REUSED",
                )
            return _response_class(method).FromString(bytes(row.response))
        response = call()

        def record() -> None:
            # An expired record of the same key (not purged yet) makes way.
            RequestRecord.delete().where(key).execute()
            RequestRecord.create(
                method=method,
                project_id=project_id,
                request_id=request_id,
                fingerprint=print_,
                response=response.SerializeToString(),
            )

        try:
            transactions.run(record)
        except peewee.IntegrityError:
            log.info("request %s of %s was answered twice concurrently", request_id, method)
        return response

    def purge(self) -> int:
        """Delete the replies older than ``keep``; how many went."""
        gone = (
            RequestRecord.delete().where(RequestRecord.create_time < utcnow() - self.keep).execute()
        )
        if gone:
            log.info("purged %d stored replies older than %s", gone, self.keep)
        return gone


def _checked(request_id: str) -> str:
    if len(request_id) > MAX_REQUEST_ID:
        raise InvalidArgument(
            f"request_id is longer than {MAX_REQUEST_ID} characters", field="request_id"
        )
    return request_id
