"""A volume exported over the network: NBD with TLS, served by ``qemu-storage-daemon``.

One export per attachment, each its own daemon, run in the foreground as a
child of the caller (a supervisor can stop it by pid). The command line, with
JSON option values so that a comma in a path cannot split an option:

    qemu-storage-daemon \\
      --object '{"qom-type": "tls-creds-x509", "id": "tls0", "dir": TLS_DIR,
                 "endpoint": "server", "verify-peer": true}' \\
      --object '{"qom-type": "authz-list", "id": "authz0", "policy": "deny",
                 "rules": [{"match": CLIENT_DN, "policy": "allow"}, ...]}' \\
      --blockdev '{"driver": "file", "node-name": "file0", "filename": VOLUME_PATH}' \\
      --blockdev '{"driver": "raw"|"qcow2", "node-name": "disk0", "file": "file0"}' \\
      --nbd-server '{"addr": {"type": "inet", "host": HOST, "port": "PORT"},
                     "tls-creds": "tls0", "tls-authz": "authz0"}' \\
      --export '{"type": "nbd", "id": "export0", "node-name": "disk0",
                 "name": EXPORT_NAME, "writable": true}' \\
      --pidfile RUN_DIR/EXPORT_ID.pid

(the authz object and ``tls-authz`` only when the caller names its clients;
no TLS object and no ``tls-creds`` when the caller has no TLS directory).

Who gets in: the daemon speaks nothing but STARTTLS before TLS, and TLS needs
a client certificate of the run's authority (``verify-peer``); with
``client_dns`` only those certificates' subjects are let in (``tls-authz``),
which is what ties an export to the compute hosts of its attachment. The
export name is a fresh secret per export (or the one the caller restarts an
export with), but it is no credential: QEMU lists
its exports (NBD_OPT_LIST) to any client that got through TLS. The name is
also on the daemon's command line, visible to local users of this host.

A qcow2 volume is opened with ``"backing": null``: no backing file named in
its header is ever opened. An NBD export shares its image with any other user
(QEMU takes no conflicting lock), so two exports of one volume file would both
write it: the caller keeps to one at a time.

The daemon writes its pid file once its NBD server and export exist, before it
accepts connections; :meth:`Export.start` waits for that. After a crash of
the caller the daemons outlive it; :func:`stop_stale` ends the ones whose pid
files remain in the run directory (a pid reused by another program is left
alone), so a run directory belongs to one volume service process. The daemon
reads its certificate once, at start: an export that outlives its server
certificate (30 days) takes no new connections until it is started again.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import secrets
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from components.framework import daemons

log = logging.getLogger(__name__)

DAEMON = "qemu-storage-daemon"
FORMATS = ("raw", "qcow2")
START_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 5.0
# The first bytes of an NBD newstyle handshake, sent before any option or TLS.
NBD_GREETING = b"NBDMAGICIHAVEOPT"


class ExportError(Exception):
    """An export could not be started; the message says why."""


def make_tls_dir(
    target: Path, ca_file: Path, cert_file: Path, key_file: Path, endpoint: str
) -> Path:
    """Copy a certificate and key into ``target`` under the names QEMU looks for.

    ``endpoint`` is "server" or "client": ``ca-cert.pem`` plus
    ``<endpoint>-cert.pem`` and ``<endpoint>-key.pem``; the directory is 0700
    and the files 0600.
    """
    if endpoint not in ("server", "client"):
        raise ValueError(f"endpoint must be server or client, not {endpoint!r}")
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    target.chmod(0o700)
    for source, name in (
        (ca_file, "ca-cert.pem"),
        (cert_file, f"{endpoint}-cert.pem"),
        (key_file, f"{endpoint}-key.pem"),
    ):
        destination = target / name
        destination.unlink(missing_ok=True)
        fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(Path(source).read_bytes())
    return target


def client_dn(common_name: str, unit: str = "service") -> str:
    """The subject of a run certificate as QEMU's authz sees it (pki.py's layout)."""
    return f"OU={unit},CN={common_name}"


def daemon_command(
    volume_path: Path,
    fmt: str,
    host: str,
    port: int,
    tls_dir: Path | None,
    name: str,
    pid_file: Path,
    client_dns: Sequence[str] = (),
) -> list[str]:
    """The daemon's command line (see the module docstring); ``tls_dir`` None: no TLS."""
    file = {"driver": "file", "node-name": "file0", "filename": str(Path(volume_path).resolve())}
    disk = {"driver": fmt, "node-name": "disk0", "file": "file0"}
    if fmt == "qcow2":
        disk["backing"] = None
    server = {"addr": {"type": "inet", "host": host, "port": str(port)}}
    export = {"type": "nbd", "id": "export0", "node-name": "disk0", "name": name, "writable": True}
    options = []
    if tls_dir is not None:
        tls = {
            "qom-type": "tls-creds-x509",
            "id": "tls0",
            "dir": str(Path(tls_dir).resolve()),
            "endpoint": "server",
            "verify-peer": True,
        }
        options.append(("--object", tls))
        server["tls-creds"] = "tls0"
    if client_dns and tls_dir is not None:
        rules = [{"match": dn, "policy": "allow", "format": "exact"} for dn in client_dns]
        authz = {"qom-type": "authz-list", "id": "authz0", "policy": "deny", "rules": rules}
        options.append(("--object", authz))
        server["tls-authz"] = "authz0"
    options += [("--blockdev", file), ("--blockdev", disk)]
    options += [("--nbd-server", server), ("--export", export)]
    command = [DAEMON]
    for flag, value in options:
        command += [flag, json.dumps(value)]
    return [*command, "--pidfile", str(pid_file)]


