"""The CLI verbs beyond the quick start, through the installed ``stratus`` command.

Ports, quotas and limits, image changes, volume extend, domains, the catalog,
token revoke and the compute hosts, each run as a user (or admin) would run
them against the one e2e cloud, ``-f json`` output parsed and checked.
"""

from __future__ import annotations

import hashlib
import uuid

import grpc
import pytest

from components.framework.auth import TOKEN_HEADER
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.identity.v1 import identity_service_pb2_grpc as identity_grpc
from tests.e2e.test_cli import Stratus

pytestmark = pytest.mark.e2e


@pytest.fixture
def stratus(cloud, tmp_path):
    """The stratus command, its token cache in the test's own directory."""
    runner = Stratus(cloud, tmp_path)
    runner.env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    return runner


@pytest.fixture
def admin(stratus):
    return {**stratus.env, "OS_CLOUD": "admin"}


def suffix() -> str:
    return uuid.uuid4().hex[:8]


def refused(result) -> str:
    """The first line of a failed command's error."""
    assert result.returncode == 1, result.stdout
    return result.stderr.splitlines()[0]


def test_port_create_show_set_and_delete(stratus):
    name = f"cli-port-{suffix()}"
    created = stratus.json("port", "create", "--network", "private", name)
    assert (created["name"], created["status"]) == (name, "DOWN")
    assert len(created["fixed_ips"]) == 1

    stratus.ok("port", "set", "--name", f"{name}-renamed", name)
    shown = stratus.json("port", "show", created["id"])
    assert (shown["name"], shown["mac_address"]) == (f"{name}-renamed", created["mac_address"])

    stratus.ok("port", "delete", f"{name}-renamed")
    assert refused(stratus.run("port", "show", created["id"])) == (
        f"Error: No port with name or id '{created['id']}'"
    )


def test_admin_sets_the_demo_quota_and_limits_show_it(stratus, admin):
    before = stratus.json("quota", "show", "demo", env=admin)
    try:
        stratus.ok("quota", "set", "--instances", "17", "--gigabytes", "321", "demo", env=admin)
        shown = stratus.json("quota", "show", "demo", env=admin)
        assert (shown["instances"], shown["gigabytes"]) == (17, 321)
        assert (shown["cores"], shown["volumes"]) == (before["cores"], before["volumes"])

        limits = {row["Name"]: row["Value"] for row in stratus.json("limits", "show", "--absolute")}
        assert (limits["maxTotalInstances"], limits["maxTotalVolumeGigabytes"]) == (17, 321)
        assert limits["maxTotalCores"] == before["cores"]
        assert limits["totalInstancesUsed"] >= 0
        usage = {row["Resource"]: row for row in stratus.json("quota", "show", "--usage")}
        assert usage["instances"]["Limit"] == 17
        assert usage["instances"]["In Use"] == limits["totalInstancesUsed"]
    finally:
        stratus.ok(
            "quota",
            "set",
            *("--instances", str(before["instances"])),
            *("--gigabytes", str(before["gigabytes"])),
            "demo",
            env=admin,
        )


def test_member_cannot_set_a_quota(stratus):
    result = stratus.run("quota", "set", "--instances", "1000", "demo")
    assert refused(result).startswith("Error: Not allowed: ")


def test_image_created_without_data_is_uploaded_renamed_and_deactivated(stratus, admin, tmp_path):
    name = f"cli-queued-{suffix()}"
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"STRATUS UPLOAD\n".ljust(1024 * 1024 + 5, b"\0"))

    queued = stratus.json("image", "create", name)
    assert queued["status"] == "QUEUED"
    uploaded = stratus.json("image", "upload", "--file", str(disk), name)
    assert (uploaded["id"], uploaded["status"]) == (queued["id"], "ACTIVE")
    assert uploaded["checksum"] == hashlib.md5(disk.read_bytes()).hexdigest()
    again = stratus.run("image", "upload", "--file", str(disk), name)
    assert refused(again).startswith("Error: Not possible in the current state: ")

    stratus.ok(
        "image",
        "set",
        "--name",
        f"{name}-2",
        "--property",
        "os_distro=cirros",
        "--min-ram",
        "64",
        name,
    )
    shown = stratus.json("image", "show", queued["id"])
    assert (shown["name"], shown["properties"], shown["min_ram_mib"]) == (
        f"{name}-2",
        {"os_distro": "cirros"},
        64,
    )
    stratus.ok("image", "set", "--remove-property", "os_distro", f"{name}-2")
    assert stratus.json("image", "show", queued["id"])["properties"] == {}

    refusal = stratus.run("image", "deactivate", queued["id"])
    assert refused(refusal).startswith("Error: Not allowed: ")
    stratus.ok("image", "deactivate", queued["id"], env=admin)
    assert stratus.json("image", "show", queued["id"])["status"] == "DEACTIVATED"
    stratus.ok("image", "reactivate", queued["id"], env=admin)
    assert stratus.json("image", "show", queued["id"])["status"] == "ACTIVE"
    stratus.ok("image", "delete", queued["id"])


