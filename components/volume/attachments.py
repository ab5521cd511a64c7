"""Reserving, attaching and detaching volumes: the compute side of a volume's life.

A volume holds at most one attachment (the Attachment table's unique volume
column enforces it). The volume is served to the attaching host by exports.py:
its file, or an NBD export started by AttachVolume and stopped by
DetachVolume. Calls that find their work already done succeed and
change nothing, so a compute host can always repeat them while cleaning up.
(A repeated request_id never gets here: the framework replays the first reply.)
"""

from __future__ import annotations

import dataclasses
import logging

from components.framework import Caller, FailedPrecondition, Unavailable, transactions
from components.volume import states, store
from components.volume.backend import BackendError, ConnectionInfo
from components.volume.exports import Exports
from components.volume.models import Attachment, Volume
from components.volume.states import Op, Status
from components.volume.store import VolumeInfo

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class AttachResult:
    attachment: Attachment
    connection: ConnectionInfo
    volume: VolumeInfo


def reserve(who: Caller, volume_id: str, instance_id: str) -> VolumeInfo:
    """Set an AVAILABLE volume aside for the instance (idempotent for the same one)."""
    volume = store.load(who, volume_id)
    if not (volume.status == Status.RESERVED and volume.reserved_instance_id == instance_id):
        _not_reserved_for_other(volume, instance_id, Op.RESERVE)
        store.move(volume, Op.RESERVE, reserved_instance_id=instance_id)
    return store.info(volume.id)


def unreserve(who: Caller, volume_id: str, instance_id: str) -> VolumeInfo:
    """Release a reservation; an AVAILABLE volume is left as it is."""
    volume = store.load(who, volume_id)
    if volume.status != Status.AVAILABLE:
        if instance_id:
            _not_reserved_for_other(volume, instance_id, Op.UNRESERVE)
        store.move(volume, Op.UNRESERVE, reserved_instance_id="")
    return store.info(volume.id)


def attach(
    who: Caller, exports: Exports, volume_id: str, instance_id: str, host: str, device: str
) -> AttachResult:
    """Attach the volume to the instance (idempotent for the same instance)."""
    volume = store.load(who, volume_id)
    existing = store.attachment_of(volume.id)
    if volume.status == Status.IN_USE and existing and existing.instance_id == instance_id:
        return _result(exports, existing)
    _not_reserved_for_other(volume, instance_id, Op.ATTACH)
    was_reserved = volume.status == Status.RESERVED

    def begin() -> tuple[Volume, Attachment]:
        moved = store.move(volume, Op.ATTACH)
        made = Attachment.create(volume=moved.id, instance_id=instance_id, host=host, device=device)
        return moved, made

    volume, attachment = transactions.run(begin)
    try:
        connection = exports.open(attachment)
    except BackendError as exc:
        log.warning("attaching volume %s failed: %s", volume.id, exc)

        # Deleting the row frees the export's port too.
        def undo() -> None:
            Attachment.delete().where(Attachment.id == attachment.id).execute()
            store.move(volume, Op.FAIL_RESERVED_ATTACH if was_reserved else Op.FAIL_ATTACH)

        transactions.run(undo)
        raise Unavailable(
            f"cannot attach volume {volume.id}: {exc}", reason="BACKEND_FAILED"
        ) from exc
    store.move(volume, Op.FINISH_ATTACH, reserved_instance_id="")
    return AttachResult(attachment, connection, store.info(volume.id))


def detach(
    who: Caller, exports: Exports, volume_id: str, instance_id: str, attachment_id: str
) -> VolumeInfo:
    """Remove the attachment named by instance or id; nothing to remove is success."""
    volume = store.load(who, volume_id)
    if volume.status == Status.ATTACHING:
        states.transition(volume.status, Op.DETACH)
    attachment = store.attachment_of(volume.id)
    named = attachment is not None and (
        attachment.instance_id == instance_id if instance_id else attachment.id == attachment_id
    )
    if not named:
        return store.info(volume.id)
    if volume.status != Status.DETACHING:
        volume = store.move(volume, Op.DETACH)

    # The host has already removed the disk from the domain: a file needs no
    # tearing down, an export is stopped (one already gone is no error).
    exports.close_one(attachment)

    def finish() -> None:
        Attachment.delete().where(Attachment.id == attachment.id).execute()
        store.move(volume, Op.FINISH_DETACH)

    transactions.run(finish)
    return store.info(volume.id)


def _not_reserved_for_other(volume: Volume, instance_id: str, op: Op) -> None:
    if volume.status == Status.RESERVED and volume.reserved_instance_id != instance_id:
        raise FailedPrecondition(
            f"volume {volume.id} is reserved for another instance",
            reason="RESERVED_FOR_ANOTHER_INSTANCE",
            status=volume.status,
            operation=op.value,
        )


def _result(exports: Exports, attachment: Attachment) -> AttachResult:
    try:
        connection = exports.reopen(attachment)
    except BackendError as exc:
        raise Unavailable(str(exc), reason="BACKEND_FAILED") from exc
    return AttachResult(attachment, connection, store.info(attachment.volume_id))
