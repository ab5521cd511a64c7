"""IPAM's database half and port creation, on a real SQLite database (no gRPC)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from components.framework import database as db
from components.framework import transactions
from components.framework.errors import AlreadyExists, ResourceExhausted
from components.network import ipam, macs, networks, ports, subnets
from components.network.models import AllocationPool, IPAllocation, Port
from tests.harness import caller

MIGRATIONS = Path(ipam.__file__).parent / "migrations"
PROJECT = "0a0a0a0a-0000-4000-8000-00000000000a"
ALICE = caller(["member"], project_id=PROJECT, token="alice")


@pytest.fixture(autouse=True)
def database(tmp_path):
    db.connect(f"sqlite:///{tmp_path / 'network.sqlite'}", MIGRATIONS)
    yield
    db.close()


def make_subnet(cidr: str, **kwargs):
    network = networks.create(ALICE, networks.NetworkSpec())
    subnet = subnets.create(ALICE, subnets.SubnetSpec(network_id=network.id, cidr=cidr, **kwargs))
    return network, subnet


def new_port(network) -> Port:
    return Port.create(
        network=network,
        project_id=PROJECT,
        mac_address=macs.generate("fa:16:3e"),
        status=ports.Status.DOWN,
    )


def claim(subnet, network) -> str | None:
    def work():
        ipam.lock_subnets([subnet.id])
        row = ipam.claim_any(subnet, new_port(network), 0)
        return row.ip_address if row is not None else None

    return transactions.run(work)


def hint(subnet) -> str:
    pool = AllocationPool.get(AllocationPool.subnet == subnet.id)
    return str(ipaddress.ip_address(int(pool.next_key, 16)))


def test_claims_take_the_pool_in_order_and_move_the_hint():
    network, subnet = make_subnet("10.0.0.0/24")
    assert [claim(subnet, network) for _ in range(3)] == ["10.0.0.2", "10.0.0.3", "10.0.0.4"]
    assert hint(subnet) == "10.0.0.5"


def test_release_lowers_the_hint_and_the_address_is_reused_first():
    network, subnet = make_subnet("10.0.0.0/24")
    for _ in range(4):
        claim(subnet, network)
    port_id = IPAllocation.get(IPAllocation.ip_address == "10.0.0.3").port_id
    transactions.run(lambda: ipam.release(port_id))
    assert hint(subnet) == "10.0.0.3"
    assert claim(subnet, network) == "10.0.0.3"
    assert claim(subnet, network) == "10.0.0.6"


def test_full_subnet_is_none_and_a_stale_hint_does_not_hide_a_free_address():
    network, subnet = make_subnet("10.0.0.0/29")
    assert [claim(subnet, network) for _ in range(5)] == [f"10.0.0.{i}" for i in range(2, 7)]
    assert claim(subnet, network) is None
    IPAllocation.delete().where(IPAllocation.ip_address == "10.0.0.4").execute()  # hint untouched
    assert hint(subnet) == "10.0.0.6"
    assert claim(subnet, network) == "10.0.0.4"


def test_losing_a_race_for_an_address_moves_on_to_the_next(monkeypatch):
    network, subnet = make_subnet("10.0.0.0/24")
    for _ in range(3):
        claim(subnet, network)
    AllocationPool.update(next_key=ipam.key(4, int(ipaddress.ip_address("10.0.0.2")))).execute()
    # A stale view: the search sees nothing allocated, the UNIQUE index says otherwise.
    monkeypatch.setattr(ipam, "_allocated_from", lambda *args: iter(()))
    assert claim(subnet, network) == "10.0.0.5"
    assert IPAllocation.select().count() == 4


def test_a_big_subnet_is_never_walked_address_by_address(monkeypatch):
    network, subnet = make_subnet("10.0.0.0/8")
    read = []
    original = ipam._allocated_from

    def counting(*args):
        for value in original(*args):
            read.append(value)
            yield value

    monkeypatch.setattr(ipam, "_allocated_from", counting)
    got = [claim(subnet, network) for _ in range(300)]
    assert got[-1] == "10.0.1.45" and len(set(got)) == 300
    assert len(read) == 0  # each claim starts at the hint, which is free


def test_ipv6_claims_come_from_the_pool_in_order():
    network, subnet = make_subnet("fd00:1:2:3::/64")
    assert [claim(subnet, network) for _ in range(2)] == ["fd00:1:2:3::2", "fd00:1:2:3::3"]
    assert hint(subnet) == "fd00:1:2:3::4"


def test_requested_address_in_use_is_already_exists():
    network, subnet = make_subnet("10.0.0.0/24")
    address = ipaddress.ip_address("10.0.0.9")
    transactions.run(lambda: ipam.claim_address(subnet, new_port(network), 0, address, "f"))
    with pytest.raises(AlreadyExists):
        transactions.run(lambda: ipam.claim_address(subnet, new_port(network), 0, address, "f"))


def test_generated_mac_colliding_on_the_network_is_drawn_again(monkeypatch):
    network, _ = make_subnet("10.0.0.0/24")
    drawn = iter(["fa:16:3e:00:00:01", "fa:16:3e:00:00:01", "fa:16:3e:00:00:02"])
    monkeypatch.setattr(macs, "generate", lambda prefix: next(drawn))
    spec = ports.PortSpec(network_id=network.id)
    first = ports.create(ALICE, spec, "fa:16:3e")
    second = ports.create(ALICE, spec, "fa:16:3e")
    assert (first.mac_address, second.mac_address) == ("fa:16:3e:00:00:01", "fa:16:3e:00:00:02")


def test_failed_port_creation_keeps_neither_port_nor_addresses():
    network, _ = make_subnet("10.0.0.0/30")
    ports.create(ALICE, ports.PortSpec(network_id=network.id), "fa:16:3e")
    with pytest.raises(ResourceExhausted):
        ports.create(ALICE, ports.PortSpec(network_id=network.id), "fa:16:3e")
    assert Port.select().count() == 1 and IPAllocation.select().count() == 1
