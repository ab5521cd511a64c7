"""Page tokens bound to the call and filters that issued them.

The framework's tokens carry the position only; this adds a short digest of
the List call and its filters, so a token from another call, or reused with
other filters, is refused (INVALID_ARGUMENT) instead of paging through the
wrong set.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import peewee

from components.framework.errors import InvalidArgument
from components.framework.paging import paginate

T = TypeVar("T")


def _digest(call: str, filters: Sequence[Any]) -> str:
    raw = json.dumps([call, *filters], separators=(",", ":")).encode()
    return hashlib.blake2b(raw, digest_size=6).hexdigest()


def page(
    query: peewee.ModelSelect,
    model: type[peewee.Model],
    size: int,
    token: str,
    convert: Callable[[list[Any]], list[T]],
    call: str,
    filters: Sequence[Any],
) -> tuple[list[T], str]:
    """One page of ``query``; ``convert`` turns the page's rows into items."""
    digest = _digest(call, filters)
    if token:
        position, _, issued_for = token.rpartition(".")
        if not position or issued_for != digest:
            raise InvalidArgument(
                "page_token was not issued by this call with these filters", field="page_token"
            )
        token = position
    rows, next_token = paginate(query, model, size, token)
    return convert(rows), f"{next_token}.{digest}" if next_token else ""