@dataclasses.dataclass
class Export:
    """One running export of one volume file."""

    export_id: str
    name: str = dataclasses.field(repr=False)
    host: str
    port: int
    pid_file: Path
    process: subprocess.Popen = dataclasses.field(repr=False)
    tls: bool = True

    @classmethod
    def start(
        cls,
        volume_path: Path,
        fmt: str,
        host: str,
        port: int,
        tls_dir: Path | None,
        *,
        run_dir: Path,
        export_id: str,
        client_dns: Sequence[str] = (),
        name: str = "",
        timeout: float = START_TIMEOUT_SECONDS,
    ) -> Export:
        """Serve ``volume_path`` on ``host:port`` until :meth:`stop`.

        ``export_id`` (the attachment's UUID) names the pid and log files in
        ``run_dir``; a daemon left by an earlier run for the same id is stopped
        first. ``tls_dir`` is a directory made by :func:`make_tls_dir` for "server",
        or None for an export without TLS (only its name keeps it; ``client_dns``
        is then ignored). ``client_dns`` (see :func:`client_dn`) limits the
        clients to those certificates; empty lets in any certificate of the
        authority. ``name`` restarts an export under the name it had; empty
        draws a fresh secret.
        Raises :class:`ExportError` if the daemon is missing, exits (a port in
        use, an unreadable file) or is not serving within ``timeout`` seconds.
        """
        if fmt not in FORMATS:
            raise ExportError(f"cannot export a {fmt!r} volume")
        export_id = str(uuid.UUID(export_id))  # it becomes a file name
        run_dir = Path(run_dir).resolve()
        run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        pid_file = run_dir / f"{export_id}.pid"
        _stop_stale(pid_file)
        name = name or secrets.token_urlsafe(32)
        command = daemon_command(volume_path, fmt, host, port, tls_dir, name, pid_file, client_dns)
        log_file = run_dir / f"{export_id}.log"
        try:
            with open(log_file, "wb") as stderr:
                process = subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr
                )
        except OSError as exc:
            raise ExportError(f"cannot run {DAEMON}: {exc}") from exc
        export = cls(export_id, name, host, port, pid_file, process, tls=tls_dir is not None)
        try:
            export._wait_serving(timeout, log_file)
        except BaseException:
            export.stop()
            raise
        log.info("exporting %s (%s) as %s on %s:%s", volume_path, fmt, export_id, host, port)
        return export

    def connection_info(self) -> dict:
        """What a compute host needs to attach the export (never log the name)."""
        return {
            "driver_volume_type": "nbd",
            "host": self.host,
            "port": self.port,
            "export_name": self.name,
            "tls": self.tls,
        }

    def serving(self) -> bool:
        """Whether the daemon runs and answers NBD on its address."""
        return self.process.poll() is None and _greets(self.host, self.port)

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """End the daemon (SIGTERM, then SIGKILL after ``timeout``); idempotent."""
        daemons.stop_child(self.process, timeout, f"export {self.export_id}")
        self.pid_file.unlink(missing_ok=True)
        self.pid_file.with_suffix(".log").unlink(missing_ok=True)

    def _wait_serving(self, timeout: float, log_file: Path) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = log_file.read_text(errors="replace").strip()[-500:]
                raise ExportError(f"{DAEMON} exited ({self.process.returncode}): {error}")
            if daemons.read_pid(self.pid_file) == self.process.pid and _greets(
                self.host, self.port
            ):
                return
            time.sleep(0.05)
        raise ExportError(f"{DAEMON} was not serving on {self.host}:{self.port} in {timeout} s")


def stop_stale(run_dir: Path) -> list[int]:
    """Stop the daemons of exports whose pid files remain in ``run_dir``; their pids."""
    run_dir = Path(run_dir).resolve()
    if not run_dir.is_dir():
        return []
    return [pid for pid_file in sorted(run_dir.glob("*.pid")) if (pid := _stop_stale(pid_file))]


def stop_export(run_dir: Path, export_id: str) -> int | None:
    """Stop the daemon of one export by its pid file (one this process no longer
    holds); its pid, or None if none ran."""
    return _stop_stale(Path(run_dir).resolve() / f"{uuid.UUID(export_id)}.pid")


def _stop_stale(pid_file: Path, timeout: float = STOP_TIMEOUT_SECONDS) -> int | None:
    """Stop the daemon named by ``pid_file`` if it is still ours; remove it and its log."""
    stopped = daemons.stop_stale(pid_file, DAEMON, str(pid_file), timeout)
    pid_file.with_suffix(".log").unlink(missing_ok=True)
    return stopped


def _greets(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether an NBD server answers on ``host:port`` (its greeting precedes TLS)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            received = b""
            while len(received) < len(NBD_GREETING):
                chunk = conn.recv(len(NBD_GREETING) - len(received))
                if not chunk:
                    break
                received += chunk
    except OSError:
        return False
    return received == NBD_GREETING


def available() -> str | None:
    """None if the daemon can run here, else why not."""
    if shutil.which(DAEMON):
        return None
    return f"{DAEMON} is missing (Debian package qemu-system-common)"
