"""The volume service as the compute host sees it: reserve, attach and release volumes.

A build reserves each volume for the instance, then attaches it and adds what
the connection info names to the domain: a file the host can open ("file",
single-machine clouds) or an NBD export on the storage machine ("nbd", always
raw), which QEMU reaches over the network and the host never opens. Releasing detaches and
unreserves; both are idempotent on the volume side, and an already missing
volume counts as released. Calls carry the user's token (the caller wraps them
in ``acting_as``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from components.framework import FailedPrecondition, NotFound, call
from stratus.volume.v1 import volume_service_pb2 as vol_pb2

log = logging.getLogger(__name__)

SUPPORTED_FORMATS = ("raw", "qcow2")
FILE = "file"
NBD = "nbd"


@dataclasses.dataclass(frozen=True)
class Connection:
    """How to reach an attached volume's data (the connection info, checked)."""

    # FILE or NBD.
    kind: str
    # FILE: the volume's file.
    path: str
    format: str
    # NBD: the export's address (no brackets around an IPv6 one), port, name and
    # whether it demands TLS.
    host: str = ""
    port: int = 0
    export_name: str = ""
    tls: bool = False


class Volumes:
    """The volume service, reached through ``stub()`` (a VolumesStub)."""

    def __init__(self, stub: Callable[[], object]) -> None:
        self._stub = stub

    def reserve(self, volume_id: str, instance_id: str) -> None:
        request = vol_pb2.ReserveVolumeRequest(volume_id=volume_id, instance_id=instance_id)
        call(self._stub().ReserveVolume, request)

    def attach(self, volume_id: str, instance_id: str, host: str, device: str) -> Connection:
        """Attach and return where the volume's file is; idempotent for the same instance."""
        request = vol_pb2.AttachVolumeRequest(
            volume_id=volume_id, instance_id=instance_id, host=host, device=device
        )
        info = call(self._stub().AttachVolume, request).connection_info
        return connection_of(volume_id, info)

    def detach(self, volume_id: str, instance_id: str) -> None:
        request = vol_pb2.DetachVolumeRequest(volume_id=volume_id, instance_id=instance_id)
        try:
            call(self._stub().DetachVolume, request)
            log.info("detached volume %s", volume_id)
        except NotFound:
            log.info("volume %s is gone; nothing to detach", volume_id)

    def unreserve(self, volume_id: str, instance_id: str) -> None:
        """Release the reservation for this instance (a cleanup: it never fails for a volume
        that is gone, or that is now reserved for or attached to another instance)."""
        request = vol_pb2.UnreserveVolumeRequest(volume_id=volume_id, instance_id=instance_id)
        try:
            call(self._stub().UnreserveVolume, request)
        except NotFound:
            log.info("volume %s is gone; nothing to unreserve", volume_id)
        except FailedPrecondition as exc:
            log.info("volume %s left alone: %s", volume_id, exc.message)

    def release(self, volume_id: str, instance_id: str) -> None:
        """Detach, then unreserve: whatever state a build left the volume in."""
        self.detach(volume_id, instance_id)
        self.unreserve(volume_id, instance_id)


def connection_of(volume_id: str, info: vol_pb2.ConnectionInfo) -> Connection:
    """The connection info as this host uses it; FailedPrecondition for one it cannot."""
    kind = info.driver_volume_type
    if kind == FILE and info.format in SUPPORTED_FORMATS and info.path:
        return Connection(kind=FILE, path=info.path, format=info.format)
    host = info.host.strip("[]")
    if kind == NBD and info.format == "raw" and host and 0 < info.port < 65536 and info.export_name:
        return Connection(
            kind=NBD,
            path="",
            format="raw",
            host=host,
            port=info.port,
            export_name=info.export_name,
            tls=info.tls,
        )
    raise FailedPrecondition(
        f"volume {volume_id} is exported as {kind!r}/{info.format!r}; this host attaches "
        "files in raw or qcow2 format and raw NBD exports with a host, port and export name",
        reason="VOLUME_CONNECTION_UNSUPPORTED",
        volume_id=volume_id,
    )
