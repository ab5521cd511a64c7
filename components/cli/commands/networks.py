"""``network`` and ``subnet`` commands (``port`` is in ports.py)."""

from __future__ import annotations

import click

from components.cli import batch, resolve
from components.cli.output import Listing, Record, formatted, when
from components.cli.session import Session, every
from stratus.network.v1 import network_service_pb2 as pb2
from stratus.network.v1 import network_service_pb2_grpc as pb2_grpc


def _stub(session: Session):
    return session.client("network", pb2_grpc.NetworkStub)


# ---------------------------------------------------------------- networks


@click.group()
def network() -> None:
    """Networks: isolated layer-2 segments servers attach to."""


def network_record(n: pb2.VirtualNetwork) -> Record:
    return Record(
        {
            "id": n.id,
            "name": n.name,
            "admin_state_up": n.admin_state_up,
            "shared": n.shared,
            "mtu": n.mtu,
            "subnets": list(n.subnet_ids),
            "project_id": n.project_id,
            "created": when(n.create_time),
            "updated": when(n.update_time),
        }
    )


@network.command("create")
@click.argument("name")
@click.option("--share", is_flag=True, help="Let every project use it (admin only).")
@click.option(
    "--enable/--disable",
    "admin_state_up",
    default=True,
    show_default=True,
    help="Whether new ports may be created on it.",
)
@click.option(
    "--mtu",
    type=click.IntRange(68, 9000),
    help="MTU in bytes (default: the largest the VXLAN segment carries, 1450).",
)
@formatted
@click.pass_obj
def network_create(session: Session, name, share, admin_state_up, mtu) -> Record:
    """Create a network called NAME.

    Give it addresses with `stratus subnet create --network NAME`.
    """
    created = _stub(session).CreateNetwork(
        pb2.CreateNetworkRequest(
            name=name, shared=share, admin_state_up=admin_state_up, mtu=mtu or 0
        )
    )
    return network_record(created)


@network.command("list")
@click.option("--name", help="Only networks with exactly this name.")
@formatted
@click.pass_obj
def network_list(session: Session, name) -> Listing:
    """List your project's networks and the shared ones."""
    stub = _stub(session)
    request = pb2.ListNetworksRequest(name=name or "")
    rows = [
        [n.id, n.name, list(n.subnet_ids)] for n in every(stub.ListNetworks, request, "networks")
    ]
    return Listing(["ID", "Name", "Subnets"], rows)


@network.command("show")
@click.argument("network_ref", metavar="NETWORK")
@formatted
@click.pass_obj
def network_show(session: Session, network_ref) -> Record:
    """Show NETWORK (name or id)."""
    return network_record(resolve.network(session, network_ref))


@network.command("delete")
@click.argument("networks", nargs=-1, required=True, metavar="NETWORK...")
@click.pass_obj
def network_delete(session: Session, networks) -> None:
    """Delete networks (names or ids) with their subnets.

    A network must have no ports left.
    """
    stub = _stub(session)

    def delete(ref: str) -> None:
        found = resolve.network(session, ref)
        stub.DeleteNetwork(pb2.DeleteNetworkRequest(network_id=found.id))

    batch.each("network", networks, delete)


# ---------------------------------------------------------------- subnets


@click.group()
def subnet() -> None:
    """Subnets: IP ranges of networks."""


def subnet_record(s: pb2.Subnet) -> Record:
    return Record(
        {
            "id": s.id,
            "name": s.name,
            "network_id": s.network_id,
            "cidr": s.cidr,
            "ip_version": s.ip_version,
            "gateway_ip": s.gateway_ip,
            "allocation_pools": [f"{p.start}-{p.end}" for p in s.allocation_pools],
            "dns_nameservers": list(s.dns_nameservers),
            "enable_dhcp": s.enable_dhcp,
            "project_id": s.project_id,
            "created": when(s.create_time),
        }
    )


