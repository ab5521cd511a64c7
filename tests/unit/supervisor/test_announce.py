"""What run-all prints once the cloud is up."""

from __future__ import annotations

import argparse
from pathlib import Path

from components.supervisor import __main__ as run_all
from components.supervisor.plan import Plan


def test_the_banner_says_export_os_client_config_file_once(tmp_path, monkeypatch, capsys):
    passwords = {"admin": "a-secret", "demo": "d-secret"}
    ids = {"image": "i", "network": "n", "flavor": "f"}
    monkeypatch.setattr(run_all, "seed_cloud", lambda *_: (passwords, ids))
    plan = Plan(Path(tmp_path))
    addresses = {s.name: s.address for s in [*plan.components(), *plan.computes()]}
    options = argparse.Namespace(ready_file=None)
    run_all.announce(options, plan, addresses, None)
    out = capsys.readouterr().out
    assert out.count("export OS_CLIENT_CONFIG_FILE=") == 1
    assert f"export OS_CLIENT_CONFIG_FILE={tmp_path / 'clouds.yaml'} OS_CLOUD=demo" in out
