"""Resident memory of the component processes a supervisor (``make run-all``) started.

Each child of the supervisor is named by its module (``components.api`` is
``api``) or, for a compute host, by its STRATUS_COMPUTE_HOST_NAME; its VmRSS
and VmHWM come from /proc/<pid>/status.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.benchmarks.results import record


def component_processes(supervisor_pid: int) -> dict[str, int]:
    """Name (identity, ..., compute-1) → pid of each child of the supervisor."""
    children: dict[str, int] = {}
    for task in Path(f"/proc/{supervisor_pid}/task").iterdir():
        for pid in (task / "children").read_text().split():
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            module = next((a.decode() for a in argv if a.startswith(b"components.")), "")
            name = module.removeprefix("components.")
            if name == "compute":
                environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                host = next(e for e in environ if e.startswith(b"STRATUS_COMPUTE_HOST_NAME="))
                name = host.split(b"=", 1)[1].decode()
            if name:
                children[name] = int(pid)
    return children


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of ``pid`` in MB (10^6 bytes; /proc counts in KiB)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) * 1024 / 1e6
    return fields["VmRSS"], fields["VmHWM"]


def record_memory(supervisor_pid: int, when: str, readings: int = 3) -> None:
    """Record ``memory.<component>.<when>``: VmRSS of every child of the supervisor."""
    processes = component_processes(supervisor_pid)
    samples: dict[str, list[float]] = {name: [] for name in processes}
    peaks: dict[str, float] = {}
    for i in range(readings):
        if i:
            time.sleep(0.5)
        for name, pid in processes.items():
            rss, hwm = memory_mb(pid)
            samples[name].append(rss)
            peaks[name] = hwm
    for name in sorted(samples):
        record(
            f"memory.{name}.{when}",
            samples[name],
            "MB",
            f"VmRSS, {readings} readings 0.5 s apart; peak (VmHWM) so far {peaks[name]:.1f} MB",
        )
