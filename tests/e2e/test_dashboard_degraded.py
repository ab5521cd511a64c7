"""A service that cannot be reached is named, and pages that only borrow from it still
show what they can (a dashboard in this process whose catalog sends image calls nowhere,
beside the real cloud)."""

from __future__ import annotations

import re
import uuid
import warnings

import pytest

from components.cli.targets import Target
from components.dashboard.app import build
from components.dashboard.cloud import Cloud
from components.dashboard.config import DashboardConfig
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.api.v1 import api_service_pb2_grpc as api_grpc
from tests.e2e.dashboard_client import sign_in

pytestmark = pytest.mark.e2e

with warnings.catch_warnings():  # Starlette's note on httpx, not about these tests
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

NOWHERE = "127.0.0.1:1"


@pytest.fixture
def without_image_service(cloud, monkeypatch):
    """A signed-in demo client of a dashboard that cannot reach the image service."""
    nowhere = Target("image", (NOWHERE,))
    choose = Cloud.target
    monkeypatch.setattr(
        Cloud, "target", lambda self, s: nowhere if s == "image" else choose(self, s)
    )
    config = DashboardConfig(identity_url=cloud.addresses["identity"], call_timeout_seconds=5.0)
    with TestClient(build(config), base_url="http://127.0.0.1", follow_redirects=False) as client:
        assert sign_in(client, "demo", cloud.passwords["demo"]).status_code == 303
        yield client


@pytest.fixture
def server(cloud):
    servers = api_grpc.ServersStub(cloud.channel("api"))
    made = servers.CreateServer(
        api_pb2.CreateServerRequest(
            name=f"degraded-{uuid.uuid4().hex[:6]}",
            flavor_id=cloud.ids["flavor"],
            image_id=cloud.ids["image"],
            network_ids=[cloud.ids["network"]],
        ),
        metadata=cloud.md("demo"),
    )
    yield made
    servers.DeleteServer(api_pb2.DeleteServerRequest(server_id=made.id), metadata=cloud.md("demo"))


def test_the_images_page_names_the_unreachable_service(without_image_service):
    reply = without_image_service.get("/project/images")
    assert reply.status_code == 503
    assert f"Cannot reach the image service at {NOWHERE}" in reply.text
    assert "Traceback" not in reply.text


def test_instances_are_listed_without_image_names_when_images_cannot_be_read(
    without_image_service, server
):
    reply = without_image_service.get("/project/instances")
    assert reply.status_code == 200
    assert f'id="row-{server.id}"' in reply.text
    problem = re.search(r'class="flash error" role="alert">([^<]*)<', reply.text)
    assert problem and "Image names are not shown" in problem.group(1)
    assert "Cannot reach the image service" in problem.group(1)
