"""The rack on real network namespaces: reachability, cuts, teardown, leftovers, the reaper.

Every name carries this test's own prefix (``strk<pid>``) and its subnet is
``10.251.<200..249>.0/24``; traffic goes only to addresses inside those
namespaces. Reachability is a TCP connect to a listener in each machine (no
``ping`` on this machine): it succeeds or is refused only if a packet made the
round trip, and times out when the machine is cut off.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from components.supervisor import qemu_host
from components.supervisor.rack import Rack, RackError

PREFIX = f"strk{os.getpid()}"
OTHER_PREFIX = f"strl{os.getpid()}"
TAG = 200 + os.getpid() % 50
PORT = 17000  # inside the test's own namespaces only
ROOT = Path(__file__).resolve().parents[2]
LISTEN = (
    "import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    f"s.bind(('', {PORT})); s.listen(16); print('ready', flush=True)\n"
    "while True: s.accept()[0].close()"
)
CONNECT = f"import socket, sys\nsocket.create_connection((sys.argv[1], {PORT}), timeout=1).close()"


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "building a rack needs root (network namespaces)"
    if shutil.which("ip") is None:
        return "ip (iproute2) is not installed"
    probe = f"strkprobe{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
        return "network namespaces cannot be created here (ip netns add failed)"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


pytestmark = pytest.mark.skipif(_why_not() is not None, reason=str(_why_not()))


def leftovers(prefix: str) -> list[str]:
    """Namespaces and root-namespace links whose names carry ``prefix``."""
    namespaces = subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True, timeout=10
    ).stdout.split()
    links = subprocess.run(
        ["ip", "-o", "link"], capture_output=True, text=True, timeout=10
    ).stdout.splitlines()
    names = [n for n in namespaces if n.startswith(f"{prefix}-")]
    return names + [line.split(":")[1].strip() for line in links if f" {prefix}-" in line]


def wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.fixture
def data_dir(tmp_path):
    Rack.clean_leftovers(PREFIX, tmp_path)
    Rack.clean_leftovers(OTHER_PREFIX, tmp_path / "other")
    yield tmp_path
    Rack.clean_leftovers(PREFIX, tmp_path)
    Rack.clean_leftovers(OTHER_PREFIX, tmp_path / "other")


def build(data_dir: Path) -> Rack:
    rack = Rack(PREFIX, data_dir, tag=TAG).create()
    rack.add("controller", addresses=2)
    rack.add("compute-1")
    rack.add("compute-2")
    return rack


def listen(rack: Rack, machine: str) -> subprocess.Popen:
    """A TCP listener inside ``machine``; it ends when the rack is destroyed."""
    command = [*rack.exec_prefix(machine), sys.executable, "-c", LISTEN]
    listener = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert listener.stdout.readline() == "ready\n"
    return listener


def reaches_from_root(address: str) -> bool:
    try:
        socket.create_connection((address, PORT), timeout=1).close()
    except OSError:
        return False
    return True


def reaches(rack: Rack, machine: str, address: str) -> bool:
    command = [*rack.exec_prefix(machine), sys.executable, "-c", CONNECT, address]
    return subprocess.run(command, capture_output=True, timeout=10).returncode == 0


def test_every_machine_is_reachable_from_the_operator_and_from_each_other(data_dir):
    rack = build(data_dir)
    listeners = [listen(rack, m) for m in rack.machines()]
    try:
        assert rack.operator_address == f"10.251.{TAG}.1"
        for machine in rack.machines():
            for address in rack.addresses(machine):
                assert reaches_from_root(address), f"operator -> {machine} {address}"
        assert reaches(rack, "compute-1", rack.address("controller", 1))
        assert reaches(rack, "compute-2", rack.address("compute-1"))
        assert reaches(rack, "controller", rack.address("compute-2"))
    finally:
        rack.destroy()
    for listener in listeners:  # ended by destroy: they were in the machines
        assert listener.wait(10) is not None
    assert leftovers(PREFIX) == []
    assert not rack.state_file.exists()


def test_a_machine_placed_at_dot_5_is_reachable_and_goes_with_the_rack(data_dir):
    """run-all's network machine (real guests across machines) sits below the blocks."""
    rack = build(data_dir)
    rack.add("network", host=5)
    listeners = [listen(rack, m) for m in ("network", "compute-1")]
    try:
        assert rack.address("network") == f"10.251.{TAG}.5"
        assert reaches_from_root(rack.address("network"))
        assert reaches(rack, "network", rack.address("compute-1"))
        assert reaches(rack, "compute-2", rack.address("network"))
        with pytest.raises(RackError, match="taken"):
            rack.add("other", host=5)
        assert leftovers(PREFIX).count(f"{PREFIX}-other") == 0
    finally:
        rack.destroy()
    for listener in listeners:
        assert listener.wait(10) is not None
    assert leftovers(PREFIX) == []


