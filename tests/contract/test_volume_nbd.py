"""Volumes over the network: AttachVolume and DetachVolume with ``volume_transport`` "nbd".

The real volume component serves gRPC with the test authority's certificate
(tests/e2e/test_nbd_export.py's ``tls`` fixture), on every database backend,
and exports each attachment with qemu-storage-daemon on 127.0.0.1, on a port of
31200-31299. qemu-io is the compute host: with compute-1's certificate it reads
and writes the export AttachVolume describes; compute-2's is refused.
"""

from __future__ import annotations

import contextlib
import socket
import types
from pathlib import Path

import pytest

from components.framework import daemons, tls
from components.volume import nbd
from components.volume.__main__ import COMPONENT
from components.volume.config import VolumeConfig
from components.volume.models import Attachment
from stratus.volume.v1 import volume_service_pb2_grpc as pb2_grpc
from tests.contract.test_volume_service import (
    CODE,
    INSTANCE,
    OTHER_INSTANCE,
    VALIDATOR,
    Env,
    V,
    fails,
)
from tests.contract.volume_fakes import serving_images
from tests.e2e.test_nbd_export import (
    LENGTH,
    MISSING,
    OFFSET,
    PATTERN,
    assert_gone,
    assert_ok,
    assert_refused,
    qemu_io,
    write_and_read_marker,
)
from tests.e2e.test_nbd_export import (
    tls as tls_dirs,  # noqa: F401 - a fixture
)
from tests.harness import serving_component

pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"{', '.join(MISSING)} missing (Debian qemu-system-common, qemu-utils)"
)

HOST = "127.0.0.1"
PORTS = range(31200, 31300)


def nbd_config(data_dir: Path, server_tls: Path | None, **overrides) -> VolumeConfig:
    """The service's settings: exports over NBD, TLS from the files of ``server_tls``."""
    files = {}
    if server_tls is not None:
        files = {
            "tls_ca_file": str(server_tls / "ca-cert.pem"),
            "tls_cert_file": str(server_tls / "server-cert.pem"),
            "tls_key_file": str(server_tls / "server-key.pem"),
        }
    settings = {
        "data_dir": str(data_dir),
        "volume_transport": "nbd",
        "nbd_host": HOST,
        "nbd_port_min": PORTS.start,
        "nbd_port_max": PORTS.stop - 1,
        **files,
        **overrides,
    }
    return VolumeConfig(**settings)


@contextlib.contextmanager
def serving(database_url: str, config: VolumeConfig, start_hooks: bool = True):
    """The volume component, reached over TLS when it has TLS (as a user: no certificate)."""
    with (
        serving_images(VALIDATOR) as (images, image_port),
        serving_component(
            COMPONENT,
            VALIDATOR,
            database_url,
            config=config,
            endpoints={"image": f"127.0.0.1:{image_port}"},
            start_hooks=start_hooks,
        ) as (runtime, plain),
    ):
        channel = plain
        if config.tls_ca_file:
            channel = tls.channel(
                f"127.0.0.1:{runtime.port}", tls.Tls.from_files(config.tls_ca_file), (), "volume"
            )
        try:
            yield Env(
                pb2_grpc.VolumesStub(channel), runtime, images, Path(config.data_dir) / "volume"
            )
        finally:
            channel.close()


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def env(database_url, data_dir, tls_dirs):  # noqa: F811 - the fixture imported above
    with serving(database_url, nbd_config(data_dir, tls_dirs["server"])) as served:
        yield served


def export_of(info) -> types.SimpleNamespace:
    """What qemu_io needs to reach an export (host, port, name) from its ConnectionInfo."""
    return types.SimpleNamespace(host=info.host, port=info.port, name=info.export_name)


def pid_of(data_dir: Path, attachment_id: str) -> int | None:
    return daemons.read_pid(data_dir / "volume-exports" / "run" / f"{attachment_id}.pid")


def pid_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "volume-exports" / "run").glob("*.pid"))


