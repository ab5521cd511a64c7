"""Compute hosts registering themselves and heartbeating."""

from __future__ import annotations

import peewee

from components.compute_db.models import ComputeNode
from components.conductor import node_checks
from components.framework import transactions, utcnow


def report(fields: dict, enabled: bool | None) -> ComputeNode:
    """Register the host the first time, refresh capacity and heartbeat after that."""
    fields = node_checks.checked_report(fields)
    host = fields["host"]
    values = {k: v for k, v in fields.items() if k != "host"}
    values["last_heartbeat"] = utcnow()
    updated = (
        ComputeNode.update(**values, update_time=utcnow()).where(ComputeNode.host == host).execute()
    )
    if updated == 0:
        try:
            transactions.run(
                lambda: ComputeNode.create(
                    host=host, enabled=True if enabled is None else enabled, **values
                )
            )
        except peewee.IntegrityError:
            ComputeNode.update(**values).where(ComputeNode.host == host).execute()
    return ComputeNode.get(ComputeNode.host == host)
