"""Fakes for the CLI's admin and change verbs: network ports, quotas, the scheduler's
hosts, domains, the catalog and image changes, beside those of fakes.py.

Each records the requests it gets (``cloud.requests["UpdatePort"]``) so a test
can check what a command sent, and answers from small in-memory tables with
the status codes the real services use.
"""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Iterator

from components.framework import auth, errors
from components.framework.server import Service
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.api.v1 import api_service_pb2_grpc as api_grpc
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.identity.v1 import identity_service_pb2_grpc as identity_grpc
from stratus.image.v1 import image_service_pb2 as image_pb2
from stratus.network.v1 import network_service_pb2 as network_pb2
from stratus.network.v1 import network_service_pb2_grpc as network_grpc
from stratus.scheduler.v1 import scheduler_service_pb2 as scheduler_pb2
from stratus.scheduler.v1 import scheduler_service_pb2_grpc as scheduler_grpc
from stratus.volume.v1 import volume_service_pb2 as volume_pb2
from stratus.volume.v1 import volume_service_pb2_grpc as volume_grpc
from tests.harness import StaticValidator, caller, serving
from tests.unit.cli.fakes import TOKEN, FakeCloud, FakeIdentity, FakeImages, _page

NETWORK_ID = "11111111-1111-4111-8111-111111111111"
SUBNET_ID = "22222222-2222-4222-8222-222222222222"
PORT_ID = "33333333-3333-4333-8333-333333333333"
VOLUME_ID = "44444444-4444-4444-8444-444444444444"
DOMAIN_ID = "55555555-5555-4555-8555-555555555555"
SERVICE_ID = "66666666-6666-4666-8666-666666666666"
PROJECTS = {"p-1": "demo", "p-2": "other"}
Requests = collections.defaultdict


def _only(items: list, wanted: str, kind: str):
    for item in items:
        if item.id == wanted:
            return item
    raise errors.NotFound(f"no {kind} {wanted}")


class VerbIdentity(FakeIdentity):
    """The fake identity with every service of the real catalog, and RevokeToken."""

    def __init__(self, calls, requests) -> None:
        super().__init__(calls)
        self.requests = requests

    def IssueToken(self, request, context):
        reply = super().IssueToken(request, context)
        endpoint = identity_pb2.Endpoint(region="RegionOne", address=self.address)
        del reply.catalog[:]
        reply.catalog.extend(
            identity_pb2.CatalogEntry(type=kind, name=kind, endpoints=[endpoint])
            for kind in ("api", "identity", "image", "network", "scheduler", "volume")
        )
        return reply

    def RevokeToken(self, request, context):
        self.requests["RevokeToken"].append(request)
        return identity_pb2.RevokeTokenResponse()


class VerbImages(FakeImages):
    def __init__(self, calls, requests) -> None:
        super().__init__(calls)
        self.requests = requests

    def UpdateImage(self, request, context):
        self.requests["UpdateImage"].append(request)
        return _only(self.images, request.image.id, "image")

    def DeactivateImage(self, request, context):
        self.requests["DeactivateImage"].append(request)
        return image_pb2.DeactivateImageResponse(
            image=_only(self.images, request.image_id, "image")
        )

    def ReactivateImage(self, request, context):
        self.requests["ReactivateImage"].append(request)
        return image_pb2.ReactivateImageResponse(
            image=_only(self.images, request.image_id, "image")
        )


class FakeProjects(identity_grpc.ProjectsServicer):
    def _all(self):
        return [identity_pb2.Project(id=i, name=n) for i, n in PROJECTS.items()]

    def GetProject(self, request, context):
        return _only(self._all(), request.project_id, "project")

    def ListProjects(self, request, context):
        found = [p for p in self._all() if not request.name or p.name == request.name]
        return identity_pb2.ListProjectsResponse(projects=found)


