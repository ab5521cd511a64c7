"""CachingValidator drops what a revocation covers, and never caches a raced answer."""

from __future__ import annotations

import dataclasses
import threading

from components.framework.auth import CachingValidator, Caller, Revoked


def who(token: str, **fields) -> Caller:
    values = dict(
        user_id="u-1",
        user_name="ann",
        project_id="p-1",
        project_name="shop",
        roles=frozenset({"member"}),
        token=token,
        domain_id="d-users",
        audit_id=f"audit-{token}",
        project_domain_id="d-projects",
    )
    values.update(fields)
    return Caller(**values)


@dataclasses.dataclass
class Table:
    """The far side of the validator contract: a table of tokens, counting calls."""

    callers: dict[str, Caller]
    calls: int = 0
    during_call: object = None

    def validate(self, token: str) -> Caller:
        self.calls += 1
        if self.during_call is not None:
            self.during_call()
        return self.callers[token]


class WatchingTable(Table):
    def __init__(self, callers) -> None:
        super().__init__(callers)
        self.sinks = []
        self.stopped = threading.Event()

    def watch_revocations(self, sink):
        self.sinks.append(sink)
        return self

    def stop(self) -> None:
        self.stopped.set()


def cached(validator: CachingValidator, token: str) -> bool:
    return validator.cache.get(validator._key(token)) is not None


def test_revocation_drops_only_the_tokens_it_covers():
    table = Table({"a": who("a"), "b": who("b", user_id="u-2"), "c": who("c", project_id="p-2")})
    validator = CachingValidator(table)
    for token in "abc":
        validator.validate(token)
    validator.revoke(Revoked(user_id="u-1", project_id="p-1"))
    assert [cached(validator, t) for t in "abc"] == [False, True, True]


def test_audit_user_project_and_domain_events_cover_their_tokens():
    cases = [
        (Revoked(audit_id="audit-a"), True),
        (Revoked(audit_id="audit-x"), False),
        (Revoked(user_id="u-1"), True),
        (Revoked(project_id="p-1"), True),
        (Revoked(domain_id="d-users"), True),
        (Revoked(domain_id="d-projects"), True),
        (Revoked(domain_id="d-other"), False),
        (Revoked(), True),
    ]
    for event, covered in cases:
        assert event.covers(who("a")) is covered, event


def test_reset_drops_everything():
    validator = CachingValidator(Table({"a": who("a"), "b": who("b")}))
    validator.validate("a")
    validator.validate("b")
    validator.reset()
    assert len(validator.cache) == 0


def test_an_answer_that_raced_with_a_revocation_is_returned_but_not_cached():
    table = Table({"a": who("a")})
    validator = CachingValidator(table)
    table.during_call = lambda: validator.revoke(Revoked(user_id="someone-else"))
    assert validator.validate("a").user_id == "u-1"
    assert not cached(validator, "a")
    table.during_call = None
    validator.validate("a")
    assert cached(validator, "a")


def test_the_watch_starts_once_on_first_use_and_stops_on_close():
    table = WatchingTable({"a": who("a")})
    validator = CachingValidator(table)
    assert table.sinks == []
    validator.validate("a")
    validator.validate("a")
    assert table.sinks == [validator] and table.calls == 1
    validator.close()
    assert table.stopped.is_set()
