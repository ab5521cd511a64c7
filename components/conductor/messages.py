"""Instance rows as stratus.conductor.v1 messages."""

from __future__ import annotations

from components.compute_db.models import Instance
from components.framework import timestamp
from stratus.conductor.v1 import conductor_service_pb2 as pb2
from stratus.type.v1 import instance_pb2


def instance_info(row: Instance) -> pb2.InstanceInfo:
    return pb2.InstanceInfo(
        id=row.id,
        name=row.name,
        project_id=row.project_id,
        user_id=row.user_id,
        host=row.host,
        availability_zone=row.availability_zone,
        flavor=pb2.InstanceFlavor(
            id=row.flavor_id,
            name=row.flavor_name,
            vcpus=row.vcpus,
            ram_mib=row.ram_mib,
            disk_gib=row.disk_gib,
            extra_specs=row.extra_specs,
        ),
        image_id=row.image_id,
        requested_networks=[pb2.RequestedNetwork(**n) for n in row.requested_networks],
        volume_ids=row.volume_ids,
        metadata=row.metadata,
        vm_state=row.vm_state,
        task_state=row.task_state,
        power_state=row.power_state,
        claim_id=row.claim_id,
        attempt=row.attempt,
        alternates=row.alternates,
        addresses=[instance_pb2.Address(**a) for a in row.addresses],
        volumes=[instance_pb2.AttachedVolume(**v) for v in row.volumes],
        launched_time=timestamp(row.launched_time),
        create_time=timestamp(row.create_time),
        update_time=timestamp(row.update_time),
        key_name=row.key_name,
        public_key=row.public_key,
        user_data=bytes(row.user_data or b""),
        config_drive=row.config_drive,
    )
