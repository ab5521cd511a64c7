"""Dying with the parent: the kernel's parent-death signal, asked for by the child (or by
the lifeline wrapper for programs that cannot), and the reaper of the QEMU namespace."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from components.framework import lifeline
from components.supervisor import qemu_host

# Starts CHILD (argv) and prints its pid, then sleeps until killed: a stand-in for run-all.
PARENT = textwrap.dedent(
    """
    import os, subprocess, sys, time
    env = {**os.environ, "STRATUS_SUPERVISOR_PID": str(os.getpid())}
    child = subprocess.Popen(sys.argv[1:], env=env)
    print(child.pid, flush=True)
    time.sleep(300)
    """
)


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def wait_gone(pid: int, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not gone(pid):
        time.sleep(0.05)
    return gone(pid)


def start_parent(*child: str) -> tuple[subprocess.Popen, int]:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, *child], stdout=subprocess.PIPE, start_new_session=True
    )
    return parent, int(parent.stdout.readline())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_wrapped_program_gets_sigterm_when_its_parent_is_killed():
    # The wrapper as run-all starts it, told its parent's pid by the parent's environment.
    wrapped = (
        "import os, sys; from components.framework import lifeline; "
        "parent = int(os.environ['STRATUS_SUPERVISOR_PID']); "
        "os.execv(sys.executable, lifeline.wrap(['sleep', '300'], parent))"
    )
    parent, child = start_parent(sys.executable, "-c", wrapped)
    try:
        assert not wait_gone(child, timeout=0.5)
        parent.kill()
        parent.wait()
        assert wait_gone(child)
    finally:
        for pid in (child, parent.pid):
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_component_started_by_run_all_dies_with_it():
    """What component.main does first: die_with_supervisor (STRATUS_SUPERVISOR_PID)."""
    code = (
        "from components.framework import lifeline; import time; "
        "lifeline.die_with_supervisor(); time.sleep(300)"
    )
    parent, child = start_parent(sys.executable, "-c", code)
    try:
        assert not wait_gone(child, timeout=1.0)
        parent.kill()
        parent.wait()
        assert wait_gone(child)
    finally:
        for pid in (child, parent.pid):
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_program_whose_parent_is_already_gone_stops_at_once():
    """The race: the parent died before the child asked; the child is not its child."""
    wrapped = subprocess.run(
        [sys.executable, "-m", "components.framework.lifeline", "1", "--", "sleep", "300"],
        timeout=60,
    )
    assert wrapped.returncode == -signal.SIGTERM


def test_without_a_supervisor_nothing_is_asked():
    lifeline.die_with_supervisor({})  # no STRATUS_SUPERVISOR_PID: returns, nothing happens


def test_the_wrapper_runs_the_command_under_the_parents_watch():
    assert lifeline.wrap(["libvirtd", "-f", "x"], 42) == [
        sys.executable,
        "-m",
        "components.framework.lifeline",
        "42",
        "--",
        "libvirtd",
        "-f",
        "x",
    ]


def _namespaces_work() -> bool:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return False
    probe = f"stratus-probe-{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
        return False
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return True


@pytest.mark.skipif(not _namespaces_work(), reason="needs root and network namespaces")
def test_the_reaper_deletes_the_namespace_and_its_processes_when_run_all_dies():
    namespace = f"stratus-reap-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", namespace], check=True)
    guest = subprocess.Popen(["ip", "netns", "exec", namespace, "sleep", "300"])
    code = (
        "import sys, time; from components.supervisor import qemu_host; "
        f"r = qemu_host.start_reaper({namespace!r}); print(r.pid, flush=True); time.sleep(300)"
    )
    run_all = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True
    )
    reaper = int(run_all.stdout.readline())
    try:
        assert qemu_host.namespace_pids(namespace) == [guest.pid]
        run_all.kill()  # as SIGKILL: nothing of run-all's own stopping runs
        run_all.wait()
        guest.wait(30)
        assert wait_gone(reaper, timeout=30)
        assert not qemu_host.namespace_exists(namespace)
    finally:
        for pid in (reaper, guest.pid):
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
        if qemu_host.namespace_exists(namespace):
            subprocess.run(["ip", "netns", "del", namespace])
