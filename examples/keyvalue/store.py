"""The store's domain: keys of the caller's project, read and written in the database.

Plain functions of a :class:`~components.framework.Caller` and request values;
no gRPC here. They raise the framework's errors (``InvalidArgument``,
``NotFound``), which the server interceptor turns into status codes with an
ErrorInfo.
"""

from __future__ import annotations

import logging
import re

import peewee

from components.framework import (
    Caller,
    InvalidArgument,
    NotFound,
    paging,
    quote,
    transactions,
    utcnow,
)
from examples.keyvalue.models import KeyEntry

log = logging.getLogger(__name__)

_KEY = re.compile(r"^[a-z0-9][a-z0-9._/-]{0,254}$")
_PREFIX = re.compile(r"^[a-z0-9._/-]{0,255}$")


def check_key(key: str) -> str:
    if not key:
        raise InvalidArgument("key is required", field="key")
    if not _KEY.match(key):
        raise InvalidArgument(
            f"key {quote(key)} is not 1 to 255 of a-z 0-9 . _ / - (starting with a-z 0-9)",
            field="key",
        )
    return key


def _check_prefix(prefix: str) -> str:
    if not _PREFIX.match(prefix):
        raise InvalidArgument(f"prefix {quote(prefix)} cannot start any key", field="prefix")
    return prefix


def _of(who: Caller, key: str) -> peewee.Expression:
    return (KeyEntry.project_id == who.project_id) & (KeyEntry.key == key)


def put(who: Caller, key: str, value: str, max_value_bytes: int) -> KeyEntry:
    """Set ``key`` of the caller's project to ``value``: version 1, or one more."""
    check_key(key)
    if len(value.encode()) > max_value_bytes:
        raise InvalidArgument(f"value is larger than {max_value_bytes} bytes", field="value")

    def write() -> KeyEntry:
        row = transactions.locked(KeyEntry.select().where(_of(who, key))).first()
        if row is None:
            return KeyEntry.create(project_id=who.project_id, key=key, value=value, version=1)
        row.value, row.version = value, row.version + 1
        row.save()
        return row

    try:
        return transactions.run(write)
    except peewee.IntegrityError:  # a concurrent first put won the key: ours is the next version
        return transactions.run(write)


def get(who: Caller, key: str) -> KeyEntry:
    row = KeyEntry.get_or_none(_of(who, check_key(key)))
    if row is None:
        raise NotFound(f"key {key!r} not found", key=key)
    return row


def list_page(who: Caller, prefix: str, size: int, token: str) -> tuple[list[KeyEntry], str]:
    """One page of the caller's keys starting with ``prefix``, oldest first."""
    query = KeyEntry.select().where(KeyEntry.project_id == who.project_id)
    if _check_prefix(prefix):
        query = query.where(peewee.fn.SUBSTR(KeyEntry.key, 1, len(prefix)) == prefix)
    return paging.paginate(query, KeyEntry, size, token, scope=("ListKeys", prefix))


def delete(who: Caller, key: str) -> None:
    gone = transactions.run(lambda: KeyEntry.delete().where(_of(who, check_key(key))).execute())
    if not gone:
        raise NotFound(f"key {key!r} not found", key=key)


def count(who: Caller) -> int:
    return KeyEntry.select().where(KeyEntry.project_id == who.project_id).count()


def touch(project_id: str, key: str) -> None:
    """Record a use of ``key`` (a TouchKey cast); a key the project lacks is logged, dropped."""
    touched = transactions.run(
        lambda: (
            KeyEntry.update(touch_time=utcnow())
            .where((KeyEntry.project_id == project_id) & (KeyEntry.key == key))
            .execute()
        )
    )
    if not touched:
        log.info("TouchKey for key %r the project does not have: dropped", key)
