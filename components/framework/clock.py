"""The time every component records: UTC, naive (the database columns carry no zone).

Its own module so that components without a database (compute) read the clock
without importing the database layer.
"""

from __future__ import annotations

import datetime


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
