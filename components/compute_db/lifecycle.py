"""The end of an instance's life: done once, whoever gets there first."""

from __future__ import annotations

from components.compute_db import claims, quotas
from components.compute_db.models import Instance, InstanceFault
from components.compute_db.states import TaskState, VmState
from components.framework.clock import utcnow
from components.framework.database import database


def finish_delete(instance_id: str) -> bool:
    """Mark the instance deleted and give back its claim and quota, exactly once."""
    with database.atomic():
        marked = (
            Instance.update(
                vm_state=VmState.DELETED,
                task_state=TaskState.NONE,
                deleted_time=utcnow(),
                update_time=utcnow(),
            )
            .where((Instance.id == instance_id) & Instance.deleted_time.is_null())
            .execute()
        )
        if marked != 1:
            return False
        instance = Instance.get_by_id(instance_id)
        quotas.release(instance.project_id, instance.vcpus, instance.ram_mib)
    claims.release_for_instance(instance_id)
    return True


def set_error(
    instance_id: str, code: int, message: str, details: str = "", record_fault: bool = True
) -> None:
    """ERROR with a fault, releasing the claim (the quota stays until it is deleted).

    ``record_fault=False`` when the fault was recorded already (by the host).
    """
    with database.atomic():
        Instance.update(
            vm_state=VmState.ERROR, task_state=TaskState.NONE, update_time=utcnow()
        ).where((Instance.id == instance_id) & Instance.deleted_time.is_null()).execute()
        if record_fault:
            InstanceFault.create(instance=instance_id, code=code, message=message, details=details)
    claims.release_for_instance(instance_id)
