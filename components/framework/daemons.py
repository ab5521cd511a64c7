"""Programs a component runs as its children (dnsmasq, qemu-storage-daemon) and finds
again by their pid files after it crashed.

A pid in a file may have been reused by another process since: a process is only
taken for ours while its command line is still the program's, with an argument
only ours carry (the pid file's path).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from pathlib import Path

log = logging.getLogger(__name__)


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(Path(pid_file).read_text().strip())
    except (OSError, ValueError):
        return None


def runs(pid: int, program: str, argument: str) -> bool:
    """Whether ``pid`` runs ``program`` (its file name) with ``argument`` among its own."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return os.path.basename(argv[0]) == os.fsencode(program) and os.fsencode(argument) in argv


def wait_gone(pid: int, timeout: float) -> bool:
    """Until ``pid`` has exited (a zombie its parent has yet to reap counts), or False."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def stop_stale(pid_file: Path, program: str, argument: str, timeout: float) -> int | None:
    """Stop (SIGTERM, then SIGKILL after ``timeout``) the process ``pid_file`` names if it
    still runs ``program`` with ``argument``; remove the file. The pid stopped, or None."""
    pid_file = Path(pid_file)
    pid = read_pid(pid_file)
    stopped = None
    if pid is not None and runs(pid, program, argument):
        log.warning("stopping stale %s %s (%s)", program, pid, pid_file)
        stopped = pid
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            if wait_gone(pid, timeout):
                break
    pid_file.unlink(missing_ok=True)
    return stopped


def stop_child(process: subprocess.Popen, timeout: float, what: str) -> None:
    """End a child (SIGTERM, then SIGKILL after ``timeout``); nothing if it has exited."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        log.warning("%s ignored SIGTERM; killing it", what)
        process.kill()
        process.wait(timeout)
