"""The web dashboard in run-all: where it runs and with which settings, its certificate,
how run-all waits for it (HTTP 200 on /healthz, not gRPC health), and what the user is
told about it (banner, ready file)."""

from __future__ import annotations

import argparse
import contextlib
import http.server
import ipaddress
import json
import ssl
import threading
import types
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from components.framework import tls
from components.supervisor import __main__ as run_all
from components.supervisor import ports, processes
from components.supervisor.pki import Authority
from components.supervisor.plan import CONTROLLER, Plan, ProcessSpec, Tls

OFFSET = 12000


class TwoMachines:
    """A controller at 10.9.0.10 (and .11) and compute-1 at 10.9.0.20, each entered by
    its own prefix, as a rack lays them out."""

    ADDRESSES = {CONTROLLER: ("10.9.0.10", "10.9.0.11"), "compute-1": ("10.9.0.20",)}

    def address(self, machine: str, index: int = 0) -> str:
        return self.ADDRESSES[machine][index]

    def exec_prefix(self, machine: str) -> list[str]:
        return ["ip", "netns", "exec", f"rack-{machine}"]


@pytest.fixture(autouse=True)
def no_tls_in_environment(monkeypatch):
    """base_env copies this process's environment: keep a developer's settings out."""
    for name in ("STRATUS_TLS_CA_FILE", "STRATUS_TLS_CERT_FILE", "STRATUS_TLS_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)


def test_on_one_machine_the_dashboard_serves_plain_http_on_8080_plus_the_offset(tmp_path):
    plan = Plan(tmp_path, port_offset=OFFSET)
    dashboard = plan.dashboard()
    assert (dashboard.name, dashboard.module) == ("dashboard", "components.dashboard")
    assert (dashboard.host, dashboard.port, dashboard.internal_port) == ("127.0.0.1", 20080, 0)
    assert dashboard.http_health == "/healthz"
    assert dashboard.exec_prefix == ()
    assert dashboard.env["STRATUS_DASHBOARD_HOST"] == "127.0.0.1"
    assert dashboard.env["STRATUS_DASHBOARD_PORT"] == "20080"
    assert dashboard.env["STRATUS_DASHBOARD_IDENTITY_URL"] == "127.0.0.1:17000"
    assert dashboard.env["STRATUS_DATA_DIR"] == str(tmp_path)
    assert "STRATUS_TLS_CERT_FILE" not in dashboard.env
    assert plan.dashboard_url() == "http://127.0.0.1:20080/"


def test_the_dashboard_starts_last_after_the_compute_hosts(tmp_path):
    plan = Plan(tmp_path, compute_hosts=2)
    names = [spec.name for spec in plan.processes()]
    assert names[-3:] == ["compute-1", "compute-2", "dashboard"]
    assert names[:-1] == [s.name for s in [*plan.components(), *plan.computes()]]


def test_the_dashboard_is_in_neither_catalog_of_grpc_services(tmp_path):
    env = Plan(tmp_path, tls=Tls(tmp_path / "pki")).dashboard().env
    assert "dashboard" not in env["STRATUS_IDENTITY_CATALOG_ENDPOINTS"]
    assert "dashboard" not in env["STRATUS_IDENTITY_CATALOG_INTERNAL_ENDPOINTS"]


def test_with_tls_the_dashboard_serves_https_with_its_own_certificate(tmp_path):
    plan = Plan(tmp_path, port_offset=OFFSET, tls=Tls(tmp_path / "pki"))
    env = plan.dashboard().env
    assert env["STRATUS_TLS_CA_FILE"] == str(tmp_path / "pki" / "ca.pem")
    assert env["STRATUS_TLS_CERT_FILE"] == str(tmp_path / "pki" / "dashboard.pem")
    assert env["STRATUS_TLS_KEY_FILE"] == str(tmp_path / "pki" / "dashboard-key.pem")
    # Users sign in at identity's public port, not the internal one (port + 1000).
    assert env["STRATUS_DASHBOARD_IDENTITY_URL"] == "127.0.0.1:17000"
    assert plan.dashboard_url() == "https://127.0.0.1:20080/"


def test_with_machines_the_dashboard_runs_on_the_controllers_first_address(tmp_path):
    plan = Plan(tmp_path, machines=TwoMachines(), replicas=2, tls=Tls(tmp_path / "pki"))
    dashboard = plan.dashboard()
    assert (dashboard.machine, dashboard.host, dashboard.port) == (CONTROLLER, "10.9.0.10", 8080)
    assert dashboard.exec_prefix == ("ip", "netns", "exec", "rack-controller")
    assert dashboard.env["STRATUS_DASHBOARD_HOST"] == "10.9.0.10"
    assert dashboard.env["STRATUS_DASHBOARD_IDENTITY_URL"] == "10.9.0.10:5000"
    assert plan.dashboard_url() == "https://10.9.0.10:8080/"
    assert plan.processes()[-1] == dashboard


def test_a_busy_dashboard_port_stops_run_all_before_anything_starts(tmp_path, monkeypatch):
    plan = Plan(tmp_path, port_offset=OFFSET)
    monkeypatch.setattr(ports, "is_free", lambda port, host="127.0.0.1": port != 20080)
    with pytest.raises(ports.PortBusy) as busy:
        run_all.check_ports(plan)
    assert str(busy.value).startswith("port 20080 (dashboard) is in use")
    assert "STRATUS_PORT_OFFSET=" in str(busy.value)


# -- its certificate -----------------------------------------------------------------------


def test_run_all_issues_the_dashboard_a_server_certificate_for_its_address(tmp_path):
    plan = Plan(tmp_path, machines=TwoMachines(), replicas=2, tls=Tls(tmp_path / "pki"))
    run_all.issue_certificates(plan)
    cert_file, key_file = plan.tls.files("dashboard")
    assert key_file.exists()
    certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("10.9.0.10") in names.get_values_for_type(x509.IPAddress)
    assert "dashboard" in names.get_values_for_type(x509.DNSName)
    usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.SERVER_AUTH]


