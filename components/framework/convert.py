"""Conversions between database values and protobuf well-known types."""

from __future__ import annotations

import datetime

from google.protobuf import timestamp_pb2


def timestamp(value: datetime.datetime | None) -> timestamp_pb2.Timestamp | None:
    """A Timestamp for a naive-UTC (or aware) datetime; None stays None."""
    if value is None:
        return None
    ts = timestamp_pb2.Timestamp()
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    ts.FromDatetime(value)
    return ts


def from_timestamp(ts: timestamp_pb2.Timestamp) -> datetime.datetime:
    """A naive-UTC datetime, as stored in the database."""
    return ts.ToDatetime()
