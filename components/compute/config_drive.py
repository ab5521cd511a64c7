"""A server's config drive in OpenStack's layout, the way Nova builds it.

Nova (``nova/virt/configdrive.py``) writes the files its metadata API serves
(``nova/api/metadata/base.py``, ``metadata_for_config_drive``) into a temp dir
and runs ``genisoimage -r -J -V config-2`` on it: an ISO 9660 volume labelled
``config-2`` with Rock Ridge names (what Linux and cloud-init see) and Joliet
names (what Windows and cloudbase-init see). This module builds the same volume
with the pure-Python ``pycdlib``, holding these files:

* ``openstack/<version>/meta_data.json``: uuid, name, hostname, project_id,
  availability_zone, launch_index, ``public_keys`` {name: key}, ``keys``
  [{name, type, data}], ``meta`` (the server's metadata, left out when empty
  as Nova does), ``devices``, ``random_seed``;
* ``openstack/<version>/user_data`` when there is user data, bytes as given;
* ``openstack/<version>/network_data.json``, as ``nova/virt/netutils.py``
  ``get_network_metadata`` writes it (see :func:`network_data`);
* ``openstack/<version>/vendor_data.json`` and ``vendor_data2.json``: ``{}``;
* ``ec2/<version>/meta-data.json`` and ``ec2/<version>/user-data``, the EC2
  view cloud-init also reads (``ec2/latest``).

Nova writes every metadata version it knows; this writes ``latest`` and
2018-08-27 (Rocky), the newest version cloud-init's ConfigDrive datasource
looks for before falling back to ``latest``, and, for EC2, ``latest`` and
2009-04-04. Left out, as Stratus has nothing to put there: Nova's
``dedicated_cpus``, ``files``/``openstack/content``, ``password``, and the EC2
AMI, reservation, security-group and block-device keys.

Domain code: no gRPC here. The caller turns a server and its ports into a
:class:`DriveContent`, and :func:`write_config_drive` writes the image.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import ipaddress
import json
import os
import tempfile
from collections.abc import Mapping

import pycdlib

VOLUME_LABEL = "config-2"
OPENSTACK_VERSIONS = ("2018-08-27", "latest")
EC2_VERSIONS = ("2009-04-04", "latest")
# Nova's type for a link whose VIF type the guest need not know ("phy"), and
# the Neutron VIF types it passes through as they are.
EXPOSED_VIF_TYPES = ("bridge", "ovs", "tap", "vhostuser", "vif", "hw_veb", "dvs", "hyperv")


@dataclasses.dataclass(frozen=True)
class FixedIp:
    """One address of a port, with what the guest needs of its subnet."""

    address: str
    cidr: str
    gateway: str | None = None
    dns: tuple[str, ...] = ()
    # The subnet's enable_dhcp: the guest asks DHCP instead of setting the address.
    dhcp: bool = False
    # IPv6 only: "slaac", "dhcpv6-stateful" or "dhcpv6-stateless" (Neutron's values).
    ipv6_address_mode: str | None = None

    @property
    def ip_version(self) -> int:
        return ipaddress.ip_address(self.address).version


@dataclasses.dataclass(frozen=True)
class Nic:
    """A NIC of the server: its port and the port's addresses."""

    port_id: str
    mac_address: str
    mtu: int
    network_id: str
    fixed_ips: tuple[FixedIp, ...] = ()
    vif_type: str = "bridge"


@dataclasses.dataclass(frozen=True)
class DriveContent:
    """What a config drive tells the guest about its server."""

    id: str
    name: str
    hostname: str
    project_id: str
    availability_zone: str
    metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # (key pair name, OpenSSH public key)
    keys: tuple[tuple[str, str], ...] = ()
    user_data: bytes | None = None
    nics: tuple[Nic, ...] = ()


def meta_data(content: DriveContent) -> dict:
    """``openstack/latest/meta_data.json``, as Nova's ``_metadata_as_json``."""
    data: dict = {"uuid": content.id}
    if content.metadata:
        data["meta"] = dict(content.metadata)
    if content.keys:
        data["public_keys"] = dict(content.keys)
        data["keys"] = [{"name": n, "type": "ssh", "data": k} for n, k in content.keys]
    data["hostname"] = content.hostname
    data["name"] = content.name
    data["launch_index"] = 0
    data["availability_zone"] = content.availability_zone
    data["random_seed"] = base64.b64encode(os.urandom(512)).decode()
    data["project_id"] = content.project_id
    data["devices"] = []
    return data


def network_data(content: DriveContent) -> dict:
    """``network_data.json``, as Nova's ``netutils.get_network_metadata``.

    One link per NIC, named for its tap ("tap" + the port id's first 11
    characters, as Neutron names it). Like Nova, only the first IPv4 and the
    first IPv6 address of a NIC become networks, numbered across the server:
    ``ipv4_dhcp``/``ipv6_dhcp`` (no address) when the subnet serves DHCP,
    ``ipv6_<mode>`` when it has an IPv6 address mode, else static ``ipv4`` or
    ``ipv6``, each with its address, netmask, default route and DNS. DNS
    servers are also gathered, once each, into the top-level services.

    One deviation: Nova leaves a DHCP link's MTU null for DHCP to send; the
    Stratus DHCP agent sends no MTU option, so the link always carries it.
    """
    links: list[dict] = []
    networks: list[dict] = []
    services: list[dict] = []
    for nic in content.nics:
        link = {
            "id": f"tap{nic.port_id[:11]}",
            "vif_id": nic.port_id,
            "type": nic.vif_type if nic.vif_type in EXPOSED_VIF_TYPES else "phy",
            "mtu": nic.mtu or None,
            "ethernet_mac_address": nic.mac_address,
        }
        links.append(link)
        for version in (4, 6):
            ip = next((f for f in nic.fixed_ips if f.ip_version == version), None)
            if ip is None:
                continue
            networks.append(_network(f"network{len(networks)}", nic, ip, link["id"]))
            services += [s for s in _dns_services(ip) if s not in services]
    return {"links": links, "networks": networks, "services": services}


