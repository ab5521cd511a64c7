"""Every component, seen as grpcurl sees it: reflection lists its services, health says
SERVING, and every RPC that is not public refuses a missing or garbage token."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.harness import StaticValidator, serving_component

COMPONENTS = ("identity", "api", "scheduler", "conductor", "compute", "image", "network", "volume")
GRPCURL = shutil.which("grpcurl") or str(Path(".venv/bin/grpcurl").resolve())


def grpcurl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [GRPCURL, "-plaintext", *args], capture_output=True, text=True, timeout=30
    )


@pytest.fixture(params=COMPONENTS)
def served(request, tmp_path):
    component = importlib.import_module(f"components.{request.param}.__main__").COMPONENT
    config = component.config_cls(component=component.name)
    config.data_dir = str(tmp_path)
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    validator = None if component.validator is not None else StaticValidator({})
    with serving_component(component, validator, url, config=config, start_hooks=False) as (
        runtime,
        _,
    ):
        yield component, f"127.0.0.1:{runtime.port}"


def test_reflection_lists_the_components_services_health_and_reflection(served):
    component, address = served
    listed = grpcurl(address, "list")
    assert listed.returncode == 0, listed.stderr
    names = set(listed.stdout.split())
    assert {"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= names
    own = {n for n in names if n.startswith(f"stratus.{component.name}.v1.")}
    assert own, names
    health = grpcurl(address, "grpc.health.v1.Health/Check")
    assert json.loads(health.stdout)["status"] == "SERVING"


def test_describe_resolves_a_method_of_every_service(served):
    """``grpcurl describe stratus.api.v1.Servers.CreateServer``, as the README says, for
    one method of each service the component serves (and of health)."""
    _, address = served
    services = [n for n in grpcurl(address, "list").stdout.split() if n.startswith("stratus.")]
    assert services
    for service in [*services, "grpc.health.v1.Health"]:
        method = grpcurl(address, "list", service).stdout.split()[0]
        described = grpcurl(address, "describe", method)
        assert described.returncode == 0, (method, described.stderr)
        assert described.stdout.startswith(f"{method} is a method:"), described.stdout
        assert "rpc " in described.stdout, described.stdout
        missing = grpcurl(address, "describe", f"{service}.NoSuchMethod")
        assert missing.returncode != 0
        assert "Symbol not found" in missing.stderr, missing.stderr


def test_every_rpc_not_public_refuses_missing_and_garbage_tokens(served):
    component, address = served
    services = [n for n in grpcurl(address, "list").stdout.split() if n.startswith("stratus.")]
    checked = 0
    for service in services:
        for method in grpcurl(address, "list", service).stdout.split():
            name = "/" + method.replace(f"{service}.", f"{service}/")
            if component.policy.is_public(name):
                continue
            for headers in ([], ["-H", "x-auth-token: garbage-token"]):
                result = grpcurl(
                    *headers, "-d", "{}", address, method.replace(f"{service}.", f"{service}/")
                )
                assert "Code: Unauthenticated" in result.stdout + result.stderr, (
                    method,
                    headers,
                    result.stdout,
                    result.stderr,
                )
            checked += 1
    assert checked > 0


def test_every_rpc_has_a_policy_rule(served):
    component, _ = served
    module = importlib.import_module(f"stratus.{component.name}.v1.{component.name}_service_pb2")
    for service in module.DESCRIPTOR.services_by_name.values():
        for method in service.methods:
            assert component.policy.rule_for(f"/{service.full_name}/{method.name}"), (
                method.full_name
            )
