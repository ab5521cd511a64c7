"""A guard that the test suite leaves the host's own files alone.

Tests write only under their temporary directories. A tool handed a host path
by mistake (qemu-img creates and zero-fills a qcow2's external data file, for
example) would silently overwrite it; the guard notices and fails the run.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path

GUARDED = (Path("/etc/hostname"), Path("/etc/passwd"), Path("/etc/hosts"))
# What installing a Debian package may change (its postinst adds system users).
PACKAGE_OWNED = (Path("/etc/passwd"),)

# (sha256, size, mtime_ns) of a file, or None when it does not exist (or cannot be read).
Fingerprint = tuple[str, int, int] | None


def fingerprint(path: Path) -> Fingerprint:
    try:
        stat = path.stat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
    return digest, stat.st_size, stat.st_mtime_ns


def snapshot(paths: tuple[Path, ...] = GUARDED) -> dict[Path, Fingerprint]:
    return {path: fingerprint(path) for path in paths}


def changes(before: dict[Path, Fingerprint], after: dict[Path, Fingerprint]) -> list[str]:
    """One line per guarded file that changed between the two snapshots."""
    found = []
    for path, was in before.items():
        now = after.get(path)
        if now == was:
            continue
        if was is None or now is None:
            found.append(f"{path} was {'created' if was is None else 'removed'}")
        else:
            found.append(
                f"{path} was written: {was[1]} bytes (sha256 {was[0][:12]})"
                f" -> {now[1]} bytes (sha256 {now[0][:12]})"
            )
    return found


class Guard:
    """The fingerprints a run started with; changes made by installing packages on
    purpose (see :meth:`installing_packages`) are taken into the baseline."""

    def __init__(
        self, paths: tuple[Path, ...] = GUARDED, package_owned: tuple[Path, ...] = PACKAGE_OWNED
    ) -> None:
        self.package_owned = package_owned
        self.baseline = snapshot(paths)

    def changes(self) -> list[str]:
        return changes(self.baseline, snapshot(tuple(self.baseline)))

    @contextlib.contextmanager
    def installing_packages(self) -> Iterator[None]:
        """Around an apt-get install a test needs (QEMU, libvirtd): the system users it
        adds to /etc/passwd are the package's doing, not a test's; anything else still
        counts."""
        before = snapshot(self.package_owned)
        yield
        after = snapshot(self.package_owned)
        for path in self.package_owned:
            if self.baseline.get(path) == before[path]:
                self.baseline[path] = after[path]


GUARD: Guard | None = None


def installing_packages() -> contextlib.AbstractContextManager[None]:
    return GUARD.installing_packages() if GUARD is not None else contextlib.nullcontext()
