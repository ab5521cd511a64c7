"""Where the CLI keeps the private keys it generated, so ``server ssh`` finds them.

``keypair create NAME`` without ``--private-key`` saves the key (0600) as
``$XDG_DATA_HOME/stratus/keys/<cloud>/<NAME>`` (``~/.local/share`` when the
variable is unset), in directories only the user can enter; ``server ssh``
then picks it by the server's key_name. One directory per cloud, as key pair
names are only unique within a cloud (and user).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from components.cli.cloud_config import Credentials
from components.cli.errors import CliError

UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def data_directory(environ: Mapping[str, str]) -> Path:
    """The user's data directory for Stratus (XDG base directory rules)."""
    base = environ.get("XDG_DATA_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "share"
    return root / "stratus"


def cloud_label(creds: Credentials) -> str:
    """The cloud's name, or its auth URL made a file name when given by OS_* variables."""
    return UNSAFE.sub("_", creds.cloud or creds.auth_url).strip("._") or "default"


def key_path(creds: Credentials, key_name: str, environ: Mapping[str, str] | None = None) -> Path:
    """Where the private key of key pair ``key_name`` of this cloud is kept."""
    if not key_name or "/" in key_name or key_name in (".", "..") or "\0" in key_name:
        raise CliError(f"Key pair name {key_name!r} cannot be a file name; use --private-key")
    environ = os.environ if environ is None else environ
    return data_directory(environ) / "keys" / cloud_label(creds) / key_name


def make_private_directories(path: Path) -> None:
    """The directories above ``path``, created 0700 (existing ones are left as they are)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"Cannot create {path.parent}: {exc.strerror}") from None