def _network(net_id: str, nic: Nic, ip: FixedIp, link_id: str) -> dict:
    version = ip.ip_version
    if ip.ipv6_address_mode is None and ip.dhcp:
        return {
            "id": net_id,
            "type": f"ipv{version}_dhcp",
            "link": link_id,
            "network_id": nic.network_id,
        }
    mode = f"_{ip.ipv6_address_mode}" if ip.ipv6_address_mode else ""
    subnet = ipaddress.ip_network(ip.cidr, strict=False)
    routes = []
    if ip.gateway:
        anywhere = "0.0.0.0" if version == 4 else "::"
        routes.append({"network": anywhere, "netmask": anywhere, "gateway": ip.gateway})
    return {
        "id": net_id,
        "type": f"ipv{version}{mode}",
        "link": link_id,
        "ip_address": ip.address,
        "netmask": str(subnet.netmask),
        "routes": routes,
        "network_id": nic.network_id,
        "services": _dns_services(ip),
    }


def _dns_services(ip: FixedIp) -> list[dict]:
    return [{"type": "dns", "address": address} for address in ip.dns]


def ec2_meta_data(content: DriveContent) -> dict:
    """``ec2/latest/meta-data.json``, as Nova's ``get_ec2_metadata``.

    The instance id is the server's UUID (Nova makes an ``i-%08x`` from its
    database row id, which Stratus does not have). Public keys are indexed
    from 0, as EC2 shows them, one per key pair.
    """
    ipv4 = [f.address for n in content.nics for f in n.fixed_ips if f.ip_version == 4]
    data: dict = {
        "ami-launch-index": 0,
        "instance-id": content.id,
        "hostname": content.hostname,
        "local-ipv4": ipv4[0] if ipv4 else "",
    }
    if content.keys:
        data["public-keys"] = {
            str(i): {"openssh-key": key} for i, (_, key) in enumerate(content.keys)
        }
    data["local-hostname"] = content.hostname
    data["public-hostname"] = content.hostname
    data["public-ipv4"] = ""
    data["placement"] = {"availability-zone": content.availability_zone}
    data["instance-action"] = "none"
    return data


def drive_files(content: DriveContent) -> dict[str, bytes]:
    """Every file of the drive, by its path from the root of the volume."""
    files: dict[str, bytes] = {}
    ec2 = _json(ec2_meta_data(content))
    for version in EC2_VERSIONS:
        files[f"ec2/{version}/meta-data.json"] = ec2
        if content.user_data is not None:
            files[f"ec2/{version}/user-data"] = content.user_data
    # One random seed for every version, like the rest of the metadata.
    meta, network = _json(meta_data(content)), _json(network_data(content))
    for version in OPENSTACK_VERSIONS:
        files[f"openstack/{version}/meta_data.json"] = meta
        if content.user_data is not None:
            files[f"openstack/{version}/user_data"] = content.user_data
        files[f"openstack/{version}/vendor_data.json"] = b"{}"
        files[f"openstack/{version}/network_data.json"] = network
        files[f"openstack/{version}/vendor_data2.json"] = b"{}"
    return files


def write_config_drive(content: DriveContent, path: str | os.PathLike) -> None:
    """Write the config drive's ISO image to ``path`` (mode 0600).

    Atomic: the image goes to a temp file beside ``path`` that replaces it
    once complete, so a reader never sees half an image.
    """
    iso = build_iso(drive_files(content))
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".config-drive-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            iso.write_fp(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    finally:
        iso.close()


def build_iso(files: Mapping[str, bytes]) -> pycdlib.PyCdlib:
    """An ISO 9660 volume ``config-2`` with Rock Ridge and Joliet names.

    Interchange level 4 (ISO 9660:1999) keeps the ISO names as they are, like
    genisoimage's ``-l -allow-lowercase -allow-multidot`` in Nova.
    """
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=4, joliet=3, rock_ridge="1.09", vol_ident=VOLUME_LABEL)
    made: set[str] = set()
    for name in sorted(files):
        parts = name.split("/")
        for depth in range(1, len(parts)):
            directory = "/" + "/".join(parts[:depth])
            if directory not in made:
                iso.add_directory(directory, rr_name=parts[depth - 1], joliet_path=directory)
                made.add(directory)
        data = files[name]
        iso.add_fp(
            io.BytesIO(data), len(data), "/" + name, rr_name=parts[-1], joliet_path="/" + name
        )
    return iso


def _json(value: dict) -> bytes:
    return json.dumps(value).encode()
