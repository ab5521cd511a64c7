"""dhcp_agent.clean_leftovers with what a run recorded, the system calls faked."""

import json

import pytest

from components.network import dhcp_agent
from components.network.vxlan import VxlanError

NET = "0b9c5e4e-0000-4000-8000-000000000001"


@pytest.fixture
def recorded(tmp_path, monkeypatch):
    """A data dir with one network's state.json and dnsmasq files; the calls made."""
    monkeypatch.setattr(dhcp_agent, "RUN_ROOT", tmp_path / "run")
    data = tmp_path / "data"
    state = data / "dhcp" / NET
    state.mkdir(parents=True)
    state.joinpath(dhcp_agent.STATE).write_text(json.dumps({
        "network_id": NET, "vni": 17, "tap": "tap0b9c5e4e-00", "bridge_namespace": "gone-ns",
        "underlay_device": "ul", "tunnel_ip": "10.0.0.1",
    }))  # fmt: skip
    files = dhcp_agent.files_root(data) / NET
    files.mkdir(parents=True)
    files.joinpath("host").write_text("")
    calls = []
    monkeypatch.setattr(dhcp_agent.dhcp, "stop_stale", lambda path: calls.append(("stop", path)))
    monkeypatch.setattr(dhcp_agent.dhcp_links, "namespaces", lambda: {f"qdhcp-{NET}"})
    monkeypatch.setattr(
        dhcp_agent.dhcp_links, "delete_namespace", lambda name: calls.append(("netns", name))
    )

    def no_bridge_namespace(*args, **kwargs):
        raise VxlanError("`ip -netns gone-ns link show` failed: Cannot open network namespace")

    monkeypatch.setattr(dhcp_agent.dhcp_links, "delete_link", no_bridge_namespace)
    monkeypatch.setattr(dhcp_agent.VxlanHost, "remove_if_unused", no_bridge_namespace)
    return data, files, calls


def test_a_gone_bridge_namespace_leaves_the_rest_to_remove(recorded):
    data, files, calls = recorded
    dhcp_agent.clean_leftovers(data)
    assert calls == [("stop", files / "dnsmasq.pid"), ("netns", f"qdhcp-{NET}")]
    assert not files.exists() and not dhcp_agent.files_root(data).exists()
    assert not (data / "dhcp" / NET).exists()


def test_a_failing_step_does_not_stop_the_others(recorded, monkeypatch):
    data, files, calls = recorded
    monkeypatch.setattr(dhcp_agent.dhcp_links, "namespaces", lambda: {"gone-ns"})

    def fail(name):
        raise OSError("busy")

    monkeypatch.setattr(dhcp_agent.dhcp_links, "delete_namespace", fail)
    dhcp_agent.clean_leftovers(data)  # logs, does not raise
    assert calls == [("stop", files / "dnsmasq.pid")]
    assert not files.exists()  # no dnsmasq pid left to find
    assert (data / "dhcp" / NET / dhcp_agent.STATE).exists()  # kept for the next clean-up
