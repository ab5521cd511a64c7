"""Compute hosts as admins see them: listing by name, enabling and disabling, removing."""

from __future__ import annotations

from components.compute_db.models import Claim, ComputeNode, Instance
from components.framework import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    paging,
    quote,
    transactions,
    utcnow,
    validation,
)
from components.scheduler.host_state import heartbeat_cutoff

UPDATABLE = {"enabled", "disabled_reason"}
_TOKEN_KIND = "host"


def list_hosts(
    page_size: int, page_token: str, availability_zone: str = ""
) -> tuple[list[ComputeNode], str]:
    """One page of hosts ordered by name; keyset paging on the (unique) name."""
    size = paging.page_size(page_size)
    query = ComputeNode.select()
    if availability_zone:
        query = query.where(ComputeNode.availability_zone == availability_zone)
    if page_token:
        query = query.where(ComputeNode.host > _after(page_token))
    rows = list(query.order_by(ComputeNode.host).limit(size + 1))
    if len(rows) <= size:
        return rows, ""
    rows = rows[:size]
    return rows, paging.encode_token([_TOKEN_KIND, rows[-1].host])


def _after(page_token: str) -> str:
    kind, last = paging.decode_token(page_token)
    if kind != _TOKEN_KIND or not isinstance(last, str):
        raise InvalidArgument("page_token is not valid", field="page_token")
    return last


def update_host(name: str, mask_paths, enabled: bool, disabled_reason: str) -> ComputeNode:
    """Apply the fields named in the mask; a host that ends up enabled has no reason."""
    name = validation.name("host.name", name)
    paths = validation.update_mask(mask_paths, UPDATABLE)
    node = ComputeNode.get_or_none(ComputeNode.host == name)
    if node is None:
        raise NotFound(f"no compute host named {quote(name)}", host=name)
    if "enabled" in paths:
        node.enabled = enabled
    if "disabled_reason" in paths:
        reason = validation.name("host.disabled_reason", disabled_reason, required=False)
        if reason and node.enabled:
            raise InvalidArgument(
                "disabled_reason can only be set on a disabled host",
                field="host.disabled_reason",
            )
        node.disabled_reason = reason
    if node.enabled:
        node.disabled_reason = ""
    # Only these columns: the host's heartbeats update the others concurrently.
    ComputeNode.update(
        enabled=node.enabled, disabled_reason=node.disabled_reason, update_time=utcnow()
    ).where(ComputeNode.id == node.id).execute()
    return ComputeNode.get_by_id(node.id)


def delete_host(name: str, down_time_seconds: float) -> None:
    """Remove a host that is down and holds neither servers nor claims.

    Any name the table may hold is accepted (hosts registered before names
    were checked must be removable too). The final DELETE repeats the
    conditions, so a heartbeat or a claim that lands after the checks makes
    it remove nothing instead of losing them.
    """
    name = validation.name("name", name)

    def write() -> int:
        node = ComputeNode.get_or_none(ComputeNode.host == name)
        if node is None:
            raise NotFound(f"no compute host named {quote(name)}", host=name)
        cutoff = heartbeat_cutoff(down_time_seconds)
        _check_removable(node, cutoff)
        down = ComputeNode.last_heartbeat.is_null() | (ComputeNode.last_heartbeat < cutoff)
        return (
            ComputeNode.delete()
            .where((ComputeNode.id == node.id) & (ComputeNode.instances_used == 0) & down)
            .execute()
        )

    if not transactions.run(write):
        raise FailedPrecondition(
            f"host {name} reported or got a claim while being deleted; look again",
            reason="HOST_UP",
            host=name,
        )


def _check_removable(node: ComputeNode, cutoff) -> None:
    name = node.host
    if node.last_heartbeat is not None and node.last_heartbeat >= cutoff:
        raise FailedPrecondition(
            f"host {name} is up (it reported at {node.last_heartbeat:%Y-%m-%d %H:%M:%S} UTC); "
            "stop it and wait until it shows DOWN",
            reason="HOST_UP",
            host=name,
        )
    servers = (
        Instance.select().where((Instance.host == name) & Instance.deleted_time.is_null()).count()
    )
    if servers:
        raise FailedPrecondition(
            f"host {name} still has {servers} server(s); delete or move them first",
            reason="HOST_HAS_INSTANCES",
            host=name,
        )
    if node.instances_used or Claim.select().where(Claim.node == node.id).exists():
        raise FailedPrecondition(
            f"host {name} still holds resource claims; release them first",
            reason="HOST_HAS_CLAIMS",
            host=name,
        )
