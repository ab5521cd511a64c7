"""A busy port: who holds it (as ss -ltnp would say) and a one-line way out."""

from __future__ import annotations

import os
import socket

from components.supervisor import ports


def test_a_listening_port_is_named_with_the_process_holding_it():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        assert not ports.is_free(port)
        assert ports.holder(port).startswith(f"pid {os.getpid()} (")
        line = ports.busy_message("api", port, [port], 0)
    assert "\n" not in line
    assert line.startswith(f"port {port} (api) is in use by pid {os.getpid()} (")
    assert "STRATUS_PORT_OFFSET=" in line and "make run-all STRATUS_PORT_OFFSET=" in line


def test_a_port_nobody_listens_on_has_no_holder():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: no LISTEN entry
        assert ports.holder(port) == ""


def test_the_offset_offered_frees_every_port_of_the_cloud():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        if port + 1000 < 65536:
            offset = ports.free_offset([port], 0)
            assert offset is not None and offset > 0
            assert ports.is_free(port + offset)
