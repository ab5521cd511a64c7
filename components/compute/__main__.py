"""``python -m components.compute``: one compute host (nova-compute's peer)."""

import sys

from components.compute.background import start_background, stop_background
from components.compute.config import ComputeConfig
from components.compute.host import build_host
from components.compute.policy import POLICY
from components.compute.service import ComputeServicer
from components.framework import Component, Service, main
from stratus.compute.v1 import compute_service_pb2 as pb2
from stratus.compute.v1 import compute_service_pb2_grpc as pb2_grpc


def _services(runtime):
    host = runtime.state["host"] = build_host(runtime)
    return [Service.of(ComputeServicer(host), pb2, pb2_grpc, "Compute")]


COMPONENT = Component(
    name="compute",
    default_port=8782,
    services=_services,
    policy=POLICY,
    config_cls=ComputeConfig,
    on_start=start_background,
    on_stop=stop_background,
    # Only other components call it: with TLS, every caller shows a certificate.
    serves_users=False,
)

if __name__ == "__main__":
    sys.exit(main(COMPONENT))
