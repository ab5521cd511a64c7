"""``server ssh``: an SSH session (or one command) on a server, from where the operator is.

The server is found by name or id and reached at its first IPv4 address. As
Neutron operators do without floating IPs, when this machine holds the
network's DHCP namespace (``qdhcp-<network id>``, on the guest's L2) ssh runs
inside it (``ip netns exec``, which needs root); otherwise it connects
directly. The key is ``--identity``, else the one ``keypair create`` saved for
the server's key_name, else ssh's own defaults. Host keys are remembered in
the CLI's cache directory, never in ~/.ssh: guests come and go.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import click

from components.cli import resolve, saved_keys
from components.cli.errors import CliError
from components.cli.session import Session
from stratus.api.v1 import api_service_pb2 as pb2

NETNS_DIR = Path("/run/netns")


@dataclasses.dataclass(frozen=True)
class Target:
    """Where and how to connect: the address, its namespace (if any) and the key."""

    address: str
    login: str
    identity: str | None = None
    namespace: str | None = None


def known_hosts(environ: Mapping[str, str]) -> Path:
    """The CLI's own known_hosts, in the user's cache directory."""
    base = environ.get("XDG_CACHE_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    return root / "stratus" / "known_hosts"


def ssh_argv(target: Target, known_hosts_file: Path, command: Sequence[str]) -> list[str]:
    """The command line that runs ssh for ``target`` (inside its namespace if it has one)."""
    argv = ["ip", "netns", "exec", target.namespace] if target.namespace else []
    argv.append("ssh")
    if target.identity:
        # Only this key: an agent's keys would make a wrong --identity succeed.
        argv += ["-i", target.identity, "-o", "IdentitiesOnly=yes"]
    argv += [
        "-o",
        "StrictHostKeyChecking=accept-new",
        "-o",
        f"UserKnownHostsFile={known_hosts_file}",
        "-l",
        target.login,
        "--",
        target.address,
        *command,
    ]
    return argv


def namespaces() -> set[str]:
    """The named network namespaces of this machine (what ``ip netns list`` shows)."""
    try:
        return {p.name for p in NETNS_DIR.iterdir()}
    except OSError:
        return set()


def is_root() -> bool:
    return os.geteuid() == 0


def run(argv: list[str]) -> int:
    """Run ``argv`` attached to the terminal; its exit status."""
    try:
        return subprocess.run(argv, check=False).returncode
    except FileNotFoundError:
        raise CliError(f"Cannot run {argv[0]}: it is not installed") from None


def _is_ipv4(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).version == 4
    except ValueError:
        return False


def choose_address(server: pb2.Server, given: str | None) -> tuple[str, str | None]:
    """The address to connect to and the id of its network (None if not the server's)."""
    if given:
        network = next((a.network_id for a in server.addresses if a.ip_address == given), None)
        return given, network
    for a in server.addresses:
        if a.version == 4 or _is_ipv4(a.ip_address):
            return a.ip_address, a.network_id
    raise CliError(
        f"Server {server.name or server.id} has no IPv4 address; give one with --address"
    )


def target_of(
    session: Session, server: pb2.Server, identity: str | None, login: str, address: str | None
) -> Target:
    """Where to connect for ``server`` from this machine, with which key."""
    ip, network_id = choose_address(server, address)
    namespace = f"qdhcp-{network_id}" if network_id else None
    if namespace not in namespaces():
        namespace = None
    if namespace and not is_root():
        raise CliError(
            f"{ip} is reached through network namespace {namespace}, which needs root: "
            "run this command with sudo"
        )
    if identity is None and server.key_name:
        saved = saved_keys.key_path(session.credentials, server.key_name)
        identity = str(saved) if saved.is_file() else None
    return Target(address=ip, login=login, identity=identity, namespace=namespace)


@click.command("ssh")
@click.argument("server_ref", metavar="SERVER")
@click.argument("command", nargs=-1, metavar="[-- COMMAND...]")
@click.option(
    "--identity",
    "-i",
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False),
    help="Private key to use [default: the one keypair create saved for the server's "
    "key pair, else ssh's own].",
)
@click.option("--login", "-l", default="root", show_default=True, help="User to log in as.")
@click.option("--address", metavar="ADDR", help="Connect to ADDR [default: first IPv4 address].")
@click.pass_obj
def server_ssh(session: Session, server_ref, command, identity, login, address) -> None:
    """SSH into SERVER (or run COMMAND there); exits with ssh's status.

    From a machine holding the network's DHCP namespace (qdhcp-<network id>)
    ssh runs inside it, which needs root.
    """
    found = resolve.server(session, server_ref)
    target = target_of(session, found, identity, login, address)
    path = known_hosts(os.environ)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"Cannot create {path.parent}: {exc.strerror}") from None
    click.get_current_context().exit(run(ssh_argv(target, path, command)))
