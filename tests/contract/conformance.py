"""What the conformance check compares: the error cases each RPC's proto comment names,
and the CONTRACT_CASES tables the contract test modules declare.

Both sides are read as text, never imported: the protos with a small line parser (an
RPC's own comment is the run of ``//`` lines directly above its ``rpc`` line), the test
modules with ``ast``, so a table is checked even when its module cannot be imported.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROTO_GLOB = "stratus/*/v1/*_service.proto"
# The example components' protos (examples/keyvalue/protos/example/keyvalue/v1/...).
EXAMPLE_PROTO_GLOB = "examples/*/protos/*/*/v1/*_service.proto"
CHECKED_CODES = ("INVALID_ARGUMENT", "NOT_FOUND", "PERMISSION_DENIED", "FAILED_PRECONDITION")

_PACKAGE = re.compile(r"^\s*package\s+([\w.]+)\s*;")
_SERVICE = re.compile(r"^\s*service\s+(\w+)\s*\{")
_RPC = re.compile(r"^\s*rpc\s+(\w+)\s*\(")
_CODE = re.compile(r"\b(" + "|".join(CHECKED_CODES) + r")\b")
# "never NOT_FOUND", "(not PERMISSION_DENIED)", "never answers NOT_FOUND": a promise that
# the code is not answered, which no test can exercise.
_NEGATED = re.compile(
    r"\b(?:not|never)(?:\s+answers?)?\s*\(?\s*(" + "|".join(CHECKED_CODES) + r")\b"
)


def documented_cases(proto_text: str) -> dict[str, set[str]]:
    """Map each RPC's full name ("pkg.Service/Method") to the checked codes its own
    leading comment names (an empty set when it names none). A code named only after
    "not" or "never" ("never answers NOT_FOUND") is a promise of absence, not a case."""
    package = service = ""
    comment: list[str] = []
    cases: dict[str, set[str]] = {}
    for line in proto_text.splitlines():
        stripped = line.strip()
        if stripped.startswith("//"):
            comment.append(stripped[2:])
            continue
        if match := _PACKAGE.match(line):
            package = match.group(1)
        elif match := _SERVICE.match(line):
            service = match.group(1)
        elif match := _RPC.match(line):
            name = f"{package}.{service}/{match.group(1)}"
            text = "\n".join(comment)
            cases[name] = set(_CODE.findall(_NEGATED.sub("", text)))
        comment = []
    return cases


def proto_cases(root: Path = ROOT) -> dict[str, set[str]]:
    """documented_cases of every service proto under protos/ and of the examples."""
    cases: dict[str, set[str]] = {}
    paths = [*(root / "protos").glob(PROTO_GLOB), *root.glob(EXAMPLE_PROTO_GLOB)]
    for path in sorted(paths):
        cases.update(documented_cases(path.read_text()))
    return cases


@dataclass(frozen=True)
class Entry:
    """One CONTRACT_CASES entry: this test covers this code of this RPC."""

    module: str
    line: int
    rpc: str
    code: str
    test: str

    def where(self) -> str:
        return f"{self.module}:{self.line}"


def _defined_tests(tree: ast.Module) -> set[str]:
    """Top-level functions as "name", methods of top-level classes as "Class::name"."""
    names: set[str] = set()
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    for node in tree.body:
        if isinstance(node, functions):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names |= {f"{node.name}::{n.name}" for n in node.body if isinstance(n, functions)}
    return names


def _table(tree: ast.Module) -> ast.Dict | None:
    for node in tree.body:
        target = value = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and target.id == "CONTRACT_CASES":
            if not isinstance(value, ast.Dict):
                raise ValueError("CONTRACT_CASES must be a dict literal")
            return value
    return None


def module_entries(source: str, module: str) -> tuple[list[Entry], set[str]]:
    """The CONTRACT_CASES entries of one test module's source, and the tests it defines.
    The table must be a literal ``{rpc: {code: test}}`` so it can be read without
    importing the module."""
    tree = ast.parse(source)
    table = _table(tree)
    entries: list[Entry] = []
    if table is None:
        return entries, _defined_tests(tree)
    for rpc_node, codes_node in zip(table.keys, table.values, strict=True):
        rpc = ast.literal_eval(rpc_node)
        if not isinstance(codes_node, ast.Dict):
            raise ValueError(f"{module}: CONTRACT_CASES[{rpc!r}] must be a dict literal")
        for code_node, test_node in zip(codes_node.keys, codes_node.values, strict=True):
            code, test = ast.literal_eval(code_node), ast.literal_eval(test_node)
            entries.append(Entry(module, code_node.lineno, rpc, code, test))
    return entries, _defined_tests(tree)


def contract_entries(root: Path = ROOT) -> tuple[list[Entry], dict[str, set[str]]]:
    """Every entry of every tests/contract/test_*.py, and each module's defined tests."""
    entries: list[Entry] = []
    defined: dict[str, set[str]] = {}
    for path in sorted((root / "tests" / "contract").glob("test_*.py")):
        module = str(path.relative_to(root))
        found, tests = module_entries(path.read_text(), module)
        entries += found
        defined[module] = tests
    return entries, defined
