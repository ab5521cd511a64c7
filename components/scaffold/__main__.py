"""``python -m components.scaffold NAME`` (``make new-component NAME=dns``).

Writes the files of templates.py for component NAME, generates the Python code
of its proto with the one-file protoc command (never all of generated/, which
tests running at the same time may be importing), sorts and formats the Python
files with ruff when it is installed, and prints what to do next.

A NAME that is not a lowercase identifier, or that names anything that exists
(a component, a proto package, generated code, a contract test), is refused
before a file is written.
"""

from __future__ import annotations

import argparse
import keyword
import re
import shutil
import subprocess
import sys
from pathlib import Path

from components.scaffold import templates

# Lowercase words joined by single underscores: a Python package and a proto package.
NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
# The template's own message names, which the service (named for NAME) must not take.
MESSAGES = {"Item", "GetItemRequest", "CreateItemRequest"}
# Where a new component's default port is looked for: the first free one from here.
FIRST_PORT = 9800
_DEFAULT_PORT = re.compile(r"default_port\s*=\s*(\d+)")


class Refused(Exception):
    """The NAME cannot be used; the message says why."""


def camel(name: str) -> str:
    """The service name for ``name``: ``dns`` -> ``Dns``, ``key_value`` -> ``KeyValue``."""
    return "".join(word.capitalize() for word in name.split("_"))


def paths_of(name: str) -> list[str]:
    """What a component called ``name`` would occupy (written or generated)."""
    paths = [f"components/{name}", f"protos/stratus/{name}", f"generated/stratus/{name}"]
    # And every file written outside those directories (the contract test).
    return paths + [path for path in templates.files(name) if not path.startswith(tuple(paths))]


def check_name(name: str, root: Path) -> None:
    if not NAME.match(name) or keyword.iskeyword(name):
        raise Refused(
            f"NAME {name!r} is not a lowercase identifier (letters, digits, single "
            "underscores; starting with a letter): try NAME=dns"
        )
    if camel(name) in MESSAGES:
        raise Refused(f"NAME {name!r} would name the service like one of its messages")
    taken = [path for path in paths_of(name) if (root / path).exists()]
    if taken:
        raise Refused(f"NAME {name!r} is taken: {', '.join(taken)} exists")


def free_port(root: Path) -> int:
    """The first port from FIRST_PORT no component (or example) declares as its default."""
    used = set()
    for main in [*root.glob("components/*/__main__.py"), *root.glob("examples/*/__main__.py")]:
        used |= {int(port) for port in _DEFAULT_PORT.findall(main.read_text())}
    port = FIRST_PORT
    while port in used:
        port += 1
    return port


def write(name: str, root: Path, port: int) -> list[Path]:
    values = {"name": name, "Camel": camel(name), "NAME": name.upper(), "port": port}
    written = []
    for relative, template in templates.files(name).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.substitute(values))
        written.append(path)
    return written


def generate(name: str, root: Path) -> None:
    """The proto's Python code, gRPC code and stubs, into generated/ (as ``make proto``)."""
    proto = f"protos/stratus/{name}/v1/{name}_service.proto"
    command = [sys.executable, "-m", "grpc_tools.protoc", "-I", "protos", "--python_out=generated"]
    command += ["--grpc_python_out=generated", "--pyi_out=generated", proto]
    subprocess.run(command, cwd=root, check=True)
    for package in (f"generated/stratus/{name}", f"generated/stratus/{name}/v1"):
        (root / package / "__init__.py").touch()


def tidy(root: Path, paths: list[Path]) -> None:
    """Import order and format as ``make lint`` wants them (a NAME after "framework"
    sorts its own imports after the framework's); skipped when ruff is not installed."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        return
    files = [str(path) for path in paths if path.suffix == ".py"]
    quiet = {"cwd": root, "check": False, "capture_output": True}
    subprocess.run([ruff, "check", "--fix", "--select", "I", *files], **quiet)
    subprocess.run([ruff, "format", *files], **quiet)


def next_steps(name: str, port: int) -> str:
    service = f"stratus.{name}.v1.{camel(name)}"
    address = f"127.0.0.1:{port}"
    return f"""
Next:
  1. Its contract test (every backend you have configured; SQLite always):
       .venv/bin/pytest -q tests/contract/test_{name}_service.py tests/contract/test_conformance.py
  2. Start it against the identity of a running `make run-all` (another terminal; until
     identity's bootstrap gives {name} a service user, it borrows network's):
       STRATUS_{name.upper()}_SERVICE_USER=network .venv/bin/python -m components.{name}
  3. Call it (TOKEN: the `export TOKEN=...` line make run-all printed):
       export PATH=$PWD/.venv/bin:$PATH
       grpcurl -plaintext {address} list
       grpcurl -plaintext {address} grpc.health.v1.Health/Check
       grpcurl -plaintext -H "x-auth-token: $TOKEN" -d '{{"name":"first","request_id":"r-1"}}' \\
         {address} {service}/CreateItem
  4. Make it yours: rename Item to what the service holds (proto, models.py and a new
     migration for a changed table, items.py, the contract test), then `buf lint`.
  5. For `make run-all` to start it: add "{name}": {port} to DEFAULT_PORTS and ORDER in
     components/supervisor/plan.py, and "{name}" to COMPONENTS and SERVICE_USERS in
     components/identity/bootstrap.py (then drop STRATUS_{name.upper()}_SERVICE_USER); and
     "{name}" to COMPONENTS in tests/contract/test_every_component.py (grpcurl checks).
  6. Commit the proto, its generated code and the component together:
       git add protos/stratus/{name} generated/stratus/{name} components/{name} \\
         tests/contract/test_{name}_service.py
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m components.scaffold", description=__doc__)
    parser.add_argument("name", help="the new component, a lowercase identifier (dns)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository")
    parser.add_argument("--port", type=int, help="its default port (default: a free one)")
    options = parser.parse_args(argv)
    root = options.root.resolve()
    try:
        check_name(options.name, root)
    except Refused as refused:
        print(f"new-component: {refused}", file=sys.stderr)
        return 2
    port = options.port or free_port(root)
    written = write(options.name, root, port)
    generate(options.name, root)
    tidy(root, written)
    print(f"wrote component {options.name} (port {port}):")
    for path in written:
        print(f"  {path.relative_to(root)}")
    print(f"  generated/stratus/{options.name}/v1/ (from the proto)")
    print(next_steps(options.name, port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
