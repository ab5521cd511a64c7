"""The compute database's state enums are the contracts' enums, number for number."""

import pytest

from components.compute_db.states import PowerState, Status, TaskState, VmState
from stratus.api.v1 import api_service_pb2
from stratus.type.v1 import instance_state_pb2

CASES = [
    (VmState, instance_state_pb2.VmState.DESCRIPTOR, "VM_STATE_"),
    (TaskState, instance_state_pb2.TaskState.DESCRIPTOR, "TASK_STATE_"),
    (PowerState, instance_state_pb2.PowerState.DESCRIPTOR, "POWER_STATE_"),
    (Status, api_service_pb2.Server.Status.DESCRIPTOR, "STATUS_"),
]


@pytest.mark.parametrize(("python_enum", "descriptor", "prefix"), CASES)
def test_every_contract_value_is_a_member_with_its_number(python_enum, descriptor, prefix):
    expected = {v.name: v.number for v in descriptor.values}
    got = {prefix + (m.name if m.name != "NONE" else "UNSPECIFIED"): m.value for m in python_enum}
    assert got == expected


def test_no_task_is_named_none_as_callers_spell_it():
    assert TaskState.NONE == instance_state_pb2.TASK_STATE_UNSPECIFIED
    assert TaskState(0) is TaskState.NONE


def test_members_are_named_without_the_prefix():
    assert VmState.ACTIVE == instance_state_pb2.VM_STATE_ACTIVE
    assert PowerState.SHUTDOWN == instance_state_pb2.POWER_STATE_SHUTDOWN
    assert TaskState.REBOOTING_HARD.name == "REBOOTING_HARD"
    assert Status.SHUTOFF == api_service_pb2.Server.STATUS_SHUTOFF
