"""``python -m components.network``: the network service (Neutron's peer)."""

from __future__ import annotations

import sys
from pathlib import Path

from components.framework import Component, Runtime, Service, main
from components.network import macs, ports
from components.network.config import NetworkConfig
from components.network.policy import POLICY
from components.network.service import NetworkServicer
from stratus.network.v1 import network_service_pb2 as pb2
from stratus.network.v1 import network_service_pb2_grpc as pb2_grpc


def services(runtime: Runtime) -> list[Service]:
    config = runtime.config
    config.mac_prefix = macs.check_prefix(config.mac_prefix)
    config.max_fixed_ips_per_port = ports.check_max_fixed_ips(config.max_fixed_ips_per_port)
    return [Service.of(NetworkServicer(config), pb2, pb2_grpc, "Network")]


COMPONENT = Component(
    name="network",
    default_port=9696,
    services=services,
    policy=POLICY,
    config_cls=NetworkConfig,
    database="network",
    migrations=Path(__file__).parent / "migrations",
)

if __name__ == "__main__":
    sys.exit(main(COMPONENT))
