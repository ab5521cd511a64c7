"""The quick start through the installed ``stratus`` command, against the whole cloud.

Every command runs as a user would run it: the console script in .venv/bin,
credentials from the clouds.yaml run-all writes (OS_CLIENT_CONFIG_FILE and
OS_CLOUD), ``-f json`` output parsed and checked.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
STRATUS = (
    str(REPO / ".venv" / "bin" / "stratus")
    if (REPO / ".venv" / "bin" / "stratus").exists()
    else shutil.which("stratus")
)


def clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("OS_")}


class Stratus:
    """Runs ``stratus`` with the demo cloud's credentials (or others)."""

    def __init__(self, cloud, workdir: Path) -> None:
        self.cloud = cloud
        self.workdir = workdir
        # The token cache lives in the test's directory, never the user's.
        self.cache = workdir / "cache"
        self.env = {
            **clean_environment(),
            "OS_CLIENT_CONFIG_FILE": str(cloud.clouds),
            "OS_CLOUD": "demo",
            "XDG_CACHE_HOME": str(self.cache),
        }

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120):
        assert STRATUS, "the stratus command is not installed (pip install -e .)"
        return subprocess.run(
            [STRATUS, *args],
            env={"XDG_CACHE_HOME": str(self.cache), **(env or self.env)},
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def ok(self, *args: str, **kwargs) -> str:
        result = self.run(*args, **kwargs)
        assert result.returncode == 0, f"stratus {' '.join(args)}: {result.stderr}"
        return result.stdout

    def json(self, *args: str, **kwargs):
        return json.loads(self.ok(*args, "-f", "json", **kwargs))


@pytest.fixture
def stratus(cloud, tmp_path):
    return Stratus(cloud, tmp_path)


def test_quick_start_through_the_cli(stratus, tmp_path):
    suffix = uuid.uuid4().hex[:8]
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"STRATUS CLI DISK\n".ljust(3 * 1024 * 1024 + 17, b"\0"))

    image = stratus.json(
        "image", "create", "--file", str(disk), "--disk-format", "raw", f"cli-image-{suffix}"
    )
    assert image["status"] == "ACTIVE"
    assert image["size_bytes"] == disk.stat().st_size
    assert image["checksum"] == hashlib.md5(disk.read_bytes()).hexdigest()

    saved = tmp_path / "saved.raw"
    stratus.ok("image", "save", "--file", str(saved), f"cli-image-{suffix}")
    assert saved.read_bytes() == disk.read_bytes()

    network = stratus.json("network", "create", f"cli-net-{suffix}")
    subnet = stratus.json(
        "subnet",
        "create",
        "--network",
        f"cli-net-{suffix}",
        "--subnet-range",
        "10.77.0.0/24",
        f"cli-subnet-{suffix}",
    )
    assert (subnet["network_id"], subnet["cidr"], subnet["gateway_ip"]) == (
        network["id"],
        "10.77.0.0/24",
        "10.77.0.1",
    )

    volume = stratus.json("volume", "create", "--size", "1", "--wait", f"cli-vol-{suffix}")
    assert volume["status"] == "AVAILABLE"

    server = stratus.json(
        "server",
        "create",
        "--flavor",
        "m1.tiny",
        "--image",
        f"cli-image-{suffix}",
        "--network",
        f"cli-net-{suffix}",
        "--volume",
        volume["id"],
        "--wait",
        f"cli-vm-{suffix}",
    )
    assert server["status"] == "ACTIVE", server
    assert (server["image_id"], server["image"], server["flavor"]) == (
        image["id"],
        f"cli-image-{suffix}",
        "m1.tiny",
    )
    [address] = server["addresses"][f"cli-net-{suffix}"]
    assert address.startswith("10.77.0.")
    assert server["volumes"] == [{"volume_id": volume["id"], "device": "vdb"}]

    listed = stratus.json("server", "list", "--name", f"cli-vm-{suffix}")
    assert [(s["ID"], s["Status"]) for s in listed] == [(server["id"], "ACTIVE")]
    ports = stratus.json("port", "list", "--server", server["id"])
    assert [p["Fixed IP Addresses"] for p in ports] == [[address]]
    assert stratus.json("volume", "show", volume["id"])["status"] == "IN_USE"

    console = stratus.run("console", "log", "show", f"cli-vm-{suffix}")
    assert console.returncode == 0, console.stderr

    stratus.ok("server", "delete", "--wait", f"cli-vm-{suffix}")
    gone = stratus.run("server", "show", server["id"])
    assert gone.returncode == 1
    assert gone.stderr.strip() == f"Error: No server with name or id '{server['id']}'"
    assert stratus.json("port", "list", "--network", f"cli-net-{suffix}") == []
    assert stratus.json("volume", "show", volume["id"])["status"] == "AVAILABLE"

    stratus.ok("volume", "delete", volume["id"])
    stratus.ok("network", "delete", f"cli-net-{suffix}")
    stratus.ok("image", "delete", image["id"])
    assert stratus.json("image", "list", "--name", f"cli-image-{suffix}") == []


