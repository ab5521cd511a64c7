"""Name or id: find the one resource a user means by ``--image demo`` or by its id.

An argument shaped like a UUID is tried as an id first (Get); otherwise, or
if no resource has that id, resources are matched by exact name. No match and
more than one match are both errors that say so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import grpc

from components.cli.errors import CliError, RemoteError
from components.cli.session import Session, every
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.api.v1 import api_service_pb2_grpc as api_grpc
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.identity.v1 import identity_service_pb2_grpc as identity_grpc
from stratus.image.v1 import image_service_pb2 as image_pb2
from stratus.image.v1 import image_service_pb2_grpc as image_grpc
from stratus.network.v1 import network_service_pb2 as network_pb2
from stratus.network.v1 import network_service_pb2_grpc as network_grpc
from stratus.volume.v1 import volume_service_pb2 as volume_pb2
from stratus.volume.v1 import volume_service_pb2_grpc as volume_grpc

T = TypeVar("T")
UUID = re.compile(r"[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}")


def looks_like_id(text: str) -> bool:
    return bool(UUID.fullmatch(text))


def find(
    kind: str,
    ref: str,
    get: Callable[[str], T],
    named: Callable[[str], Iterable[T]],
    name_of: Callable[[T], str] = lambda r: r.name,
) -> T:
    """The one ``kind`` whose id or name is ``ref``."""
    if looks_like_id(ref):
        try:
            return get(ref)
        except RemoteError as exc:
            # A malformed id is INVALID_ARGUMENT; either way, try it as a name.
            if exc.code not in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                raise
    matches = [r for r in named(ref) if name_of(r) == ref]
    if not matches:
        raise CliError(f"No {kind} with name or id '{ref}'")
    if len(matches) > 1:
        ids = ", ".join(r.id for r in matches)
        raise CliError(f"More than one {kind} is named '{ref}' ({ids}); give its id instead")
    return matches[0]


# ------------------------------------------------------------ per resource


def image(session: Session, ref: str) -> image_pb2.Image:
    images = session.client("image", image_grpc.ImagesStub)
    return find(
        "image",
        ref,
        lambda i: images.GetImage(image_pb2.GetImageRequest(image_id=i)),
        lambda n: every(images.ListImages, image_pb2.ListImagesRequest(name=n), "images"),
    )


def flavor(session: Session, ref: str) -> api_pb2.Flavor:
    flavors = session.client("api", api_grpc.FlavorsStub)
    return find(
        "flavor",
        ref,
        lambda i: flavors.GetFlavor(api_pb2.GetFlavorRequest(flavor_id=i)),
        lambda _: every(flavors.ListFlavors, api_pb2.ListFlavorsRequest(), "flavors"),
    )


def server(session: Session, ref: str) -> api_pb2.Server:
    servers = session.client("api", api_grpc.ServersStub)
    return find(
        "server",
        ref,
        lambda i: servers.GetServer(api_pb2.GetServerRequest(server_id=i)),
        lambda n: every(servers.ListServers, api_pb2.ListServersRequest(name=n), "servers"),
    )


def network(session: Session, ref: str) -> network_pb2.VirtualNetwork:
    stub = session.client("network", network_grpc.NetworkStub)
    return find(
        "network",
        ref,
        lambda i: stub.GetNetwork(network_pb2.GetNetworkRequest(network_id=i)),
        lambda n: every(stub.ListNetworks, network_pb2.ListNetworksRequest(name=n), "networks"),
    )


def subnet(session: Session, ref: str) -> network_pb2.Subnet:
    stub = session.client("network", network_grpc.NetworkStub)
    return find(
        "subnet",
        ref,
        lambda i: stub.GetSubnet(network_pb2.GetSubnetRequest(subnet_id=i)),
        lambda _: every(stub.ListSubnets, network_pb2.ListSubnetsRequest(), "subnets"),
    )


def port(session: Session, ref: str) -> network_pb2.Port:
    stub = session.client("network", network_grpc.NetworkStub)
    return find(
        "port",
        ref,
        lambda i: stub.GetPort(network_pb2.GetPortRequest(port_id=i)),
        lambda _: every(stub.ListPorts, network_pb2.ListPortsRequest(), "ports"),
    )


def volume(session: Session, ref: str) -> volume_pb2.Volume:
    stub = session.client("volume", volume_grpc.VolumesStub)
    return find(
        "volume",
        ref,
        lambda i: stub.GetVolume(volume_pb2.GetVolumeRequest(volume_id=i)),
        lambda _: every(stub.ListVolumes, volume_pb2.ListVolumesRequest(), "volumes"),
    )


def project(session: Session, ref: str) -> identity_pb2.Project:
    stub = session.client("identity", identity_grpc.ProjectsStub)
    return find(
        "project",
        ref,
        lambda i: stub.GetProject(identity_pb2.GetProjectRequest(project_id=i)),
        lambda n: every(stub.ListProjects, identity_pb2.ListProjectsRequest(name=n), "projects"),
    )


def user(session: Session, ref: str) -> identity_pb2.User:
    stub = session.client("identity", identity_grpc.UsersStub)
    return find(
        "user",
        ref,
        lambda i: stub.GetUser(identity_pb2.GetUserRequest(user_id=i)),
        lambda n: every(stub.ListUsers, identity_pb2.ListUsersRequest(name=n), "users"),
    )


def role(session: Session, ref: str) -> identity_pb2.Role:
    stub = session.client("identity", identity_grpc.RolesStub)
    return find(
        "role",
        ref,
        lambda i: stub.GetRole(identity_pb2.GetRoleRequest(role_id=i)),
        lambda n: every(stub.ListRoles, identity_pb2.ListRolesRequest(name=n), "roles"),
    )


def domain(session: Session, ref: str) -> Any:
    stub = session.client("identity", identity_grpc.DomainsStub)
    return find(
        "domain",
        ref,
        lambda i: stub.GetDomain(identity_pb2.GetDomainRequest(domain_id=i)),
        lambda n: every(stub.ListDomains, identity_pb2.ListDomainsRequest(name=n), "domains"),
    )
