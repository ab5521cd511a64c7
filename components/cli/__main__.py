"""``stratus``: the Stratus command-line client, shaped like ``openstack`` (noun, verb).

    stratus --os-cloud demo server create --flavor m1.tiny --image demo --network private vm1

The root group takes the credentials (flags, ``OS_*`` variables, clouds.yaml)
and turns every failure into one line on stderr and exit status 1; the
traceback is shown with ``--debug`` only.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback

import click
import grpc

from components.cli import cloud_config, errors, token_cache
from components.cli.commands import (
    auth,
    catalog,
    domains,
    flavors,
    hosts,
    identity,
    image_changes,
    images,
    keypairs,
    limits,
    networks,
    ports,
    quotas,
    servers,
    volumes,
)
from components.cli.session import CloudChanged, Session

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Root(click.Group):
    """The ``stratus`` group: what goes wrong below it is reported as one line."""

    def invoke(self, ctx: click.Context):
        debug = bool(ctx.params.get("debug"))
        command_line = (list(ctx._protected_args), list(ctx.args))
        try:
            try:
                return super().invoke(ctx)
            except CloudChanged:
                # A cloud made anew at the same address: run the command once more,
                # with the token just issued (nothing was done with the refused one).
                ctx._protected_args, ctx.args = command_line
                return super().invoke(ctx)
        except errors.RemoteError as exc:
            if debug:
                traceback.print_exc()
                click.echo(exc.debug_line(), err=True)
            raise
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            if debug:
                traceback.print_exc()
            raise
        except grpc.RpcError as exc:
            if debug:
                traceback.print_exc()
            raise errors.from_rpc_error(exc) from None
        except OSError as exc:
            if debug:
                traceback.print_exc()
            where = f": {exc.filename}" if exc.filename else ""
            raise errors.CliError(f"{exc.strerror or exc}{where}") from None
        except Exception as exc:
            if debug:
                raise
            raise errors.CliError(
                f"Unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)"
            ) from None


def _credential_option(name: str, variable: str, help_text: str, **kwargs):
    return click.option(
        f"--os-{name}",
        f"os_{name.replace('-', '_')}",
        envvar=variable,
        show_envvar=True,
        metavar=kwargs.pop("metavar", "TEXT"),
        help=help_text,
        **kwargs,
    )


@click.group(cls=Root, context_settings=CONTEXT)
@click.option(
    "--os-cloud",
    envvar="OS_CLOUD",
    show_envvar=True,
    metavar="NAME",
    help="Cloud to use from clouds.yaml (OS_CLIENT_CONFIG_FILE, ./clouds.yaml, "
    "~/.config/stratus/clouds.yaml or /etc/stratus/clouds.yaml, the first found). "
    "OS_* variables and --os-* flags override its settings.",
)
@_credential_option(
    "auth-url",
    "OS_AUTH_URL",
    "Identity service address as host:port, e.g. 127.0.0.1:5000.",
    metavar="HOST:PORT",
)
@_credential_option("username", "OS_USERNAME", "User name to authenticate as.")
@_credential_option("password", "OS_PASSWORD", "The user's password.")
@_credential_option("project-name", "OS_PROJECT_NAME", "Project to scope the token to.")
@_credential_option(
    "user-domain-name", "OS_USER_DOMAIN_NAME", "Domain of the user (default: default)."
)
@_credential_option(
    "project-domain-name", "OS_PROJECT_DOMAIN_NAME", "Domain of the project (default: default)."
)
@_credential_option(
    "region-name", "OS_REGION_NAME", "Region whose endpoints to use (default: the first listed)."
)
@_credential_option(
    "cacert",
    "OS_CACERT",
    "CA bundle (PEM) that verifies the services' certificates; given, every call uses TLS.",
    metavar="FILE",
)
@_credential_option(
    "cert",
    "OS_CERT",
    "Client certificate (PEM) to present over TLS (only services' internal endpoints ask).",
    metavar="FILE",
)
@_credential_option("key", "OS_KEY", "Private key (PEM) of --os-cert.", metavar="FILE")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="Deadline of each call to a service.",
)
@click.option(
    "--wait-timeout",
    type=click.FloatRange(min=1),
    default=600.0,
    show_default=True,
    metavar="SECONDS",
    help="How long --wait waits for a server or volume to settle.",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Sign in afresh and keep no token in the token cache "
    "(~/.cache/stratus/tokens; OS_TOKEN_CACHE=0 does the same).",
)
@click.option("--debug", is_flag=True, help="Log every call and show tracebacks of errors.")
@click.version_option(package_name="stratus", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context, os_cloud, timeout, wait_timeout, no_cache, debug, **given) -> None:
    """Stratus command-line client: the shape of `openstack` (NOUN VERB), over gRPC.

    Credentials come from --os-cloud (clouds.yaml), from OS_AUTH_URL, OS_USERNAME,
    OS_PASSWORD, OS_PROJECT_NAME, ... (as an openrc sets them), or from the --os-*
    flags, each overriding the one before. With --os-cacert (OS_CACERT, cacert in
    clouds.yaml) every call uses TLS and verifies the service's certificate. The
    token is kept in a private file of your cache directory and reused by later
    commands until shortly before it expires (--no-cache or OS_TOKEN_CACHE=0 to
    sign in every time).

    Every NOUN VERB has --help; show and list commands take -f table|json|yaml|value
    and -c COLUMN.
    """
    if debug:
        logging.basicConfig(
            level=logging.DEBUG, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s"
        )
    settings = {key.removeprefix("os_"): value for key, value in given.items()}
    session = Session(
        lambda: cloud_config.credentials(os_cloud, settings),
        timeout=timeout,
        wait_timeout=wait_timeout,
        token_cache=None
        if no_cache or not token_cache.enabled(os.environ)
        else token_cache.TokenCache.from_environment(),
    )
    ctx.obj = session
    ctx.call_on_close(session.close)


for group in (
    *auth.GROUPS,
    *identity.GROUPS,
    *domains.GROUPS,
    *catalog.GROUPS,
    *flavors.GROUPS,
    *images.GROUPS,
    *image_changes.GROUPS,
    *networks.GROUPS,
    *ports.GROUPS,
    *volumes.GROUPS,
    *servers.GROUPS,
    *keypairs.GROUPS,
    *quotas.GROUPS,
    *limits.GROUPS,
    *hosts.GROUPS,
):
    cli.add_command(group)


def main(argv: list[str] | None = None) -> int:
    """The ``stratus`` console script."""
    return cli.main(args=argv, prog_name="stratus")


if __name__ == "__main__":
    sys.exit(main())
