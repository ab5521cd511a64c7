"""The retry policy compute hosts use towards the conductor: bounded, backing off, jittered."""

from __future__ import annotations

import time

import pytest

from components.framework.clients import Retry


def test_retry_waits_never_add_up_to_more_than_the_budget():
    retry = Retry(budget_seconds=1.0, initial_seconds=0.1, max_seconds=0.4)
    started = time.monotonic()
    total = 0.0
    for delay in retry.delays():
        total += delay
        time.sleep(delay)
    assert total <= 1.0
    assert time.monotonic() - started < 1.5


def test_retry_backs_off_exponentially_up_to_its_cap_with_jitter():
    retry = Retry(budget_seconds=1000.0, initial_seconds=0.1, max_seconds=2.0)
    delays = retry.delays()
    firsts = [next(delays) for _ in range(8)]
    caps = [0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0]
    for delay, cap in zip(firsts, caps, strict=True):
        assert cap / 2 <= delay <= cap


@pytest.mark.parametrize("budget", [0.0, 0.01])
def test_retry_with_no_budget_left_does_not_retry(budget):
    assert list(Retry(budget_seconds=budget, initial_seconds=0.1).delays()) == []
