"""Translations between the scheduler's contract messages and its domain objects."""

from __future__ import annotations

from components.compute_db.models import ComputeNode
from components.framework import InvalidArgument, timestamp, validation
from components.scheduler.host_state import heartbeat_cutoff
from components.scheduler.placement import Placement
from components.scheduler.request_spec import RequestSpec
from stratus.scheduler.v1 import scheduler_service_pb2 as pb2


def _required(field: str, value: str) -> str:
    if not value:
        raise InvalidArgument(f"{field} is required", field=field)
    return value


def request_spec(spec: pb2.RequestSpec) -> RequestSpec:
    """The spec, checked: at least 1 vcpu and 1 MiB, no negative disk."""
    if spec.vcpus < 1:
        raise InvalidArgument("spec.vcpus must be at least 1", field="spec.vcpus")
    if spec.ram_mib < 1:
        raise InvalidArgument("spec.ram_mib must be at least 1", field="spec.ram_mib")
    validation.non_negative("spec.disk_gib", spec.disk_gib)
    return RequestSpec(
        project_id=_required("spec.project_id", spec.project_id),
        user_id=_required("spec.user_id", spec.user_id),
        vcpus=spec.vcpus,
        ram_mib=spec.ram_mib,
        disk_gib=spec.disk_gib,
        availability_zone=spec.availability_zone,
        image_properties=dict(spec.image_properties),
        ignore_hosts=frozenset(spec.ignore_hosts),
        requested_host=spec.requested_host,
    )


def auth_token(value: str) -> str:
    return _required("auth_token", value)


def selection(placed: Placement) -> pb2.Selection:
    return pb2.Selection(
        host=placed.host,
        node=placed.node,
        alternates=list(placed.alternates),
        claim_id=placed.claim_id,
    )


def host(node: ComputeNode, down_time_seconds: float) -> pb2.Host:
    beat = node.last_heartbeat
    up = beat is not None and beat >= heartbeat_cutoff(down_time_seconds)
    return pb2.Host(
        name=node.host,
        address=node.address,
        availability_zone=node.availability_zone,
        hypervisor_type=node.hypervisor_type,
        hypervisor_version=node.hypervisor_version,
        architecture=node.architecture,
        state=pb2.Host.STATE_UP if up else pb2.Host.STATE_DOWN,
        enabled=bool(node.enabled),
        disabled_reason=node.disabled_reason,
        vcpus=node.vcpus,
        ram_mib=node.ram_mib,
        disk_gib=node.disk_gib,
        used_vcpus=node.vcpus_used,
        used_ram_mib=node.ram_mib_used,
        used_disk_gib=node.disk_gib_used,
        instance_count=node.instances_used,
        last_heartbeat_time=timestamp(beat),
        create_time=timestamp(node.create_time),
    )
