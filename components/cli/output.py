"""Output as python-openstackclient gives it: ``-f table|json|yaml|value`` and ``-c COLUMN``.

A show command returns a :class:`Record` (field -> value), a list command a
:class:`Listing` (column headers and rows); :func:`formatted` adds the options
and prints what the command returns. Values stay structured (lists, dicts)
for json and yaml and are flattened to text for tables and ``value``.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import json
import shutil
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click
import yaml
from google.protobuf import timestamp_pb2
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from components.cli.errors import CliError

FORMATS = ("table", "json", "yaml", "value")


@dataclasses.dataclass
class Record:
    """One resource: its fields in display order."""

    fields: dict[str, Any]


@dataclasses.dataclass
class Listing:
    """Many resources: column headers and one row of values per resource."""

    columns: list[str]
    rows: list[list[Any]]


# ---------------------------------------------------------------- values


def when(ts: timestamp_pb2.Timestamp) -> str | None:
    """A Timestamp as ``2025-01-31T12:00:00Z``; None when unset."""
    if ts.seconds == 0 and ts.nanos == 0:
        return None
    return ts.ToDatetime().strftime("%Y-%m-%dT%H:%M:%SZ")


def enum_name(message, field: str, lower: bool = False) -> str:
    """An enum field's value name without its prefix: ``STATUS_ACTIVE`` -> ``ACTIVE``."""
    descriptor = message.DESCRIPTOR.fields_by_name[field].enum_type
    value = descriptor.values_by_number.get(getattr(message, field))
    if value is None:
        return str(getattr(message, field))
    prefix = _common_prefix([v.name for v in descriptor.values])
    name = value.name[len(prefix) :] or value.name
    return name.lower() if lower else name


def _common_prefix(names: Sequence[str]) -> str:
    """``STATUS_`` for STATUS_UNSPECIFIED, STATUS_ACTIVE, ... (whole words only)."""
    first = names[0].split("_")
    words = 0
    while words < len(first) - 1 and all(
        n.split("_")[: words + 1] == first[: words + 1] for n in names
    ):
        words += 1
    return "_".join(first[:words]) + "_" if words else ""


def text_of(value: Any) -> str:
    """A value as one table cell or one ``-f value`` item."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={text_of(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        if any(isinstance(v, dict) for v in value):
            return "\n".join(text_of(v) for v in value)
        return ", ".join(text_of(v) for v in value)
    return str(value)


# ---------------------------------------------------------------- rendering


def pick(available: Sequence[str], wanted: Sequence[str]) -> list[int]:
    """Indexes of the ``-c`` columns (all when none), matched case-insensitively."""
    if not wanted:
        return list(range(len(available)))
    lowered = [a.lower() for a in available]
    chosen = []
    for name in wanted:
        if name.lower() not in lowered:
            raise CliError(f"No column '{name}'; the columns are: {', '.join(available)}")
        chosen.append(lowered.index(name.lower()))
    return chosen


def render_record(record: Record, fmt: str, columns: Sequence[str] = (), width: int = 0) -> str:
    names = list(record.fields)
    keep = [names[i] for i in pick(names, columns)]
    data = {name: record.fields[name] for name in keep}
    if fmt == "json":
        return json.dumps(data, indent=4, ensure_ascii=False)
    if fmt == "yaml":
        return _yaml(data)
    if fmt == "value":
        return "\n".join(text_of(v) for v in data.values())
    return _table(["Field", "Value"], [[k, v] for k, v in data.items()], width)


def render_listing(listing: Listing, fmt: str, columns: Sequence[str] = (), width: int = 0) -> str:
    keep = pick(listing.columns, columns)
    headers = [listing.columns[i] for i in keep]
    rows = [[row[i] for i in keep] for row in listing.rows]
    if fmt in ("json", "yaml"):
        items = [dict(zip(headers, row, strict=True)) for row in rows]
        return json.dumps(items, indent=4, ensure_ascii=False) if fmt == "json" else _yaml(items)
    if fmt == "value":
        return "\n".join(" ".join(text_of(v) for v in row) for row in rows)
    return _table(headers, rows, width) if rows or headers else ""


def _yaml(data: Any) -> str:
    text = yaml.safe_dump(data, default_flow_style=False, sort_keys=False, allow_unicode=True)
    return text.rstrip("\n")


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], width: int) -> str:
    table = Table(box=box.ASCII2, show_edge=True, highlight=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(Text(text_of(v)) for v in row))
    buffer = io.StringIO()
    # Piped output is never cut to a terminal's width.
    Console(file=buffer, width=width or 10_000, no_color=True, highlight=False).print(table)
    return buffer.getvalue().rstrip("\n")


def terminal_width() -> int:
    """The terminal's width when stdout is one, else 0 (no limit)."""
    return shutil.get_terminal_size().columns if sys.stdout.isatty() else 0


# ---------------------------------------------------------------- the options


def formatted(command: Callable[..., Record | Listing | None]) -> Callable[..., None]:
    """Add ``-f`` and ``-c`` to a command and print the Record or Listing it returns."""

    @click.option(
        "-c",
        "--column",
        "columns",
        multiple=True,
        metavar="COLUMN",
        help="Show only this column (repeat for more); names as in the table header.",
    )
    @click.option(
        "-f",
        "--format",
        "fmt",
        type=click.Choice(FORMATS, case_sensitive=False),
        default="table",
        show_default=True,
        help="Output format: a table, JSON, YAML, or bare values (one per line or row).",
    )
    @functools.wraps(command)
    def wrapper(*args, fmt: str, columns: tuple[str, ...], **kwargs) -> None:
        result = command(*args, **kwargs)
        if result is None:
            return
        fmt = fmt.lower()
        if isinstance(result, Record):
            text = render_record(result, fmt, columns, terminal_width())
        else:
            text = render_listing(result, fmt, columns, terminal_width())
        if text:
            click.echo(text)

    return wrapper
