"""Plugging real guests' NICs: a libvirt network per Stratus network, a DHCP entry per port.

With ``nic_type = "network"`` each port a guest gets is *plugged* before the
guest starts: the libvirt network of the port's Stratus network is defined
and started if it is not (built from the port's subnet, network_xml.py), and
the port's MAC → fixed IP becomes one of its DHCP host entries, so the guest's
DHCP client gets exactly the address IPAM chose. *Unplugging* (the guest is
gone) removes the entry and releases the lease dnsmasq holds for it with
``dhcp_release`` (dnsmasq-utils) — otherwise dnsmasq would refuse the address
to the next port IPAM gives it to. ``dhcp_release`` must run where the bridge
is: inside ``network_namespace`` when libvirtd runs in one (run-all does).

With ``nic_type = "bridge"`` segments.py plugs instead; with any other
nic_type both are no-ops.
"""

from __future__ import annotations

import ipaddress
import logging
import shutil
import subprocess
import threading
import time

from components.compute import network_xml
from components.compute.domain_xml import Nic
from components.compute.libvirt_driver import LibvirtDriver
from components.compute.network import PluggedPort, Ports

log = logging.getLogger(__name__)

DHCP_RELEASE = "dhcp_release"
# How long a lease may take to disappear once released (dnsmasq runs libvirt's
# lease helper for it).
RELEASE_WAIT_SECONDS = 3.0


class GuestNetworks:
    def __init__(self, driver: LibvirtDriver, ports: Ports, enabled: bool, namespace: str = ""):
        self.driver = driver
        self.ports = ports
        self.enabled = enabled
        self.namespace = namespace
        # Builds of one host plug ports at the same time; one defines a network.
        self._lock = threading.Lock()

    def libvirt_network(self, network_id: str) -> str:
        """The libvirt network a NIC on ``network_id`` joins ("" unless enabled)."""
        return network_xml.network_name(network_id) if self.enabled else ""

    def nic(self, port: PluggedPort) -> Nic:
        """The domain's NIC for the port (on its libvirt network when enabled)."""
        return Nic(port.port_id, port.mac_address, port.mtu, self.libvirt_network(port.network_id))

    def plug(self, port: PluggedPort) -> None:
        """Have the port's network running with a DHCP host entry for the port."""
        if not self.enabled:
            return
        spec = self._network_spec(port)
        xml = network_xml.to_xml(network_xml.network(spec))
        with self._lock:
            self.driver.ensure_network(port.network_id, xml)
        if network_xml.serves_dhcp(spec) and _inside(port.ip_address, spec.subnet.cidr):
            self.driver.set_dhcp_host(port.network_id, port.mac_address, port.ip_address)
            # IPAM gave the address to this port: a lease another MAC holds on it is stale
            # (its guest went while the network was down) and would make dnsmasq refuse it.
            mac = port.mac_address.lower()
            self._release_leases(port.network_id, lambda m, ip: ip == port.ip_address and m != mac)
            log.info("port %s plugged: %s gets %s", port.port_id, port.mac_address, port.ip_address)

    def unplug(self, network_id: str, mac_address: str) -> None:
        """Remove the port's DHCP host entry and release its leases (idempotent)."""
        if not self.enabled or not network_id or not mac_address:
            return
        self.driver.remove_dhcp_host(network_id, mac_address)
        mac = mac_address.lower()
        self._release_leases(network_id, lambda m, _ip: m == mac)

    def _release_leases(self, network_id: str, stale) -> None:
        """Release the leases for which ``stale(mac, ip)`` holds, and wait until they are gone."""
        held = [(m, ip) for m, ip in self.driver.dhcp_leases(network_id) if stale(m, ip)]
        for mac, address in held:
            self._release(network_id, mac, address)
        deadline = time.monotonic() + RELEASE_WAIT_SECONDS
        while held and time.monotonic() < deadline:
            time.sleep(0.05)
            held = [(m, ip) for m, ip in self.driver.dhcp_leases(network_id) if stale(m, ip)]
        if held:
            log.warning("DHCP leases %s on network %s were not released", held, network_id)

    def _network_spec(self, port: PluggedPort) -> network_xml.NetworkSpec:
        subnet = self.ports.subnet(port.subnet_id) if port.subnet_id else None
        if subnet is None or subnet.ip_version != 4 or not subnet.gateway_ip:
            # An address for the bridge is what DHCP needs; without one the NIC is
            # still plugged, into a bridge that hands out nothing.
            return network_xml.NetworkSpec(port.network_id, port.mtu)
        return network_xml.NetworkSpec(
            network_id=port.network_id,
            mtu=port.mtu,
            subnet=network_xml.SubnetSpec(
                cidr=subnet.cidr,
                gateway_ip=subnet.gateway_ip,
                pools=[(pool.start, pool.end) for pool in subnet.allocation_pools],
                enable_dhcp=subnet.enable_dhcp,
            ),
        )

    def _release(self, network_id: str, mac: str, ip_address: str) -> None:
        if shutil.which(DHCP_RELEASE) is None:
            log.warning(
                "%s is not installed: the lease of %s stays until it expires",
                DHCP_RELEASE,
                ip_address,
            )
            return
        command = [DHCP_RELEASE, network_xml.bridge_name(network_id), ip_address, mac]
        if self.namespace:
            command = ["ip", "netns", "exec", self.namespace, *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=10)
        if result.returncode != 0:
            log.warning("could not release the lease of %s: %s", ip_address, result.stderr.strip())


def _inside(ip_address: str, cidr: str) -> bool:
    try:
        return ipaddress.ip_address(ip_address) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
