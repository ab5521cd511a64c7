"""The config drive: OpenStack's layout on a config-2 ISO, read back as cloud-init reads it."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pycdlib
import pytest

from components.compute import config_drive
from components.compute.config_drive import DriveContent, FixedIp, Nic

PORT_V4 = "1f0c9a2e-7b5d-4c1e-9f00-aa11bb22cc33"
PORT_V6 = "9d8e7f6a-5b4c-4d3e-8f2a-112233445566"
MAC_V4 = "fa:16:3e:11:22:33"
MAC_V6 = "fa:16:3e:44:55:66"
USER_DATA = b"#!/bin/sh\necho hello > /marker\n"
KEYS = (
    ("laptop", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyOne laptop"),
    ("ci", "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQFakeKeyTwo ci"),
)

SERVER = DriveContent(
    id="6c2d6c1a-0d0e-4e57-9d55-0b1a2c3d4e5f",
    name="web 1",
    hostname="web-1",
    project_id="proj-1",
    availability_zone="az-1",
    metadata={"role": "web", "tier": "front"},
    keys=KEYS,
    user_data=USER_DATA,
    nics=(
        Nic(
            port_id=PORT_V4,
            mac_address=MAC_V4,
            mtu=1450,
            network_id="net-v4",
            fixed_ips=(FixedIp("10.0.0.5", "10.0.0.0/24", "10.0.0.1", ("10.0.0.2",), dhcp=True),),
        ),
        Nic(
            port_id=PORT_V6,
            mac_address=MAC_V6,
            mtu=1500,
            network_id="net-v6",
            fixed_ips=(
                FixedIp("2001:db8:1::5", "2001:db8:1::/64", "2001:db8:1::1", ("2001:db8::53",)),
            ),
        ),
    ),
)

EXPECTED_NETWORK_DATA = {
    "links": [
        {
            "id": "tap1f0c9a2e-7b",
            "vif_id": PORT_V4,
            "type": "bridge",
            "mtu": 1450,
            "ethernet_mac_address": MAC_V4,
        },
        {
            "id": "tap9d8e7f6a-5b",
            "vif_id": PORT_V6,
            "type": "bridge",
            "mtu": 1500,
            "ethernet_mac_address": MAC_V6,
        },
    ],
    "networks": [
        {"id": "network0", "type": "ipv4_dhcp", "link": "tap1f0c9a2e-7b", "network_id": "net-v4"},
        {
            "id": "network1",
            "type": "ipv6",
            "link": "tap9d8e7f6a-5b",
            "ip_address": "2001:db8:1::5",
            "netmask": "ffff:ffff:ffff:ffff::",
            "routes": [{"network": "::", "netmask": "::", "gateway": "2001:db8:1::1"}],
            "network_id": "net-v6",
            "services": [{"type": "dns", "address": "2001:db8::53"}],
        },
    ],
    "services": [
        {"type": "dns", "address": "10.0.0.2"},
        {"type": "dns", "address": "2001:db8::53"},
    ],
}


def read_iso(path: Path) -> tuple[str, dict[str, bytes], dict[str, bytes]]:
    """The volume label, and every file by its Rock Ridge and by its Joliet path."""
    iso = pycdlib.PyCdlib()
    iso.open(str(path))
    try:
        label = iso.pvd.volume_identifier.decode().strip()
        by_kind = []
        for kind in ("rr_path", "joliet_path"):
            files = {}
            for root, _, names in iso.walk(**{kind: "/"}):
                for name in names:
                    full = f"{root.rstrip('/')}/{name}"
                    out = io.BytesIO()
                    iso.get_file_from_iso_fp(out, **{kind: full})
                    files[full.lstrip("/")] = out.getvalue()
            by_kind.append(files)
        return label, by_kind[0], by_kind[1]
    finally:
        iso.close()


@pytest.fixture
def drive(tmp_path: Path) -> Path:
    path = tmp_path / "disk.config"
    config_drive.write_config_drive(SERVER, path)
    return path


def test_the_drive_is_a_private_config_2_volume_with_every_file(drive: Path) -> None:
    assert stat.S_IMODE(drive.stat().st_mode) == 0o600
    assert [p.name for p in drive.parent.iterdir()] == ["disk.config"]  # no temp file left
    label, files, joliet = read_iso(drive)
    assert label == "config-2"
    versions = ("latest", "2018-08-27")
    expected = {
        f"openstack/{v}/{n}"
        for v in versions
        for n in (
            "meta_data.json",
            "user_data",
            "network_data.json",
            "vendor_data.json",
            "vendor_data2.json",
        )
    }
    expected |= {
        f"ec2/{v}/{n}" for v in ("latest", "2009-04-04") for n in ("meta-data.json", "user-data")
    }
    assert set(files) == expected
    assert joliet == files

    for version in versions:
        assert files[f"openstack/{version}/user_data"] == USER_DATA
        meta = json.loads(files[f"openstack/{version}/meta_data.json"])
        assert len(meta.pop("random_seed")) > 600
        assert meta == {
            "uuid": SERVER.id,
            "meta": {"role": "web", "tier": "front"},
            "public_keys": {"laptop": KEYS[0][1], "ci": KEYS[1][1]},
            "keys": [
                {"name": "laptop", "type": "ssh", "data": KEYS[0][1]},
                {"name": "ci", "type": "ssh", "data": KEYS[1][1]},
            ],
            "hostname": "web-1",
            "name": "web 1",
            "launch_index": 0,
            "availability_zone": "az-1",
            "project_id": "proj-1",
            "devices": [],
        }
        network = json.loads(files[f"openstack/{version}/network_data.json"])
        assert network == EXPECTED_NETWORK_DATA
        assert json.loads(files[f"openstack/{version}/vendor_data.json"]) == {}

    assert files["ec2/latest/user-data"] == USER_DATA
    assert json.loads(files["ec2/latest/meta-data.json"]) == {
        "ami-launch-index": 0,
        "instance-id": SERVER.id,
        "hostname": "web-1",
        "local-ipv4": "10.0.0.5",
        "public-keys": {"0": {"openssh-key": KEYS[0][1]}, "1": {"openssh-key": KEYS[1][1]}},
        "local-hostname": "web-1",
        "public-hostname": "web-1",
        "public-ipv4": "",
        "placement": {"availability-zone": "az-1"},
        "instance-action": "none",
    }


def test_no_user_data_no_user_data_files_and_empty_metadata_left_out(tmp_path: Path) -> None:
    path = tmp_path / "disk.config"
    server = DriveContent(
        id="u", name="n", hostname="n", project_id="p", availability_zone="az", nics=()
    )
    config_drive.write_config_drive(server, path)
    _, files, _ = read_iso(path)
    assert not [name for name in files if "user" in name]
    meta = json.loads(files["openstack/latest/meta_data.json"])
    assert "meta" not in meta and "public_keys" not in meta and "keys" not in meta
    assert json.loads(files["openstack/latest/network_data.json"]) == {
        "links": [],
        "networks": [],
        "services": [],
    }


def test_rewriting_replaces_the_image(drive: Path) -> None:
    renamed = DriveContent(**{**SERVER.__dict__, "hostname": "web-2"})
    config_drive.write_config_drive(renamed, drive)
    _, files, _ = read_iso(drive)
    assert json.loads(files["openstack/latest/meta_data.json"])["hostname"] == "web-2"
    assert stat.S_IMODE(drive.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("ip", "expected_type", "has_address"),
    [
        (FixedIp("10.1.0.4", "10.1.0.0/24", "10.1.0.1"), "ipv4", True),
        (FixedIp("10.1.0.4", "10.1.0.0/24", "10.1.0.1", dhcp=True), "ipv4_dhcp", False),
        (FixedIp("2001:db8::4", "2001:db8::/64", dhcp=True), "ipv6_dhcp", False),
        (
            FixedIp("2001:db8::4", "2001:db8::/64", dhcp=True, ipv6_address_mode="slaac"),
            "ipv6_slaac",
            True,
        ),
        (
            FixedIp("2001:db8::4", "2001:db8::/64", ipv6_address_mode="dhcpv6-stateful"),
            "ipv6_dhcpv6-stateful",
            True,
        ),
    ],
)
def test_network_types_follow_nova(ip: FixedIp, expected_type: str, has_address: bool) -> None:
    server = DriveContent(
        id="u",
        name="n",
        hostname="n",
        project_id="p",
        availability_zone="az",
        nics=(Nic("port-1", MAC_V4, 1500, "net-1", (ip,)),),
    )
    (network,) = config_drive.network_data(server)["networks"]
    assert network["type"] == expected_type
    assert ("ip_address" in network) == has_address
    if has_address and ip.ip_version == 4:
        assert network["netmask"] == "255.255.255.0"
        assert network["routes"] == [
            {"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "10.1.0.1"}
        ]
    if has_address and ip.ip_version == 6:
        assert network["routes"] == []  # no gateway, no default route


def test_only_the_first_address_of_each_version_per_nic_as_nova() -> None:
    ips = (
        FixedIp("10.1.0.4", "10.1.0.0/24"),
        FixedIp("10.2.0.4", "10.2.0.0/24"),
        FixedIp("2001:db8::4", "2001:db8::/64"),
    )
    server = DriveContent(
        id="u",
        name="n",
        hostname="n",
        project_id="p",
        availability_zone="az",
        nics=(Nic("port-1", MAC_V4, 1500, "net-1", ips),),
    )
    networks = config_drive.network_data(server)["networks"]
    assert [(n["id"], n["ip_address"]) for n in networks] == [
        ("network0", "10.1.0.4"),
        ("network1", "2001:db8::4"),
    ]


def test_a_failed_write_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    def broken(self, fp, *args, **kwargs):
        fp.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(pycdlib.PyCdlib, "write_fp", broken)
    with pytest.raises(OSError, match="disk full"):
        config_drive.write_config_drive(SERVER, tmp_path / "disk.config")
    assert list(tmp_path.iterdir()) == []


# cloud-init is not on PyPI: Debian's package ships its Python module. It is
# fetched (never installed: it is a boot service) with the pure-Python Debian
# packages its import needs and the venv lacks.
CLOUD_INIT_PACKAGES = (
    "cloud-init",
    "python3-requests",
    "python3-urllib3",
    "python3-idna",
    "python3-certifi",
    "python3-charset-normalizer",
    "python3-chardet",
    "python3-six",
    "python3-configobj",
)
CLOUD_INIT_CACHE = Path.home() / ".cache" / "stratus-tests" / "cloud-init"


@pytest.fixture(scope="module")
def cloud_init_path() -> Path:
    """Debian's cloudinit module (and its missing dependencies), unpacked once and cached."""
    site = CLOUD_INIT_CACHE / "usr" / "lib" / "python3" / "dist-packages"
    if (site / "cloudinit").is_dir():
        return site
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not found: cannot fetch Debian's cloud-init package")
    CLOUD_INIT_CACHE.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CLOUD_INIT_CACHE.parent) as work:
        try:
            fetched = subprocess.run(
                ["apt-get", "download", *CLOUD_INIT_PACKAGES],
                cwd=work,
                capture_output=True,
                text=True,
                timeout=180,
            )
        except subprocess.TimeoutExpired:
            pytest.skip("apt-get download of cloud-init timed out (no network?)")
        if fetched.returncode != 0:
            reason = fetched.stderr.strip().splitlines()[-1:] or ["no message"]
            pytest.skip(
                "cannot download Debian's cloud-init package (no network or no Debian "
                f"archive in apt's sources?): apt-get download: {reason[0]}"
            )
        unpacked = Path(work) / "root"
        for deb in sorted(Path(work).glob("*.deb")):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked)], check=True, timeout=60)
        shutil.rmtree(CLOUD_INIT_CACHE, ignore_errors=True)
        try:
            unpacked.rename(CLOUD_INIT_CACHE)
        except OSError:
            if not (site / "cloudinit").is_dir():  # else a parallel run cached it first
                raise
    return site


