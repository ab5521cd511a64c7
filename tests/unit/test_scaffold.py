"""``make new-component NAME=...`` writes a component that builds and passes its own tests.

The scaffold runs in a copy of the repository under tmp_path (never in this
one): it writes the skeleton and generates the proto's code there, then the
generated contract test runs in a subprocess whose imports come from the copy,
the conformance check reads its CONTRACT_CASES against its proto, and buf lints
the proto with this repository's rules.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import components.framework as framework
from components.scaffold import __main__ as scaffold
from tests.contract import conformance

ROOT = Path(__file__).resolve().parents[2]
BUF = ROOT / ".tools" / "node_modules" / ".bin" / "buf"
# What the scaffold and the generated contract test need of the repository.
COPIED = [
    "components",
    "protos",
    "generated",
    "pyproject.toml",
    "tests/__init__.py",
    "tests/conftest.py",
    "tests/harness.py",
    "tests/host_guard.py",
    # conftest.py, conformance.py and the fixtures and fakes conftest.py may import.
    *(
        path.relative_to(ROOT).as_posix()
        for path in sorted((ROOT / "tests/contract").glob("*.py"))
        if not path.name.startswith("test_")
    ),
]


def copy_repository(target: Path) -> Path:
    for relative in COPIED:
        source, destination = ROOT / relative, target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, destination)
    # The lint rules of buf.yaml, for the copy's one proto module.
    config = yaml.safe_load((ROOT / "buf.yaml").read_text())
    config["modules"] = [{"path": "protos"}]
    (target / "buf.yaml").write_text(yaml.safe_dump(config))
    return target


def run(command: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """``command`` in ``cwd`` with the copy's components/ and generated/ first on the path."""
    env = dict(os.environ, PYTHONPATH=f"{cwd}{os.pathsep}{cwd / 'generated'}")
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A copy of the repository with component ``dns`` scaffolded into it."""
    root = copy_repository(tmp_path_factory.mktemp("repo"))
    done = run([sys.executable, "-m", "components.scaffold", "dns"], root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "grpcurl -plaintext 127.0.0.1:9800 list" in done.stdout
    return root


def test_the_skeleton_has_the_components_files_and_its_generated_code(repo):
    for relative in scaffold.templates.files("dns"):
        assert (repo / relative).is_file(), relative
    for module in ("dns_service_pb2.py", "dns_service_pb2_grpc.py", "dns_service_pb2.pyi"):
        assert (repo / "generated/stratus/dns/v1" / module).is_file(), module
    assert (repo / "generated/stratus/dns/__init__.py").is_file()


def test_the_generated_contract_test_passes(repo):
    test = "tests/contract/test_dns_service.py"
    pytest_command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test]
    done = run(pytest_command, repo, timeout=240)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and " failed" not in done.stdout


def test_every_error_case_of_the_proto_has_a_contract_case(repo):
    proto = (repo / "protos/stratus/dns/v1/dns_service.proto").read_text()
    documented = conformance.documented_cases(proto)
    assert documented == {
        "stratus.dns.v1.Dns/GetItem": {"NOT_FOUND", "INVALID_ARGUMENT"},
        "stratus.dns.v1.Dns/CreateItem": {"INVALID_ARGUMENT", "PERMISSION_DENIED"},
    }
    module = "tests/contract/test_dns_service.py"
    entries, tests = conformance.module_entries((repo / module).read_text(), module)
    assert {(e.rpc, e.code) for e in entries} == {
        (rpc, code) for rpc, codes in documented.items() for code in codes
    }
    assert {e.test for e in entries} <= tests


def test_the_generated_code_imports_only_the_frameworks_surface(repo):
    imported = set()
    for path in [
        *(repo / "components/dns").rglob("*.py"),
        repo / "tests/contract/test_dns_service.py",
    ]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("components.f"):
                assert node.module == "components.framework", (path, node.module)
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("components.framework") for a in node.names)
    assert imported and imported <= set(framework.__all__), imported - set(framework.__all__)


@pytest.mark.skipif(not BUF.exists(), reason="buf is installed by make install")
def test_the_generated_proto_is_buf_lint_clean(repo):
    done = run([str(BUF), "lint", "--path", "protos/stratus/dns"], repo)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", ["DNS", "1dns", "dns-x", "dns__x", "dns_", "class", "", "item"])
def test_a_name_that_is_not_a_lowercase_identifier_is_refused(tmp_path, capsys, name):
    assert scaffold.main([name, "--root", str(tmp_path)]) == 2
    assert "new-component:" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["dns", "network", "framework"])
def test_a_name_that_exists_is_refused_and_nothing_is_written(repo, capsys, name):
    before = sorted(repo.rglob("*"))
    assert scaffold.main([name, "--root", str(repo)]) == 2
    assert f"NAME {name!r} is taken" in capsys.readouterr().err
    assert sorted(repo.rglob("*")) == before


def test_a_new_component_gets_a_default_port_no_component_has(repo):
    ports = {
        int(p)
        for p in scaffold._DEFAULT_PORT.findall((repo / "components/dns/__main__.py").read_text())
    }
    assert ports == {9800}
    assert scaffold.free_port(repo) == 9801