class FakeDomains(identity_grpc.DomainsServicer):
    def __init__(self, requests) -> None:
        self.requests = requests
        self.domains = [identity_pb2.Domain(id=DOMAIN_ID, name="lab", enabled=True)]

    def CreateDomain(self, request, context):
        self.requests["CreateDomain"].append(request)
        return identity_pb2.Domain(id=DOMAIN_ID, name=request.name, enabled=request.enabled)

    def GetDomain(self, request, context):
        return _only(self.domains, request.domain_id, "domain")

    def ListDomains(self, request, context):
        found = [d for d in self.domains if not request.name or d.name == request.name]
        return identity_pb2.ListDomainsResponse(domains=found)

    def UpdateDomain(self, request, context):
        self.requests["UpdateDomain"].append(request)
        return _only(self.domains, request.domain.id, "domain")

    def DeleteDomain(self, request, context):
        self.requests["DeleteDomain"].append(request)
        if _only(self.domains, request.domain_id, "domain").enabled:
            raise errors.FailedPrecondition("the domain is enabled: disable it first")
        return identity_pb2.DeleteDomainResponse()


class FakeCatalog(identity_grpc.CatalogServicer):
    def __init__(self, requests) -> None:
        self.requests = requests
        self.services = [identity_pb2.Service(id=SERVICE_ID, type="compute", name="nova")]

    def ListServices(self, request, context):
        return identity_pb2.ListServicesResponse(services=self.services)

    def CreateEndpoint(self, request, context):
        self.requests["CreateEndpoint"].append(request)
        return identity_pb2.Endpoint(
            id="e-1", **{f: getattr(request, f) for f in ("service_id", "region", "address")}
        )

    def DeleteService(self, request, context):
        self.requests["DeleteService"].append(request)
        return identity_pb2.DeleteServiceResponse()


class FakeNetwork(network_grpc.NetworkServicer):
    def __init__(self, requests) -> None:
        self.requests = requests
        self.networks = [network_pb2.VirtualNetwork(id=NETWORK_ID, name="private")]
        self.subnets = [network_pb2.Subnet(id=SUBNET_ID, name="private-v4", network_id=NETWORK_ID)]
        self.ports = [
            network_pb2.Port(id=PORT_ID, name="p1", network_id=NETWORK_ID, device_id="vm-1")
        ]

    def GetNetwork(self, request, context):
        return _only(self.networks, request.network_id, "network")

    def ListNetworks(self, request, context):
        return network_pb2.ListNetworksResponse(networks=self.networks)

    def GetSubnet(self, request, context):
        return _only(self.subnets, request.subnet_id, "subnet")

    def ListSubnets(self, request, context):
        return network_pb2.ListSubnetsResponse(subnets=self.subnets)

    def GetPort(self, request, context):
        return _only(self.ports, request.port_id, "port")

    def ListPorts(self, request, context):
        return network_pb2.ListPortsResponse(ports=self.ports)

    def CreatePort(self, request, context):
        self.requests["CreatePort"].append(request)
        return network_pb2.Port(id="new-port", name=request.name, network_id=request.network_id)

    def UpdatePort(self, request, context):
        self.requests["UpdatePort"].append(request)
        found = _only(self.ports, request.port.id, "port")
        if "device_id" in request.update_mask.paths and request.port.device_id and found.device_id:
            raise errors.FailedPrecondition(
                f"port {found.id} is in use by {found.device_id}: clear device_id first",
                reason="PORT_IN_USE",
            )
        return found

    def DeletePort(self, request, context):
        self.requests["DeletePort"].append(request)
        self.ports.remove(_only(self.ports, request.port_id, "port"))
        return network_pb2.DeletePortResponse()


class FakeQuotas(api_grpc.QuotasServicer):
    def __init__(self, requests) -> None:
        self.requests = requests

    def GetQuota(self, request, context):
        self.requests["api.GetQuota"].append(request)
        detail = api_pb2.QuotaDetail
        return api_pb2.Quota(
            project_id=request.project_id,
            instances=detail(limit=10, in_use=2),
            cores=detail(limit=20, in_use=3),
            ram_mib=detail(limit=51200, in_use=1024),
        )

    def UpdateQuota(self, request, context):
        self.requests["api.UpdateQuota"].append(request)
        return api_pb2.Quota(project_id=request.project_id)


