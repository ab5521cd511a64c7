"""Request checks shared by every servicer; each failure names its field."""

from __future__ import annotations

import re
import uuid

from components.framework.errors import InvalidArgument

NAME_MAX = 255
_NAME = re.compile(r"^[^\x00-\x1f\x7f]+$")
# How much of a bad value an error message quotes (a 7,000-character id must not
# make the error bigger than what gRPC lets through its trailers).
QUOTE_MAX = 64


def quote(value: object, limit: int = QUOTE_MAX) -> str:
    """``repr(value)`` for an error message, cut to ``limit`` characters with "…"."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def name(field: str, value: str, max_length: int = NAME_MAX, required: bool = True) -> str:
    """A display name: not empty (if required), no control characters, bounded length."""
    value = value.strip()
    if not value:
        if required:
            raise InvalidArgument(f"{field} is required", field=field)
        return value
    if len(value) > max_length:
        raise InvalidArgument(f"{field} is longer than {max_length} characters", field=field)
    if not _NAME.match(value):
        raise InvalidArgument(f"{field} contains control characters", field=field)
    return value


def uuid_str(field: str, value: str, required: bool = True) -> str:
    """A UUID in canonical form (what every Stratus id is)."""
    if not value:
        if required:
            raise InvalidArgument(f"{field} is required", field=field)
        return value
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidArgument(f"{field} {quote(value)} is not a valid id", field=field) from None


def positive(field: str, value: int, maximum: int | None = None) -> int:
    if value <= 0:
        raise InvalidArgument(f"{field} must be greater than 0", field=field)
    if maximum is not None and value > maximum:
        raise InvalidArgument(f"{field} must be at most {maximum}", field=field)
    return value


def non_negative(field: str, value: int) -> int:
    if value < 0:
        raise InvalidArgument(f"{field} must not be negative", field=field)
    return value


def update_mask(paths, allowed: set[str]) -> set[str]:
    """The fields an Update may change; unknown paths are refused by name."""
    chosen = set(paths)
    unknown = sorted(chosen - allowed)
    if unknown:
        raise InvalidArgument(
            f"update_mask names fields that cannot be updated: {', '.join(unknown)}",
            field="update_mask",
        )
    if not chosen:
        raise InvalidArgument("update_mask is required", field="update_mask")
    return chosen
