"""Where the CLI's credentials come from: clouds.yaml, OS_* variables and flags.

As with python-openstackclient, a cloud named with ``--os-cloud`` or
``OS_CLOUD`` is read from the first clouds.yaml found (``OS_CLIENT_CONFIG_FILE``,
then ``./clouds.yaml``, ``~/.config/stratus/clouds.yaml``,
``/etc/stratus/clouds.yaml``); ``OS_*`` variables override it and flags
override both (click hands flags and variables over already merged).
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
}
REQUIRED = ("username", "password", "project_name")


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
    auth = cloud.get("auth") or {}
    settings = {key: auth.get(key) for key in SOURCES if key != "region_name"}
    settings["region_name"] = cloud.get("region_name")
    # clouds.yaml may name one domain for both.
    for key in ("user_domain_name", "project_domain_name"):
        settings[key] = settings[key] or auth.get("domain_name")
    return {k: str(v) for k, v in settings.items() if v not in (None, "")}


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
    )


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
