"""Whether a port is free to bind, on IPv4 and IPv6."""

from __future__ import annotations

import socket

import pytest

from components.framework import bindable


@pytest.mark.parametrize(
    ("family", "host"), [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")]
)
def test_a_port_something_listens_on_is_not_bindable(family, host):
    if family == socket.AF_INET6 and not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        taken = socket.socket(family)
        taken.bind((host, 0))
    except OSError:
        pytest.skip(f"cannot bind {host}")
    with taken:
        port = taken.getsockname()[1]
        taken.listen()
        assert not bindable(host, port)
    assert bindable(host, port)


def test_a_port_in_time_wait_is_bindable():
    with socket.socket() as server:
        # Linux lets a TIME_WAIT port be bound again when both sockets ask for it.
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port), timeout=5)
        accepted, _ = server.accept()
        accepted.close()  # the server closes first: its side goes to TIME_WAIT
        client.close()
    assert bindable("127.0.0.1", port)
