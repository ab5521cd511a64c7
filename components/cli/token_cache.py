"""The CLI's token cache: one sign-in serves every command until shortly before expiry.

As a keyring would, the IssueToken reply (token, expiry, catalog, roles) is
kept in a file readable by its owner only (0600) in a directory only they can
enter (0700): ``$XDG_CACHE_HOME/stratus/tokens`` or ``~/.cache/stratus/tokens``.
One file per cloud and user, keyed on the auth URL, domain, user name and
project name, so two clouds or two users never share a
token. The password is never written. A token within ``EXPIRY_MARGIN_SECONDS``
of its expiry is not used; a file that is not the user's own 0600 file is
ignored. ``OS_TOKEN_CACHE=0`` or ``--no-cache`` turns the cache off.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import json
import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from components.cli.cloud_config import Credentials
from stratus.identity.v1 import identity_service_pb2 as identity_pb2

log = logging.getLogger(__name__)

# A token this close to its expiry is not used: a command (a --wait, an upload)
# must not lose its token half-way.
EXPIRY_MARGIN_SECONDS = 300.0
ENV_SWITCH = "OS_TOKEN_CACHE"
FORMAT = 1


def enabled(environ: Mapping[str, str]) -> bool:
    """False when ``OS_TOKEN_CACHE`` says off (0, false, no, off)."""
    return environ.get(ENV_SWITCH, "1").strip().lower() not in {"0", "false", "no", "off"}


def directory(environ: Mapping[str, str]) -> Path:
    """Where the token files live (the user's cache directory)."""
    base = environ.get("XDG_CACHE_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    return root / "stratus" / "tokens"


def key_of(creds: Credentials) -> dict[str, str]:
    """Who the token is for: the fields that pick a cache file (never the password)."""
    return {
        "auth_url": creds.auth_url,
        "domain": creds.domain_name,
        "username": creds.username,
        "project_name": creds.project_name,
    }


class TokenCache:
    """The token files of one user's cache directory."""

    def __init__(self, root: Path, margin_seconds: float = EXPIRY_MARGIN_SECONDS) -> None:
        self.root = root
        self.margin = datetime.timedelta(seconds=margin_seconds)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> TokenCache:
        return cls(directory(os.environ if environ is None else environ))

    def path(self, creds: Credentials) -> Path:
        key = json.dumps(key_of(creds), sort_keys=True).encode()
        return self.root / f"{hashlib.sha256(key).hexdigest()}.json"

    def load(self, creds: Credentials) -> identity_pb2.IssueTokenResponse | None:
        """The cached login for ``creds``, if there is one that is still good for a while."""
        login = self._read(creds)
        if login is not None and not self._fresh(login):
            log.debug("cached token expires at %s: signing in again", _expiry(login))
            return None
        return login

    def _read(self, creds: Credentials) -> identity_pb2.IssueTokenResponse | None:
        path = self.path(creds)
        try:
            with open(path, "rb") as handle:
                info = os.fstat(handle.fileno())
                if info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
                    log.debug("token cache %s ignored: not a private file of this user", path)
                    return None
                record = json.loads(handle.read())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.debug("token cache %s unreadable: %s", path, exc)
            return None
        if not isinstance(record, dict) or record.get("key") != key_of(creds):
            return None
        try:
            login = identity_pb2.IssueTokenResponse.FromString(base64.b64decode(record["login"]))
        except (KeyError, ValueError, TypeError) as exc:
            log.debug("token cache %s unreadable: %s", path, exc)
            return None
        return login

    def store(self, creds: Credentials, login: identity_pb2.IssueTokenResponse) -> None:
        """Keep ``login`` for the next commands; a cache that cannot be written is skipped."""
        if not self._fresh(login):
            return
        record = {
            "format": FORMAT,
            "key": key_of(creds),
            "expires": _expiry(login).isoformat(),
            "login": base64.b64encode(login.SerializeToString()).decode(),
        }
        path = self.path(creds)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            self._make_directory()
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                json.dump(record, handle)
            os.replace(temporary, path)
        except OSError as exc:
            log.debug("token not cached in %s: %s", self.root, exc)
            with contextlib.suppress(OSError):
                temporary.unlink()

    def remove(self, creds: Credentials, token: str | None = None) -> bool:
        """Forget the cached token of ``creds`` (only if it is ``token``, when given)."""
        path = self.path(creds)
        if token is not None:
            cached = self._read(creds)
            if cached is None or cached.token != token:
                return False
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def _fresh(self, login: identity_pb2.IssueTokenResponse) -> bool:
        if not login.token or not login.HasField("expires_time"):
            return False
        now = datetime.datetime.now(datetime.UTC)
        return _expiry(login) - self.margin > now

    def _make_directory(self) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        # parents=True creates the parents with the default mode: keep them private too.
        for folder in (self.root, self.root.parent):
            if folder.stat().st_uid == os.getuid():
                folder.chmod(0o700)


def _expiry(login: identity_pb2.IssueTokenResponse) -> datetime.datetime:
    return login.expires_time.ToDatetime(tzinfo=datetime.UTC)