def grpc_health_server(authority: Authority, require_client_certificate: bool):
    issued = authority.issue("api", "api", ["127.0.0.1"])
    security = tls.Tls.from_files(
        str(authority.ca_file), str(issued.cert_file), str(issued.key_file)
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_secure_port(
        "127.0.0.1:0", security.server_credentials(require_client_certificate)
    )
    server.start()
    return server, port


@pytest.mark.parametrize("internal", [False, True])
def test_the_dashboards_certificate_reaches_public_ports_and_no_internal_one(tmp_path, internal):
    plan = Plan(tmp_path, tls=Tls(tmp_path / "pki"))
    run_all.issue_certificates(plan)
    authority = Authority.load_or_create(plan.tls.pki_dir)
    server, port = grpc_health_server(authority, require_client_certificate=internal)
    env = plan.dashboard().env
    dashboard = tls.Tls.from_files(
        env["STRATUS_TLS_CA_FILE"], env["STRATUS_TLS_CERT_FILE"], env["STRATUS_TLS_KEY_FILE"]
    )
    try:
        with tls.channel(f"127.0.0.1:{port}", dashboard, server_name="api") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            if internal:
                with pytest.raises(grpc.RpcError):
                    stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
            else:
                assert stub.Check(health_pb2.HealthCheckRequest(), timeout=5).status
    finally:
        server.stop(None).wait()


# -- waiting for it: HTTP 200 on /healthz --------------------------------------------------


class Health(http.server.BaseHTTPRequestHandler):
    """/healthz answers 503 until ``server.ready_after`` asks are done, then 200."""

    def do_GET(self):
        self.server.asks += 1
        ready = self.server.asks > self.server.ready_after
        status = 200 if self.path == "/healthz" and ready else 503
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def web_server(ready_after: int = 0, context: ssl.SSLContext | None = None):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    server.asks, server.ready_after = 0, ready_after
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def dashboard_at(port: int) -> ProcessSpec:
    return ProcessSpec("dashboard", "components.dashboard", port, {}, http_health="/healthz")


def running(returncode: int | None = None):
    """What wait_serving looks at of a started child."""
    process = types.SimpleNamespace(returncode=returncode)
    return types.SimpleNamespace(
        alive=lambda: returncode is None, process=process, log_path=Path("/x/dashboard.log")
    )


def test_run_all_waits_until_healthz_answers_200(monkeypatch):
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # never asked
    with web_server(ready_after=3) as server:
        processes.wait_serving(dashboard_at(server.server_port), running(), timeout=10)
        assert server.asks == 4


def test_a_dashboard_never_healthy_times_out_naming_it():
    with web_server(ready_after=10**6) as server, pytest.raises(TimeoutError) as late:
        processes.wait_serving(dashboard_at(server.server_port), running(), timeout=0.5)
    message = str(late.value)
    assert message.startswith("dashboard did not answer 200 on http://127.0.0.1:")
    assert "/healthz within 0s (last: HTTP 503); see /x/dashboard.log" in message


def test_a_dashboard_that_exits_is_reported_at_once():
    exited = r"dashboard exited with 3; see /x/dashboard\.log"
    with web_server(ready_after=10**6) as server, pytest.raises(RuntimeError, match=exited):
        processes.wait_serving(dashboard_at(server.server_port), running(3), timeout=10)


def https_context(authority: Authority) -> ssl.SSLContext:
    issued = authority.issue("dashboard", "dashboard", ["127.0.0.1"], client=False)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(issued.cert_file, issued.key_file)
    return context


def test_with_tls_run_all_checks_healthz_over_https_verified_with_the_ca(tmp_path):
    authority = Authority.load_or_create(tmp_path / "pki")
    security = tls.Tls.from_files(str(authority.ca_file))
    with web_server(context=https_context(authority)) as server:
        spec = dashboard_at(server.server_port)
        processes.wait_serving(spec, running(), timeout=10, security=security)
        assert server.asks == 1


def test_a_dashboard_certified_by_another_authority_is_not_taken_as_ready(tmp_path):
    ours = Authority.load_or_create(tmp_path / "pki")
    stranger = Authority.load_or_create(tmp_path / "other")
    with web_server(context=https_context(stranger)) as server:
        spec = dashboard_at(server.server_port)
        with pytest.raises(TimeoutError, match="CERTIFICATE_VERIFY_FAILED"):
            processes.wait_serving(
                spec, running(), timeout=0.5, security=tls.Tls.from_files(str(ours.ca_file))
            )


# -- what the user is told -----------------------------------------------------------------


def announced(tmp_path, monkeypatch, capsys, plan: Plan) -> tuple[str, dict]:
    passwords = {"admin": "a-secret", "demo": "d-secret"}
    ids = {"image": "i", "network": "n", "flavor": "f"}
    monkeypatch.setattr(run_all, "seed_cloud", lambda *_: (passwords, ids))
    addresses = {s.name: s.address for s in [*plan.components(), *plan.computes()]}
    ready = tmp_path / "ready.json"
    run_all.announce(argparse.Namespace(ready_file=str(ready)), plan, addresses, None)
    return capsys.readouterr().out, json.loads(ready.read_text())


def test_the_banner_and_ready_file_give_the_dashboards_url_and_how_to_sign_in(
    tmp_path, monkeypatch, capsys
):
    out, ready = announced(tmp_path, monkeypatch, capsys, Plan(tmp_path))
    assert ready["dashboard"] == "http://127.0.0.1:8080/"
    assert "dashboard" not in ready["addresses"]  # the addresses are gRPC services'
    assert "\nDashboard: http://127.0.0.1:8080/\n" in out
    assert (
        "  sign in with domain default, user demo, password d-secret, project demo\n"
        "  (admin: user admin, project admin)\n"
    ) in out
    assert out.index("Dashboard:") < out.index("Try the boot flow")
    assert "must trust" not in out


def test_with_tls_the_banner_says_the_browser_must_trust_the_runs_ca(tmp_path, monkeypatch, capsys):
    plan = Plan(tmp_path, tls=Tls(tmp_path / "pki"))
    out, ready = announced(tmp_path, monkeypatch, capsys, plan)
    assert ready["dashboard"] == "https://127.0.0.1:8080/"
    assert "\nDashboard: https://127.0.0.1:8080/\n" in out
    assert f"  Your browser must trust {tmp_path / 'pki' / 'ca.pem'} (the run's CA)" in out