READ_WITH_CLOUD_INIT = """
import copy, json, sys
from cloudinit.sources import DataSourceConfigDrive
from cloudinit.sources.helpers import openstack

source, macs = sys.argv[1], json.loads(sys.argv[2])
v2 = openstack.ConfigDriveReader(source).read_v2()
found = DataSourceConfigDrive.read_config_drive(source)
same = found["metadata"] == v2["metadata"] and found["networkdata"] == v2["networkdata"]
# cloud-init decodes the random seed into bytes: its length says it was read.
seed = v2["metadata"].pop("random_seed")
print(json.dumps({
    "version": v2["version"],
    "random_seed_bytes": len(seed),
    "metadata": v2["metadata"],
    "userdata": v2["userdata"],
    "ec2": v2["ec2-metadata"],
    # Before convert_net_json, which rewrites the services it is given.
    "networkdata": copy.deepcopy(v2["networkdata"]),
    "same_from_datasource": same,
    "network_config": openstack.convert_net_json(v2["networkdata"], known_macs=macs),
}, default=lambda value: value.decode()))
"""


def extract(iso_path: Path, into: Path) -> None:
    _, files, _ = read_iso(iso_path)
    for name, data in files.items():
        (into / name).parent.mkdir(parents=True, exist_ok=True)
        (into / name).write_bytes(data)


