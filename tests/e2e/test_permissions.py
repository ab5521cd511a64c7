"""Nothing a running cloud writes is readable by other local users."""

from __future__ import annotations

import stat

import pytest

from stratus.volume.v1 import volume_service_pb2 as volume_pb2
from tests.e2e.boot import Driver

pytestmark = pytest.mark.e2e


def test_data_dir_and_everything_in_it_is_private_to_its_owner(cloud):
    driver = Driver(cloud)
    volume = driver.new_volume()  # a volume file, next to the seeded image's data
    try:
        data_dir = cloud.data_dir
        names = {p.suffix for p in data_dir.rglob("*")}
        assert {".sqlite", ".log"} <= names, names
        open_to_others = [
            f"{stat.filemode(mode)} {path.relative_to(data_dir.parent)}"
            for path in [data_dir, *data_dir.rglob("*")]
            if not path.is_symlink() and (mode := path.lstat().st_mode) & 0o077
        ]
        assert not open_to_others, "\n".join(open_to_others)
    finally:
        driver.volumes.DeleteVolume(
            volume_pb2.DeleteVolumeRequest(volume_id=volume.id), metadata=driver.md
        )
