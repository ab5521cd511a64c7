"""The serial console log of a guest: the file its <serial type='file'> writes to."""

from __future__ import annotations

import dataclasses
import os

from components.compute.disks import CONSOLE_LOG
from components.compute.host import Host
from components.framework import NotFound

# Only the end of a log is ever returned.
CAP_BYTES = 100 * 1024


@dataclasses.dataclass(frozen=True)
class ConsoleOutput:
    text: str
    # Older output was left out because of the cap.
    truncated: bool


def console_output(host: Host, instance_id: str, lines: int | None) -> ConsoleOutput:
    """The last ``lines`` lines of the log (all of it if None), within the last 100 KiB."""
    path = host.instance_dir(instance_id) / CONSOLE_LOG
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            fh.seek(max(0, size - CAP_BYTES))
            data = fh.read(CAP_BYTES)
    except FileNotFoundError:
        if host.driver.domain(instance_id) is None:
            raise NotFound(
                f"instance {instance_id} is not on host {host.name}",
                reason="INSTANCE_NOT_ON_HOST",
                instance_id=instance_id,
            ) from None
        return ConsoleOutput("", False)
    return ConsoleOutput(_tail(data.decode("utf-8", errors="replace"), lines), size > CAP_BYTES)


def _tail(text: str, lines: int | None) -> str:
    if lines is None:
        return text
    if lines == 0:
        return ""
    return "".join(text.splitlines(keepends=True)[-lines:])
