"""Driving the running cloud from tests: stubs, waiting, and looking for leftovers."""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path

import grpc

from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.api.v1 import api_service_pb2_grpc as api_grpc
from stratus.compute.v1 import compute_service_pb2 as compute_pb2
from stratus.compute.v1 import compute_service_pb2_grpc as compute_grpc
from stratus.network.v1 import network_service_pb2 as network_pb2
from stratus.network.v1 import network_service_pb2_grpc as network_grpc
from stratus.volume.v1 import volume_service_pb2 as volume_pb2
from stratus.volume.v1 import volume_service_pb2_grpc as volume_grpc

SETTLED = {api_pb2.Server.STATUS_ACTIVE, api_pb2.Server.STATUS_ERROR, api_pb2.Server.STATUS_SHUTOFF}


class Driver:
    """One user's view of the cloud (plus an admin's, for checking)."""

    def __init__(self, cloud, user: str = "demo") -> None:
        self.cloud = cloud
        self.md = cloud.md(user)
        self.admin = cloud.md("admin")
        self.servers = api_grpc.ServersStub(cloud.channel("api"))
        self.flavors = api_grpc.FlavorsStub(cloud.channel("api"))
        self.quotas = api_grpc.QuotasStub(cloud.channel("api"))
        self.network = network_grpc.NetworkStub(cloud.channel("network"))
        self.volumes = volume_grpc.VolumesStub(cloud.channel("volume"))

    def create(self, name: str | None = None, **fields) -> api_pb2.Server:
        fields.setdefault("flavor_id", self.cloud.ids["flavor"])
        fields.setdefault("image_id", self.cloud.ids["image"])
        fields.setdefault("network_ids", [self.cloud.ids["network"]])
        request = api_pb2.CreateServerRequest(name=name or f"e2e-{uuid.uuid4().hex[:6]}", **fields)
        return self.servers.CreateServer(request, metadata=self.md, timeout=30)

    def get(self, server_id: str, admin: bool = False) -> api_pb2.Server:
        return self.servers.GetServer(
            api_pb2.GetServerRequest(server_id=server_id), metadata=self.admin if admin else self.md
        )

    def wait(self, server_id: str, timeout: float = 60.0) -> api_pb2.Server:
        """The server once it has settled (ACTIVE, ERROR or SHUTOFF with no task)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.get(server_id)
            if server.status in SETTLED and not server.task_state:
                return server
            time.sleep(0.05)
        raise AssertionError(f"server {server_id} did not settle: {self.get(server_id)}")

    def delete(self, server_id: str, timeout: float = 30.0) -> None:
        """Delete (if it is not gone already) and wait until the server is gone."""
        try:
            self.servers.DeleteServer(
                api_pb2.DeleteServerRequest(server_id=server_id), metadata=self.md
            )
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.get(server_id)
            except grpc.RpcError as exc:
                if exc.code() == grpc.StatusCode.NOT_FOUND:
                    return
                raise
            time.sleep(0.05)
        raise AssertionError(f"server {server_id} was not deleted")

    def domains(self, host: str) -> list[compute_pb2.Domain]:
        stub = compute_grpc.ComputeStub(self.cloud.channel(host))
        return list(
            stub.ListDomains(
                compute_pb2.ListDomainsRequest(page_size=1000), metadata=self.admin
            ).domains
        )

    def domain_of(self, server_id: str) -> compute_pb2.Domain | None:
        for host in self.hosts():
            for domain in self.domains(host):
                if domain.instance_id == server_id:
                    return domain
        return None

    def hosts(self) -> list[str]:
        return [name for name in self.cloud.addresses if name.startswith("compute-")]

    def ports_of(self, server_id: str) -> list[network_pb2.Port]:
        reply = self.network.ListPorts(
            network_pb2.ListPortsRequest(device_id=server_id), metadata=self.admin
        )
        return list(reply.ports)

    def volume(self, volume_id: str) -> volume_pb2.Volume:
        return self.volumes.GetVolume(
            volume_pb2.GetVolumeRequest(volume_id=volume_id), metadata=self.md
        )

    def new_volume(self, size_gib: int = 1) -> volume_pb2.Volume:
        volume = self.volumes.CreateVolume(
            volume_pb2.CreateVolumeRequest(name=f"vol-{uuid.uuid4().hex[:6]}", size_gib=size_gib),
            metadata=self.md,
        )
        deadline = time.monotonic() + 30
        while volume.status != volume_pb2.Volume.STATUS_AVAILABLE:
            assert time.monotonic() < deadline, volume
            time.sleep(0.05)
            volume = self.volume(volume.id)
        return volume

    def unlimited_quota(self) -> None:
        project = self.cloud.token_reply("demo").project.id
        self.quotas.UpdateQuota(
            api_pb2.UpdateQuotaRequest(
                project_id=project,
                instances=-1,
                cores=-1,
                ram_mib=-1,
                update_mask={"paths": ["instances", "cores", "ram_mib"]},
            ),
            metadata=self.admin,
        )


def compute_db(cloud) -> sqlite3.Connection:
    """The shared compute database, read-only, for checks the API does not show."""
    path = Path(cloud.data_dir) / "compute.sqlite"
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def claims_of(cloud, server_id: str) -> int:
    with compute_db(cloud) as db:
        return db.execute(
            "SELECT COUNT(*) FROM claim WHERE instance_id = ?", (server_id,)
        ).fetchone()[0]


def host_usage(cloud) -> dict[str, tuple[int, int, int, int]]:
    with compute_db(cloud) as db:
        rows = db.execute(
            "SELECT host, vcpus_used, ram_mib_used, disk_gib_used, ram_mib FROM compute_node"
        ).fetchall()
    return {host: (v, r, d, cap) for host, v, r, d, cap in rows}
