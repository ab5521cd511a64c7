"""A port run-all needs is taken: who holds it, and which offset would be free.

The holder is found as ``ss -ltnp`` finds it, without needing ``ss``: the
listening socket's inode from ``/proc/net/tcp`` and ``tcp6``, then the process
with a file descriptor on ``socket:[inode]`` (only processes this user may
look into; otherwise the holder is simply not named).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path

from components.framework import bindable

LISTEN = "0A"
# Offsets suggested when a port is busy: the first whose ports are all free.
SUGGESTED_OFFSETS = tuple(range(1000, 11000, 1000))


class PortBusy(Exception):
    """A port run-all needs is in use; the message is one line saying what to do."""


def is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether run-all can bind ``port`` on ``host`` (the loopback by default)."""
    return bindable(host, port)


def listening_inodes(port: int, proc: Path = Path("/proc")) -> set[str]:
    """Inodes of the TCP sockets listening on ``port`` (any address, IPv4 or IPv6)."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in (proc / "net" / table).read_text().splitlines()[1:]:
                fields = line.split()
                listening = len(fields) > 9 and fields[3] == LISTEN
                if listening and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    return inodes


def holder(port: int, proc: Path = Path("/proc")) -> str:
    """``pid 1234 (python3 -m components.api)`` listening on ``port``, or "" if unknown."""
    wanted = {f"socket:[{inode}]" for inode in listening_inodes(port, proc)}
    if not wanted:
        return ""
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (pid_dir / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if str(fd.readlink()) in wanted:
                        return f"pid {pid_dir.name} ({_command(pid_dir)})"
    return ""


def _command(pid_dir: Path) -> str:
    try:
        argv = (pid_dir / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    text = " ".join(" ".join(a.decode(errors="replace").split()) for a in argv if a)
    return text[:80] or "?"


def free_offset(ports: Iterable[int], current: int) -> int | None:
    """An offset from SUGGESTED_OFFSETS at which every one of ``ports`` (taken at
    ``current``) is free, or None."""
    base = [p - current for p in ports]
    for offset in SUGGESTED_OFFSETS:
        if offset != current and all(0 < p + offset < 65536 and is_free(p + offset) for p in base):
            return offset
    return None


def busy_message(
    name: str, port: int, all_ports: Iterable[int] | None = None, current: int = 0
) -> str:
    """One line: the port, who holds it, and (given every port of the cloud, taken at
    offset ``current``) the offset that gets past it."""
    who = holder(port)
    offset = free_offset(all_ports, current) if all_ports is not None else None
    way_out = (
        f"run with STRATUS_PORT_OFFSET={offset} (make run-all STRATUS_PORT_OFFSET={offset})"
        if offset is not None
        else "run with STRATUS_PORT_OFFSET=N (every port moves up by N)"
    )
    return (
        f"port {port} ({name}) is in use"
        + (f" by {who}" if who else "")
        + f": stop that, or {way_out}"
    )
