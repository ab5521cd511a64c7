"""The admin and change verbs against fakes: what each sends, usage errors, one-line refusals."""

from __future__ import annotations

import dataclasses
import json

import pytest

from components.cli.commands import image_changes
from components.cli.token_cache import TokenCache
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from tests.unit.cli.test_token_cache import CREDS, login
from tests.unit.cli.verb_fakes import NETWORK_ID, PORT_ID, SERVICE_ID, SUBNET_ID, verb_cloud


@pytest.fixture
def fake():
    """Overrides conftest's fake: the verb cloud (the demo user holds admin)."""
    with verb_cloud() as cloud:
        yield cloud


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def refused(result) -> list[str]:
    assert result.exit_code == 1, result.output
    return result.stderr.splitlines()


def usage_error(result) -> str:
    assert result.exit_code == 2, result.output
    return result.stderr.splitlines()[-1]


# ---------------------------------------------------------------- ports


def test_port_create_resolves_the_network_and_fixed_ip_subnet(stratus, fake):
    ok(
        stratus(
            "port",
            "create",
            "--network",
            "private",
            "--fixed-ip",
            "subnet=private-v4,ip-address=10.0.0.5",
            "--fixed-ip",
            "subnet=private-v4",
            "--host",
            "compute-1",
            "p2",
        )
    )
    [sent] = fake.requests["CreatePort"]
    assert (sent.network_id, sent.name, sent.binding_host_id) == (NETWORK_ID, "p2", "compute-1")
    assert [(ip.subnet_id, ip.ip_address) for ip in sent.fixed_ips] == [
        (SUBNET_ID, "10.0.0.5"),
        (SUBNET_ID, ""),
    ]


def test_port_create_with_a_malformed_fixed_ip_is_a_usage_error(stratus, fake):
    result = stratus("port", "create", "--network", "private", "--fixed-ip", "10.0.0.5", "p2")
    assert "is not subnet=SUBNET,ip-address=IP" in usage_error(result)
    assert fake.requests["CreatePort"] == []


def test_port_set_sends_only_the_given_fields_in_the_mask(stratus, fake):
    ok(stratus("port", "set", "--name", "renamed", "--host", "compute-2", "p1"))
    [sent] = fake.requests["UpdatePort"]
    assert list(sent.update_mask.paths) == ["name", "binding_host_id"]
    assert (sent.port.id, sent.port.name, sent.port.binding_host_id) == (
        PORT_ID,
        "renamed",
        "compute-2",
    )


def test_port_set_no_device_clears_the_binding(stratus, fake):
    ok(stratus("port", "set", "--no-device", PORT_ID))
    [sent] = fake.requests["UpdatePort"]
    assert list(sent.update_mask.paths) == ["device_id", "device_owner", "binding_host_id"]
    assert (sent.port.device_id, sent.port.device_owner) == ("", "")


def test_port_set_device_of_a_bound_port_is_one_line(stratus):
    lines = refused(stratus("port", "set", "--device", "vm-2", "p1"))
    assert lines == [
        "Error: Not possible in the current state: "
        f"port {PORT_ID} is in use by vm-1: clear device_id first"
    ]


def test_port_set_without_options_calls_nothing(stratus, fake):
    assert "Nothing to change" in usage_error(stratus("port", "set", "p1"))
    assert fake.requests["UpdatePort"] == []


def test_port_delete_by_name(stratus, fake):
    ok(stratus("port", "delete", "p1"))
    assert [r.port_id for r in fake.requests["DeletePort"]] == [PORT_ID]


# ---------------------------------------------------------------- quotas and limits


def test_quota_set_splits_compute_and_volume_limits(stratus, fake):
    ok(stratus("quota", "set", "--instances", "5", "--ram", "1024", "--gigabytes", "50", "other"))
    [compute] = fake.requests["api.UpdateQuota"]
    assert (compute.project_id, list(compute.update_mask.paths)) == (
        "p-2",
        ["instances", "ram_mib"],
    )
    assert (compute.instances, compute.ram_mib) == (5, 1024)
    [volume] = fake.requests["volume.UpdateQuota"]
    assert (volume.quota.project_id, list(volume.update_mask.paths)) == ("p-2", ["size_gib_limit"])
    assert volume.quota.size_gib_limit == 50


def test_quota_set_unlimited_touches_only_that_service(stratus, fake):
    ok(stratus("quota", "set", "--cores", "-1", "demo"))
    [compute] = fake.requests["api.UpdateQuota"]
    assert (list(compute.update_mask.paths), compute.cores) == (["cores"], -1)
    assert fake.requests["volume.UpdateQuota"] == []


def test_quota_set_below_minus_one_or_with_nothing_is_a_usage_error(stratus, fake):
    assert "-2" in usage_error(stratus("quota", "set", "--volumes", "-2", "demo"))
    assert "Nothing to change" in usage_error(stratus("quota", "set", "demo"))
    assert fake.requests["api.UpdateQuota"] == fake.requests["volume.UpdateQuota"] == []


