"""``keypair`` commands: the SSH keys servers are booted with (each user's own).

As python-openstackclient does, ``keypair create`` without ``--public-key``
has the api generate the key and prints the private key once; it is also
saved in the CLI's data directory (see saved_keys), where ``server ssh``
finds it. With ``--private-key FILE`` it is written there instead (0600,
never over an existing file). The api never keeps it: a lost private key is
a new key pair.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import click

from components.cli import batch, saved_keys
from components.cli.errors import CliError
from components.cli.output import Listing, Record, formatted, when
from components.cli.session import Session, every
from stratus.api.v1 import api_service_pb2 as pb2
from stratus.api.v1 import api_service_pb2_grpc as pb2_grpc

KEY_TYPES = ("ssh-ed25519", "ssh-rsa")
USER_OPTION = click.option(
    "--user",
    "user_id",
    default="",
    metavar="USER_ID",
    help="The user whose key pair it is (admins only; default: you).",
)


def _stub(session: Session):
    return session.client("api", pb2_grpc.KeypairsStub)


@click.group()
def keypair() -> None:
    """Key pairs: your SSH public keys, installed into servers booted with them."""


def keypair_record(k: pb2.Keypair) -> Record:
    return Record(
        {
            "name": k.name,
            "fingerprint": k.fingerprint,
            "type": k.key_type,
            "user_id": k.user_id,
            "public_key": k.public_key,
            "created": when(k.create_time),
        }
    )


def _open_private_file(path: str):
    """``path`` created 0600 for writing; a CliError if it exists (a key is never overwritten)."""
    target = Path(path).expanduser()
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CliError(f"{target} exists; not overwriting it with a new private key") from None
    except OSError as exc:
        raise CliError(f"Cannot write the private key to {target}: {exc.strerror}") from None
    return target, os.fdopen(fd, "w")


def _read_public_key(path: str) -> str:
    try:
        return Path(path).expanduser().read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"Cannot read the public key {path}: {exc}") from None


@keypair.command("create")
@click.argument("name")
@click.option(
    "--type",
    "key_type",
    type=click.Choice(KEY_TYPES),
    default=None,
    help="Type of the key to generate [default: ssh-ed25519; ssh-rsa is 3072 bits].",
)
@click.option(
    "--public-key",
    metavar="FILE",
    help="Import this OpenSSH public key (e.g. ~/.ssh/id_ed25519.pub) instead of generating one.",
)
@click.option(
    "--private-key",
    metavar="FILE",
    help="Write the generated private key to FILE (created 0600; an existing file is refused).",
)
@formatted
@click.pass_obj
def keypair_create(session: Session, name, key_type, public_key, private_key) -> Record | None:
    """Create key pair NAME: generated (the private key is shown once) or imported."""
    if public_key is not None:
        if key_type or private_key:
            raise click.UsageError(
                "--public-key imports a key: --type and --private-key do not apply"
            )
        request = pb2.ImportKeypairRequest(name=name, public_key=_read_public_key(public_key))
        return keypair_record(_stub(session).ImportKeypair(request))
    request = pb2.CreateKeypairRequest(name=name, key_type=key_type or "")
    if private_key is None:
        saved = saved_keys.key_path(session.credentials, name)
        saved_keys.make_private_directories(saved)
        created = _create_into(session, request, str(saved))
        # As openstack does: the key alone, so `stratus keypair create k > k.pem` works.
        click.echo(created.private_key, nl=False)
        click.echo(f"Private key saved to {saved} (server ssh uses it)", err=True)
        return None
    return keypair_record(_create_into(session, request, private_key).keypair)


def _create_into(session: Session, request, path: str) -> pb2.CreateKeypairResponse:
    """CreateKeypair, its private key written to ``path`` (no file is left if it fails)."""
    target, handle = _open_private_file(path)
    with handle:
        try:
            created = _stub(session).CreateKeypair(request)
        except BaseException:
            with contextlib.suppress(OSError):
                target.unlink()
            raise
        handle.write(created.private_key)
    return created


@keypair.command("list")
@USER_OPTION
@formatted
@click.pass_obj
def keypair_list(session: Session, user_id) -> Listing:
    """List your key pairs by name."""
    stub = _stub(session)
    rows = [
        [k.name, k.fingerprint, k.key_type]
        for k in every(stub.ListKeypairs, pb2.ListKeypairsRequest(user_id=user_id), "keypairs")
    ]
    return Listing(["Name", "Fingerprint", "Type"], rows)


@keypair.command("show")
@click.argument("name")
@USER_OPTION
@formatted
@click.pass_obj
def keypair_show(session: Session, name, user_id) -> Record:
    """Show key pair NAME (its public key; the private key is never kept)."""
    return keypair_record(
        _stub(session).GetKeypair(pb2.GetKeypairRequest(name=name, user_id=user_id))
    )


@keypair.command("delete")
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
@USER_OPTION
@click.pass_obj
def keypair_delete(session: Session, names, user_id) -> None:
    """Delete key pairs. Servers booted with one keep the key they were given."""
    stub = _stub(session)

    def delete(name: str) -> None:
        stub.DeleteKeypair(pb2.DeleteKeypairRequest(name=name, user_id=user_id))

    batch.each("key pair", names, delete)


GROUPS = (keypair,)
