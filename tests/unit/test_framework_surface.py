"""Components and the example import the framework only through its stable surface.

``components/framework/__init__.py`` names what a component may rely on
(``__all__``); the submodules behind those names are internal and may change.
Every module under components/ (the framework's own excepted) and examples/ is
read, not imported, so a forbidden import fails here even in a module no test
loads. The supervisor and the CLI may also use the few names kept for
Stratus's own tools, and no component may import the example.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

import components.framework as framework

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORK = "components.framework"
# Stratus's own tools, which may also import the names in framework._TOOLS (the
# dashboard is a client of the components, as the CLI).
TOOLS = ("components/supervisor/", "components/cli/", "components/dashboard/")


def checked_files() -> list[Path]:
    """Every module of the components (the framework's own excepted) and of the example."""
    files = [
        path
        for path in sorted((ROOT / "components").rglob("*.py"))
        if not path.relative_to(ROOT).as_posix().startswith("components/framework/")
    ]
    return files + sorted((ROOT / "examples").rglob("*.py"))


def _module_of(relative: str, node: ast.ImportFrom) -> str:
    """The absolute module an ``ImportFrom`` in the file at ``relative`` names."""
    if not node.level:
        return node.module or ""
    package = relative.removesuffix(".py").split("/")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def offences(source: str, relative: str) -> list[str]:
    """``file:line: what`` for each import in ``source`` outside the framework's surface.

    ``relative`` is the file's path from the repository root, which says whether
    the tools' names are allowed and where relative imports lead.
    """
    allowed = set(framework.__all__)
    if relative.startswith(TOOLS):
        allowed |= set(framework._TOOLS)
    in_components = relative.startswith("components/")
    found = []

    def offence(node: ast.stmt, what: str) -> None:
        found.append(f"{relative}:{node.lineno}: {what}")

    for node in ast.walk(ast.parse(source, relative)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == FRAMEWORK or alias.name.startswith(FRAMEWORK + "."):
                    offence(node, f"import {alias.name} (use from {FRAMEWORK} import ...)")
                elif in_components and alias.name.split(".")[0] == "examples":
                    offence(node, f"import {alias.name} (components never import the example)")
        elif isinstance(node, ast.ImportFrom):
            module = _module_of(relative, node)
            names = [alias.name for alias in node.names]
            if module.startswith(FRAMEWORK + "."):
                offence(node, f"from {module} import ... (an internal module of the framework)")
            elif module == FRAMEWORK:
                for name in names:
                    if name not in allowed:
                        offence(node, f"from {FRAMEWORK} import {name} (not in its __all__)")
            elif module == "components" and "framework" in names:
                offence(node, f"from components import framework (use from {FRAMEWORK} import ...)")
            elif in_components and module.split(".")[0] == "examples":
                offence(node, f"from {module} import ... (components never import the example)")
    return found


def test_components_and_the_example_import_only_the_framework_surface():
    files = checked_files()
    # A wrong root would check nothing and pass.
    assert len(files) > 100
    found = []
    for path in files:
        found += offences(path.read_text(), path.relative_to(ROOT).as_posix())
    assert not found, "imports outside components.framework.__all__:\n" + "\n".join(found)


def test_every_public_name_resolves():
    assert framework.__all__ == sorted(framework.__all__)
    assert not set(framework.__all__) & set(framework._TOOLS)
    for name in [*framework.__all__, *framework._TOOLS]:
        assert getattr(framework, name) is not None, name
    # The database proxy is exported as db; its module stays internal.
    assert type(framework.db).__name__ == "DatabaseProxy"
    with pytest.raises(AttributeError):
        framework.__getattr__("interceptors")


@pytest.mark.parametrize(
    ("relative", "source", "expected"),
    [
        ("components/x/a.py", "from components.framework.errors import NotFound", [1]),
        ("components/x/a.py", "import components.framework.paging", [1]),
        ("components/x/a.py", "import components.framework as fw", [1]),
        ("components/x/a.py", "from components import framework", [1]),
        ("components/x/a.py", "from components.framework import database", [1]),
        ("components/x/a.py", "from components.framework import NotFound, paging, db", []),
        ("components/x/a.py", "import os\n\ndef f():\n    from ..framework import clock", [4]),
        ("components/x/a.py", "from components.framework import lifeline", [1]),
        ("components/supervisor/a.py", "from components.framework import lifeline", []),
        ("examples/keyvalue/a.py", "from components.framework import load_config", [1]),
        ("components/x/a.py", "from examples.keyvalue import service", [1]),
        ("components/x/a.py", "import examples.keyvalue.service", [1]),
        ("examples/keyvalue/a.py", "from examples.keyvalue import service", []),
        ("examples/keyvalue/a.py", "from . import service", []),
    ],
)
def test_the_check_names_each_offending_line(relative, source, expected):
    found = offences(textwrap.dedent(source), relative)
    assert [int(line.split(":")[1]) for line in found] == expected, found
    assert all(line.startswith(relative + ":") for line in found)