def test_quota_show_defaults_to_the_token_project(stratus, fake):
    shown = json.loads(ok(stratus("quota", "show", "-f", "json")))
    assert shown == {
        "project_id": "p-1",
        "instances": 10,
        "cores": 20,
        "ram": 51200,
        "volumes": 5,
        "gigabytes": 100,
    }
    assert [r.project_id for r in fake.requests["volume.GetQuota"]] == ["p-1"]


def test_quota_show_usage_lists_in_use_beside_limits(stratus):
    rows = json.loads(ok(stratus("quota", "show", "--usage", "other", "-f", "json")))
    assert rows[0] == {"Resource": "instances", "Limit": 10, "In Use": 2}
    assert rows[-1] == {"Resource": "gigabytes", "Limit": 100, "In Use": 1}


def test_limits_show_absolute_uses_openstack_names(stratus):
    rows = json.loads(ok(stratus("limits", "show", "--absolute", "-f", "json")))
    values = {row["Name"]: row["Value"] for row in rows}
    assert values == {
        "maxTotalInstances": 10,
        "totalInstancesUsed": 2,
        "maxTotalCores": 20,
        "totalCoresUsed": 3,
        "maxTotalRAMSize": 51200,
        "totalRAMUsed": 1024,
        "maxTotalVolumes": 5,
        "totalVolumesUsed": 1,
        "maxTotalVolumeGigabytes": 100,
        "totalGigabytesUsed": 1,
    }


# ---------------------------------------------------------------- images


def test_image_set_masks_each_property_key_it_sets_or_removes(stratus, fake):
    ok(
        stratus(
            "image",
            "set",
            "--name",
            "renamed",
            "--private",
            "--unprotected",
            "--min-disk",
            "2",
            "--property",
            "os_distro=cirros",
            "--remove-property",
            "architecture",
            "demo",
        )
    )
    [sent] = fake.requests["UpdateImage"]
    assert list(sent.update_mask.paths) == [
        "name",
        "min_disk_gib",
        "protected",
        "visibility",
        "properties.os_distro",
        "properties.architecture",
    ]
    assert dict(sent.image.properties) == {"os_distro": "cirros"}
    assert (sent.image.id, sent.image.name, sent.image.protected) == (
        fake.images.images[0].id,
        "renamed",
        False,
    )


def test_image_set_same_property_set_and_removed_is_a_usage_error(stratus, fake):
    result = stratus("image", "set", "--property", "a=1", "--remove-property", "a", "demo")
    assert "Property a is both set and removed" in usage_error(result)
    assert fake.requests["UpdateImage"] == []


def test_image_set_deactivate_and_the_verbs_call_the_state_rpcs(stratus, fake):
    ok(stratus("image", "set", "--deactivate", "demo"))
    ok(stratus("image", "reactivate", "demo"))
    ok(stratus("image", "deactivate", "demo"))
    assert fake.requests["UpdateImage"] == []
    assert len(fake.requests["DeactivateImage"]) == 2
    assert len(fake.requests["ReactivateImage"]) == 1


def test_image_upload_streams_through_the_create_upload(stratus, fake, monkeypatch, tmp_path):
    data = tmp_path / "disk.raw"
    data.write_bytes(b"x" * 10)
    given = []

    def upload(session, image, path):
        given.append((image.id, path))
        return image

    monkeypatch.setattr(image_changes, "upload", upload)
    shown = json.loads(ok(stratus("image", "upload", "--file", str(data), "demo", "-f", "json")))
    assert given == [(fake.images.images[0].id, data)]
    assert shown["id"] == fake.images.images[0].id


def test_image_upload_needs_an_existing_file(stratus, tmp_path):
    result = stratus("image", "upload", "--file", str(tmp_path / "missing"), "demo")
    assert "does not exist" in usage_error(result)


# ---------------------------------------------------------------- volumes


def test_volume_extend_of_an_attached_volume_is_one_line(stratus, fake):
    lines = refused(stratus("volume", "extend", "--size", "2", "data"))
    assert lines == [
        "Error: Not possible in the current state: "
        f"volume {fake.volumes.volumes[0].id} is IN_USE, not AVAILABLE"
    ]
    [sent] = fake.requests["ExtendVolume"]
    assert sent.new_size_gib == 2


# ---------------------------------------------------------------- identity


def test_domain_create_disabled_and_set(stratus, fake):
    ok(stratus("domain", "create", "--disable", "lab2"))
    [created] = fake.requests["CreateDomain"]
    assert created.HasField("enabled") and not created.enabled
    ok(stratus("domain", "set", "--disable", "--description", "old", "lab"))
    [sent] = fake.requests["UpdateDomain"]
    assert list(sent.update_mask.paths) == ["description", "enabled"]
    assert (sent.domain.description, sent.domain.enabled) == ("old", False)


def test_domain_delete_of_an_enabled_domain_says_why(stratus):
    lines = refused(stratus("domain", "delete", "lab"))
    assert lines == [
        "Error: Not possible in the current state: the domain is enabled: disable it first"
    ]


