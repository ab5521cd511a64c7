"""The shared iproute2 runner: stdout on success, else the caller's error class
naming the command (with its stderr), the timeout, or the missing tool."""

from __future__ import annotations

import subprocess
import types

import pytest

from components.framework import iproute


class Mine(iproute.CommandFailed):
    """A caller's own error, as VxlanError or RackError."""


def fake_run(monkeypatch, outcome):
    seen = []

    def run(command, **kwargs):
        seen.append((command, kwargs))
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    monkeypatch.setattr(iproute.subprocess, "run", run)
    return seen


def completed(returncode=0, stdout="", stderr=""):
    return types.SimpleNamespace(returncode=returncode, stdout=stdout, stderr=stderr)


def test_returns_stdout_and_runs_in_the_namespace(monkeypatch):
    seen = fake_run(monkeypatch, completed(stdout="[]"))
    assert iproute.run("bridge", "-j", "fdb", "show", netns="ns1", timeout=3.0) == "[]"
    command, kwargs = seen[0]
    assert command == ["bridge", "-netns", "ns1", "-j", "fdb", "show"]
    assert kwargs["timeout"] == 3.0


def test_without_a_namespace_runs_where_the_caller_is(monkeypatch):
    seen = fake_run(monkeypatch, completed())
    iproute.run("ip", "link", "show")
    assert seen[0][0] == ["ip", "link", "show"]
    assert seen[0][1]["timeout"] == iproute.TIMEOUT


def test_a_failure_raises_the_callers_error_with_command_and_stderr(monkeypatch):
    fake_run(monkeypatch, completed(returncode=2, stderr="RTNETLINK answers: File exists\n"))
    expected = r"^`ip link add x` failed: RTNETLINK answers: File exists$"
    with pytest.raises(Mine, match=expected) as e:
        iproute.run("ip", "link", "add", "x", error=Mine)
    assert e.value.command == ["ip", "link", "add", "x"]
    assert e.value.stderr == "RTNETLINK answers: File exists"


def test_a_missing_tool_and_a_timeout_are_named(monkeypatch):
    fake_run(monkeypatch, FileNotFoundError("ip"))
    with pytest.raises(iproute.CommandFailed, match=r"ip \(iproute2\) is not installed"):
        iproute.run("ip", "link")
    fake_run(monkeypatch, subprocess.TimeoutExpired(["ip"], 1.5))
    with pytest.raises(Mine, match=r"`ip -netns n link` took longer than 1.5 s") as e:
        iproute.run("ip", "link", netns="n", timeout=1.5, error=Mine)
    assert e.value.command == ["ip", "-netns", "n", "link"] and e.value.stderr == ""


def test_a_real_command_runs():
    if subprocess.run(["which", "ip"], capture_output=True).returncode != 0:
        pytest.skip("ip (iproute2) is not installed")
    assert "lo" in iproute.run("ip", "-o", "link", "show", "lo")
    with pytest.raises(iproute.CommandFailed, match="failed: ") as e:
        iproute.run("ip", "link", "show", "no-such-link-stratus")
    assert e.value.stderr
