"""How the volume service's configuration becomes its exports (service.build_exports)."""

from __future__ import annotations

import pytest

from components.framework import InvalidArgument
from components.supervisor.pki import Authority
from components.volume.backend import FileBackend
from components.volume.config import VolumeConfig
from components.volume.service import build_exports


def build(tmp_path, **settings):
    settings.setdefault("host", "127.0.0.1")
    config = VolumeConfig(data_dir=str(tmp_path / "data"), **settings)
    return build_exports(config, FileBackend(tmp_path / "data" / "volume"))


def test_defaults_serve_files_and_name_an_nbd_range(tmp_path):
    exports = build(tmp_path)
    assert exports.transport == "file"
    assert exports.host == "127.0.0.1"  # the service's own address
    assert exports.ports == range(10809, 10909)
    assert exports.tls_dir is None
    assert exports.run_dir == tmp_path / "data" / "volume-exports" / "run"


def test_nbd_with_the_services_tls_gets_a_server_tls_dir(tmp_path, caplog):
    authority = Authority.create(tmp_path / "pki")
    issued = authority.issue("volume", "volume", ["127.0.0.1"])
    exports = build(
        tmp_path,
        volume_transport="nbd",
        nbd_host="10.0.0.5",
        nbd_port_min=20000,
        nbd_port_max=20009,
        tls_ca_file=str(authority.ca_file),
        tls_cert_file=str(issued.cert_file),
        tls_key_file=str(issued.key_file),
    )
    assert (exports.host, exports.ports) == ("10.0.0.5", range(20000, 20010))
    assert sorted(p.name for p in exports.tls_dir.iterdir()) == [
        "ca-cert.pem",
        "server-cert.pem",
        "server-key.pem",
    ]
    assert (exports.tls_dir / "server-key.pem").read_bytes() == issued.key_file.read_bytes()
    assert exports.tls_dir.stat().st_mode & 0o777 == 0o700
    assert "without TLS" not in caplog.text


def test_nbd_without_tls_warns_once(tmp_path, caplog):
    exports = build(tmp_path, volume_transport="nbd")
    assert exports.tls_dir is None
    assert caplog.text.count("without TLS") == 1


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"volume_transport": "iscsi"}, "volume_transport"),
        ({"nbd_port_min": 10900, "nbd_port_max": 10899}, "nbd_port_min"),
        ({"nbd_port_min": 0}, "nbd_port_min"),
        ({"nbd_port_max": 70000}, "nbd_port_min"),
        ({"volume_transport": "nbd", "nbd_host": "0.0.0.0"}, "nbd_host"),
        ({"volume_transport": "nbd", "host": "::"}, "nbd_host"),
    ],
)
def test_bad_settings_are_refused_naming_them(tmp_path, settings, field):
    with pytest.raises(InvalidArgument) as raised:
        build(tmp_path, **settings)
    assert raised.value.metadata["field"] == field
