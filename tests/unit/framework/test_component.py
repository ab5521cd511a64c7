"""A component's data directory is for its owner only."""

import stat

from components.framework.component import private_dir


def test_private_dir_makes_a_missing_directory_owner_only(tmp_path):
    made = private_dir(tmp_path / "a" / "data")
    assert stat.S_IMODE(made.stat().st_mode) == 0o700


def test_private_dir_tightens_an_existing_open_directory(tmp_path):
    existing = tmp_path / "data"
    existing.mkdir(mode=0o755)
    existing.chmod(0o755)
    private_dir(existing)
    assert stat.S_IMODE(existing.stat().st_mode) == 0o700


def test_stopping_a_component_stops_its_revocation_watch(tmp_path):
    from components.framework.auth import Policy
    from components.framework.component import Component, prepare

    component = Component(name="probe", default_port=0, services=lambda r: [], policy=Policy({}))
    config = component.load_config(data_dir=str(tmp_path), identity_address="127.0.0.1:1")
    runtime = prepare(component, config)
    validator = runtime.validator
    runtime.close_resources()
    # Closed: no watch is started by a later validation either.
    assert validator.watcher is None
    assert validator._watch_started
    runtime.clients.close()