def test_a_cut_machine_is_unreachable_until_restored(data_dir):
    rack = build(data_dir)
    for machine in rack.machines():
        listen(rack, machine)
    try:
        rack.cut("compute-1")
        assert not reaches(rack, "compute-1", rack.address("controller"))
        assert not reaches(rack, "controller", rack.address("compute-1"))
        assert not reaches_from_root(rack.address("compute-1"))
        assert reaches(rack, "controller", rack.address("compute-2"))
        rack.restore("compute-1")
        assert wait_until(lambda: reaches(rack, "compute-1", rack.address("controller")), 5)
        assert reaches_from_root(rack.address("compute-1"))
    finally:
        rack.destroy()
    assert leftovers(PREFIX) == []


def test_a_subnet_already_routed_in_the_root_namespace_is_refused(data_dir):
    rack = Rack(PREFIX, data_dir, tag=TAG).create()
    try:
        other = Rack(OTHER_PREFIX, data_dir / "other", tag=TAG)
        with pytest.raises(RackError, match=f"10.251.{TAG}.0/24 is already routed"):
            other.create()
        assert leftovers(OTHER_PREFIX) == []
    finally:
        rack.destroy()


@pytest.mark.parametrize("state_file", ["kept", "lost"])
def test_leftovers_of_a_crashed_run_are_cleaned_with_or_without_its_state_file(
    data_dir, state_file
):
    crashed = build(data_dir)  # and never destroyed, as after kill -9 of the supervisor
    listen(crashed, "compute-2")
    if state_file == "lost":
        crashed.state_file.unlink()
    assert len(leftovers(PREFIX)) == 5

    gone = Rack.clean_leftovers(PREFIX, data_dir)
    # The operator's veth goes with the underlay, unless the kernel is slower than the loop.
    namespaces = {f"{PREFIX}-underlay", *(crashed.namespace(m) for m in crashed.machines())}
    assert set(gone) - {f"{PREFIX}-op"} == namespaces
    assert leftovers(PREFIX) == []
    assert not crashed.state_file.exists()


def test_a_namespace_sharing_the_prefix_without_the_rack_mark_is_left_alone(data_dir):
    stranger = f"{PREFIX}-stranger"
    subprocess.run(["ip", "netns", "add", stranger], check=True, timeout=10)
    try:
        Rack.clean_leftovers(PREFIX, data_dir)
        assert qemu_host.namespace_exists(stranger)
    finally:
        subprocess.run(["ip", "netns", "del", stranger], timeout=10)


def test_the_reaper_deletes_the_rack_when_the_supervisor_is_killed(data_dir):
    code = (
        "import sys, time; from pathlib import Path\n"
        "from components.supervisor.rack import Rack\n"
        f"rack = Rack({PREFIX!r}, Path({str(data_dir)!r}), tag={TAG}).create()\n"
        "rack.add('controller', addresses=2); rack.add('compute-1')\n"
        "print(rack.start_reaper().pid, flush=True); time.sleep(60)"
    )
    supervisor = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, start_new_session=True
    )
    reaper = int(supervisor.stdout.readline())
    guest = subprocess.Popen(["ip", "netns", "exec", f"{PREFIX}-compute-1", "sleep", "60"])
    try:
        assert wait_until(lambda: qemu_host.namespace_pids(f"{PREFIX}-compute-1") == [guest.pid])
        assert len(leftovers(PREFIX)) == 4
        supervisor.kill()  # SIGKILL: nothing of its own stopping runs
        supervisor.wait(10)
        assert guest.wait(15) is not None
        assert wait_until(lambda: leftovers(PREFIX) == [], 15)
        assert wait_until(lambda: gone(reaper), 10)
    finally:
        for pid in (supervisor.pid, guest.pid, reaper):
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)


def gone(pid: int) -> bool:
    """Exited: no such process, or a zombie its new parent has not collected yet."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_a_rack_in_use_by_another_run_is_refused_not_torn_down(data_dir):
    with Rack(PREFIX, data_dir, TAG) as rack:
        rack.add("controller")
        sleeper = subprocess.Popen([*rack.exec_prefix("controller"), "sleep", "60"])
        try:
            assert wait_until(lambda: qemu_host.namespace_pids(rack.namespace("controller")))
            second = Rack(PREFIX, data_dir / "second", TAG)
            with pytest.raises(RackError, match="in use by another run"):
                second.refuse_if_in_use(settle_seconds=0.5)
            with pytest.raises(RackError, match="STRATUS_PORT_OFFSET"):
                # Refused before anything of the live rack is touched.
                second.create(settle_seconds=0.5)
            assert rack.namespace("controller") in leftovers(PREFIX)
        finally:
            sleeper.kill()
            sleeper.wait()