def test_attach_exports_the_volume_to_the_attaching_host_alone(env, data_dir, tls_dirs):  # noqa: F811
    volume = env.create()
    attached = env.attach(volume.id, host="compute-1")
    info = attached.connection_info
    assert (info.driver_volume_type, info.format, info.path) == ("nbd", "raw", "")
    assert (info.host, info.tls) == (HOST, True)
    assert info.port in PORTS
    assert len(info.export_name) >= 40
    assert attached.volume.status == V.STATUS_IN_USE
    assert attached.volume.attachments[0].host == "compute-1"

    export = export_of(info)
    write_and_read_marker(export, tls_dirs["client"])
    assert_refused(qemu_io(export, f"read 0 {LENGTH}", tls_dirs["neighbour"]))
    assert_refused(qemu_io(export, f"read 0 {LENGTH}", None))
    # The guest wrote into the volume's own file.
    with open(env.file(volume.id), "rb") as fh:
        fh.seek(OFFSET)
        assert fh.read(LENGTH) == bytes([PATTERN]) * LENGTH

    # Another attachment: a port and a name of its own.
    other = env.attach(env.create().id, instance_id=OTHER_INSTANCE).connection_info
    assert other.port != info.port
    assert other.export_name != info.export_name


def test_detach_stops_the_export_and_frees_its_port(env, data_dir):
    volume = env.create()
    attached = env.attach(volume.id)
    info = attached.connection_info
    pid = pid_of(data_dir, attached.attachment_id)
    assert pid is not None and nbd._greets(HOST, info.port)

    detached = env.call("DetachVolume", volume_id=volume.id, instance_id=INSTANCE).volume
    assert detached.status == V.STATUS_AVAILABLE
    assert_gone(pid)
    assert not nbd._greets(HOST, info.port)
    assert pid_files(data_dir) == []
    # Detaching again succeeds and changes nothing.
    env.call("DetachVolume", volume_id=volume.id, instance_id=INSTANCE)
    # The port is free for the next attachment (the lowest free one is taken).
    again = env.attach(volume.id).connection_info
    assert again.port == info.port
    assert again.export_name != info.export_name


def test_detach_succeeds_when_the_export_is_already_gone(env, data_dir):
    volume = env.create()
    attached = env.attach(volume.id)
    pid = pid_of(data_dir, attached.attachment_id)
    env.runtime.state["volumes"].exports.close()  # every daemon ended behind the row's back
    assert_gone(pid)
    detached = env.call("DetachVolume", volume_id=volume.id, attachment_id=attached.attachment_id)
    assert detached.volume.status == V.STATUS_AVAILABLE
    assert not detached.volume.attachments


def test_reattach_by_the_same_instance_returns_the_same_export(env, data_dir, tls_dirs):  # noqa: F811
    volume = env.create()
    first = env.attach(volume.id)
    pid = pid_of(data_dir, first.attachment_id)
    again = env.attach(volume.id)
    assert again.attachment_id == first.attachment_id
    assert again.connection_info == first.connection_info
    assert pid_of(data_dir, first.attachment_id) == pid

    # Its daemon died: the same export (port and name) is started again.
    died = env.runtime.state["volumes"].exports._running[first.attachment_id].process
    died.kill()
    died.wait(5)
    revived = env.attach(volume.id)
    assert revived.connection_info == first.connection_info
    assert pid_of(data_dir, first.attachment_id) not in (None, pid)
    assert_ok(qemu_io(export_of(revived.connection_info), f"read 0 {LENGTH}", tls_dirs["client"]))
    # Another instance is still refused.
    fails(CODE.FAILED_PRECONDITION, env.attach, volume.id, instance_id=OTHER_INSTANCE)


