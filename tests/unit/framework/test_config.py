import dataclasses

import pytest

from components.framework.config import Config, load_config
from components.framework.errors import InvalidArgument


@dataclasses.dataclass
class ComputeConfig(Config):
    libvirt_uri: str = "test:///default"
    reserved_ram_mib: int = 512
    debug_domains: bool = False
    aggregates: list[str] = dataclasses.field(default_factory=list)


def write(tmp_path, text):
    path = tmp_path / "stratus.toml"
    path.write_text(text)
    return path


def test_defaults_apply_when_nothing_is_given():
    config = load_config(ComputeConfig, "compute", env={})
    assert config.libvirt_uri == "test:///default"
    assert config.data_dir == "./var"
    assert config.component == "compute"


def test_file_overrides_defaults_and_component_table_overrides_common(tmp_path):
    path = write(
        tmp_path,
        '[stratus]\ndata_dir = "/srv/stratus"\nlog_level = "DEBUG"\n'
        '[compute]\nlog_level = "WARNING"\nreserved_ram_mib = 1024\n',
    )
    config = load_config(ComputeConfig, "compute", path, env={})
    assert config.data_dir == "/srv/stratus"
    assert config.log_level == "WARNING"
    assert config.reserved_ram_mib == 1024


def test_environment_overrides_file_and_component_variable_wins(tmp_path):
    path = write(tmp_path, '[compute]\nreserved_ram_mib = 1024\ndata_dir = "/from/file"\n')
    env = {
        "STRATUS_RESERVED_RAM_MIB": "2048",
        "STRATUS_COMPUTE_RESERVED_RAM_MIB": "4096",
        "STRATUS_DATA_DIR": "/from/env",
        "STRATUS_COMPUTE_DEBUG_DOMAINS": "yes",
        "STRATUS_COMPUTE_AGGREGATES": "fast, ssd",
    }
    config = load_config(ComputeConfig, "compute", path, env=env)
    assert config.reserved_ram_mib == 4096
    assert config.data_dir == "/from/env"
    assert config.debug_domains is True
    assert config.aggregates == ["fast", "ssd"]


def test_explicit_overrides_win_over_environment():
    config = load_config(Config, "api", env={"STRATUS_PORT": "9000"}, port=0)
    assert config.port == 0


def test_config_file_path_from_environment(tmp_path):
    path = write(tmp_path, '[stratus]\nregion = "north"\n')
    config = load_config(Config, "api", env={"STRATUS_CONFIG": str(path)})
    assert config.region == "north"


def test_unparseable_value_names_the_setting():
    with pytest.raises(InvalidArgument, match="reserved_ram_mib"):
        load_config(ComputeConfig, "compute", env={"STRATUS_RESERVED_RAM_MIB": "lots"})


def test_unknown_key_in_file_is_refused(tmp_path):
    path = write(tmp_path, "[compute]\nreserved_ram = 5\n")
    with pytest.raises(InvalidArgument, match="reserved_ram"):
        load_config(ComputeConfig, "compute", path, env={})


def test_default_database_is_a_sqlite_file_in_the_data_dir(tmp_path):
    config = load_config(Config, "api", env={"STRATUS_DATA_DIR": str(tmp_path)})
    assert config.database_url_for("compute") == f"sqlite:///{tmp_path}/compute.sqlite"
    config.database_url = "postgresql://db/stratus"
    assert config.database_url_for("compute") == "postgresql://db/stratus"
