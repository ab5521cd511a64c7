"""``python -m components.network``: the network service (Neutron's peer)."""

from __future__ import annotations

import sys
from pathlib import Path

from components.framework import Component, Runtime, Service, main
from components.network import dhcp_agent, macs, ports
from components.network.config import NetworkConfig
from components.network.policy import POLICY
from components.network.service import NetworkServicer
from stratus.network.v1 import network_service_pb2 as pb2
from stratus.network.v1 import network_service_pb2_grpc as pb2_grpc


def services(runtime: Runtime) -> list[Service]:
    config = runtime.config
    config.mac_prefix = macs.check_prefix(config.mac_prefix)
    config.max_fixed_ips_per_port = ports.check_max_fixed_ips(config.max_fixed_ips_per_port)
    dhcp_agent.check_config(config)
    agent = dhcp_agent.DhcpAgent(config) if config.dhcp_driver else None
    runtime.state["dhcp_agent"] = agent
    return [Service.of(NetworkServicer(config, agent), pb2, pb2_grpc, "Network")]


def start_dhcp(runtime: Runtime) -> None:
    """With a DHCP driver: resync every network now and then periodically."""
    agent = runtime.state.get("dhcp_agent")
    if agent is not None:
        agent.start()


def stop_dhcp(runtime: Runtime) -> None:
    """Stop every dnsmasq and remove every namespace, veth and bridge the agent made."""
    agent = runtime.state.get("dhcp_agent")
    if agent is not None:
        agent.stop()


COMPONENT = Component(
    name="network",
    default_port=9696,
    services=services,
    policy=POLICY,
    config_cls=NetworkConfig,
    database="network",
    migrations=Path(__file__).parent / "migrations",
    on_start=start_dhcp,
    on_stop=stop_dhcp,
)

if __name__ == "__main__":
    sys.exit(main(COMPONENT))
