"""Dying with the parent: nothing ``make run-all`` starts may outlive it.

run-all (the supervisor) puts its pid in ``STRATUS_SUPERVISOR_PID`` of every
process it starts. Such a process asks the kernel, first thing, for SIGTERM
when its parent dies (``prctl(PR_SET_PDEATHSIG)``), even if the parent was
killed with SIGKILL, and stops in order as on any SIGTERM. The parent may have
died before the request was made: then the process is already a child of
another, and it stops at once.

The request is made by the child itself, not in ``preexec_fn`` (unsafe in a
process with threads, as the supervisor is). The kernel sends the signal when
the *thread* that started the child ends, so the supervisor starts children
from its main thread only. The setting survives ``exec`` (not of set-user-ID
programs), so ``python -m components.framework.lifeline PID -- COMMAND...``
gives the same guarantee to programs that cannot ask for it themselves
(libvirtd), as long as they do not fork away from their pid.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PARENT_ENV = "STRATUS_SUPERVISOR_PID"
PR_SET_PDEATHSIG = 1


def set_parent_death_signal(sig: int = signal.SIGTERM) -> bool:
    """Have the kernel send ``sig`` to this process when its parent dies; False where
    the kernel cannot (not Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    return True


def die_with(parent_pid: int, sig: int = signal.SIGTERM) -> None:
    """Get ``sig`` when ``parent_pid`` (our parent) dies; get it now if it already has."""
    set_parent_death_signal(sig)
    if os.getppid() != parent_pid:  # it died before we asked: nobody will tell us
        os.kill(os.getpid(), sig)


def die_with_supervisor(environ=os.environ) -> None:
    """``die_with`` the supervisor named in ``STRATUS_SUPERVISOR_PID``, if any."""
    parent = environ.get(PARENT_ENV, "")
    if parent.isdigit():
        die_with(int(parent))


def wrap(command: list[str] | tuple[str, ...], parent_pid: int) -> list[str]:
    """``command`` run so that it gets SIGTERM when ``parent_pid`` (its parent) dies."""
    return [sys.executable, "-m", "components.framework.lifeline", str(parent_pid), "--", *command]


def main(argv: list[str]) -> int:
    """``lifeline PARENT_PID -- COMMAND [ARGS...]``: ``die_with`` PARENT_PID, then exec."""
    if len(argv) < 3 or argv[1] != "--" or not argv[0].isdigit():
        print(
            "usage: python -m components.framework.lifeline PARENT_PID -- COMMAND...",
            file=sys.stderr,
        )
        return 2
    die_with(int(argv[0]))
    # Python ignores these; an ignored signal stays ignored across exec (subprocess
    # restores them for its children, and so must an exec that stands in for it).
    for name in ("SIGPIPE", "SIGXFSZ"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    os.execvp(argv[2], argv[2:])
    return 127  # not reached: execvp raises if it fails


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