def test_endpoint_create_and_service_delete_find_a_service_by_type_or_name(stratus, fake):
    ok(stratus("endpoint", "create", "--region", "R2", "compute", "10.0.0.5:8774"))
    [sent] = fake.requests["CreateEndpoint"]
    assert (sent.service_id, sent.region, sent.address) == (SERVICE_ID, "R2", "10.0.0.5:8774")
    ok(stratus("service", "delete", "nova"))
    assert [r.service_id for r in fake.requests["DeleteService"]] == [SERVICE_ID]
    lines = refused(stratus("service", "delete", "glance"))
    assert lines[0] == "Error: No service with id, type or name 'glance'"


def test_token_revoke_sends_the_token_given(stratus, fake):
    ok(stratus("token", "revoke", "the-old-token"))
    assert [r.subject_token for r in fake.requests["RevokeToken"]] == ["the-old-token"]


# ---------------------------------------------------------------- hosts


def test_compute_service_list_pages_through_every_host(stratus):
    rows = json.loads(ok(stratus("compute", "service", "list", "-f", "json")))
    assert [(r["Host"], r["Binary"], r["Zone"], r["State"]) for r in rows] == [
        ("compute-1", "stratus-compute", "nova", "up"),
        ("compute-2", "stratus-compute", "nova", "up"),
        ("compute-3", "stratus-compute", "edge", "down"),
    ]


def test_compute_service_list_filters_by_host_and_service(stratus):
    listed = json.loads(
        ok(stratus("compute", "service", "list", "--host", "compute-2", "-f", "json"))
    )
    assert [r["Host"] for r in listed] == ["compute-2"]
    other = stratus("compute", "service", "list", "--service", "nova-scheduler", "-f", "json")
    assert json.loads(ok(other)) == []


def test_compute_service_set_disable_sends_the_reason(stratus, fake):
    ok(stratus("compute", "service", "set", "--disable", "--disable-reason", "maint", "compute-1"))
    ok(stratus("compute", "service", "set", "--enable", "compute-1", "stratus-compute"))
    ok(stratus("compute", "service", "set", "--enable", "compute-1", "nova-compute"))
    disable, enable, _ = fake.requests["UpdateHost"]
    assert list(disable.update_mask.paths) == ["enabled", "disabled_reason"]
    assert (disable.host.name, disable.host.enabled, disable.host.disabled_reason) == (
        "compute-1",
        False,
        "maint",
    )
    assert (enable.host.enabled, enable.host.disabled_reason) == (True, "")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["compute-1"], "Give --enable or --disable"),
        (["--enable", "--disable-reason", "x", "compute-1"], "--disable-reason goes with"),
        (["--disable", "compute-1", "nova-conductor"], "runs only stratus-compute"),
    ],
)
def test_compute_service_set_usage_errors_call_nothing(stratus, fake, args, words):
    assert words in usage_error(stratus("compute", "service", "set", *args))
    assert fake.requests["UpdateHost"] == []


def test_compute_service_delete_of_an_up_host_is_refused(stratus, fake):
    lines = refused(stratus("compute", "service", "delete", "compute-1"))
    assert (
        lines[0] == "Error: Not possible in the current state: host compute-1 is up: stop it first"
    )
    ok(stratus("compute", "service", "delete", "compute-3"))
    assert [r.name for r in fake.requests["DeleteHost"]] == ["compute-1", "compute-3"]


def test_hypervisor_show_and_a_missing_one(stratus):
    shown = json.loads(ok(stratus("hypervisor", "show", "compute-2", "-f", "json")))
    assert (shown["vcpus"], shown["vcpus_used"], shown["host_address"]) == (8, 2, "127.0.0.1:8802")
    lines = refused(stratus("hypervisor", "show", "compute-9"))
    assert lines == ["Error: No compute host named 'compute-9'"]


def test_hypervisor_list_shows_the_host_ip(stratus):
    rows = json.loads(ok(stratus("hypervisor", "list", "-f", "json")))
    first = rows[0]
    assert (first["Hypervisor Hostname"], first["Host IP"]) == ("compute-1", "127.0.0.1")


def test_availability_zone_list_is_available_while_a_host_is_up(stratus):
    rows = json.loads(ok(stratus("availability", "zone", "list", "-f", "json")))
    assert rows == [
        {"Zone Name": "edge", "Zone Status": "not available"},
        {"Zone Name": "nova", "Zone Status": "available"},
    ]


# ---------------------------------------------------------------- a cloud made anew


def test_a_cached_token_of_a_cloud_made_anew_reruns_the_command_with_the_new_ids(
    stratus, fake, tmp_path
):
    """run-all started again with a fresh data directory at the same address: the cached
    token is refused, and what the command took from it (the project id) is stale."""
    stale = login("token-of-the-old-cloud")
    stale.project.id, stale.user.id = "p-old", "u-old"
    stale.catalog[0].endpoints.append(
        identity_pb2.Endpoint(region="RegionOne", address=fake.address)
    )
    creds = dataclasses.replace(CREDS, auth_url=fake.address)
    TokenCache(tmp_path / "cache" / "stratus" / "tokens").store(creds, stale)
    out = ok(stratus("quota", "show", "-f", "json"))
    assert json.loads(out)["project_id"] == "p-1"
    assert [r.project_id for r in fake.requests["api.GetQuota"]] == ["p-1"]
