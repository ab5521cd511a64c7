"""An instance's config drive: what it tells the guest, gathered on the host at build time.

The build writes it (after the ports are plugged, so it knows the NICs, and
before the domain is defined, which attaches it) when the instance asked for
one (CreateServer's config_drive, or a key pair or user data) or the host
gives every guest one (``force_config_drive``). It lives in the instance
directory as ``disk.config``: deleted with it, and attached again by a hard
reboot or a restarted host that finds it there (spawn.py). config_drive.py
lays out the files and writes the ISO; this module fills in its
:class:`DriveContent` from the instance record, the plugged ports and their
subnets.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

from components.compute import disks
from components.compute.conductor import Instance
from components.compute.config_drive import DriveContent, FixedIp, Nic, write_config_drive
from components.compute.host import Host
from components.compute.network import PluggedPort
from components.framework import NotFound, PermissionDenied

log = logging.getLogger(__name__)

HOSTNAME_MAX = 63
_NOT_HOSTNAME = re.compile(r"[^a-z0-9-]+")


def sanitize_hostname(name: str, instance_id: str) -> str:
    """The guest's hostname from the server's name, as nova's ``sanitize_hostname``:
    lowercase, every run of characters other than a-z, 0-9 and "-" made one "-",
    no "-" at either end, at most 63 characters; ``server-<id[:8]>`` if nothing is left."""
    hostname = _NOT_HOSTNAME.sub("-", name.lower()).strip("-")
    hostname = hostname[:HOSTNAME_MAX].rstrip("-")
    return hostname or f"server-{instance_id[:8]}"


def wanted(host: Host, instance: Instance) -> bool:
    return bool(instance.config_drive or host.config.force_config_drive)


def content(instance: Instance, nics: Sequence[Nic]) -> DriveContent:
    """What the drive says about the instance, given its NICs."""
    keys = ((instance.key_name, instance.public_key),) if instance.key_name else ()
    return DriveContent(
        id=instance.id,
        name=instance.name,
        hostname=sanitize_hostname(instance.name, instance.id),
        project_id=instance.project_id,
        availability_zone=instance.availability_zone,
        metadata=dict(instance.metadata),
        keys=keys,
        user_data=bytes(instance.user_data) if instance.user_data else None,
        nics=tuple(nics),
    )


def nics(host: Host, ports: Sequence[PluggedPort]) -> list[Nic]:
    """The drive's NICs: each port with its addresses and their subnets (read once each)."""
    subnets: dict[str, FixedIp | None] = {}
    result = []
    for port in ports:
        fixed = []
        for subnet_id, address in port.fixed_ips:
            if subnet_id not in subnets:
                subnets[subnet_id] = _subnet(host, subnet_id)
            fixed.append(_fixed_ip(address, subnets[subnet_id]))
        result.append(Nic(port.port_id, port.mac_address, port.mtu, port.network_id, tuple(fixed)))
    return result


def _subnet(host: Host, subnet_id: str) -> FixedIp | None:
    """The subnet as a FixedIp template; None if the user may not read it."""
    try:
        subnet = host.ports.subnet(subnet_id)
    except (NotFound, PermissionDenied) as exc:
        log.warning("config drive: subnet %s unreadable (%s); its NICs use DHCP", subnet_id, exc)
        return None
    return FixedIp(
        address="",
        cidr=subnet.cidr,
        gateway=subnet.gateway_ip or None,
        dns=tuple(subnet.dns_nameservers),
        dhcp=subnet.enable_dhcp,
        ipv6_address_mode=subnet.ipv6_address_mode or None,
    )


def _fixed_ip(address: str, subnet: FixedIp | None) -> FixedIp:
    if subnet is None:
        # Unknown subnet: the guest asks DHCP rather than guessing a netmask.
        return FixedIp(address=address, cidr="", dhcp=True)
    return FixedIp(
        address=address,
        cidr=subnet.cidr,
        gateway=subnet.gateway,
        dns=subnet.dns,
        dhcp=subnet.dhcp,
        ipv6_address_mode=subnet.ipv6_address_mode,
    )


def write(host: Host, instance: Instance, ports: Sequence[PluggedPort]) -> Path:
    """Write the instance's config drive into its directory; its path."""
    path = host.instance_dir(instance.id) / disks.CONFIG_DRIVE_FILE
    write_config_drive(content(instance, nics(host, ports)), path)
    log.info("config drive of instance %s written", instance.id)
    return path
