"""``python -m components.volume``: the block storage service (Cinder's peer)."""

import sys
from pathlib import Path

from components.framework import Component, Service, main
from components.volume.config import VolumeConfig
from components.volume.policy import POLICY
from components.volume.service import VolumesServicer, build_volumes
from stratus.volume.v1 import volume_service_pb2 as pb2
from stratus.volume.v1 import volume_service_pb2_grpc as pb2_grpc


def _services(runtime):
    volumes = runtime.state["volumes"] = build_volumes(runtime)
    return [Service.of(VolumesServicer(volumes), pb2, pb2_grpc, "Volumes")]


COMPONENT = Component(
    name="volume",
    default_port=8776,
    services=_services,
    policy=POLICY,
    config_cls=VolumeConfig,
    database="volume",
    migrations=Path(__file__).parent / "migrations",
    on_start=lambda runtime: runtime.state["volumes"].recover(),
    on_stop=lambda runtime: runtime.state["volumes"].close(),
)

if __name__ == "__main__":
    sys.exit(main(COMPONENT))