def test_cloud_init_configdrive_datasource_reads_it(
    drive: Path, cloud_init_path: Path, tmp_path: Path
) -> None:
    mounted = tmp_path / "mnt"
    extract(drive, mounted)
    macs = {MAC_V4: "eth0", MAC_V6: "eth1"}
    env = {**os.environ, "PYTHONPATH": str(cloud_init_path)}
    run = subprocess.run(
        [sys.executable, "-c", READ_WITH_CLOUD_INIT, str(mounted), json.dumps(macs)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    if run.returncode != 0 and "ModuleNotFoundError" in run.stderr:
        pytest.skip(f"cloud-init's module cannot be imported here: {run.stderr.splitlines()[-1]}")
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)

    assert seen["version"] == 2
    assert seen["same_from_datasource"]
    assert seen["random_seed_bytes"] == 512
    assert seen["metadata"]["uuid"] == SERVER.id
    assert seen["metadata"]["hostname"] == "web-1"
    assert seen["metadata"]["public_keys"] == dict(KEYS)
    assert seen["userdata"] == USER_DATA.decode()
    assert seen["ec2"]["instance-id"] == SERVER.id
    assert seen["networkdata"] == EXPECTED_NETWORK_DATA

    config = seen["network_config"]
    physical = {c["name"]: c for c in config["config"] if c["type"] == "physical"}
    assert physical["eth0"]["mac_address"] == MAC_V4
    assert physical["eth0"]["mtu"] == 1450
    assert [s["type"] for s in physical["eth0"]["subnets"]] == ["dhcp4"]
    assert physical["eth1"]["mac_address"] == MAC_V6
    (v6,) = physical["eth1"]["subnets"]
    assert v6["type"] == "static6"
    assert v6["address"] == "2001:db8:1::5"
    assert v6["routes"] == [{"network": "::", "netmask": "::", "gateway": "2001:db8:1::1"}]
    nameservers = [c["address"] for c in config["config"] if c["type"] == "nameserver"]
    assert nameservers == ["10.0.0.2", "2001:db8::53"]
