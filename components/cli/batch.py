"""Commands that act on several resources at once (``server delete a b c``).

As python-openstackclient does, each one is tried, each failure is printed on
its own line, and the command ends with one error counting the failures. With
a single resource its error is the command's error: one line, not two.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import click

from components.cli.errors import CliError


def each(kind: str, refs: Sequence[str], act: Callable[[str], None], verb: str = "delete") -> None:
    """``act(ref)`` for every ref; then fail if any failed."""
    if len(refs) == 1:
        act(refs[0])
        return
    failed = 0
    for ref in refs:
        try:
            act(ref)
        except CliError as exc:
            failed += 1
            click.echo(f"Error: {exc.format_message()}", err=True)
    if failed:
        plural = kind if len(refs) == 1 else f"{kind}s"
        raise CliError(f"{failed} of {len(refs)} {plural} failed to {verb}")