def test_failing_to_start_the_export_leaves_the_volume_as_it_was(env, data_dir):
    available = env.create()
    reserved = env.create()
    env.call("ReserveVolume", volume_id=reserved.id, instance_id=INSTANCE)
    # A certificate the daemon cannot load: it exits at start.
    cert = data_dir / "volume-exports" / "tls" / "server-cert.pem"
    good = cert.read_bytes()
    cert.write_bytes(b"not a certificate\n")
    for volume, status in ((available, V.STATUS_AVAILABLE), (reserved, V.STATUS_RESERVED)):
        fails(CODE.UNAVAILABLE, env.attach, volume.id, reason="BACKEND_FAILED")
        after = env.get(volume.id)
        assert after.status == status
        assert not after.attachments
    assert Attachment.select().count() == 0  # no port held
    assert pid_files(data_dir) == []
    cert.write_bytes(good)
    assert env.attach(reserved.id).connection_info.port == PORTS.start


def test_no_free_port_is_unavailable_and_leaves_the_volume_available(
    database_url,
    data_dir,
    tls_dirs,  # noqa: F811
):
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = nbd_config(data_dir, tls_dirs["server"], nbd_port_min=port, nbd_port_max=port)
        with serving(database_url, config) as env:
            volume = env.create()
            error = fails(CODE.UNAVAILABLE, env.attach, volume.id, reason="BACKEND_FAILED")
            assert "no free port" in error.details()
            assert env.get(volume.id).status == V.STATUS_AVAILABLE


def test_restart_serves_every_attachment_again_where_it_was(database_url, data_dir, tls_dirs):  # noqa: F811
    config = nbd_config(data_dir, tls_dirs["server"])
    with serving(database_url, config) as env:
        volume = env.create()
        attached = env.attach(volume.id)
        info = attached.connection_info
        write_and_read_marker(export_of(info), tls_dirs["client"])
        first_pid = pid_of(data_dir, attached.attachment_id)
    # A clean stop leaves no daemon.
    assert_gone(first_pid)
    assert not nbd._greets(HOST, info.port)

    with serving(database_url, config) as env:
        second_pid = pid_of(data_dir, attached.attachment_id)
        assert second_pid not in (None, first_pid)
        read = f"read -P {PATTERN:#x} {OFFSET} {LENGTH}"
        assert_ok(qemu_io(export_of(info), read, tls_dirs["client"]))
        assert env.attach(volume.id).connection_info == info
        # A crash: the process ends without stopping its exports.
        env.runtime.state["volumes"].exports._running.clear()

    assert pid_of(data_dir, attached.attachment_id) == second_pid
    with serving(database_url, config) as env:
        # The daemon left behind is stopped, and the export served anew.
        assert_gone(second_pid)
        third_pid = pid_of(data_dir, attached.attachment_id)
        assert third_pid not in (None, second_pid)
        assert_ok(qemu_io(export_of(info), read, tls_dirs["client"]))
        env.call("DetachVolume", volume_id=volume.id, instance_id=INSTANCE)
    assert_gone(third_pid)
    assert pid_files(data_dir) == []


def test_without_tls_the_export_is_plain_nbd_under_its_secret_name(database_url, data_dir, caplog):
    with serving(database_url, nbd_config(data_dir, None)) as env:
        attached = env.attach(env.create().id)
        info = attached.connection_info
        assert (info.driver_volume_type, info.tls) == ("nbd", False)
        export = export_of(info)
        assert_ok(qemu_io(export, f"read 0 {LENGTH}", None))
        assert_refused(qemu_io(export, f"read 0 {LENGTH}", None, name=info.export_name + "x"))
    warnings = [r for r in caplog.records if "without TLS" in r.getMessage()]
    assert len(warnings) == 1


def test_file_attachments_stay_files_when_the_transport_changes(database_url, data_dir, tls_dirs):  # noqa: F811
    with serving(database_url, nbd_config(data_dir, None, volume_transport="file")) as env:
        volume = env.create()
        info = env.attach(volume.id).connection_info
        assert (info.driver_volume_type, info.path) == ("file", str(env.file(volume.id)))
    with serving(database_url, nbd_config(data_dir, tls_dirs["server"])) as env:
        assert env.attach(volume.id).connection_info == info
        assert pid_files(data_dir) == []
        env.call("DetachVolume", volume_id=volume.id, instance_id=INSTANCE)
        assert env.attach(volume.id).connection_info.driver_volume_type == "nbd"
