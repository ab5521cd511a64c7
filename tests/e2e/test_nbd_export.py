"""A volume exported over NBD with TLS by qemu-storage-daemon, reached by qemu-io.

Everything lives in the test's temporary directory: the authority, the
certificates, the volume files (qemu-img creates them there). The daemon
listens on 127.0.0.1 only, on a free port of 31100-31199. qemu-io is the NBD
client: with the run's client certificate it writes and reads; without TLS,
without a certificate, with a certificate of another authority, with a wrong
export name, or (for an export limited to named clients) with another run
certificate it is refused. A daemon left by a crashed caller is found by its
pid file and stopped.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from components.supervisor.pki import Authority
from components.volume import nbd

TOOLS = (nbd.DAEMON, "qemu-io", "qemu-img", "qemu-nbd")
MISSING = [tool for tool in TOOLS if shutil.which(tool) is None]
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"{', '.join(MISSING)} missing (Debian qemu-system-common, qemu-utils)"
)

HOST = "127.0.0.1"
PORTS = range(31100, 31200)
MIB = 1024**2
OFFSET, LENGTH, PATTERN = 3 * 65536 + 512, 4096, 0x5A
QEMU_IO_TIMEOUT_SECONDS = 10


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS}")


@pytest.fixture
def tls(tmp_path):
    """TLS directories: the server's, two clients' of the same authority (compute-1 and
    compute-2), a client's whose certificate another authority signed, and a client's
    without a certificate."""
    ours = Authority.create(tmp_path / "pki")
    other = Authority.create(tmp_path / "other-pki", name="Another CA")
    server = ours.issue("volume", "volume", [HOST], client=False)
    client = ours.issue("compute-1", "compute", [HOST])
    neighbour = ours.issue("compute-2", "compute", [HOST])
    stranger = other.issue("compute-1", "compute", [HOST])
    dirs = {
        "server": nbd.make_tls_dir(
            tmp_path / "tls-server", ours.ca_file, server.cert_file, server.key_file, "server"
        ),
        "client": nbd.make_tls_dir(
            tmp_path / "tls-client", ours.ca_file, client.cert_file, client.key_file, "client"
        ),
        "neighbour": nbd.make_tls_dir(
            tmp_path / "tls-neighbour",
            ours.ca_file,
            neighbour.cert_file,
            neighbour.key_file,
            "client",
        ),
        "stranger": nbd.make_tls_dir(
            tmp_path / "tls-stranger", ours.ca_file, stranger.cert_file, stranger.key_file, "client"
        ),
    }
    # qemu-io checks its own certificate too: the stranger trusts both authorities,
    # so that only the server's check can refuse it.
    bundle = dirs["stranger"] / "ca-cert.pem"
    bundle.write_bytes(ours.ca_file.read_bytes() + other.ca_file.read_bytes())
    # A TLS client without a certificate of its own.
    anonymous = tmp_path / "tls-anonymous"
    anonymous.mkdir(mode=0o700)
    (anonymous / "ca-cert.pem").write_bytes(ours.ca_file.read_bytes())
    dirs["anonymous"] = anonymous
    return dirs


def volume_file(tmp_path: Path, fmt: str) -> Path:
    path = tmp_path / f"volume.{fmt}"
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", fmt, str(path), str(MIB)], check=True, timeout=10
    )
    return path


def start(tmp_path: Path, path: Path, fmt: str, tls: dict, **options) -> nbd.Export:
    return nbd.Export.start(
        path,
        fmt,
        HOST,
        free_port(),
        tls["server"],
        run_dir=tmp_path / "run",
        export_id=str(uuid.uuid4()),
        **options,
    )


def qemu_io(
    export: nbd.Export, command: str, client_dir: Path | None, name: str | None = None
) -> subprocess.CompletedProcess:
    """qemu-io as the NBD client; ``client_dir`` None speaks plain NBD, without TLS."""
    name = export.name if name is None else name
    options = f"driver=nbd,host={export.host},port={export.port},export={name}"
    objects = []
    if client_dir is not None:
        options += ",tls-creds=tls0"
        objects = ["--object", f"tls-creds-x509,id=tls0,dir={client_dir},endpoint=client"]
    return subprocess.run(
        ["qemu-io", *objects, "--image-opts", options, "-c", command],
        capture_output=True,
        text=True,
        timeout=QEMU_IO_TIMEOUT_SECONDS,
        check=False,
    )


def assert_ok(done: subprocess.CompletedProcess) -> None:
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "failed" not in output.lower(), output


def assert_refused(done: subprocess.CompletedProcess) -> None:
    assert done.returncode != 0, done.stdout + done.stderr
    assert "can't open" in done.stderr, done.stderr


def assert_gone(pid: int) -> None:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return
    assert state == "Z", f"export daemon {pid} still runs (state {state})"


def write_and_read_marker(export: nbd.Export, client_dir: Path) -> None:
    assert_ok(qemu_io(export, f"write -P {PATTERN:#x} {OFFSET} {LENGTH}", client_dir))
    assert_ok(qemu_io(export, f"read -P {PATTERN:#x} {OFFSET} {LENGTH}", client_dir))


@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_client_with_run_certificate_writes_into_the_volume_file(tmp_path, tls, fmt):
    path = volume_file(tmp_path, fmt)
    export = start(tmp_path, path, fmt, tls)
    try:
        assert export.serving()
        write_and_read_marker(export, tls["client"])
    finally:
        export.stop()

    assert_gone(export.process.pid)
    assert not export.pid_file.exists()
    if fmt == "raw":
        with open(path, "rb") as fh:
            fh.seek(OFFSET)
            assert fh.read(LENGTH) == bytes([PATTERN]) * LENGTH
    else:
        done = subprocess.run(
            ["qemu-io", "-f", "qcow2", "-r", "-c", f"read -P {PATTERN:#x} {OFFSET} {LENGTH}", path],
            capture_output=True,
            text=True,
            timeout=QEMU_IO_TIMEOUT_SECONDS,
            check=False,
        )
        assert_ok(done)


def test_connection_info_names_the_export_and_tls(tmp_path, tls):
    export = start(tmp_path, volume_file(tmp_path, "raw"), "raw", tls)
    try:
        info = export.connection_info()
    finally:
        export.stop()
    assert info == {
        "driver_volume_type": "nbd",
        "host": HOST,
        "port": export.port,
        "export_name": export.name,
        "tls": True,
    }
    assert len(export.name) >= 40  # 32 random bytes


def test_clients_without_tls_or_run_certificate_or_export_name_are_refused(tmp_path, tls):
    path = volume_file(tmp_path, "raw")
    export = start(tmp_path, path, "raw", tls)
    try:
        read = f"read 0 {LENGTH}"
        assert_refused(qemu_io(export, read, client_dir=None))
        assert_refused(qemu_io(export, read, tls["stranger"]))
        assert_refused(qemu_io(export, read, tls["anonymous"]))
        assert_refused(qemu_io(export, read, tls["client"], name=export.name + "x"))
        assert_refused(qemu_io(export, read, tls["client"], name=""))
        # The refusals cost the export nothing.
        assert export.serving()
        assert_ok(qemu_io(export, read, tls["client"]))
    finally:
        export.stop()


def test_export_for_named_clients_refuses_other_run_certificates(tmp_path, tls):
    path = volume_file(tmp_path, "raw")
    export = start(tmp_path, path, "raw", tls, client_dns=[nbd.client_dn("compute-1")])
    try:
        write_and_read_marker(export, tls["client"])
        assert_refused(qemu_io(export, f"read 0 {LENGTH}", tls["neighbour"]))
    finally:
        export.stop()


def test_export_name_is_listed_to_clients_past_tls(tmp_path, tls):
    """The name is no credential: QEMU answers NBD_OPT_LIST once TLS is up (the
    certificate allow-list is what keeps other compute hosts out)."""
    export = start(tmp_path, volume_file(tmp_path, "raw"), "raw", tls)
    try:
        creds = f"tls-creds-x509,id=tls0,dir={tls['neighbour']},endpoint=client"
        address = ["--bind", HOST, "--port", str(export.port)]
        listing = subprocess.run(
            ["qemu-nbd", "--list", "--object", creds, "--tls-creds=tls0", *address],
            capture_output=True,
            text=True,
            timeout=QEMU_IO_TIMEOUT_SECONDS,
            check=False,
        )
    finally:
        export.stop()
    assert export.name in listing.stdout, listing.stdout + listing.stderr


def test_port_in_use_is_an_export_error(tmp_path, tls):
    with socket.socket() as taken:
        taken.bind((HOST, free_port()))
        taken.listen()
        with pytest.raises(nbd.ExportError, match="exited"):
            nbd.Export.start(
                volume_file(tmp_path, "raw"),
                "raw",
                HOST,
                taken.getsockname()[1],
                tls["server"],
                run_dir=tmp_path / "run",
                export_id=str(uuid.uuid4()),
            )
    assert list((tmp_path / "run").iterdir()) == []


def test_export_left_by_a_crashed_service_is_stopped(tmp_path, tls):
    """A process starts an export and dies without stopping it; stop_stale ends the daemon."""
    run_dir = tmp_path / "run"
    port = free_port()
    script = (
        "import sys; from pathlib import Path; from components.volume import nbd;"
        "e = nbd.Export.start(Path(sys.argv[1]), 'raw', sys.argv[2], int(sys.argv[3]),"
        " Path(sys.argv[4]), run_dir=Path(sys.argv[5]), export_id=sys.argv[6]);"
        "print(e.process.pid, flush=True)"
    )
    args = [str(volume_file(tmp_path, "raw")), HOST, str(port), str(tls["server"]), str(run_dir)]
    done = subprocess.run(
        [sys.executable, "-c", script, *args, str(uuid.uuid4())],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    pid = int(done.stdout)
    try:
        assert Path(f"/proc/{pid}").exists(), "the orphaned daemon should outlive its parent"
        assert nbd.stop_stale(run_dir) == [pid]
        assert_gone(pid)
        assert list(run_dir.glob("*.pid")) == []
    finally:
        if Path(f"/proc/{pid}").exists():
            os.kill(pid, signal.SIGKILL)


def test_stale_pid_file_of_another_program_is_removed_but_not_killed(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    pid_file = run_dir / f"{uuid.uuid4()}.pid"
    pid_file.write_text(f"{os.getpid()}\n")
    assert nbd.stop_stale(run_dir) == []
    assert not pid_file.exists()


def test_stop_is_bounded_and_idempotent(tmp_path, tls):
    export = start(tmp_path, volume_file(tmp_path, "raw"), "raw", tls)
    began = time.monotonic()
    export.stop()
    export.stop()
    assert time.monotonic() - began < nbd.STOP_TIMEOUT_SECONDS
    assert_gone(export.process.pid)
    assert not export.serving()


def test_export_without_tls_serves_plain_nbd_under_the_name_given(tmp_path):
    """A service without TLS: only the secret name keeps the export, and a restart
    under the same name serves the same export to a client that knew it."""
    path = volume_file(tmp_path, "raw")
    options = {"run_dir": tmp_path / "run", "export_id": str(uuid.uuid4())}
    export = nbd.Export.start(path, "raw", HOST, free_port(), None, **options)
    try:
        assert export.connection_info()["tls"] is False
        write_and_read_marker(export, None)
        assert_refused(qemu_io(export, f"read 0 {LENGTH}", None, name=export.name + "x"))
    finally:
        export.stop()
    again = nbd.Export.start(path, "raw", HOST, export.port, None, name=export.name, **options)
    try:
        assert again.name == export.name
        assert_ok(qemu_io(again, f"read -P {PATTERN:#x} {OFFSET} {LENGTH}", None))
    finally:
        again.stop()


def test_stop_export_ends_a_daemon_by_its_pid_file(tmp_path, tls):
    export = start(tmp_path, volume_file(tmp_path, "raw"), "raw", tls)
    assert nbd.stop_export(tmp_path / "run", export.export_id) == export.process.pid
    export.process.wait(nbd.STOP_TIMEOUT_SECONDS)
    assert not export.pid_file.exists()
    assert nbd.stop_export(tmp_path / "run", export.export_id) is None
