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
