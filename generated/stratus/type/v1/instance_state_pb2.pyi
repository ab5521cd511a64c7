from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class VmState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VM_STATE_UNSPECIFIED: _ClassVar[VmState]
    VM_STATE_BUILDING: _ClassVar[VmState]
    VM_STATE_ACTIVE: _ClassVar[VmState]
    VM_STATE_STOPPED: _ClassVar[VmState]
    VM_STATE_ERROR: _ClassVar[VmState]
    VM_STATE_DELETED: _ClassVar[VmState]

class TaskState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_STATE_UNSPECIFIED: _ClassVar[TaskState]
    TASK_STATE_SCHEDULING: _ClassVar[TaskState]
    TASK_STATE_SPAWNING: _ClassVar[TaskState]
    TASK_STATE_NETWORKING: _ClassVar[TaskState]
    TASK_STATE_BLOCK_DEVICE_MAPPING: _ClassVar[TaskState]
    TASK_STATE_POWERING_OFF: _ClassVar[TaskState]
    TASK_STATE_POWERING_ON: _ClassVar[TaskState]
    TASK_STATE_REBOOTING: _ClassVar[TaskState]
    TASK_STATE_REBOOTING_HARD: _ClassVar[TaskState]
    TASK_STATE_DELETING: _ClassVar[TaskState]

class PowerState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    POWER_STATE_UNSPECIFIED: _ClassVar[PowerState]
    POWER_STATE_NOSTATE: _ClassVar[PowerState]
    POWER_STATE_RUNNING: _ClassVar[PowerState]
    POWER_STATE_PAUSED: _ClassVar[PowerState]
    POWER_STATE_SHUTDOWN: _ClassVar[PowerState]
    POWER_STATE_CRASHED: _ClassVar[PowerState]
    POWER_STATE_SUSPENDED: _ClassVar[PowerState]
VM_STATE_UNSPECIFIED: VmState
VM_STATE_BUILDING: VmState
VM_STATE_ACTIVE: VmState
VM_STATE_STOPPED: VmState
VM_STATE_ERROR: VmState
VM_STATE_DELETED: VmState
TASK_STATE_UNSPECIFIED: TaskState
TASK_STATE_SCHEDULING: TaskState
TASK_STATE_SPAWNING: TaskState
TASK_STATE_NETWORKING: TaskState
TASK_STATE_BLOCK_DEVICE_MAPPING: TaskState
TASK_STATE_POWERING_OFF: TaskState
TASK_STATE_POWERING_ON: TaskState
TASK_STATE_REBOOTING: TaskState
TASK_STATE_REBOOTING_HARD: TaskState
TASK_STATE_DELETING: TaskState
POWER_STATE_UNSPECIFIED: PowerState
POWER_STATE_NOSTATE: PowerState
POWER_STATE_RUNNING: PowerState
POWER_STATE_PAUSED: PowerState
POWER_STATE_SHUTDOWN: PowerState
POWER_STATE_CRASHED: PowerState
POWER_STATE_SUSPENDED: PowerState
