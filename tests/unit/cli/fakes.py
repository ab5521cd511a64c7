"""The far side of the CLI's contracts: a fake identity, api and image service.

They answer from in-memory tables, count the calls they get, and are served
together by tests.harness.serving behind the real auth interceptor, so the CLI
meets real gRPC status codes and ErrorInfo details.
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import time
import uuid
from collections.abc import Iterator

from google.protobuf import timestamp_pb2

from components.framework import auth, errors
from components.framework.server import Service
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.api.v1 import api_service_pb2_grpc as api_grpc
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.identity.v1 import identity_service_pb2_grpc as identity_grpc
from stratus.image.v1 import image_service_pb2 as image_pb2
from stratus.image.v1 import image_service_pb2_grpc as image_grpc
from stratus.type.v1 import instance_state_pb2
from tests.harness import StaticValidator, caller, serving

TOKEN = "fake-token"
PASSWORD = "right-password"
Server = api_pb2.Server


def _page(items: list, token: str, size: int = 1) -> tuple[list, str]:
    """Pages of ``size`` (1 by default, so that a client must page through)."""
    start = int(token or 0)
    end = start + size
    return items[start:end], (str(end) if end < len(items) else "")


class Calls:
    def __init__(self) -> None:
        self.count: collections.Counter[str] = collections.Counter()


class FakeIdentity(identity_grpc.IdentityServicer):
    def __init__(self, calls: Calls) -> None:
        self.calls = calls
        self.address = ""
        self.lifetime = datetime.timedelta(hours=1)

    def IssueToken(self, request, context):
        self.calls.count["IssueToken"] += 1
        if request.username != "demo" or request.password != PASSWORD:
            raise errors.Unauthenticated(
                "the user name or password is wrong, or the account is locked or disabled",
                reason="AUTHENTICATION_FAILED",
            )
        endpoint = identity_pb2.Endpoint(region="RegionOne", address=self.address)
        expires = timestamp_pb2.Timestamp()
        expires.FromDatetime(datetime.datetime.now(datetime.UTC) + self.lifetime)
        return identity_pb2.IssueTokenResponse(
            token=TOKEN,
            expires_time=expires,
            user=identity_pb2.UserSummary(id="u-1", name="demo"),
            project=identity_pb2.ProjectSummary(id="p-1", name="demo"),
            roles=[identity_pb2.RoleSummary(id="r-1", name="member")],
            catalog=[
                identity_pb2.CatalogEntry(type=kind, name=kind, endpoints=[endpoint])
                for kind in ("api", "identity", "image")
            ],
        )


class FakeFlavors(api_grpc.FlavorsServicer):
    def __init__(self, calls: Calls) -> None:
        self.calls = calls
        self.flavors = [
            api_pb2.Flavor(id=str(uuid.uuid4()), name=name, vcpus=1, ram_mib=ram, disk_gib=1)
            for name, ram in (("m1.tiny", 512), ("m1.small", 2048))
        ]

    def GetFlavor(self, request, context):
        self.calls.count["GetFlavor"] += 1
        for flavor in self.flavors:
            if flavor.id == request.flavor_id:
                return flavor
        raise errors.NotFound(f"no flavor {request.flavor_id}")

    def ListFlavors(self, request, context):
        self.calls.count["ListFlavors"] += 1
        page, token = _page(self.flavors, request.page_token)
        return api_pb2.ListFlavorsResponse(flavors=page, next_page_token=token)


class FakeImages(image_grpc.ImagesServicer):
    def __init__(self, calls: Calls) -> None:
        self.calls = calls
        self.images = [
            image_pb2.Image(id=str(uuid.uuid4()), name="demo", status=image_pb2.Image.STATUS_ACTIVE)
        ]

    def GetImage(self, request, context):
        self.calls.count["GetImage"] += 1
        for image in self.images:
            if image.id == request.image_id:
                return image
        raise errors.NotFound(f"no image {request.image_id}")

    def ListImages(self, request, context):
        self.calls.count["ListImages"] += 1
        found = [i for i in self.images if not request.name or i.name == request.name]
        page, token = _page(found, request.page_token)
        return image_pb2.ListImagesResponse(images=page, next_page_token=token)


class FakeServers(api_grpc.ServersServicer):
    def __init__(self, calls: Calls) -> None:
        self.calls = calls
        self.servers: list[Server] = []
        # What WatchServer streams after the current state, per server id.
        self.progress: dict[str, list[Server]] = {}
        self.created: list[api_pb2.CreateServerRequest] = []
        # The states every new server goes through after BUILD (fields of Server).
        self.build_steps: list[dict] = []
        # How long WatchServer waits before each state after the first.
        self.watch_delay_seconds = 0.0

    def add(self, name: str, **fields) -> Server:
        fields.setdefault("status", Server.STATUS_ACTIVE)
        server = Server(id=str(uuid.uuid4()), name=name, **fields)
        self.servers.append(server)
        return server

    def _find(self, server_id: str) -> Server:
        for server in self.servers:
            if server.id == server_id:
                return server
        raise errors.NotFound(f"server {server_id} does not exist")

    def GetServer(self, request, context):
        self.calls.count["GetServer"] += 1
        return self._find(request.server_id)

    def ListServers(self, request, context):
        self.calls.count["ListServers"] += 1
        found = [
            s
            for s in self.servers
            if (not request.name or s.name == request.name)
            and request.name_contains.lower() in s.name.lower()
        ]
        page, token = _page(found, request.page_token)
        return api_pb2.ListServersResponse(servers=page, next_page_token=token)

    def CreateServer(self, request, context):
        self.calls.count["CreateServer"] += 1
        self.created.append(request)
        server = self.add(
            request.name,
            status=Server.STATUS_BUILD,
            task_state=instance_state_pb2.TASK_STATE_SCHEDULING,
            flavor=api_pb2.FlavorSummary(id=request.flavor_id, name="m1.tiny"),
            image_id=request.image_id,
        )
        self.progress[server.id] = [
            Server(id=server.id, name=server.name, **step) for step in self.build_steps
        ]
        return server

    def DeleteServer(self, request, context):
        self.calls.count["DeleteServer"] += 1
        server = self._find(request.server_id)
        self.servers.remove(server)
        return api_pb2.DeleteServerResponse(server=server)

    def GetConsoleOutput(self, request, context):
        self.calls.count["GetConsoleOutput"] += 1
        self._find(request.server_id)
        return api_pb2.GetConsoleOutputResponse(output="login: \n")

    def WatchServer(self, request, context) -> Iterator[api_pb2.WatchServerResponse]:
        self.calls.count["WatchServer"] += 1
        first = self._find(request.server_id)
        yield api_pb2.WatchServerResponse(server=first)
        for server in self.progress.get(first.id, []):
            until = time.monotonic() + self.watch_delay_seconds
            while time.monotonic() < until:
                if not context.is_active():
                    return  # the client went away
                time.sleep(0.05)
            yield api_pb2.WatchServerResponse(server=server)


class FakeCloud:
    """Every fake, served on one port: identity and the catalog's api and image."""

    def __init__(self) -> None:
        self.calls = Calls()
        self.identity = FakeIdentity(self.calls)
        self.flavors = FakeFlavors(self.calls)
        self.images = FakeImages(self.calls)
        self.servers = FakeServers(self.calls)
        self.address = ""

    def services(self) -> list[Service]:
        return [
            Service.of(self.identity, identity_pb2, identity_grpc, "Identity"),
            Service.of(self.flavors, api_pb2, api_grpc, "Flavors"),
            Service.of(self.servers, api_pb2, api_grpc, "Servers"),
            Service.of(self.images, image_pb2, image_grpc, "Images"),
        ]

    def policy(self) -> auth.Policy:
        rules = {
            f"/{service.full_name}/{method.name}": auth.authenticated
            for pb2 in (api_pb2, image_pb2, identity_pb2)
            for service in pb2.DESCRIPTOR.services_by_name.values()
            for method in service.methods
        }
        rules["/stratus.identity.v1.Identity/IssueToken"] = auth.public
        return auth.Policy(rules)


@contextlib.contextmanager
def fake_cloud() -> Iterator[FakeCloud]:
    cloud = FakeCloud()
    validator = StaticValidator({TOKEN: caller(["member"], project_id="p-1", token=TOKEN)})
    with serving(cloud.services(), cloud.policy(), validator) as (_, port):
        cloud.address = cloud.identity.address = f"127.0.0.1:{port}"
        yield cloud
