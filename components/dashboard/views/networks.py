"""The networks panel (Horizon's networks): networks, their subnets and ports.

The list shows the project's networks and the shared ones, as ListNetworks
answers; the create form makes a network and, if a CIDR is given, its first
subnet. When the network is made but its subnet is refused, the network is
kept (an empty network is valid, and deleting it behind the user's back would
hide what happened): the user lands on its page, told so, with the subnet form
filled in as typed to correct and submit again.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from components.dashboard.cloud import Cloud, ServiceError
from components.dashboard.web import Pages, flash, redirect, render
from stratus.network.v1 import network_service_pb2 as network_pb2

pages = Pages()
IPV6_MODES = ("dhcpv6-stateful", "dhcpv6-stateless", "slaac")
PORT_STATUS = {
    network_pb2.Port.STATUS_DOWN: "DOWN",
    network_pb2.Port.STATUS_ACTIVE: "ACTIVE",
    network_pb2.Port.STATUS_BUILD: "BUILD",
    network_pb2.Port.STATUS_ERROR: "ERROR",
}
EMPTY_NETWORK_FORM = {"name": "", "with_subnet": False}
EMPTY_SUBNET_FORM = {
    "subnet_name": "",
    "cidr": "",
    "ip_version": "",
    "gateway_ip": "",
    "no_gateway": False,
    "enable_dhcp": True,
    "dns_nameservers": "",
    "ipv6_address_mode": "",
}


def _text(form: FormData, name: str) -> str:
    return str(form.get(name, "")).strip()


def subnet_form(form: FormData) -> dict:
    """The subnet fields as typed (to fill the form in again after an error)."""
    return {
        "subnet_name": _text(form, "subnet_name"),
        "cidr": _text(form, "cidr"),
        "ip_version": _text(form, "ip_version"),
        "gateway_ip": _text(form, "gateway_ip"),
        "no_gateway": bool(form.get("no_gateway")),
        "enable_dhcp": bool(form.get("enable_dhcp")),
        "dns_nameservers": _text(form, "dns_nameservers"),
        "ipv6_address_mode": _text(form, "ipv6_address_mode"),
    }


def subnet_request(network_id: str, fields: dict) -> network_pb2.CreateSubnetRequest:
    """The subnet as typed: the service judges it (IP version empty: taken from the CIDR)."""
    version = int(fields["ip_version"]) if fields["ip_version"] in ("4", "6") else 0
    return network_pb2.CreateSubnetRequest(
        network_id=network_id,
        name=fields["subnet_name"],
        cidr=fields["cidr"],
        ip_version=version,
        gateway_ip="" if fields["no_gateway"] else fields["gateway_ip"],
        no_gateway=fields["no_gateway"],
        enable_dhcp=fields["enable_dhcp"],
        dns_nameservers=fields["dns_nameservers"].replace(",", " ").split(),
        ipv6_address_mode=fields["ipv6_address_mode"],
    )


def port_status(port: network_pb2.Port) -> str:
    return PORT_STATUS.get(port.status, "UNKNOWN")


async def _list_page(request: Request, cloud: Cloud, status_code: int = 200, **forms) -> Response:
    networks = await cloud.every(
        cloud.network.ListNetworks, network_pb2.ListNetworksRequest(), "networks"
    )
    subnets = await cloud.every(
        cloud.network.ListSubnets, network_pb2.ListSubnetsRequest(), "subnets"
    )
    cidrs: dict[str, list[str]] = {}
    for subnet in subnets:
        cidrs.setdefault(subnet.network_id, []).append(subnet.cidr)
    return render(
        request,
        "networks.html",
        status_code,
        title="Networks",
        networks=networks,
        cidrs=cidrs,
        project_id=cloud.login.project.id,
        ipv6_modes=IPV6_MODES,
        form=forms.get("form", {**EMPTY_NETWORK_FORM, **EMPTY_SUBNET_FORM}),
        error=forms.get("error", ""),
    )


@pages.get("/project/networks")
async def networks(request: Request, cloud: Cloud) -> Response:
    return await _list_page(request, cloud)


@pages.post("/project/networks/create")
async def create_network(request: Request, cloud: Cloud) -> Response:
    form = await request.form()
    fields = {"name": _text(form, "name"), "with_subnet": bool(_text(form, "cidr"))}
    fields.update(subnet_form(form))
    try:
        network = await cloud.network.CreateNetwork(
            network_pb2.CreateNetworkRequest(name=fields["name"])
        )
    except ServiceError as error:
        return await _list_page(request, cloud, 400, form=fields, error=str(error))
    label = network.name or network.id
    if not fields["with_subnet"]:
        flash(request, "success", f"Created network {label}.")
        return redirect(f"/project/networks/{network.id}")
    try:
        subnet = await cloud.network.CreateSubnet(subnet_request(network.id, fields))
    except ServiceError as error:
        message = (
            f"Created network {label}, but not its subnet: {str(error).rstrip('.')}. "
            "The network exists without a subnet: add one below, or delete the network."
        )
        return await _detail_page(request, cloud, network.id, 400, subnet=fields, error=message)
    flash(request, "success", f"Created network {label} with subnet {subnet.cidr}.")
    return redirect(f"/project/networks/{network.id}")


@pages.post("/project/networks/{network_id}/delete")
async def delete_network(request: Request, cloud: Cloud) -> Response:
    network_id = request.path_params["network_id"]
    await cloud.network.DeleteNetwork(network_pb2.DeleteNetworkRequest(network_id=network_id))
    flash(request, "success", f"Deleted network {network_id}.")
    return redirect("/project/networks")


async def _detail_page(
    request: Request, cloud: Cloud, network_id: str, status_code: int = 200, **forms
) -> Response:
    network = await cloud.network.GetNetwork(network_pb2.GetNetworkRequest(network_id=network_id))
    subnets = await cloud.every(
        cloud.network.ListSubnets,
        network_pb2.ListSubnetsRequest(network_id=network_id),
        "subnets",
    )
    ports = await cloud.every(
        cloud.network.ListPorts, network_pb2.ListPortsRequest(network_id=network_id), "ports"
    )
    return render(
        request,
        "networks_detail.html",
        status_code,
        title=f"Network {network.name or network.id}",
        network=network,
        subnets=subnets,
        ports=ports,
        port_status=port_status,
        ipv6_modes=IPV6_MODES,
        subnet=forms.get("subnet", EMPTY_SUBNET_FORM),
        port=forms.get("port", {"port_name": "", "ip_address": ""}),
        error=forms.get("error", ""),
        port_error=forms.get("port_error", ""),
    )


@pages.get("/project/networks/{network_id}")
async def network_detail(request: Request, cloud: Cloud) -> Response:
    return await _detail_page(request, cloud, request.path_params["network_id"])


@pages.post("/project/networks/{network_id}/subnets/create")
async def create_subnet(request: Request, cloud: Cloud) -> Response:
    network_id = request.path_params["network_id"]
    fields = subnet_form(await request.form())
    try:
        subnet = await cloud.network.CreateSubnet(subnet_request(network_id, fields))
    except ServiceError as error:
        return await _detail_page(request, cloud, network_id, 400, subnet=fields, error=str(error))
    flash(request, "success", f"Created subnet {subnet.name or subnet.cidr}.")
    return redirect(f"/project/networks/{network_id}")


@pages.post("/project/networks/{network_id}/subnets/{subnet_id}/delete")
async def delete_subnet(request: Request, cloud: Cloud) -> Response:
    network_id, subnet_id = request.path_params["network_id"], request.path_params["subnet_id"]
    await cloud.network.DeleteSubnet(network_pb2.DeleteSubnetRequest(subnet_id=subnet_id))
    flash(request, "success", f"Deleted subnet {subnet_id}.")
    return redirect(f"/project/networks/{network_id}")


@pages.post("/project/networks/{network_id}/ports/create")
async def create_port(request: Request, cloud: Cloud) -> Response:
    network_id = request.path_params["network_id"]
    form = await request.form()
    fields = {"port_name": _text(form, "port_name"), "ip_address": _text(form, "ip_address")}
    fixed_ips = (
        [network_pb2.Port.FixedIp(ip_address=fields["ip_address"])] if fields["ip_address"] else []
    )
    try:
        port = await cloud.network.CreatePort(
            network_pb2.CreatePortRequest(
                network_id=network_id, name=fields["port_name"], fixed_ips=fixed_ips
            )
        )
    except ServiceError as error:
        return await _detail_page(
            request, cloud, network_id, 400, port=fields, port_error=str(error)
        )
    addresses = ", ".join(ip.ip_address for ip in port.fixed_ips) or "no address"
    flash(request, "success", f"Created port {port.name or port.id} ({addresses}).")
    return redirect(f"/project/networks/{network_id}")


@pages.post("/project/networks/{network_id}/ports/{port_id}/delete")
async def delete_port(request: Request, cloud: Cloud) -> Response:
    network_id, port_id = request.path_params["network_id"], request.path_params["port_id"]
    await cloud.network.DeletePort(network_pb2.DeletePortRequest(port_id=port_id))
    flash(request, "success", f"Deleted port {port_id}.")
    return redirect(f"/project/networks/{network_id}")