def _pool(text: str) -> pb2.Subnet.AllocationPool:
    fields = dict(part.partition("=")[::2] for part in text.split(","))
    if set(fields) != {"start", "end"}:
        raise click.BadParameter(f"'{text}' is not start=IP,end=IP", param_hint="--allocation-pool")
    return pb2.Subnet.AllocationPool(start=fields["start"], end=fields["end"])


@subnet.command("create")
@click.argument("name")
@click.option(
    "--network",
    "network_ref",
    required=True,
    metavar="NETWORK",
    help="Network to add the subnet to (name or id).",
)
@click.option(
    "--subnet-range",
    "cidr",
    required=True,
    metavar="CIDR",
    help="The range in CIDR notation, e.g. 10.0.0.0/24 or fd00::/64.",
)
@click.option(
    "--ip-version",
    type=click.Choice(["4", "6"]),
    help="IP version (default: taken from --subnet-range).",
)
@click.option("--gateway", metavar="IP", help="Gateway address (default: the first host address).")
@click.option("--no-gateway", is_flag=True, help="Give the subnet no gateway.")
@click.option(
    "--allocation-pool",
    "pools",
    multiple=True,
    metavar="start=IP,end=IP",
    help="Range to hand addresses out from (repeat; default: the whole range).",
)
@click.option(
    "--dns-nameserver",
    "dns",
    multiple=True,
    metavar="IP",
    help="DNS server to give guests (repeat, at most 5).",
)
@click.option(
    "--dhcp/--no-dhcp",
    default=True,
    show_default=True,
    help="Whether guests get their address by DHCP.",
)
@formatted
@click.pass_obj
def subnet_create(
    session: Session, name, network_ref, cidr, ip_version, gateway, no_gateway, pools, dns, dhcp
) -> Record:
    """Create a subnet called NAME.

    The subnet is added to --network, with the addresses of --subnet-range.
    """
    found = resolve.network(session, network_ref)
    created = _stub(session).CreateSubnet(
        pb2.CreateSubnetRequest(
            network_id=found.id,
            name=name,
            cidr=cidr,
            ip_version=int(ip_version or 0),
            gateway_ip=gateway or "",
            no_gateway=no_gateway,
            allocation_pools=[_pool(p) for p in pools],
            dns_nameservers=list(dns),
            enable_dhcp=dhcp,
        )
    )
    return subnet_record(created)


@subnet.command("list")
@click.option(
    "--network", "network_ref", metavar="NETWORK", help="Only subnets of this network (name or id)."
)
@formatted
@click.pass_obj
def subnet_list(session: Session, network_ref) -> Listing:
    """List the subnets you can see."""
    network_id = resolve.network(session, network_ref).id if network_ref else ""
    stub = _stub(session)
    request = pb2.ListSubnetsRequest(network_id=network_id)
    rows = [
        [s.id, s.name, s.network_id, s.cidr] for s in every(stub.ListSubnets, request, "subnets")
    ]
    return Listing(["ID", "Name", "Network", "Subnet"], rows)


@subnet.command("show")
@click.argument("subnet_ref", metavar="SUBNET")
@formatted
@click.pass_obj
def subnet_show(session: Session, subnet_ref) -> Record:
    """Show SUBNET (name or id)."""
    return subnet_record(resolve.subnet(session, subnet_ref))


@subnet.command("delete")
@click.argument("subnets", nargs=-1, required=True, metavar="SUBNET...")
@click.pass_obj
def subnet_delete(session: Session, subnets) -> None:
    """Delete subnets (names or ids).

    None of a subnet's addresses may be in use.
    """
    stub = _stub(session)

    def delete(ref: str) -> None:
        stub.DeleteSubnet(pb2.DeleteSubnetRequest(subnet_id=resolve.subnet(session, ref).id))

    batch.each("subnet", subnets, delete)


GROUPS = (network, subnet)
