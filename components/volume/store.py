"""Reading the volumes a caller may see, and changing their status atomically.

Every status change is a compare-and-swap UPDATE (``WHERE status = <read>``):
of two calls racing on one volume, one wins and the other answers
FAILED_PRECONDITION instead of both acting.
"""

from __future__ import annotations

import dataclasses

from components.framework import Caller, FailedPrecondition, NotFound, quote, utcnow
from components.volume import states
from components.volume.models import Attachment, Volume


@dataclasses.dataclass(frozen=True)
class VolumeInfo:
    """A volume and its attachment (None unless ATTACHING, IN_USE or DETACHING)."""

    volume: Volume
    attachment: Attachment | None = None


def find(volume_id: str) -> Volume | None:
    return Volume.get_or_none(Volume.id == volume_id)


def load(who: Caller, volume_id: str) -> Volume:
    """The volume, or NotFound if it does not exist or the caller may not see it."""
    volume = find(volume_id)
    if volume is None or not who.can_access(volume.project_id):
        raise NotFound(f"volume {quote(volume_id)} not found", resource="volume", id=volume_id)
    return volume


def attachment_of(volume_id: str) -> Attachment | None:
    return Attachment.get_or_none(Attachment.volume == volume_id)


def info(volume_id: str) -> VolumeInfo:
    volume = find(volume_id)
    if volume is None:
        raise NotFound(f"volume {quote(volume_id)} not found", resource="volume", id=volume_id)
    return VolumeInfo(volume, attachment_of(volume_id))


def infos(volumes: list[Volume]) -> list[VolumeInfo]:
    """VolumeInfo for many volumes with one query for their attachments."""
    ids = [v.id for v in volumes]
    found = {}
    if ids:
        found = {a.volume_id: a for a in Attachment.select().where(Attachment.volume.in_(ids))}
    return [VolumeInfo(v, found.get(v.id)) for v in volumes]


def move(volume: Volume, op: states.Op, **changes) -> Volume:
    """Apply ``op`` to ``volume`` if nobody changed its status since it was read.

    Returns the volume as changed, a new object: ``volume`` stays as it was
    read, so a transaction run again (components.framework.transactions)
    starts from the same state. Raises FailedPrecondition if the machine
    forbids ``op`` or the volume moved under us.
    """
    target = states.transition(volume.status, op)
    now = utcnow()
    changed = (
        Volume.update(status=target, update_time=now, **changes)
        .where((Volume.id == volume.id) & (Volume.status == volume.status))
        .execute()
    )
    if changed == 0:
        fresh = find(volume.id)
        if fresh is None:
            raise NotFound(f"volume {volume.id} not found", resource="volume", id=volume.id)
        states.transition(fresh.status, op)
        raise FailedPrecondition(
            f"volume {volume.id} changed while {op.value.replace('_', ' ')} was in progress; "
            "try again",
            reason="CONCURRENT_UPDATE",
            status=fresh.status,
        )
    return Volume(**{**volume.__data__, **changes, "status": target, "update_time": now})
