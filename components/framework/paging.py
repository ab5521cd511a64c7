"""Page tokens and page sizes, the same for every List RPC.

A page token is opaque to clients: the base64 of the sort key of the last item
served, and a digest of the call and filters it was issued for (``scope``), so
a token used with other filters is refused instead of paging through the wrong
set. Keyset paging (``WHERE (create_time, id) > (...)``) stays correct while
rows are inserted and deleted between pages, unlike offsets.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from components.framework.errors import InvalidArgument

if TYPE_CHECKING:  # compute pages without a database, and without peewee
    import peewee

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
T = TypeVar("T")


def page_size(requested: int) -> int:
    """The page size to serve for a request's ``page_size``: 0 is the default, at most 1000."""
    if requested < 0:
        raise InvalidArgument("page_size must not be negative", field="page_size")
    if requested == 0:
        return DEFAULT_PAGE_SIZE
    return min(requested, MAX_PAGE_SIZE)


def encode_token(key: Sequence[Any]) -> str:
    """An opaque page token for ``key``, for a list that is not a table (compute's domains);
    :func:`paginate` makes its own."""
    raw = json.dumps(list(key), default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _scope_digest(scope: Sequence[Any]) -> str:
    raw = json.dumps(list(scope), default=str, separators=(",", ":")).encode()
    return hashlib.blake2b(raw, digest_size=6).hexdigest()


def decode_token(token: str) -> list[Any]:
    """The key a token holds, as :func:`encode_token` was given it; InvalidArgument if none."""
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidArgument("page_token is not valid", field="page_token") from None
    if not isinstance(value, list) or len(value) not in (2, 3):
        raise InvalidArgument("page_token is not valid", field="page_token")
    return value


def paginate(
    query: peewee.ModelSelect,
    model: type[peewee.Model],
    size: int,
    token: str,
    convert: Callable[[Any], T] = lambda row: row,
    newest_first: bool = False,
    scope: Sequence[Any] = (),
) -> tuple[list[T], str]:
    """One page of ``query``, oldest first (or newest first); returns (items, next_token).

    The sort key is ``(create_time, id)``, so a page boundary is exact even when
    rows share a creation time. ``scope`` names the call and its filters
    (``("ListPorts", network_id, device_id)``); a token only works with the
    scope it was issued for.
    """
    size = page_size(size)
    field = model.create_time
    digest = _scope_digest(scope)
    if token:
        decoded = decode_token(token)
        if len(decoded) != 3 or decoded[2] != digest:
            raise InvalidArgument(
                "page_token was not issued by this call with these filters", field="page_token"
            )
        last_key, last_id, _ = decoded
        last_key = field.python_value(last_key)
        if not isinstance(last_key, datetime.datetime):
            raise InvalidArgument("page_token is not valid", field="page_token")
        if newest_first:
            query = query.where((field < last_key) | ((field == last_key) & (model.id < last_id)))
        else:
            query = query.where((field > last_key) | ((field == last_key) & (model.id > last_id)))
    order = (field.desc(), model.id.desc()) if newest_first else (field, model.id)
    rows = list(query.order_by(*order).limit(size + 1))
    next_token = ""
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_token = encode_token([getattr(last, field.name), last.id, digest])
    return [convert(row) for row in rows], next_token