def test_stop_start_and_reboot_wait_for_each_state(stratus):
    name = f"cli-power-{uuid.uuid4().hex[:8]}"
    stratus.json(
        "server",
        "create",
        "--flavor",
        "m1.tiny",
        "--image",
        "demo",
        "--network",
        "private",
        "--wait",
        name,
    )
    stratus.ok("server", "stop", "--wait", name)
    assert stratus.json("server", "show", name)["status"] == "SHUTOFF"
    stratus.ok("server", "start", "--wait", name)
    stratus.ok("server", "reboot", "--hard", "--wait", name)
    shown = stratus.json("server", "show", name)
    assert (shown["status"], shown["power_state"]) == ("ACTIVE", "running")
    stratus.ok("server", "delete", "--wait", name)


def test_admin_creates_a_user_who_logs_in_with_os_variables(stratus, cloud):
    suffix = uuid.uuid4().hex[:8]
    admin = {**stratus.env, "OS_CLOUD": "admin"}
    project = stratus.json("project", "create", f"cli-project-{suffix}", env=admin)
    user = stratus.json(
        "user",
        "create",
        "--password",
        "a-long-password",
        "--project",
        project["id"],
        f"cli-user-{suffix}",
        env=admin,
    )
    stratus.ok("role", "add", "--user", user["id"], "--project", project["id"], "member", env=admin)

    as_user = {
        **clean_environment(),
        "OS_AUTH_URL": cloud.addresses["identity"],
        "OS_USERNAME": f"cli-user-{suffix}",
        "OS_PASSWORD": "a-long-password",
        "OS_PROJECT_NAME": f"cli-project-{suffix}",
        "OS_USER_DOMAIN_NAME": "default",
        "OS_PROJECT_DOMAIN_NAME": "default",
    }
    token = stratus.json("token", "issue", env=as_user)
    assert (token["user_id"], token["project_id"], token["roles"]) == (
        user["id"],
        project["id"],
        ["member"],
    )
    assert [f["Name"] for f in stratus.json("flavor", "list", env=as_user)][:1] == ["m1.tiny"]

    stratus.ok(
        "role", "remove", "--user", user["id"], "--project", project["id"], "member", env=admin
    )
    stratus.ok("user", "delete", user["id"], env=admin)
    stratus.ok("project", "delete", project["id"], env=admin)


def test_wrong_password_is_one_line_and_exit_status_1(stratus):
    result = stratus.run("--os-password", "not-the-password", "server", "list")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: Authentication failed for user 'demo'")
    assert len(result.stderr.splitlines()) == 1
    assert result.stdout == ""


def test_unknown_image_is_named(stratus):
    result = stratus.run("server", "create", "--flavor", "m1.tiny", "--image", "foo", "vm")
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: No image with name or id 'foo'"


def test_catalog_list_shows_each_endpoint_with_its_interface(stratus, cloud):
    listed = {row["Name"]: row["Endpoints"] for row in stratus.json("catalog", "list")}
    assert f"RegionOne public: {cloud.addresses['api']}" in listed["api"]
    endpoints = [e for each in listed.values() for e in each]
    assert endpoints and all(" public: " in e or " internal: " in e for e in endpoints)
