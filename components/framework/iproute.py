"""iproute2's ``ip`` and ``bridge`` run as a component runs them: optionally in a
network namespace, bounded in time, a failure raised with the command and its stderr.

The network's VXLAN segments and DHCP namespaces and the supervisor's rack all
drive the kernel this way; one runner gives them the same messages, and lets each
raise its own error class (a subclass of :class:`CommandFailed`) so that their
callers' ``except`` clauses stay what they were.
"""

from __future__ import annotations

import subprocess

TIMEOUT = 10.0  # seconds, one command


class CommandFailed(Exception):
    """An ip or bridge command failed; names the command and carries its stderr.

    ``command`` is None and ``stderr`` empty when a subclass raises it for a reason
    of its own, no command involved.
    """

    def __init__(self, message: str, command: list[str] | None = None, stderr: str = "") -> None:
        super().__init__(message)
        self.command = command
        self.stderr = stderr


def run(
    tool: str,
    *args: str,
    netns: str = "",
    timeout: float = TIMEOUT,
    error: type[CommandFailed] = CommandFailed,
) -> str:
    """``tool`` (``ip`` or ``bridge``) with ``args``, in namespace ``netns`` if given.

    Its standard output; else ``error`` saying the command failed (with its stderr),
    took longer than ``timeout`` seconds, or that iproute2 is not installed.
    """
    command = [tool, *(("-netns", netns) if netns else ()), *args]
    text = " ".join(command)
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise error(f"{tool} (iproute2) is not installed", command) from None
    except subprocess.TimeoutExpired:
        raise error(f"`{text}` took longer than {timeout} s", command) from None
    if result.returncode != 0:
        stderr = result.stderr.strip()
        raise error(f"`{text}` failed: {stderr}", command, stderr)
    return result.stdout
