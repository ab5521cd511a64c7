"""Where an attached volume is served from: its own file, or an NBD export of its own.

With the "file" transport a compute host opens the volume's file itself, which
only works when it shares this machine's files. With "nbd" each attachment
gets one ``qemu-storage-daemon`` (nbd.py) on a port of the configured range,
with a fresh secret export name and, when the service has TLS, a client
allow-list of the attaching host's certificate alone. The attachment's row
keeps the address, port and name, so an export is started again exactly as it
was (a running guest's QEMU reconnects to it): on an idempotent re-attach that
finds its daemon dead, and for every attachment when the service starts.
Stopping the service stops every export: nothing outlives it but pid files,
and the next start stops whatever those still name.

An attachment keeps the transport it was made with: changing
``volume_transport`` affects new attachments only.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from pathlib import Path

import peewee

from components.framework import bindable, transactions
from components.volume import nbd
from components.volume.backend import BackendError, ConnectionInfo, FileBackend
from components.volume.models import Attachment

log = logging.getLogger(__name__)

TRANSPORTS = ("file", "nbd")
# The volume service's exports live under <data_dir>/volume-exports: tls/ (the
# daemons' credentials) and run/ (their pid files, where run-all finds leftovers).
EXPORTS_DIR = "volume-exports"


def run_dir_of(data_dir: Path) -> Path:
    """Where the export daemons' pid files are, for the service of ``data_dir``."""
    return Path(data_dir) / EXPORTS_DIR / "run"


RETRY_SECONDS = 0.5


class Exports:
    """The running exports of this service's attachments, one per attachment id."""

    def __init__(
        self,
        backend: FileBackend,
        transport: str = "file",
        host: str = "127.0.0.1",
        ports: range = range(0),
        tls_dir: Path | None = None,
        run_dir: Path | None = None,
    ) -> None:
        if transport not in TRANSPORTS:
            raise ValueError(f"volume_transport must be one of {TRANSPORTS}, not {transport!r}")
        if transport == "nbd" and not ports:
            raise ValueError("nbd_port_min..nbd_port_max is an empty range")
        self.backend = backend
        self.transport = transport
        self.host = host
        self.ports = ports
        self.tls_dir = tls_dir
        self.run_dir = Path(run_dir) if run_dir else run_dir_of(backend.root.parent)
        self._running: dict[str, nbd.Export] = {}
        # Held while starting or stopping: a port is chosen and taken by one call at a time.
        self._lock = threading.Lock()
        if transport == "nbd" and tls_dir is None:
            log.warning(
                "volume exports run without TLS (no tls_ca_file/tls_cert_file/tls_key_file): "
                "only their secret names keep other hosts out"
            )

    def open(self, attachment: Attachment) -> ConnectionInfo:
        """Serve a new attachment; for "nbd", record its export on its row.

        Raises :class:`BackendError` if it cannot be served; then no daemon runs
        for it (the caller deletes the row, which frees the port).
        """
        if self.transport == "file":
            return self.backend.connection_info(attachment.volume_id)
        self.backend.connection_info(attachment.volume_id)  # the file must exist
        with self._lock:
            self._claim(attachment)
            return self._info(self._start(attachment))

    def reopen(self, attachment: Attachment) -> ConnectionInfo:
        """An existing attachment's connection; its export started again if it died."""
        if attachment.export_port is None:
            return self.backend.connection_info(attachment.volume_id)
        with self._lock:
            export = self._running.get(attachment.id)
            if export is None or not export.serving():
                if export is not None:
                    export.stop()  # reaps it: its port is free again
                export = self._start(attachment)
            return self._info(export)

    def close_one(self, attachment: Attachment) -> None:
        """Stop an attachment's export, whoever started it; none running is fine."""
        if attachment.export_port is None:
            return
        with self._lock:
            export = self._running.pop(attachment.id, None)
            if export is not None:
                export.stop()
            else:
                nbd.stop_export(self.run_dir, attachment.id)

    def restore(self) -> None:
        """At start: stop the daemons a previous process left, then serve every
        NBD attachment again on its own port under its own name."""
        stale = nbd.stop_stale(self.run_dir)
        if stale:
            log.info("stopped %d export daemons left by a previous process", len(stale))
        found = list(Attachment.select().where(Attachment.export_port.is_null(False)))
        if not found:
            return
        missing = nbd.available()
        if missing:
            log.warning("cannot serve %d attached volumes again: %s", len(found), missing)
            return
        with self._lock:
            for attachment in found:
                if attachment.id in self._running:
                    continue
                try:
                    self._start_again(attachment)
                except BackendError as exc:
                    log.warning("cannot serve attachment %s again: %s", attachment.id, exc)

    def close(self) -> None:
        """Stop every export (the service is stopping)."""
        with self._lock:
            while self._running:
                _, export = self._running.popitem()
                export.stop()

    def _claim(self, attachment: Attachment) -> None:
        """Record a free port and a fresh name on the attachment's row."""
        taken = {
            row.export_port
            for row in Attachment.select(Attachment.export_port).where(
                Attachment.export_port.is_null(False)
            )
        }
        for port in self.ports:
            if port in taken or not bindable(self.host, port):
                continue
            name = secrets.token_urlsafe(32)
            try:
                transactions.run(
                    lambda port=port, name=name: (
                        Attachment.update(export_host=self.host, export_port=port, export_name=name)
                        .where(Attachment.id == attachment.id)
                        .execute()
                    )
                )
            except peewee.IntegrityError:
                continue  # another attachment took it meanwhile
            attachment.export_host, attachment.export_port = self.host, port
            attachment.export_name = name
            return
        raise BackendError(
            f"no free port for a volume export in {self.ports.start}-{self.ports.stop - 1}"
        )

    def _start_again(self, attachment: Attachment) -> nbd.Export:
        """Start an export a stale daemon held a moment ago: a daemon counts as
        stopped once its main thread has exited, and its port may be held until
        its last thread has; so one more try after a short wait."""
        try:
            return self._start(attachment)
        except BackendError:
            time.sleep(RETRY_SECONDS)
            return self._start(attachment)

    def _start(self, attachment: Attachment) -> nbd.Export:
        missing = nbd.available()
        if missing:
            raise BackendError(missing)
        client_dns = [nbd.client_dn(attachment.host)] if self.tls_dir else []
        try:
            export = nbd.Export.start(
                self.backend.path(attachment.volume_id),
                self.backend.format,
                attachment.export_host,
                attachment.export_port,
                self.tls_dir,
                run_dir=self.run_dir,
                export_id=attachment.id,
                client_dns=client_dns,
                name=attachment.export_name,
            )
        except nbd.ExportError as exc:
            raise BackendError(f"cannot export volume {attachment.volume_id}: {exc}") from exc
        self._running[attachment.id] = export
        return export

    @staticmethod
    def _info(export: nbd.Export) -> ConnectionInfo:
        # The export serves the volume's contents: the guest sees raw data.
        return ConnectionInfo(
            "nbd", "", "raw", export.host, export.port, export.name, tls=export.tls
        )
