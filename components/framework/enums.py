"""Every enum field of every request holds a value its enum defines.

Proto3 enums are open: a client may send any int32 in an enum field and the
message parses. Domain code then meets ``Status(999)`` and fails with a
``ValueError`` far from the request. :func:`check` walks a request once,
through nested messages, repeated and map fields and oneofs, and refuses an
undefined number with ``INVALID_ARGUMENT`` naming the field's path
(``status``, ``networks[2].kind``, ``labels['a'].kind``).

Which fields can hold an enum is worked out once per message type and cached,
so a request type with no enum anywhere in it costs one dictionary lookup.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import NamedTuple

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from components.framework.errors import InvalidArgument
from components.framework.validation import quote


class _Field(NamedTuple):
    """A field that holds an enum, or a message that may hold one."""

    name: str
    enum_numbers: frozenset[int] | None  # the enum's numbers; None for a message field
    repeated: bool
    map_value: FieldDescriptor | None  # the value field of a map<..., ...>


_plans: dict[Descriptor, tuple[_Field, ...]] = {}
_lock = threading.Lock()


def check(message) -> None:
    """Raise InvalidArgument if any enum field in ``message`` holds an undefined number."""
    for path, number in _undefined(message, ""):
        raise InvalidArgument(
            f"{path} holds {number}, which is not a defined value", field=path, value=number
        )


def check_stream(messages) -> Iterator:
    """Each message of a client stream, checked as it is read."""
    for message in messages:
        check(message)
        yield message


def _undefined(message, prefix: str) -> Iterator[tuple[str, int]]:
    for field in _plan(message.DESCRIPTOR):
        value = getattr(message, field.name)
        path = prefix + field.name
        if field.map_value is not None:
            yield from _undefined_in_map(field.map_value, value, path)
        elif field.repeated:
            for i, item in enumerate(value):
                yield from _undefined_value(field, item, f"{path}[{i}]")
        elif field.enum_numbers is not None or message.HasField(field.name):
            yield from _undefined_value(field, value, path)


def _undefined_value(field: _Field, value, path: str) -> Iterator[tuple[str, int]]:
    if field.enum_numbers is not None:
        if value not in field.enum_numbers:
            yield path, value
    else:
        yield from _undefined(value, path + ".")


def _undefined_in_map(value_field: FieldDescriptor, mapping, path: str):
    numbers = _enum_numbers(value_field)
    for key, value in mapping.items():
        item_path = f"{path}[{quote(key)}]"
        if numbers is not None:
            if value not in numbers:
                yield item_path, value
        else:
            yield from _undefined(value, item_path + ".")


def _enum_numbers(field: FieldDescriptor) -> frozenset[int] | None:
    if field.type != FieldDescriptor.TYPE_ENUM:
        return None
    return frozenset(field.enum_type.values_by_number)


def _plan(descriptor: Descriptor) -> tuple[_Field, ...]:
    plan = _plans.get(descriptor)
    if plan is None:
        with _lock:
            plan = _build(descriptor, set())
    return plan


def _build(descriptor: Descriptor, visiting: set[Descriptor]) -> tuple[_Field, ...]:
    """The fields of ``descriptor`` worth walking (cached; a cycle is walked, not guessed)."""
    if descriptor in _plans:
        return _plans[descriptor]
    visiting.add(descriptor)
    fields = []
    for field in descriptor.fields:
        entry = _field_entry(field, visiting)
        if entry is not None:
            fields.append(entry)
    visiting.discard(descriptor)
    plan = tuple(fields)
    _plans[descriptor] = plan
    return plan


def _field_entry(field: FieldDescriptor, visiting: set[Descriptor]) -> _Field | None:
    repeated = field.is_repeated
    if field.type == FieldDescriptor.TYPE_ENUM:
        return _Field(field.name, _enum_numbers(field), repeated, None)
    if field.type != FieldDescriptor.TYPE_MESSAGE:
        return None
    sub = field.message_type
    if sub.GetOptions().map_entry:
        value_field = sub.fields_by_name["value"]
        if _may_hold_enum(value_field, visiting):
            return _Field(field.name, None, True, value_field)
        return None
    if _may_hold_enum(field, visiting):
        return _Field(field.name, None, repeated, None)
    return None


def _may_hold_enum(field: FieldDescriptor, visiting: set[Descriptor]) -> bool:
    if field.type == FieldDescriptor.TYPE_ENUM:
        return True
    if field.type != FieldDescriptor.TYPE_MESSAGE:
        return False
    sub = field.message_type
    if sub in visiting:
        # A recursive type (google.protobuf.Struct and Value): walk it; the walk
        # ends where the message ends.
        return True
    return bool(_build(sub, visiting))