def test_volume_extend_waits_for_the_new_size(stratus):
    name = f"cli-grow-{suffix()}"
    stratus.json("volume", "create", "--size", "1", "--wait", name)
    grown = stratus.json("volume", "extend", "--size", "2", "--wait", name)
    assert (grown["size_gib"], grown["status"]) == (2, "AVAILABLE")
    smaller = stratus.run("volume", "extend", "--size", "1", name)
    assert refused(smaller).startswith("Error: Invalid request: ")
    stratus.ok("volume", "delete", name)


def test_domain_create_list_disable_and_delete(stratus, admin):
    name = f"cli-domain-{suffix()}"
    created = stratus.json("domain", "create", "--description", "from the CLI", name, env=admin)
    assert (created["name"], created["enabled"]) == (name, True)
    assert name in [d["Name"] for d in stratus.json("domain", "list", env=admin)]

    enabled = stratus.run("domain", "delete", name, env=admin)
    assert refused(enabled).startswith("Error: Not possible in the current state: ")

    stratus.ok("domain", "set", "--disable", name, env=admin)
    assert stratus.json("domain", "show", name, env=admin)["enabled"] is False
    stratus.ok("domain", "delete", name, env=admin)
    assert name not in [d["Name"] for d in stratus.json("domain", "list", env=admin)]


def test_service_and_endpoint_create_list_and_delete(stratus, admin):
    kind = f"cli-{suffix()}"
    service = stratus.json("service", "create", "--name", f"{kind}-name", kind, env=admin)
    assert service["type"] == kind
    endpoint = stratus.json(
        "endpoint", "create", "--region", "RegionCli", kind, "127.0.0.1:1", env=admin
    )
    assert (endpoint["service_id"], endpoint["address"]) == (service["id"], "127.0.0.1:1")

    listed = stratus.json("endpoint", "list", "--service", kind)
    assert [(e["ID"], e["Region"], e["Service Type"]) for e in listed] == [
        (endpoint["id"], "RegionCli", kind)
    ]
    assert kind in [s["Type"] for s in stratus.json("service", "list")]

    stratus.ok("endpoint", "delete", endpoint["id"], env=admin)
    assert stratus.json("endpoint", "list", "--service", kind) == []
    stratus.ok("service", "delete", kind, env=admin)
    assert kind not in [s["Type"] for s in stratus.json("service", "list")]


def test_revoked_token_is_refused(stratus, cloud):
    token = stratus.ok("token", "issue", "-f", "value", "-c", "id").strip()
    catalog = identity_grpc.CatalogStub(cloud.channel("identity"))
    catalog.ListServices(identity_pb2.ListServicesRequest(), metadata=((TOKEN_HEADER, token),))

    stratus.ok("token", "revoke", token)
    with pytest.raises(grpc.RpcError) as refusal:
        catalog.ListServices(identity_pb2.ListServicesRequest(), metadata=((TOKEN_HEADER, token),))
    assert refusal.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert stratus.ok("token", "issue", "-f", "value", "-c", "id").strip() != token


def test_compute_service_disable_enable_and_delete_refused_while_up(stratus, admin):
    services = stratus.json("compute", "service", "list", env=admin)
    assert services and {s["Binary"] for s in services} == {"stratus-compute"}
    host = services[0]["Host"]
    assert (services[0]["Status"], services[0]["State"]) == ("enabled", "up")
    try:
        stratus.ok(
            "compute",
            "service",
            "set",
            "--disable",
            "--disable-reason",
            "cli test",
            host,
            env=admin,
        )
        [row] = stratus.json("compute", "service", "list", "--host", host, "--long", env=admin)
        assert (row["Status"], row["Disabled Reason"]) == ("disabled", "cli test")
    finally:
        stratus.ok("compute", "service", "set", "--enable", host, "stratus-compute", env=admin)
    [row] = stratus.json("compute", "service", "list", "--host", host, env=admin)
    assert row["Status"] == "enabled"

    up = stratus.run("compute", "service", "delete", host, env=admin)
    assert refused(up).startswith("Error: Not possible in the current state: ")
    assert host in [s["Host"] for s in stratus.json("compute", "service", "list", env=admin)]


def test_hypervisors_and_availability_zones(stratus, admin):
    hypervisors = stratus.json("hypervisor", "list", "--long", env=admin)
    assert hypervisors and all(h["State"] == "up" for h in hypervisors)
    first = hypervisors[0]["Hypervisor Hostname"]
    shown = stratus.json("hypervisor", "show", first, env=admin)
    assert shown["hypervisor_hostname"] == first
    assert shown["vcpus"] >= shown["vcpus_used"] >= 0
    assert shown["memory_mib"] > 0 and shown["running_vms"] >= 0
    missing = stratus.run("hypervisor", "show", "no-such-host", env=admin)
    assert refused(missing) == "Error: No compute host named 'no-such-host'"

    zones = stratus.json("availability", "zone", "list", env=admin)
    assert shown["availability_zone"] in [z["Zone Name"] for z in zones]
    assert {z["Zone Status"] for z in zones} == {"available"}
