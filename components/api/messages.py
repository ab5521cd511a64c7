"""Compute-database rows as stratus.api.v1 messages."""

from __future__ import annotations

import ipaddress

from components.compute_db.models import Flavor, Instance, InstanceFault, KeyPair, ProjectQuota
from components.compute_db.states import VmState, status
from components.framework import Caller, timestamp
from stratus.api.v1 import api_service_pb2 as pb2
from stratus.type.v1 import instance_pb2


def flavor(row: Flavor) -> pb2.Flavor:
    return pb2.Flavor(
        id=row.id,
        name=row.name,
        vcpus=row.vcpus,
        ram_mib=row.ram_mib,
        disk_gib=row.disk_gib,
        extra_specs=row.extra_specs,
        is_public=row.is_public,
        create_time=timestamp(row.create_time),
    )


def _address(entry: dict) -> instance_pb2.Address:
    try:
        version = ipaddress.ip_address(entry.get("ip_address", "")).version
    except ValueError:
        version = 0
    return instance_pb2.Address(
        network_id=entry.get("network_id", ""),
        network_name=entry.get("network_name", ""),
        ip_address=entry.get("ip_address", ""),
        mac_address=entry.get("mac_address", ""),
        version=version,
        port_id=entry.get("port_id", ""),
    )


def _fault(row: Instance, who: Caller) -> instance_pb2.Fault | None:
    """The latest fault of a server in ERROR (as nova, faults of retried builds stay hidden)."""
    if row.vm_state != VmState.ERROR:
        return None
    fault = (
        InstanceFault.select()
        .where(InstanceFault.instance == row.id)
        .order_by(InstanceFault.create_time.desc(), InstanceFault.id.desc())
        .first()
    )
    if fault is None:
        return None
    return instance_pb2.Fault(
        code=fault.code,
        message=fault.message,
        details=fault.details if who.is_admin else "",
        create_time=timestamp(fault.create_time),
    )


def server(row: Instance, who: Caller) -> pb2.Server:
    return pb2.Server(
        id=row.id,
        name=row.name,
        project_id=row.project_id,
        user_id=row.user_id,
        status=int(status(row.vm_state, row.task_state)),
        vm_state=row.vm_state,
        task_state=row.task_state,
        power_state=row.power_state,
        flavor=pb2.FlavorSummary(
            id=row.flavor_id,
            name=row.flavor_name,
            vcpus=row.vcpus,
            ram_mib=row.ram_mib,
            disk_gib=row.disk_gib,
        ),
        image_id=row.image_id,
        addresses=[_address(a) for a in row.addresses],
        volumes=[
            instance_pb2.AttachedVolume(volume_id=v["volume_id"], device=v.get("device", ""))
            for v in row.volumes
        ],
        host=row.host if who.is_admin else "",
        availability_zone=row.availability_zone,
        fault=_fault(row, who),
        metadata=row.metadata,
        create_time=timestamp(row.create_time),
        update_time=timestamp(row.update_time),
        launched_time=timestamp(row.launched_time),
        key_name=row.key_name,
        config_drive=row.config_drive,
    )


def quota(row: ProjectQuota) -> pb2.Quota:
    return pb2.Quota(
        project_id=row.project_id,
        instances=pb2.QuotaDetail(limit=row.instances_limit, in_use=row.instances_used),
        cores=pb2.QuotaDetail(limit=row.cores_limit, in_use=row.cores_used),
        ram_mib=pb2.QuotaDetail(limit=row.ram_mib_limit, in_use=row.ram_mib_used),
    )


def keypair(row: KeyPair) -> pb2.Keypair:
    return pb2.Keypair(
        name=row.name,
        user_id=row.user_id,
        public_key=row.public_key,
        fingerprint=row.fingerprint,
        key_type=row.key_type,
        create_time=timestamp(row.create_time),
    )
