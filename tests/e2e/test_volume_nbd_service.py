"""The volume service with ``volume_transport = "nbd"`` as a real process, beside a real identity.

What the contract tests cannot show: a SIGTERM stops every export daemon with
the service, and after a SIGKILL the daemons outlive it until the next start,
which stops them and serves every attachment again on its own port under its
own name (a guest's QEMU reconnects there). No TLS here (the exports then have
only their secret names); qemu-io is the client. Exports listen on 127.0.0.1,
ports 31300-31399.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import types
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from components.framework import daemons
from components.framework.auth import TOKEN_HEADER
from components.volume import nbd
from stratus.volume.v1 import volume_service_pb2 as pb2
from stratus.volume.v1 import volume_service_pb2_grpc as pb2_grpc
from tests.e2e import lone
from tests.e2e.test_nbd_export import LENGTH, MISSING, OFFSET, PATTERN, assert_ok, qemu_io

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        bool(MISSING), reason=f"{', '.join(MISSING)} missing (Debian qemu-system-common)"
    ),
]
HOST = "127.0.0.1"
PORTS = (31300, 31399)
INSTANCE = "11111111-0000-4000-8000-000000000001"


@pytest.fixture(scope="module")
def identity(tmp_path_factory):
    """(demo token, environment for another component)."""
    with lone.identity(tmp_path_factory.mktemp("stvol")) as found:
        yield found


class Volumes:
    """A stub of the volume process with the demo token."""

    def __init__(self, process: subprocess.Popen, token: str) -> None:
        self.process = process
        self.channel = grpc.insecure_channel(process.address)
        self.stub = pb2_grpc.VolumesStub(self.channel)
        self.md = ((TOKEN_HEADER, token),)

    def __call__(self, rpc: str, **fields):
        request = getattr(pb2, f"{rpc}Request")(**fields)
        return getattr(self.stub, rpc)(request, metadata=self.md, timeout=30)


@pytest.fixture
def volume_service(identity, tmp_path):
    """Start (and restart) the volume service on one data directory; no daemon left after."""
    token, env = identity
    data = tmp_path / "volume"
    shutil.copytree(Path(env["STRATUS_DATA_DIR"]) / "secrets", data / "secrets")
    env = env | {
        "STRATUS_DATA_DIR": str(data),
        "STRATUS_VOLUME_VOLUME_TRANSPORT": "nbd",
        "STRATUS_VOLUME_NBD_HOST": HOST,
        "STRATUS_VOLUME_NBD_PORT_MIN": str(PORTS[0]),
        "STRATUS_VOLUME_NBD_PORT_MAX": str(PORTS[1]),
        "STRATUS_VOLUME_ENDPOINTS": "image=127.0.0.1:1",
    }
    log = tmp_path / "volume.log"

    @contextlib.contextmanager
    def run() -> Iterator[Volumes]:
        with lone.started("components.volume", env, log) as process:
            api = Volumes(process, token)
            try:
                yield api
            finally:
                api.channel.close()

    run.run_dir = data / "volume-exports" / "run"
    try:
        yield run
    finally:
        nbd.stop_stale(run.run_dir)


def pid_of(run_dir: Path, attachment_id: str) -> int | None:
    return daemons.read_pid(run_dir / f"{attachment_id}.pid")


def export_of(info) -> types.SimpleNamespace:
    return types.SimpleNamespace(host=info.host, port=info.port, name=info.export_name)


READ = f"read -P {PATTERN:#x} {OFFSET} {LENGTH}"
WRITE = f"write -P {PATTERN:#x} {OFFSET} {LENGTH}"


def test_sigterm_stops_the_exports_and_a_restart_serves_them_again(volume_service):
    with volume_service() as api:
        volume = api("CreateVolume", size_gib=1)
        attached = api("AttachVolume", volume_id=volume.id, instance_id=INSTANCE, host="compute-1")
        info = attached.connection_info
        assert (info.driver_volume_type, info.tls) == ("nbd", False)
        assert_ok(qemu_io(export_of(info), WRITE, None))
        pid = pid_of(volume_service.run_dir, attached.attachment_id)
        assert pid is not None
    assert daemons.wait_gone(pid, 5)
    assert list(volume_service.run_dir.glob("*.pid")) == []

    with volume_service() as api:
        assert_ok(qemu_io(export_of(info), READ, None))
        api("DetachVolume", volume_id=volume.id, instance_id=INSTANCE)
        assert list(volume_service.run_dir.glob("*.pid")) == []


def test_daemons_outliving_a_killed_service_are_replaced_at_its_next_start(volume_service):
    with volume_service() as api:
        volume = api("CreateVolume", size_gib=1)
        attached = api("AttachVolume", volume_id=volume.id, instance_id=INSTANCE, host="compute-1")
        info = attached.connection_info
        assert_ok(qemu_io(export_of(info), WRITE, None))
        orphan = pid_of(volume_service.run_dir, attached.attachment_id)
        api.process.kill()
        api.process.wait(10)
    pid_file = volume_service.run_dir / f"{attached.attachment_id}.pid"
    assert daemons.runs(orphan, nbd.DAEMON, str(pid_file))  # it outlived the service

    with volume_service() as api:
        assert daemons.wait_gone(orphan, 5)
        assert pid_of(volume_service.run_dir, attached.attachment_id) not in (None, orphan)
        assert_ok(qemu_io(export_of(info), READ, None))
    assert list(volume_service.run_dir.glob("*.pid")) == []
