"""A volume's life outside attachment: create (blank or from an image), read, list,
extend, delete, quotas, and recovery after a restart.

Blank volumes are written inside the CreateVolume call (a truncate takes no
time). Image copies run on a small thread pool, because an image can take far
longer to download and convert than any call deadline; the volume stays
CREATING until its copy ends, then becomes AVAILABLE or ERROR. Either way a
failed write leaves no file behind (see backend.py).
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from concurrent.futures import ThreadPoolExecutor

import peewee

from components.framework import (
    Caller,
    Image,
    ImageClient,
    InvalidArgument,
    PermissionDenied,
    StratusError,
    acting_as,
    db,
    paging,
    transactions,
    utcnow,
)
from components.volume import quotas, states, store
from components.volume.backend import BackendError, FileBackend
from components.volume.exports import Exports
from components.volume.image_source import DownloadError, download
from components.volume.models import Attachment, Volume
from components.volume.states import Op, Status
from components.volume.store import VolumeInfo

log = logging.getLogger(__name__)

# Volumes last touched this long before start-up are taken as left behind by a
# previous process (DATETIME columns may have whole-second resolution).
RECOVERY_MARGIN = datetime.timedelta(seconds=2)


@dataclasses.dataclass(frozen=True)
class NewVolume:
    name: str
    description: str
    size_gib: int
    image_id: str = ""
    request_id: str = ""


class Volumes:
    """Volumes of every project, stored by ``backend``, charged to quotas."""

    def __init__(
        self,
        backend: FileBackend,
        defaults: quotas.Defaults,
        images: ImageClient,
        copy_workers: int = 4,
        exports: Exports | None = None,
    ) -> None:
        self.backend = backend
        self.exports = exports or Exports(backend)
        self.defaults = defaults
        self.images = images
        self.started = utcnow()
        self._copies = ThreadPoolExecutor(copy_workers, thread_name_prefix="volume-copy")

    def close(self) -> None:
        """Stop every export; let running copies finish (queued ones stay CREATING
        until the next start)."""
        self.exports.close()
        self._copies.shutdown(wait=True, cancel_futures=True)

    def create(self, who: Caller, spec: NewVolume) -> VolumeInfo:
        """A new volume; with a request_id already used, the volume it created."""
        first = _created_by(who, spec.request_id)
        if first is not None:
            return store.info(first.id)
        try:
            return self._create(who, spec)
        except peewee.IntegrityError:
            # A concurrent call with the same request_id won the unique index.
            first = _created_by(who, spec.request_id)
            if first is None:
                raise
            return store.info(first.id)

    def _create(self, who: Caller, spec: NewVolume) -> VolumeInfo:
        image = self.images.describe(spec.image_id) if spec.image_id else None
        if image is not None and image.required_gib > spec.size_gib:
            raise InvalidArgument(
                f"image {image.id} needs a volume of at least {image.required_gib} GiB",
                field="size_gib",
            )
        quotas.ensure(who.project_id)

        def record() -> Volume:
            quotas.charge(who.project_id, self.defaults, volumes=1, size_gib=spec.size_gib)
            return Volume.create(
                name=spec.name,
                description=spec.description,
                project_id=who.project_id,
                size_gib=spec.size_gib,
                status=Status.CREATING,
                source_image_id=spec.image_id,
                request_id=spec.request_id or None,
            )

        volume = transactions.run(record)
        if image is None:
            self._write_blank(volume)
        else:
            self._copies.submit(self._copy_image, volume.id, volume.size_gib, image, who.token)
        return store.info(volume.id)

    def _write_blank(self, volume: Volume) -> None:
        try:
            self.backend.create(volume.id, volume.size_gib)
        except BackendError as exc:
            log.warning("creating volume %s failed: %s", volume.id, exc)
            store.move(volume, Op.FAIL_CREATE)
            return
        store.move(volume, Op.FINISH_CREATE)

    def _copy_image(self, volume_id: str, size_gib: int, image: Image, token: str) -> None:
        """Background job: fill the volume from the image, then AVAILABLE or ERROR."""
        try:
            with acting_as(token):
                written = self._fill(volume_id, size_gib, image)
            volume = store.find(volume_id)
            if volume is not None:
                store.move(volume, Op.FINISH_CREATE if written else Op.FAIL_CREATE)
        except Exception:
            # Nobody waits on this thread (the database may be down): log, and
            # leave the volume CREATING for the next start's recovery.
            log.exception("settling volume %s after its image copy failed", volume_id)
        finally:
            db.close()

    def _fill(self, volume_id: str, size_gib: int, image: Image) -> bool:
        """Write the image into a new volume file; False (and no file) if that fails."""
        try:
            with self.backend.staging(volume_id) as scratch:
                download(self.images, image, scratch)
                self.backend.create_from_image(volume_id, size_gib, scratch, image.disk_format)
        except (StratusError, DownloadError, BackendError, OSError) as exc:
            log.warning("copying image %s into volume %s failed: %s", image.id, volume_id, exc)
            return False
        except Exception:
            # A bug, but the volume must still end in ERROR rather than CREATING.
            log.exception("copying image %s into volume %s failed", image.id, volume_id)
            return False
        return True

    def get(self, who: Caller, volume_id: str) -> VolumeInfo:
        store.load(who, volume_id)
        return store.info(volume_id)

    def list(
        self, who: Caller, status: Status | None, page_size: int, page_token: str
    ) -> tuple[list[VolumeInfo], str]:
        """One page of the volumes ``who`` may see; the token is bound to the filter."""
        query = Volume.select()
        if not who.is_service:
            query = query.where(Volume.project_id == who.project_id)
        if status is not None:
            query = query.where(Volume.status == status)
        scope = ("ListVolumes", status.value if status is not None else "")
        rows, next_token = paging.paginate(query, Volume, page_size, page_token, scope=scope)
        return store.infos(rows), next_token

    def delete(self, who: Caller, volume_id: str) -> None:
        """Remove the volume's file, then the volume; DELETING already is a no-op."""
        volume = store.load(who, volume_id)
        if volume.status == Status.DELETING:
            return
        self._remove(store.move(volume, Op.DELETE))

    def _remove(self, volume: Volume) -> None:
        """Remove a DELETING volume's file, then its row and its quota usage."""
        try:
            self.backend.delete(volume.id)
        except BackendError as exc:
            log.warning("deleting volume %s failed: %s", volume.id, exc)
            store.move(volume, Op.FAIL_DELETE)
            return

        def forget() -> None:
            gone = (
                Volume.delete()
                .where((Volume.id == volume.id) & (Volume.status == Status.DELETING))
                .execute()
            )
            if gone:
                quotas.release(volume.project_id, volumes=1, size_gib=volume.size_gib)

        transactions.run(forget)

    def extend(self, who: Caller, volume_id: str, new_size_gib: int) -> VolumeInfo:
        """Grow an AVAILABLE volume, charging the added size to its project's quota."""
        volume = store.load(who, volume_id)
        states.transition(volume.status, Op.EXTEND)
        if new_size_gib <= volume.size_gib:
            raise InvalidArgument(
                f"new_size_gib must be greater than the volume's {volume.size_gib} GiB",
                field="new_size_gib",
            )
        added = new_size_gib - volume.size_gib
        quotas.ensure(volume.project_id)
        read = volume

        def begin() -> Volume:
            moved = store.move(read, Op.EXTEND, pending_size_gib=new_size_gib)
            quotas.charge(moved.project_id, self.defaults, size_gib=added)
            return moved

        volume = transactions.run(begin)
        try:
            self.backend.extend(volume.id, new_size_gib)
        except BackendError as exc:
            log.warning("extending volume %s failed: %s", volume.id, exc)
            self._fail_extend(volume)
        else:
            store.move(volume, Op.FINISH_EXTEND, size_gib=new_size_gib, pending_size_gib=0)
        return store.info(volume.id)

    def _fail_extend(self, volume: Volume) -> None:
        added = volume.pending_size_gib - volume.size_gib

        def undo() -> None:
            store.move(volume, Op.FAIL_EXTEND, pending_size_gib=0)
            quotas.release(volume.project_id, size_gib=added)

        transactions.run(undo)

    def get_quota(self, who: Caller, project_id: str) -> quotas.QuotaView:
        project_id = project_id or who.project_id
        if project_id != who.project_id and not who.is_service:
            raise PermissionDenied("only admins may read another project's quota")
        return quotas.get(project_id, self.defaults)

    def update_quota(self, project_id: str, volumes_limit, size_gib_limit) -> quotas.QuotaView:
        return quotas.update(
            project_id, self.defaults, volumes_limit=volumes_limit, size_gib_limit=size_gib_limit
        )

    def recover(self) -> None:
        """Settle volumes a previous process left half way through a change, then
        serve the NBD exports of attached volumes again (exports.py).

        Only volumes untouched since before this process started are taken, so
        calls already being served are left alone. Assumes one volume service
        per database, as DESIGN.md deploys it.
        """
        busy = (Status.CREATING, Status.EXTENDING, Status.ATTACHING, Status.DELETING)
        stale = Volume.select().where(
            Volume.status.in_(busy) & (Volume.update_time < self.started - RECOVERY_MARGIN)
        )
        for volume in list(stale):
            log.warning("recovering volume %s left %s", volume.id, volume.status)
            try:
                self._recover(volume)
            except (StratusError, BackendError) as exc:
                log.warning("cannot recover volume %s: %s", volume.id, exc)
        # After the attaches left half way are undone: only real attachments remain.
        self.exports.restore()

    def _recover(self, volume: Volume) -> None:
        if volume.status == Status.CREATING:
            self.backend.delete(volume.id)
            store.move(volume, Op.FAIL_CREATE)
        elif volume.status == Status.EXTENDING:
            self._fail_extend(volume)
        elif volume.status == Status.ATTACHING:
            op = Op.FAIL_RESERVED_ATTACH if volume.reserved_instance_id else Op.FAIL_ATTACH

            def undo(volume: Volume = volume, op: Op = op) -> None:
                Attachment.delete().where(Attachment.volume == volume.id).execute()
                store.move(volume, op)

            transactions.run(undo)
        else:
            self._remove(volume)


def _created_by(who: Caller, request_id: str) -> Volume | None:
    if not request_id:
        return None
    return Volume.get_or_none(
        (Volume.project_id == who.project_id) & (Volume.request_id == request_id)
    )
