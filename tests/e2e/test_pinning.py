"""An admin pins a server to a host as Nova admins do (``--availability-zone nova:HOST``),
through the real api and scheduler; a member may not."""

from __future__ import annotations

import grpc
import pytest

from stratus.api.v1 import api_service_pb2 as api_pb2
from tests.e2e.boot import Driver


def test_an_admin_pins_a_server_to_each_host_in_turn(cloud):
    admin = Driver(cloud, "admin")
    for host in admin.hosts():
        server = admin.create(availability_zone=f"nova:{host}")
        try:
            settled = admin.wait(server.id)
            assert settled.status == api_pb2.Server.STATUS_ACTIVE, settled.fault
            placed = admin.get(server.id, admin=True)
            assert (placed.host, placed.availability_zone) == (host, "nova")
        finally:
            admin.delete(server.id)


def test_a_member_may_not_pin_a_server(cloud):
    demo = Driver(cloud, "demo")
    host = Driver(cloud, "admin").hosts()[0]
    with pytest.raises(grpc.RpcError) as caught:
        demo.create(availability_zone=f"nova:{host}")
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
