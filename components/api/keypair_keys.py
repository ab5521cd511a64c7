"""SSH keys for key pairs: generating them, and checking and fingerprinting imported ones.

Parsing is left to ``cryptography`` (``load_ssh_public_key``), which refuses bad
base64 and a blob whose type differs from the line's; what is checked here is
what Nova checks on top: one line, a type servers can use, RSA of at least
2048 bits. The fingerprint is Nova's: MD5 of the key blob as colon hex, what
``ssh-keygen -l -E md5`` shows.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from components.framework import InvalidArgument

GENERATED_TYPES = ("ssh-ed25519", "ssh-rsa")
IMPORTED_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
)
RSA_GENERATED_BITS = 3072
RSA_MIN_BITS = 2048
PUBLIC_KEY_MAX_BYTES = 16 * 1024
# The comment a generated public key carries (Nova writes "Generated-by-Nova").
GENERATED_COMMENT = "Generated-by-Stratus"


@dataclasses.dataclass(frozen=True)
class PublicKey:
    """A checked public key: the line as stored, its type and its fingerprint."""

    line: str
    key_type: str
    fingerprint: str


def fingerprint(blob: bytes) -> str:
    """Nova's fingerprint: MD5 of the decoded key blob, as ``aa:bb:...``."""
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def _bad(why: str) -> InvalidArgument:
    return InvalidArgument(f"public_key {why}", field="public_key")


def parse_public_key(text: str) -> PublicKey:
    """``text`` as one OpenSSH public key line; InvalidArgument (field public_key) if it is not."""
    if len(text.encode()) > PUBLIC_KEY_MAX_BYTES:
        raise _bad(f"is longer than {PUBLIC_KEY_MAX_BYTES} bytes")
    line = text.strip()
    if not line:
        raise _bad("is required")
    if "\n" in line or "\r" in line:
        raise _bad("must be exactly one OpenSSH public key line")
    parts = line.split()
    if len(parts) < 2:
        raise _bad("is not an OpenSSH public key (TYPE BASE64 [COMMENT])")
    key_type, encoded = parts[0], parts[1]
    if key_type not in IMPORTED_TYPES:
        raise _bad(f"has type {key_type[:32]!r}; allowed: {', '.join(IMPORTED_TYPES)}")
    try:
        blob = base64.b64decode(encoded, validate=True)
        key = serialization.load_ssh_public_key(f"{key_type} {encoded}".encode())
    except (ValueError, binascii.Error, UnsupportedAlgorithm):
        raise _bad("is not a valid OpenSSH public key") from None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < RSA_MIN_BITS:
        raise _bad(f"is an RSA key of {key.key_size} bits; at least {RSA_MIN_BITS} are needed")
    return PublicKey(line=line, key_type=key_type, fingerprint=fingerprint(blob))


def generate(key_type: str) -> tuple[PublicKey, str]:
    """A new key of ``key_type`` ("ssh-ed25519" or "ssh-rsa"): (public key, OpenSSH private key)."""
    if key_type == "ssh-rsa":
        private = rsa.generate_private_key(public_exponent=65537, key_size=RSA_GENERATED_BITS)
    elif key_type == "ssh-ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        raise InvalidArgument(
            f"key_type must be one of {', '.join(GENERATED_TYPES)}", field="key_type"
        )
    public = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    line = f"{public.decode()} {GENERATED_COMMENT}"
    return parse_public_key(line), pem.decode()
