"""The network service's settings, beyond those every component has."""

from __future__ import annotations

import dataclasses

from components.framework import Config


@dataclasses.dataclass
class NetworkConfig(Config):
    # The first three octets of every generated MAC (Neutron's base_mac).
    mac_prefix: str = "fa:16:3e"
    # The MTU of a network created without one.
    default_mtu: int = 1500
    # The most fixed IPs one CreatePort may ask for (Neutron's max_fixed_ips_per_port).
    max_fixed_ips_per_port: int = 5
    # The VXLAN VNIs networks are given, as Neutron's ml2_type_vxlan vni_ranges:
    # comma-separated inclusive "min:max" ranges, within 1:16777215.
    vni_ranges: str = "1:16777215"
