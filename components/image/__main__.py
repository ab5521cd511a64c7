"""``python -m components.image``: the image service (Glance's peer)."""

from __future__ import annotations

import sys
from pathlib import Path

from components.framework import Component, Runtime, Service, main
from components.image.config import ImageConfig
from components.image.policy import POLICY
from components.image.service import ImagesServicer
from components.image.store import FilesystemStore
from components.image.transfers import ImageData
from stratus.image.v1 import image_service_pb2 as pb2
from stratus.image.v1 import image_service_pb2_grpc as pb2_grpc


def services(runtime: Runtime) -> list[Service]:
    config = runtime.config
    store = FilesystemStore(Path(config.data_dir) / "image", fsync=config.fsync_uploads)
    data = ImageData(store, config.max_image_bytes)
    # Before serving: nothing of this process can be uploading yet.
    data.recover()
    runtime.state["data"] = data
    return [Service.of(ImagesServicer(data), pb2, pb2_grpc, "Images")]


COMPONENT = Component(
    name="image",
    default_port=9292,
    services=services,
    policy=POLICY,
    config_cls=ImageConfig,
    database="image",
    migrations=Path(__file__).parent / "migrations",
)

if __name__ == "__main__":
    sys.exit(main(COMPONENT))
