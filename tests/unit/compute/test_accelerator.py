"""The domain type: as configured, or chosen by a probe that runs QEMU."""

from __future__ import annotations

import shutil

import pytest

from components.compute import accelerator


def test_probe_firmware_is_64_kib_with_the_code_at_the_bottom_and_the_jump_at_reset():
    firmware = accelerator.probe_firmware()
    assert len(firmware) == 0x10000
    assert firmware.startswith(accelerator.PROBE_CODE)
    assert firmware[0xFFF0:0xFFF3] == bytes.fromhex("e90d00")
    # The near jump lands on the first byte (0xFFF3 + 0x000D wraps to 0).
    assert (0xFFF3 + 0x000D) % 0x10000 == 0


@pytest.mark.parametrize("configured", ["qemu", "kvm", "lxc"])
def test_configured_domain_type_is_used_as_it_is(configured):
    assert accelerator.resolve_domain_type(configured, "qemu:///system") == configured


def test_auto_off_a_local_qemu_uri_is_qemu_without_probing(monkeypatch):
    monkeypatch.setattr(accelerator, "kvm_runs_stock_guests", lambda: pytest.fail("probed"))
    assert accelerator.resolve_domain_type("auto", "test:///default") == "qemu"


def test_auto_on_qemu_follows_the_probe(monkeypatch):
    monkeypatch.setattr(accelerator, "kvm_runs_stock_guests", lambda: True)
    assert accelerator.resolve_domain_type("auto", "qemu:///system?socket=/x") == "kvm"
    monkeypatch.setattr(accelerator, "kvm_runs_stock_guests", lambda: False)
    assert accelerator.resolve_domain_type("auto", "qemu:///system") == "qemu"


@pytest.mark.skipif(shutil.which(accelerator.QEMU) is None, reason="QEMU is not installed")
def test_probe_firmware_reaches_long_mode_under_tcg():
    assert accelerator.reaches_long_mode("tcg", timeout=20)
