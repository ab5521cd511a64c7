"""The dashboard's overview (GET /project/) against a real cloud: the quota bars say
what the api's and the volume service's GetQuota say, and follow the project's usage."""

from __future__ import annotations

import html
import re
import warnings

import httpx

from components.cli.targets import Target
from components.dashboard.app import build
from components.dashboard.cloud import Cloud
from components.dashboard.config import DashboardConfig
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.volume.v1 import volume_service_pb2 as volume_pb2
from tests.e2e.boot import Driver
from tests.e2e.dashboard_client import sign_in


def bar(text: str, key: str) -> tuple[str, bool]:
    """The "used of limit" numbers of bar ``key`` and whether it is drawn as nearly full."""
    match = re.search(
        rf'id="bar-{key}".*?<div class="meter( high)?".*?<div class="numbers">([^<]*)</div>',
        text,
        re.S,
    )
    assert match, f"no bar {key} on the overview"
    return html.unescape(match.group(2)), bool(match.group(1))


def numbers(detail: api_pb2.QuotaDetail) -> str:
    limit = "unlimited" if detail.limit < 0 else str(detail.limit)
    return f"{detail.in_use} of {limit}"


def test_overview_shows_the_quotas_services_report_and_follows_usage(cloud, page):
    driver = Driver(cloud)
    project = cloud.token_reply("demo").project.id
    before = driver.quotas.GetQuota(api_pb2.GetQuotaRequest(), metadata=driver.md)
    reply = page.get("/project/")
    assert reply.status_code == 200
    assert "<h1>Overview</h1>" in reply.text
    assert bar(reply.text, "instances")[0] == numbers(before.instances)
    assert bar(reply.text, "cores")[0] == numbers(before.cores)
    volumes = driver.volumes.GetQuota(volume_pb2.GetQuotaRequest(), metadata=driver.md)
    limit = "unlimited" if volumes.volumes_limit < 0 else str(volumes.volumes_limit)
    assert bar(reply.text, "volumes")[0] == f"{volumes.volumes_used} of {limit}"

    server = driver.create()
    try:
        after = driver.quotas.GetQuota(api_pb2.GetQuotaRequest(), metadata=driver.md)
        assert after.instances.in_use == before.instances.in_use + 1
        text = page.get("/project/").text
        assert bar(text, "instances")[0] == numbers(after.instances)
        assert bar(text, "cores")[0] == numbers(after.cores)

        # Instances at their limit: the bar is drawn as nearly full; vCPUs unlimited say so.
        driver.quotas.UpdateQuota(
            api_pb2.UpdateQuotaRequest(
                project_id=project,
                instances=after.instances.in_use,
                cores=-1,
                update_mask={"paths": ["instances", "cores"]},
            ),
            metadata=driver.admin,
        )
        text = page.get("/project/").text
        used = after.instances.in_use
        assert bar(text, "instances") == (f"{used} of {used}", True)
        assert bar(text, "cores") == (f"{after.cores.in_use} of unlimited", False)
    finally:
        driver.quotas.UpdateQuota(
            api_pb2.UpdateQuotaRequest(
                project_id=project,
                instances=before.instances.limit,
                cores=before.cores.limit,
                update_mask={"paths": ["instances", "cores"]},
            ),
            metadata=driver.admin,
        )
        driver.delete(server.id)
    text = page.get("/project/").text
    assert bar(text, "instances")[0] == numbers(before.instances)


def test_overview_needs_a_sign_in(cloud):
    reply = httpx.get(cloud.dashboard + "project/", follow_redirects=False)
    assert reply.status_code == 303
    assert reply.headers["location"].startswith("/auth/login")


def test_a_failed_service_shows_its_message_in_place_of_its_bars(cloud, monkeypatch):
    """The volume service unreachable (its catalog address leads nowhere): the volume
    section says so, the compute bars still show (a dashboard in this process)."""
    with warnings.catch_warnings():  # Starlette's note on httpx, not about this test
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    nowhere = Target("volume", ("127.0.0.1:1",))
    choose = Cloud.target
    monkeypatch.setattr(
        Cloud,
        "target",
        lambda self, service: nowhere if service == "volume" else choose(self, service),
    )
    config = DashboardConfig(identity_url=cloud.addresses["identity"], call_timeout_seconds=5.0)
    with TestClient(build(config), base_url="http://127.0.0.1", follow_redirects=False) as client:
        assert sign_in(client, "demo", cloud.passwords["demo"]).status_code == 303
        reply = client.get("/project/")
    assert reply.status_code == 200
    volume = re.search(r'id="quota-volume".*?</section>', reply.text, re.S).group(0)
    message = re.search(r'class="flash error" role="alert">([^<]*)<', volume)
    assert message and "Cannot reach the volume service" in message.group(1)
    assert 'id="bar-volumes"' not in volume
    quota = Driver(cloud).quotas.GetQuota(api_pb2.GetQuotaRequest(), metadata=cloud.md("demo"))
    assert bar(reply.text, "instances")[0] == numbers(quota.instances)
