"""run-all's restart policy: backoff, a sliding window, and giving up on one component only."""

from __future__ import annotations

import logging
import sys

import pytest

from components.supervisor.plan import ProcessSpec
from components.supervisor.processes import Child, Supervisor
from components.supervisor.restarts import RestartBudget, RestartPolicy


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def test_backoff_doubles_with_each_exit_in_the_window_up_to_the_cap(clock):
    policy = RestartPolicy(max_failures=10, backoff_base_seconds=1, backoff_max_seconds=5)
    budget = RestartBudget(policy, clock)
    delays = []
    for _ in range(6):
        delays.append(budget.exited())
        clock.now += 1
    assert delays == [1, 2, 4, 5, 5, 5]


def test_the_fifth_exit_within_the_window_gives_up(clock):
    budget = RestartBudget(RestartPolicy(max_failures=5, window_seconds=60), clock)
    for _ in range(4):
        assert budget.exited() is not None
        clock.now += 14
    assert budget.exited() is None
    assert budget.failures == 5


def test_exits_spaced_wider_than_the_window_allows_are_restarted_for_ever(clock):
    budget = RestartBudget(RestartPolicy(max_failures=5, window_seconds=60), clock)
    for _ in range(50):
        assert budget.exited() is not None
        clock.now += 15.01  # four exits fit in 60 s, never five
    assert budget.failures == 4


def test_exits_older_than_the_window_are_forgotten_and_the_backoff_starts_over(clock):
    budget = RestartBudget(RestartPolicy(max_failures=5, window_seconds=60), clock)
    for _ in range(4):
        budget.exited()
    assert budget.failures == 4
    clock.now += 60
    assert budget.exited() == 1.0
    assert budget.failures == 1


def test_policy_from_env_reads_the_supervisor_settings():
    policy = RestartPolicy.from_env(
        {
            "STRATUS_SUPERVISOR_MAX_FAILURES": "3",
            "STRATUS_SUPERVISOR_WINDOW_SECONDS": "6.5",
            "STRATUS_SUPERVISOR_BACKOFF_BASE_SECONDS": "0.2",
            "STRATUS_SUPERVISOR_BACKOFF_MAX_SECONDS": "1",
            "STRATUS_OTHER": "ignored",
        }
    )
    assert policy == RestartPolicy(3, 6.5, 0.2, 1.0)
    assert RestartPolicy.from_env({}) == RestartPolicy(5, 60.0, 1.0, 30.0)


@pytest.mark.parametrize(
    "env",
    [
        {"STRATUS_SUPERVISOR_MAX_FAILURES": "many"},
        {"STRATUS_SUPERVISOR_MAX_FAILURES": "0"},
        {"STRATUS_SUPERVISOR_WINDOW_SECONDS": "-1"},
        {"STRATUS_SUPERVISOR_BACKOFF_BASE_SECONDS": "60"},
    ],
)
def test_policy_from_env_refuses_nonsense(env):
    with pytest.raises(ValueError):
        RestartPolicy.from_env(env)


# The supervisor with real child processes and the test's clock


def spec(name: str, code: str) -> ProcessSpec:
    return ProcessSpec(name, "", 0, {}, command=(sys.executable, "-c", code))


@pytest.fixture
def supervisor(tmp_path, clock):
    policy = RestartPolicy(max_failures=3, window_seconds=60, backoff_base_seconds=2)
    supervisor = Supervisor(tmp_path / "logs", echo=False, policy=policy, clock=clock)
    for child_spec in (spec("steady", "import time; time.sleep(60)"), spec("crasher", "")):
        supervisor.children.append(Child(child_spec, supervisor.log_dir, 31, echo=False))
    yield supervisor
    supervisor.stop(grace=5)


def exit_of(supervisor: Supervisor, name: str) -> None:
    child = next(c for c in supervisor.children if c.spec.name == name)
    child.process.wait(timeout=10)


def test_a_child_that_exits_is_started_again_only_after_its_backoff(supervisor, clock):
    exit_of(supervisor, "crasher")
    first = supervisor.children[1]
    supervisor.tend()  # notes the exit: due in 2 s
    clock.now += 1.9
    supervisor.tend()
    assert supervisor.children[1] is first
    clock.now += 0.1
    supervisor.tend()
    assert supervisor.children[1] is not first
    assert supervisor.children[1].restarts == 1


def test_a_child_that_keeps_exiting_is_left_stopped_and_the_rest_keep_running(
    supervisor, clock, caplog
):
    steady = supervisor.children[0]
    with caplog.at_level(logging.INFO, logger="components.supervisor.processes"):
        for _ in range(10):
            exit_of(supervisor, "crasher")
            supervisor.tend()
            clock.now += 10
            supervisor.tend()
    assert supervisor.failed == {"crasher": 3}
    assert supervisor.children[1].restarts == 2
    assert supervisor.children[0] is steady and steady.alive()
    gave_up = [r.getMessage() for r in caplog.records if "leaving it stopped" in r.getMessage()]
    assert len(gave_up) == 1
    assert gave_up[0].startswith(
        "crasher failed 3 times in 60 s; leaving it stopped, the rest keep running"
    )