class FakeVolumes(volume_grpc.VolumesServicer):
    def __init__(self, requests) -> None:
        self.requests = requests
        self.volumes = [
            volume_pb2.Volume(
                id=VOLUME_ID, name="data", size_gib=1, status=volume_pb2.Volume.STATUS_IN_USE
            )
        ]

    def GetVolume(self, request, context):
        return _only(self.volumes, request.volume_id, "volume")

    def ListVolumes(self, request, context):
        return volume_pb2.ListVolumesResponse(volumes=self.volumes)

    def ExtendVolume(self, request, context):
        self.requests["ExtendVolume"].append(request)
        raise errors.FailedPrecondition(f"volume {request.volume_id} is IN_USE, not AVAILABLE")

    def GetQuota(self, request, context):
        self.requests["volume.GetQuota"].append(request)
        return volume_pb2.Quota(
            project_id=request.project_id,
            volumes_limit=5,
            size_gib_limit=100,
            volumes_used=1,
            size_gib_used=1,
        )

    def UpdateQuota(self, request, context):
        self.requests["volume.UpdateQuota"].append(request)
        return request.quota


class FakeScheduler(scheduler_grpc.SchedulerServicer):
    def __init__(self, requests) -> None:
        self.requests = requests
        Host = scheduler_pb2.Host
        self.hosts = [
            Host(
                name=f"compute-{i}",
                address=f"127.0.0.1:{8800 + i}",
                availability_zone=zone,
                state=state,
                enabled=True,
                vcpus=8,
                used_vcpus=i,
                ram_mib=8192,
            )
            for i, zone, state in (
                (1, "nova", Host.STATE_UP),
                (2, "nova", Host.STATE_UP),
                (3, "edge", Host.STATE_DOWN),
            )
        ]

    def ListHosts(self, request, context):
        found = [
            h
            for h in self.hosts
            if not request.availability_zone or h.availability_zone == request.availability_zone
        ]
        page, token = _page(found, request.page_token)
        return scheduler_pb2.ListHostsResponse(hosts=page, next_page_token=token)

    def UpdateHost(self, request, context):
        self.requests["UpdateHost"].append(request)
        return request.host

    def DeleteHost(self, request, context):
        self.requests["DeleteHost"].append(request)
        for host in self.hosts:
            if host.name == request.name:
                if host.state == scheduler_pb2.Host.STATE_UP:
                    raise errors.FailedPrecondition(
                        f"host {host.name} is up: stop it first", reason="HOST_UP"
                    )
                return scheduler_pb2.DeleteHostResponse()
        raise errors.NotFound(f"no host {request.name}")


class VerbCloud(FakeCloud):
    """FakeCloud with the services the admin and change verbs speak to."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: collections.defaultdict[str, list] = Requests(list)
        self.identity = VerbIdentity(self.calls, self.requests)
        self.images = VerbImages(self.calls, self.requests)
        self.network = FakeNetwork(self.requests)
        self.volumes = FakeVolumes(self.requests)
        self.scheduler = FakeScheduler(self.requests)
        self.domains = FakeDomains(self.requests)
        self.catalog = FakeCatalog(self.requests)

    def services(self) -> list[Service]:
        return [
            *super().services(),
            Service.of(FakeProjects(), identity_pb2, identity_grpc, "Projects"),
            Service.of(self.domains, identity_pb2, identity_grpc, "Domains"),
            Service.of(self.catalog, identity_pb2, identity_grpc, "Catalog"),
            Service.of(FakeQuotas(self.requests), api_pb2, api_grpc, "Quotas"),
            Service.of(self.network, network_pb2, network_grpc, "Network"),
            Service.of(self.volumes, volume_pb2, volume_grpc, "Volumes"),
            Service.of(self.scheduler, scheduler_pb2, scheduler_grpc, "Scheduler"),
        ]

    def policy(self) -> auth.Policy:
        rules = {
            f"/{service.full_name}/{method.name}": auth.authenticated
            for pb2 in (api_pb2, image_pb2, identity_pb2, network_pb2, volume_pb2, scheduler_pb2)
            for service in pb2.DESCRIPTOR.services_by_name.values()
            for method in service.methods
        }
        rules["/stratus.identity.v1.Identity/IssueToken"] = auth.public
        return auth.Policy(rules)


@contextlib.contextmanager
def verb_cloud() -> Iterator[VerbCloud]:
    cloud = VerbCloud()
    validator = StaticValidator({TOKEN: caller(["admin"], project_id="p-1", token=TOKEN)})
    with serving(cloud.services(), cloud.policy(), validator) as (_, port):
        cloud.address = cloud.identity.address = f"127.0.0.1:{port}"
        yield cloud
