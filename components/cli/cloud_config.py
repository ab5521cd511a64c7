"""Where the CLI's credentials come from: clouds.yaml, OS_* variables and flags.

As with python-openstackclient, a cloud named with ``--os-cloud`` or
``OS_CLOUD`` is read from the first clouds.yaml found (``OS_CLIENT_CONFIG_FILE``,
then ``./clouds.yaml``, ``~/.config/stratus/clouds.yaml``,
``/etc/stratus/clouds.yaml``); ``OS_*`` variables override it and flags
override both (click hands flags and variables over already merged).

TLS is chosen, as openstacksdk's clouds.yaml has it, by a cloud's ``cacert``
(``OS_CACERT``, ``--os-cacert``): the CA bundle every service's certificate is
verified against. ``cert`` and ``key`` (``OS_CERT``, ``OS_KEY``) add a client
certificate, which only services' internal endpoints ask for. Addresses stay
``host:port``; there is no ``insecure`` or ``verify: false``: a cloud with TLS
is always verified.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from pathlib import Path

import yaml

from components.cli.errors import CliError

DEFAULT_DOMAIN = "default"
# Setting -> (flag, variable), for naming what is missing.
SOURCES = {
    "auth_url": ("--os-auth-url", "OS_AUTH_URL"),
    "username": ("--os-username", "OS_USERNAME"),
    "password": ("--os-password", "OS_PASSWORD"),
    "project_name": ("--os-project-name", "OS_PROJECT_NAME"),
    "user_domain_name": ("--os-user-domain-name", "OS_USER_DOMAIN_NAME"),
    "project_domain_name": ("--os-project-domain-name", "OS_PROJECT_DOMAIN_NAME"),
    "region_name": ("--os-region-name", "OS_REGION_NAME"),
    "cacert": ("--os-cacert", "OS_CACERT"),
    "cert": ("--os-cert", "OS_CERT"),
    "key": ("--os-key", "OS_KEY"),
}
REQUIRED = ("username", "password", "project_name")
# Settings of a cloud itself in clouds.yaml, beside its ``auth`` section.
CLOUD_KEYS = ("region_name", "cacert", "cert", "key")
# What each TLS file must hold, checked for a clear error before gRPC's own.
PEM_MARKERS = {
    "cacert": b"-----BEGIN CERTIFICATE-----",
    "cert": b"-----BEGIN CERTIFICATE-----",
    "key": b"PRIVATE KEY-----",
}


@dataclasses.dataclass(frozen=True)
class Credentials:
    """Everything needed to ask identity for a token."""

    auth_url: str
    username: str
    password: str = dataclasses.field(repr=False)
    project_name: str
    domain_name: str = DEFAULT_DOMAIN
    region_name: str = ""
    cloud: str = ""
    # TLS: the CA bundle to verify services with ("" for plaintext) and a client
    # certificate with its key (both "" when none).
    cacert: str = ""
    cert: str = ""
    key: str = ""

    @property
    def tls(self) -> bool:
        return bool(self.cacert)


@dataclasses.dataclass(frozen=True)
class TlsFiles:
    """The PEM bytes of a cloud's CA bundle and, if given, client certificate and key."""

    ca: bytes
    cert: bytes | None = None
    key: bytes | None = None


def search_path(environ: Mapping[str, str], cwd: Path, home: Path) -> list[Path]:
    """The clouds.yaml files looked at, in order."""
    paths = []
    if environ.get("OS_CLIENT_CONFIG_FILE"):
        paths.append(Path(environ["OS_CLIENT_CONFIG_FILE"]).expanduser())
    paths += [
        cwd / "clouds.yaml",
        home / ".config" / "stratus" / "clouds.yaml",
        Path("/etc/stratus/clouds.yaml"),
    ]
    return paths


