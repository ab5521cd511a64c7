"""The protos' error promises each have a contract test.

Every ``INVALID_ARGUMENT``, ``NOT_FOUND``, ``PERMISSION_DENIED`` or
``FAILED_PRECONDITION`` an RPC's own comment in protos/stratus/*/v1/*_service.proto
names (the ``//`` lines directly above its ``rpc`` line) is a case a caller relies on.
The contract test modules declare which test exercises each case, in a module-level
literal table next to their tests::

    CONTRACT_CASES = {
        "stratus.image.v1.Images/GetImage": {
            "NOT_FOUND": "test_get_missing_image_is_not_found",
            "INVALID_ARGUMENT": "TestClass::test_malformed_id",
        },
    }

A maintainer who adds a code to an RPC's comment adds a test that gets that code from
that RPC and an entry here; one who removes a code removes its entry. A code named
after "not" or "never" ("never answers NOT_FOUND") is a promise of absence and needs
no entry. The tables are read with ``ast``, not imported (see conformance.py).
"""

from __future__ import annotations

import pytest

from tests.contract import conformance

SAMPLE = """
syntax = "proto3";
package stratus.demo.v1;

// The file's and the service's comments name NOT_FOUND: not an RPC's case.
service Demo {
  // GetThing returns a thing. NOT_FOUND if it does not exist;
  //
  // INVALID_ARGUMENT for a malformed id. RESOURCE_EXHAUSTED is not checked.
  rpc GetThing(GetThingRequest) returns (Thing);

  rpc Bare(BareRequest) returns (BareResponse);

  // ListThings never answers NOT_FOUND (an empty page instead, not
  // PERMISSION_DENIED); FAILED_PRECONDITION_X is another word.
  rpc ListThings(ListThingsRequest) returns (ListThingsResponse);
}

// Second service.
service Other {
  // Ping. PERMISSION_DENIED unless a service calls; a stream is
  // FAILED_PRECONDITION when closed.
  rpc Ping(stream PingRequest) returns (PingResponse);
}
"""

TABLE = """
CONTRACT_CASES = {
    "stratus.demo.v1.Demo/GetThing": {"NOT_FOUND": "test_a", "INVALID_ARGUMENT": "K::test_b"},
}

def test_a(): ...

class K:
    def test_b(self): ...
    def helper(self): ...

def helper(): ...
"""


def test_parser_reads_each_rpcs_own_comment_only():
    assert conformance.documented_cases(SAMPLE) == {
        "stratus.demo.v1.Demo/GetThing": {"NOT_FOUND", "INVALID_ARGUMENT"},
        "stratus.demo.v1.Demo/Bare": set(),
        "stratus.demo.v1.Demo/ListThings": set(),
        "stratus.demo.v1.Other/Ping": {"PERMISSION_DENIED", "FAILED_PRECONDITION"},
    }


def test_parser_reads_a_modules_table_and_its_tests_without_importing_it():
    entries, tests = conformance.module_entries(TABLE, "m.py")
    assert [(e.rpc, e.code, e.test, e.line) for e in entries] == [
        ("stratus.demo.v1.Demo/GetThing", "NOT_FOUND", "test_a", 3),
        ("stratus.demo.v1.Demo/GetThing", "INVALID_ARGUMENT", "K::test_b", 3),
    ]
    assert tests == {"test_a", "helper", "K::test_b", "K::helper"}


def test_a_table_that_is_not_a_literal_is_refused():
    with pytest.raises(ValueError, match="dict literal"):
        conformance.module_entries("CONTRACT_CASES = dict(a=1)\n", "m.py")


def test_the_protos_document_cases_this_check_can_see():
    documented = conformance.proto_cases()
    services = {rpc.split("/")[0] for rpc in documented}
    assert len(services) >= 8, services
    assert sum(len(codes) for codes in documented.values()) > 50


@pytest.fixture(scope="module")
def documented():
    return conformance.proto_cases()


@pytest.fixture(scope="module")
def declared():
    return conformance.contract_entries()


def test_every_documented_error_case_has_a_contract_test(documented, declared):
    entries, _ = declared
    covered = {(e.rpc, e.code) for e in entries}
    missing = sorted(
        (rpc, code)
        for rpc, codes in documented.items()
        for code in codes
        if (rpc, code) not in covered
    )
    assert not missing, (
        f"{len(missing)} error case(s) named in a proto comment have no test; add a test "
        "that gets the code from the RPC and an entry to CONTRACT_CASES in that "
        "service's tests/contract/test_*_service.py (or drop the code from the comment if "
        "the RPC never answers it):\n"
        + "\n".join(f'  "{rpc}": {{"{code}": "test_..."}}' for rpc, code in missing)
    )


def test_every_contract_case_names_a_test_of_its_module(declared):
    entries, defined = declared
    dangling = [e for e in entries if e.test not in defined[e.module]]
    assert not dangling, (
        "CONTRACT_CASES entries naming a test their module does not define (a top-level "
        "def, or Class::method); fix the name or remove the entry:\n"
        + "\n".join(f"  {e.where()}: {e.rpc} {e.code} -> {e.test}" for e in dangling)
    )


def test_every_contract_case_is_documented_by_the_protos(documented, declared):
    entries, _ = declared
    stale = [e for e in entries if e.code not in documented.get(e.rpc, set())]
    assert not stale, (
        "CONTRACT_CASES entries for an RPC that does not exist or a code its proto comment "
        "does not name; name the code in the RPC's comment if the RPC answers it, or "
        "remove the entry:\n"
        + "\n".join(
            f"  {e.where()}: {e.rpc} {e.code}" + ("" if e.rpc in documented else " (no such RPC)")
            for e in stale
        )
    )
