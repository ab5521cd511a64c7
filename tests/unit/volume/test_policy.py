"""The volume policy table: a rule for every RPC, and the roles the proto names."""

import pytest

from components.framework.errors import PermissionDenied
from components.volume.policy import POLICY
from stratus.volume.v1 import volume_service_pb2 as pb2
from tests.harness import caller

SERVICE = pb2.DESCRIPTOR.services_by_name["Volumes"]
MUTATING = {
    "CreateVolume",
    "DeleteVolume",
    "ExtendVolume",
    "ReserveVolume",
    "UnreserveVolume",
    "AttachVolume",
    "DetachVolume",
}
FOR_SERVICES = {"DeleteVolume", "ReserveVolume", "UnreserveVolume", "AttachVolume", "DetachVolume"}


def path(method: str) -> str:
    return f"/{SERVICE.full_name}/{method}"


def allowed(method: str, roles: list[str]) -> bool:
    try:
        POLICY.check(path(method), caller(roles))
    except PermissionDenied:
        return False
    return True


def test_every_rpc_has_a_rule():
    assert {m.name for m in SERVICE.methods} == {p.rsplit("/", 1)[1] for p in POLICY.rules}


@pytest.mark.parametrize("method", [m.name for m in SERVICE.methods])
def test_reader_may_only_read_and_admin_may_do_everything(method):
    assert allowed(method, ["admin"])
    assert allowed(method, ["reader"]) == (method not in MUTATING | {"UpdateQuota"})


@pytest.mark.parametrize("method", sorted(MUTATING))
def test_member_may_change_and_service_only_what_compute_needs(method):
    assert allowed(method, ["member"])
    assert allowed(method, ["service"]) == (method in FOR_SERVICES)


def test_only_admin_updates_quotas():
    assert not allowed("UpdateQuota", ["member"])
    assert not allowed("UpdateQuota", ["service"])
