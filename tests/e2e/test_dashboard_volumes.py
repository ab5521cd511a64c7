"""The dashboard's volumes panel against a real cloud: what its form creates (blank or
from an image) becomes AVAILABLE on the page and in its live events, delete removes
it, and a refusal (the quota) is shown in the volume service's words."""

from __future__ import annotations

import html
import re
import time
import uuid

import grpc
import pytest

from stratus.volume.v1 import volume_service_pb2 as volume_pb2
from stratus.volume.v1 import volume_service_pb2_grpc as volume_grpc
from tests.e2e.dashboard_client import events as stream_events
from tests.e2e.dashboard_client import post_form


@pytest.fixture
def volumes(cloud):
    return volume_grpc.VolumesStub(cloud.channel("volume")), cloud.md("demo")


def rows(text: str) -> dict[str, str]:
    return {
        match.group(1): html.unescape(match.group(2))
        for match in re.finditer(r'<tr id="row-([0-9a-f-]{36})">(.*?)</tr>', text, re.S)
    }


def created(page, volumes, name: str, **fields) -> str:
    """Create through the form; the id of the one volume of that name."""
    stub, md = volumes
    reply = post_form(page, "/project/volumes/create", {"name": name, **fields}, "/project/volumes")
    assert reply.status_code == 303, reply.text
    listed = stub.ListVolumes(volume_pb2.ListVolumesRequest(page_size=1000), metadata=md)
    ids = [v.id for v in listed.volumes if v.name == name]
    assert len(ids) == 1, f"{name}: {ids}"
    return ids[0]


def events(page, volume_id: str) -> list[tuple[str, dict]]:
    """Every event of the live stream for ``volume_id``, until ``done``."""
    return stream_events(page, f"/project/volumes/events?ids={volume_id}", timeout=120.0)


def delete(page, volumes, volume_id: str) -> None:
    stub, md = volumes
    reply = post_form(page, f"/project/volumes/{volume_id}/delete", {}, "/project/volumes")
    assert reply.status_code == 303
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            stub.GetVolume(volume_pb2.GetVolumeRequest(volume_id=volume_id), metadata=md)
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.NOT_FOUND
            return
        time.sleep(0.3)
    raise AssertionError(f"volume {volume_id} was not deleted")


def test_a_blank_volume_from_the_form_becomes_available_and_delete_removes_it(page, volumes):
    name = f"dash-vol-{uuid.uuid4().hex[:6]}"
    volume_id = created(page, volumes, name, size_gib="1", image_id="")

    stream = events(page, volume_id)

    assert stream[-1] == ("done", {})
    last_row = [data for event, data in stream if event == "row"][-1]
    assert last_row["id"] == volume_id
    assert f'id="row-{volume_id}"' in last_row["html"] and "AVAILABLE" in last_row["html"]
    listed = rows(page.get("/project/volumes").text)[volume_id]
    assert name in listed and "1 GiB" in listed and "AVAILABLE" in listed

    delete(page, volumes, volume_id)

    assert volume_id not in rows(page.get("/project/volumes").text)
    assert events(page, volume_id) == [("gone", {"id": volume_id}), ("done", {})]


def test_a_volume_from_an_image_names_its_source(cloud, page, volumes):
    name = f"dash-vol-{uuid.uuid4().hex[:6]}"
    form = html.unescape(page.get("/project/volumes").text)
    offered = re.search(rf'<option value="{cloud.ids["image"]}">Image: ([^<]+)</option>', form)
    assert offered, "the seeded image is not offered as a source"
    volume_id = created(page, volumes, name, size_gib="1", image_id=cloud.ids["image"])
    try:
        events(page, volume_id)
        stub, md = volumes
        volume = stub.GetVolume(volume_pb2.GetVolumeRequest(volume_id=volume_id), metadata=md)
        assert volume.status == volume_pb2.Volume.STATUS_AVAILABLE
        assert volume.source_image_id == cloud.ids["image"]
        listed = rows(page.get("/project/volumes").text)[volume_id]
        assert "AVAILABLE" in listed and f"<td>{offered.group(1)}</td>" in listed
    finally:
        delete(page, volumes, volume_id)


def test_a_size_past_the_quota_shows_the_service_message(page, volumes):
    stub, md = volumes
    name = f"dash-vol-{uuid.uuid4().hex[:6]}"
    reply = post_form(
        page, "/project/volumes/create", {"name": name, "size_gib": "100000"}, "/project/volumes"
    )

    assert reply.status_code == 303
    shown = html.unescape(page.get("/project/volumes").text)
    assert re.search(r'class="flash error">[^<]*quota', shown, re.I), shown
    listed = stub.ListVolumes(volume_pb2.ListVolumesRequest(page_size=1000), metadata=md)
    assert name not in [v.name for v in listed.volumes]