def cloud_settings(name: str, paths: list[Path]) -> dict[str, str]:
    """The settings of cloud ``name`` from the first clouds.yaml that exists."""
    found = next((p for p in paths if p.is_file()), None)
    if found is None:
        looked = ", ".join(str(p) for p in paths)
        raise CliError(
            f"Cloud '{name}' was asked for but no clouds.yaml exists (looked at {looked})"
        )
    try:
        document = yaml.safe_load(found.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise CliError(f"Cannot read {found}: {' '.join(str(exc).split())}") from None
    clouds = document.get("clouds") if isinstance(document, dict) else None
    if not isinstance(clouds, dict) or name not in clouds:
        known = ", ".join(sorted(clouds)) if isinstance(clouds, dict) else "none"
        raise CliError(f"No cloud named '{name}' in {found} (clouds there: {known})")
    cloud = clouds[name] or {}
    _refuse_insecure(name, found, cloud)
    auth = cloud.get("auth") or {}
    settings = {key: auth.get(key) for key in SOURCES if key not in CLOUD_KEYS}
    settings.update({key: cloud.get(key) for key in CLOUD_KEYS})
    # clouds.yaml may name one domain for both.
    for key in ("user_domain_name", "project_domain_name"):
        settings[key] = settings[key] or auth.get("domain_name")
    return {k: str(v) for k, v in settings.items() if v not in (None, "")}


def _refuse_insecure(name: str, found: Path, cloud: dict) -> None:
    """``verify: false`` or ``insecure: true`` would skip checking the server: refused."""
    if cloud.get("verify") is False or cloud.get("insecure") in (True, "true", "True"):
        raise CliError(
            f"Cloud '{name}' in {found} turns certificate verification off (verify: false or "
            "insecure: true); Stratus does not support that: give the CA that signed the "
            "services' certificates as cacert"
        )


def identity_address(url: str) -> str:
    """``host:port`` from what users put in OS_AUTH_URL (``http://host:port/v3`` too)."""
    address = re.sub(r"^[a-z][a-z0-9+.-]*://", "", url.strip(), flags=re.IGNORECASE)
    address = address.split("/", 1)[0]
    if not re.fullmatch(r"(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}", address):
        raise CliError(
            f"The identity address '{url}' is not host:port (for example 127.0.0.1:5000)"
        )
    return address


def credentials(
    cloud: str | None,
    given: Mapping[str, str | None],
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    home: Path | None = None,
) -> Credentials:
    """The credentials of ``cloud`` (if any) overridden by ``given`` (flags and OS_* vars)."""
    environ = os.environ if environ is None else environ
    settings: dict[str, str] = {}
    if cloud:
        paths = search_path(environ, cwd or Path.cwd(), home or Path.home())
        settings.update(cloud_settings(cloud, paths))
    settings.update({k: v for k, v in given.items() if v not in (None, "")})
    if not settings.get("auth_url"):
        raise CliError(
            "No identity address: set OS_AUTH_URL (host:port, e.g. 127.0.0.1:5000) or "
            "--os-auth-url, or name a cloud from clouds.yaml with --os-cloud or OS_CLOUD"
        )
    missing = [k for k in REQUIRED if not settings.get(k)]
    if missing:
        named = ", ".join(f"{SOURCES[k][1]} or {SOURCES[k][0]}" for k in missing)
        raise CliError(f"Missing credentials: set {named}")
    return Credentials(
        auth_url=identity_address(settings["auth_url"]),
        username=settings["username"],
        password=settings["password"],
        project_name=settings["project_name"],
        domain_name=_one_domain(settings),
        region_name=settings.get("region_name", ""),
        cloud=cloud or "",
        **_tls_paths(settings),
    )


def _tls_paths(settings: Mapping[str, str]) -> dict[str, str]:
    """cacert, cert and key as paths (``~`` expanded), checked to belong together."""
    paths = {k: str(Path(settings[k]).expanduser()) for k in PEM_MARKERS if settings.get(k)}
    if ("cert" in paths) != ("key" in paths):
        given, absent = ("cert", "key") if "cert" in paths else ("key", "cert")
        raise CliError(
            f"A client certificate needs both files: {SOURCES[given][1]} is set but not "
            f"{SOURCES[absent][1]} (or {SOURCES[absent][0]}, or {absent} in clouds.yaml)"
        )
    if "cert" in paths and "cacert" not in paths:
        raise CliError(
            "A client certificate is presented over TLS only: set OS_CACERT or --os-cacert "
            "(or cacert in clouds.yaml) to the CA bundle that verifies the services"
        )
    return paths


def read_tls(creds: Credentials) -> TlsFiles:
    """The PEM files ``creds`` names; a file that cannot be read or is no PEM is a CliError."""
    return TlsFiles(
        ca=_read_pem(creds.cacert, "cacert"),
        cert=_read_pem(creds.cert, "cert") if creds.cert else None,
        key=_read_pem(creds.key, "key") if creds.key else None,
    )


def _read_pem(path: str, setting: str) -> bytes:
    flag, variable = SOURCES[setting]
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CliError(
            f"Cannot read {path} ({variable}, {flag} or {setting} in clouds.yaml): "
            f"{exc.strerror or exc}"
        ) from None
    if PEM_MARKERS[setting] not in data:
        kind = "private key" if setting == "key" else "certificate"
        raise CliError(
            f"{path} ({variable}, {flag} or {setting} in clouds.yaml) holds no PEM {kind}"
        )
    return data


def _one_domain(settings: Mapping[str, str]) -> str:
    """Identity looks user and project up in one domain, so both names must agree."""
    user = settings.get("user_domain_name")
    project = settings.get("project_domain_name")
    if user and project and user != project:
        raise CliError(
            f"The user domain '{user}' and the project domain '{project}' differ; "
            "Stratus looks the user and the project up in one domain"
        )
    return user or project or DEFAULT_DOMAIN
