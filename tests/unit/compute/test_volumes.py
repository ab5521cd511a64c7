"""Volume connections as the compute host takes them: files and NBD exports.

The volume service is the far side of a contract here: a stand-in stub answers
AttachVolume with the connection info under test.
"""

from __future__ import annotations

import pytest

from components.compute import spawn
from components.compute.domain_xml import NbdSource, VolumeDisk
from components.compute.volumes import FILE, NBD, Connection, Volumes, connection_of
from components.framework import FailedPrecondition
from stratus.volume.v1 import volume_service_pb2 as vol_pb2

VOLUME_ID = "d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f70"
NBD_INFO = vol_pb2.ConnectionInfo(
    driver_volume_type="nbd",
    format="raw",
    host="10.251.7.30",
    port=10809,
    export_name="Xq3v9sKt2LmN8pR4",
    tls=True,
)


class VolumeStub:
    """AttachVolume answering one connection info, recording the requests."""

    def __init__(self, info: vol_pb2.ConnectionInfo) -> None:
        self.info = info
        self.requests: list[vol_pb2.AttachVolumeRequest] = []

    def AttachVolume(self, request):
        self.requests.append(request)
        return vol_pb2.AttachVolumeResponse(attachment_id="a-1", connection_info=self.info)


def test_file_connection_names_the_file_and_its_format():
    info = vol_pb2.ConnectionInfo(driver_volume_type="file", path="/srv/v.qcow2", format="qcow2")
    assert connection_of(VOLUME_ID, info) == Connection(FILE, "/srv/v.qcow2", "qcow2")


def test_nbd_connection_names_the_export_and_no_file():
    assert connection_of(VOLUME_ID, NBD_INFO) == Connection(
        NBD, "", "raw", "10.251.7.30", 10809, "Xq3v9sKt2LmN8pR4", True
    )


def test_nbd_connection_on_a_bracketed_ipv6_host_drops_the_brackets():
    info = vol_pb2.ConnectionInfo()
    info.CopyFrom(NBD_INFO)
    info.host = "[fd00:251::30]"
    assert connection_of(VOLUME_ID, info).host == "fd00:251::30"


@pytest.mark.parametrize(
    "change",
    [
        {"driver_volume_type": "iscsi"},
        {"driver_volume_type": ""},
        {"format": "qcow2"},
        {"host": ""},
        {"port": 0},
        {"port": 70000},
        {"export_name": ""},
    ],
)
def test_unusable_connections_are_failed_precondition_unsupported(change):
    info = vol_pb2.ConnectionInfo()
    info.CopyFrom(NBD_INFO)
    for name, value in change.items():
        setattr(info, name, value)
    with pytest.raises(FailedPrecondition) as caught:
        connection_of(VOLUME_ID, info)
    assert caught.value.reason == "VOLUME_CONNECTION_UNSUPPORTED"


def test_file_connection_in_an_unknown_format_is_unsupported():
    info = vol_pb2.ConnectionInfo(driver_volume_type="file", path="/srv/v.vmdk", format="vmdk")
    with pytest.raises(FailedPrecondition, match="vmdk"):
        connection_of(VOLUME_ID, info)


def test_attach_asks_for_the_device_and_answers_the_nbd_connection():
    stub = VolumeStub(NBD_INFO)
    connection = Volumes(lambda: stub).attach(VOLUME_ID, "i-1", "compute-2", "/dev/vdb")
    assert connection.kind == NBD and connection.export_name == "Xq3v9sKt2LmN8pR4"
    assert [(r.volume_id, r.instance_id, r.host, r.device) for r in stub.requests] == [
        (VOLUME_ID, "i-1", "compute-2", "/dev/vdb")
    ]


def test_an_nbd_connection_becomes_a_network_disk_and_a_file_one_a_file_disk():
    nbd = connection_of(VOLUME_ID, NBD_INFO)
    assert spawn.volume_disk(VOLUME_ID, nbd, "vdb") == VolumeDisk(
        VOLUME_ID,
        "",
        "raw",
        "vdb",
        nbd=NbdSource("10.251.7.30", 10809, "Xq3v9sKt2LmN8pR4", tls=True),
    )
    file = Connection(FILE, "/srv/v.img", "raw")
    assert spawn.volume_disk(VOLUME_ID, file, "vdc") == VolumeDisk(
        VOLUME_ID, "/srv/v.img", "raw", "vdc"
    )
