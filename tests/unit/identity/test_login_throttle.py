"""LoginThrottle: failed logins delay the next attempt from the same peer, never others."""

from __future__ import annotations

import pytest

from components.identity.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def throttle(clock, **kwargs) -> LoginThrottle:
    kwargs.setdefault("base", 0.5)
    kwargs.setdefault("maximum", 30.0)
    kwargs.setdefault("peer_free_failures", 5)
    kwargs.setdefault("user_free_failures", 0)
    return LoginThrottle(clock=clock, **kwargs)


def test_a_peer_without_failures_is_never_delayed(clock):
    assert throttle(clock).retry_after("default/compute", "10.0.0.1") == 0


def test_delay_doubles_per_failure_up_to_the_maximum(clock):
    t = throttle(clock)
    delays = []
    for _ in range(10):
        t.failed("default/demo", "10.0.0.9")
        delays.append(t.retry_after("default/demo", "10.0.0.9"))
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0]


def test_a_few_typos_cost_nothing_then_the_delay_starts_small(clock):
    t = throttle(clock, user_free_failures=3)
    delays = []
    for _ in range(5):
        t.failed("default/demo", "10.0.0.9")
        delays.append(t.retry_after("default/demo", "10.0.0.9"))
    assert delays == [0, 0, 0, 0.5, 1.0]


def test_the_delay_runs_out(clock):
    t = throttle(clock)
    t.failed("default/demo", "10.0.0.9")
    clock.now += 0.4
    assert t.retry_after("default/demo", "10.0.0.9") == pytest.approx(0.1)
    clock.now += 0.1
    assert t.retry_after("default/demo", "10.0.0.9") == 0


def test_success_resets_the_users_delay_from_that_peer(clock):
    t = throttle(clock)
    for _ in range(3):
        t.failed("default/demo", "10.0.0.9")
    t.succeeded("default/demo", "10.0.0.9")
    assert t.retry_after("default/demo", "10.0.0.9") == 0


def test_an_attacker_cannot_delay_the_user_from_another_peer(clock):
    t = throttle(clock)
    for _ in range(50):
        t.failed("default/compute", "10.6.6.6")
    assert t.retry_after("default/compute", "10.6.6.6") == 30.0
    assert t.retry_after("default/compute", "10.0.0.2") == 0


def test_a_sprayer_is_delayed_for_every_user_after_the_free_failures(clock):
    t = throttle(clock, peer_free_failures=3)
    for n in range(3):
        t.failed(f"default/user{n}", "10.6.6.6")
    assert t.retry_after("default/someone-else", "10.6.6.6") == 0
    t.failed("default/user3", "10.6.6.6")
    assert t.retry_after("default/someone-else", "10.6.6.6") == 0.5
    assert t.retry_after("default/someone-else", "10.0.0.2") == 0
    # A success for one account does not reset the peer's delay.
    t.succeeded("default/user3", "10.6.6.6")
    assert t.retry_after("default/someone-else", "10.6.6.6") == 0.5


def test_a_quiet_peer_is_forgotten(clock):
    t = throttle(clock)
    for _ in range(20):
        t.failed("default/demo", "10.0.0.9")
    clock.now += 61
    assert t.retry_after("default/demo", "10.0.0.9") == 0
    t.failed("default/demo", "10.0.0.9")
    assert t.retry_after("default/demo", "10.0.0.9") == 0.5


def test_memory_is_bounded(clock):
    t = throttle(clock, capacity=100)
    for n in range(1000):
        t.failed(f"default/user{n}", f"10.0.{n // 256}.{n % 256}")
    assert len(t) <= 100


def test_zero_base_disables_throttling(clock):
    t = throttle(clock, base=0.0)
    for _ in range(20):
        t.failed("default/demo", "10.0.0.9")
    assert t.retry_after("default/demo", "10.0.0.9") == 0


def test_a_user_who_logged_in_from_the_peer_is_not_delayed_by_a_sprayer_there(clock):
    t = throttle(clock, peer_free_failures=2, trust_seconds=3600)
    t.succeeded("default/compute", "127.0.0.1")
    for n in range(20):
        t.failed(f"default/guess{n}", "127.0.0.1")
    assert t.retry_after("default/someone-else", "127.0.0.1") == 30.0
    assert t.retry_after("default/compute", "127.0.0.1") == 0
    clock.now += 3601
    for n in range(3):
        t.failed(f"default/guess-again{n}", "127.0.0.1")
    assert t.retry_after("default/compute", "127.0.0.1") == 0.5


def test_trusted_pairs_are_bounded(clock):
    t = throttle(clock, capacity=10)
    for n in range(100):
        t.succeeded(f"default/user{n}", "127.0.0.1")
    assert len(t._trusted) <= 10
