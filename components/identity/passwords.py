"""Password hashing with bcrypt; verification takes the same time whether the user exists."""

from __future__ import annotations

import base64
import hashlib

import bcrypt

from components.framework import InvalidArgument

MIN_LENGTH = 8
MAX_LENGTH = 4096


def _prehash(password: str) -> bytes:
    # bcrypt reads at most 72 bytes; a SHA-256 digest first keeps every byte significant.
    return base64.b64encode(hashlib.sha256(password.encode()).digest())


def check_strength(password: str, field: str = "password") -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidArgument(f"{field} must have at least {MIN_LENGTH} characters", field=field)
    if len(password) > MAX_LENGTH:
        raise InvalidArgument(f"{field} is longer than {MAX_LENGTH} characters", field=field)


def hash_password(password: str, rounds: int = 12) -> str:
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode()


_DUMMY: dict[int, str] = {}


def verify(password: str, hashed: str | None, rounds: int = 12) -> bool:
    """Whether ``password`` matches; with ``hashed`` None, spends the same time and fails."""
    if not hashed:
        dummy = _DUMMY.setdefault(rounds, hash_password("not-a-password", rounds))
        bcrypt.checkpw(_prehash(password), dummy.encode())
        return False
    return bcrypt.checkpw(_prehash(password), hashed.encode())
