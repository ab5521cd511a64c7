"""What a long command shows on stderr while it runs: transfer bars and a wait spinner.

Everything goes to stderr so that ``-f json`` on stdout stays parseable. On a
terminal the display is live (rich); otherwise a waiting command prints one
line per change and a transfer prints nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text


def stderr() -> Console:
    return Console(stderr=True, highlight=False)


# Redraws of a transfer bar per second: each takes the GIL from the threads that
# move the data, and a person reads no more than a few a second.
TRANSFER_REFRESHES_PER_SECOND = 4


@contextlib.contextmanager
def transfer(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A byte progress bar; yields ``advance(nbytes)`` (a no-op off a terminal)."""
    console = stderr()
    if not console.is_terminal:
        yield lambda nbytes: None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
        refresh_per_second=TRANSFER_REFRESHES_PER_SECOND,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda nbytes: bar.advance(task, nbytes)


@contextlib.contextmanager
def waiting(description: str) -> Iterator[Callable[[str], None]]:
    """A spinner with a status line; yields ``show(text)`` to change the status."""
    console = stderr()
    if not console.is_terminal:
        last: list[str] = []

        def print_line(text: str) -> None:
            if not last or last[-1] != text:
                last.append(text)
                console.print(f"{description}: {text}", markup=False)

        yield print_line
        return
    with console.status(Text(description)) as status:
        yield lambda text: status.update(Text(f"{description}: {text}"))
