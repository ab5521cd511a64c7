"""The Fernet key repository, as Keystone keeps it.

Keys are files named by number in one directory (mode 0700, files 0600):
``0`` is the staged key (the next primary, already accepted so that every
identity process knows it before it signs with it), the highest number is the
primary (signs new tokens), everything between is a secondary (still accepted).
Rotation promotes the staged key to primary, stages a new key, and drops the
oldest secondaries beyond ``max_active_keys``.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet

RECHECK_SECONDS = 1.0


class KeyRepository:
    def __init__(self, directory: Path, max_active_keys: int = 3) -> None:
        if max_active_keys < 2:
            raise ValueError("max_active_keys must be at least 2 (staged and primary)")
        self.directory = Path(directory)
        self.max_active_keys = max_active_keys
        self._lock = threading.Lock()
        self._fernet: MultiFernet | None = None
        self._loaded_from: tuple[tuple[int, float], ...] = ()
        self._checked = 0.0

    def _write(self, number: int, key: bytes) -> None:
        path = self.directory / str(number)
        tmp = self.directory / f".{number}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        os.replace(tmp, path)

    def numbers(self) -> list[int]:
        if not self.directory.is_dir():
            return []
        return sorted(int(p.name) for p in self.directory.iterdir() if p.name.isdigit())

    def ensure(self) -> None:
        """Create the repository with a staged and a primary key if it has none."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.directory, 0o700)
        with self._lock:
            numbers = self.numbers()
            if 0 not in numbers:
                self._write(0, Fernet.generate_key())
            if len([n for n in numbers if n > 0]) == 0:
                self._write(1, Fernet.generate_key())

    def rotate(self) -> int:
        """Staged becomes primary, a new key is staged, old secondaries go. Returns the primary."""
        self.ensure()
        with self._lock:
            numbers = self.numbers()
            primary = max(numbers) + 1
            os.replace(self.directory / "0", self.directory / str(primary))
            self._write(0, Fernet.generate_key())
            keep = self.max_active_keys - 2  # besides staged and primary
            secondaries = sorted(n for n in numbers if n > 0)
            for number in secondaries[: max(0, len(secondaries) - keep)]:
                (self.directory / str(number)).unlink()
            self._fernet = None
            return primary

    def fernet(self) -> MultiFernet:
        """Primary first (it encrypts), then the rest; reloaded when the files change.

        The directory is looked at no more than once a second: a rotation by the
        management command reaches a running identity within that second.
        """
        now = time.monotonic()
        if self._fernet is not None and now - self._checked < RECHECK_SECONDS:
            return self._fernet
        with self._lock:
            self._checked = now
            stamp = tuple((n, (self.directory / str(n)).stat().st_mtime) for n in self.numbers())
            if self._fernet is None or stamp != self._loaded_from:
                order = sorted((n for n, _ in stamp), key=lambda n: (n == 0, -n))
                keys = [Fernet((self.directory / str(n)).read_bytes()) for n in order]
                if not keys:
                    raise RuntimeError(f"no Fernet keys in {self.directory}")
                self._fernet, self._loaded_from = MultiFernet(keys), stamp
            return self._fernet
