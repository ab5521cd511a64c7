"""IP address management: subnet ranges, allocation pools, and handing out addresses.

The first half is pure (``ipaddress`` only): checking a subnet's cidr, gateway,
pools and name servers, and finding the first free address of a range given
the allocated ones in order. The second half claims addresses in the
database. Claiming is safe under concurrency on every backend because of the
UNIQUE (subnet, ip_address) index: a claim that loses a race gets an
IntegrityError and moves on to the next candidate. The subnet's row is also
locked for the claim (where rows can be locked), so concurrent claims on one
subnet take turns instead of colliding over and over on the same address.

Finding a free address never walks a range address by address: it starts at
the pool's hint (``next_key``) and skips over allocated addresses fetched from
the database in order, a batch at a time.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import itertools
from collections.abc import Iterable, Iterator, Sequence

import peewee

from components.framework import AlreadyExists, InvalidArgument, NotFound, quote, transactions
from components.network.models import AllocationPool, IPAllocation, Port, Subnet

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Cidr = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_PREFIX = {4: 30, 6: 126}
# Ranges no subnet may overlap: "this network", loopback and multicast (and so every
# IPv4 prefix shorter than /4). Prefix length 0 is refused for both families
# (Neutron: "0 is not allowed as CIDR prefix length").
RESERVED = {
    4: tuple(ipaddress.ip_network(n) for n in ("0.0.0.0/8", "127.0.0.0/8", "224.0.0.0/4")),
    6: tuple(ipaddress.ip_network(n) for n in ("::/127", "ff00::/8")),
}
MAX_NAMESERVERS = 5
BATCH = 256
# Neutron's ipv6_address_mode values; the first two give each port its EUI-64 address.
AUTO_ADDRESS_MODES = ("slaac", "dhcpv6-stateless")
IPV6_MODES = (*AUTO_ADDRESS_MODES, "dhcpv6-stateful")
EUI64_PREFIX = 64


# Pure: keys, ranges, validation ------------------------------------------------------


def key(version: int, value: int) -> str:
    """The sortable text form of an address: fixed-width lowercase hex."""
    return f"{value:0{8 if version == 4 else 32}x}"


def address_of(version: int, value: int) -> Address:
    """The address ``value`` of IP ``version`` (``ip_address(1)`` would be IPv4 for both)."""
    return ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value)


def host_range(cidr: Cidr) -> tuple[int, int]:
    """The first and last host address: never the network address, nor IPv4's broadcast."""
    first = int(cidr.network_address) + 1
    last = int(cidr.broadcast_address) - (1 if cidr.version == 4 else 0)
    return first, last


@dataclasses.dataclass(frozen=True)
class SubnetPlan:
    """A checked subnet: its range, gateway, pools (ascending) and name servers."""

    cidr: Cidr
    gateway: Address | None
    pools: tuple[tuple[Address, Address], ...]
    dns_nameservers: tuple[str, ...]
    ipv6_address_mode: str = ""

    @property
    def ip_version(self) -> int:
        return self.cidr.version


def parse_cidr(text: str, ip_version: int = 0) -> Cidr:
    if not text:
        raise InvalidArgument("cidr is required", field="cidr")
    try:
        cidr = ipaddress.ip_network(text, strict=True) if "/" in text else None
    except ValueError as exc:
        raise InvalidArgument(f"cidr {quote(text)} is not valid: {exc}", field="cidr") from None
    if cidr is None:
        raise InvalidArgument(f"cidr {quote(text)} needs a prefix length (like /24)", field="cidr")
    if ip_version not in (0, 4, 6):
        raise InvalidArgument(f"ip_version {ip_version} is not 4 or 6", field="ip_version")
    if ip_version and ip_version != cidr.version:
        raise InvalidArgument(
            f"ip_version {ip_version} does not match cidr {cidr} (IPv{cidr.version})",
            field="ip_version",
        )
    if cidr.prefixlen == 0:
        raise InvalidArgument(f"cidr {cidr}: 0 is not allowed as a prefix length", field="cidr")
    reserved = next((r for r in RESERVED[cidr.version] if cidr.overlaps(r)), None)
    if reserved is not None:
        raise InvalidArgument(
            f"cidr {cidr} overlaps {reserved}, which cannot be a subnet "
            "(unspecified, loopback or multicast addresses)",
            field="cidr",
        )
    if cidr.prefixlen > MAX_PREFIX[cidr.version]:
        raise InvalidArgument(
            f"cidr {cidr} is too small to hold any address (IPv{cidr.version} prefixes "
            f"longer than /{MAX_PREFIX[cidr.version]} are refused)",
            field="cidr",
        )
    return cidr


def parse_address(text: str, field: str, version: int | None = None) -> Address:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise InvalidArgument(f"{field} {quote(text)} is not an IP address", field=field) from None
    if version is not None and address.version != version:
        raise InvalidArgument(f"{field} {text} is not an IPv{version} address", field=field)
    return address


def _host_of(cidr: Cidr, address: Address, field: str, what: str) -> Address:
    first, last = host_range(cidr)
    if address not in cidr:
        raise InvalidArgument(f"{what} {address} is outside cidr {cidr}", field=field)
    if not first <= int(address) <= last:
        raise InvalidArgument(
            f"{what} {address} is the network or broadcast address of {cidr}", field=field
        )
    return address


def plan_gateway(cidr: Cidr, gateway_ip: str, no_gateway: bool) -> Address | None:
    if no_gateway:
        if gateway_ip:
            raise InvalidArgument("gateway_ip cannot be set with no_gateway", field="gateway_ip")
        return None
    if not gateway_ip:
        return cidr.network_address + 1
    address = parse_address(gateway_ip, "gateway_ip", cidr.version)
    return _host_of(cidr, address, "gateway_ip", "gateway_ip")


def default_pools(cidr: Cidr, gateway: Address | None) -> list[tuple[Address, Address]]:
    """Every host address but the gateway, as one or two ranges."""
    first, last = host_range(cidr)
    g = int(gateway) if gateway is not None else None
    ranges = [(first, last)] if g is None else [(first, g - 1), (g + 1, last)]
    version = cidr.version
    return [(address_of(version, a), address_of(version, b)) for a, b in ranges if a <= b]


def _pool_address(cidr: Cidr, text: str, field: str, what: str) -> Address:
    return _host_of(cidr, parse_address(text, field, cidr.version), field, what)


def plan_pools(
    cidr: Cidr, gateway: Address | None, pools: Sequence[tuple[str, str]]
) -> list[tuple[Address, Address]]:
    """The requested pools, checked and sorted; the default when none are given."""
    if not pools:
        return default_pools(cidr, gateway)
    checked = []
    for i, (start, end) in enumerate(pools):
        field = f"allocation_pools[{i}]"
        first = _pool_address(cidr, start, f"{field}.start", "pool start")
        last = _pool_address(cidr, end, f"{field}.end", "pool end")
        if last < first:
            raise InvalidArgument(f"{field} ends ({last}) before it starts ({first})", field=field)
        if gateway is not None and first <= gateway <= last:
            raise InvalidArgument(f"{field} contains the gateway {gateway}", field=field)
        checked.append((first, last, field))
    checked.sort()
    for (_, a_last, a_field), (b_first, _, b_field) in itertools.pairwise(checked):
        if b_first <= a_last:
            raise InvalidArgument(f"{a_field} and {b_field} overlap", field="allocation_pools")
    return [(first, last) for first, last, _ in checked]


def plan_nameservers(servers: Sequence[str], version: int | None = None) -> tuple[str, ...]:
    """The name servers, checked: at most five, no repeats, of the subnet's IP version."""
    if len(servers) > MAX_NAMESERVERS:
        raise InvalidArgument(
            f"dns_nameservers has {len(servers)} entries; at most {MAX_NAMESERVERS}",
            field="dns_nameservers",
        )
    result = []
    for i, text in enumerate(servers):
        server = str(parse_address(text, f"dns_nameservers[{i}]", version))
        if server in result:
            raise InvalidArgument(
                f"dns_nameservers lists {server} twice", field=f"dns_nameservers[{i}]"
            )
        result.append(server)
    return tuple(result)


def plan_ipv6_mode(cidr: Cidr, mode: str) -> str:
    """The subnet's ipv6_address_mode: "" for IPv4, "dhcpv6-stateful" unless given for IPv6."""
    field = "ipv6_address_mode"
    if cidr.version == 4:
        if mode:
            raise InvalidArgument(f"{field} {quote(mode)} is for IPv6 subnets only", field=field)
        return ""
    mode = mode or "dhcpv6-stateful"
    if mode not in IPV6_MODES:
        raise InvalidArgument(
            f"{field} {quote(mode)} is not one of {', '.join(IPV6_MODES)}", field=field
        )
    if mode in AUTO_ADDRESS_MODES and cidr.prefixlen != EUI64_PREFIX:
        raise InvalidArgument(
            f"{field} {mode} needs a /{EUI64_PREFIX} prefix for EUI-64 addresses, not {cidr}",
            field=field,
        )
    return mode


def plan_subnet(
    cidr: str,
    ip_version: int = 0,
    gateway_ip: str = "",
    no_gateway: bool = False,
    pools: Sequence[tuple[str, str]] = (),
    dns_nameservers: Sequence[str] = (),
    ipv6_address_mode: str = "",
) -> SubnetPlan:
    """Check a subnet request; every refusal names the field at fault."""
    network = parse_cidr(cidr, ip_version)
    gateway = plan_gateway(network, gateway_ip, no_gateway)
    return SubnetPlan(
        cidr=network,
        gateway=gateway,
        pools=tuple(plan_pools(network, gateway, pools)),
        dns_nameservers=plan_nameservers(dns_nameservers, network.version),
        ipv6_address_mode=plan_ipv6_mode(network, ipv6_address_mode),
    )


def eui64(cidr: Cidr, mac: str) -> ipaddress.IPv6Address:
    """The address SLAAC gives ``mac`` on ``cidr`` (a /64): the prefix and the MAC's
    modified EUI-64 interface id (universal/local bit flipped, ff:fe in the middle)."""
    octets = bytes.fromhex(mac.replace(":", ""))
    interface_id = bytes([octets[0] ^ 0x02]) + octets[1:3] + b"\xff\xfe" + octets[3:6]
    return ipaddress.IPv6Address(int(cidr.network_address) | int.from_bytes(interface_id))


def is_auto_address(subnet: Subnet) -> bool:
    """Whether ports get their EUI-64 address on ``subnet`` instead of one from its pools."""
    return subnet.ip_version == 6 and subnet.ipv6_address_mode in AUTO_ADDRESS_MODES


def check_requested(cidr: Cidr, gateway: Address | None, address: Address, field: str) -> None:
    """A fixed IP asked for by address: a host of the subnet, and not its gateway."""
    _host_of(cidr, address, field, "requested address")
    if address == gateway:
        raise InvalidArgument(f"{address} is the gateway of subnet {cidr}", field=field)


def first_free(start: int, end: int, allocated: Iterable[int]) -> int | None:
    """The lowest address of [start, end] not in ``allocated`` (ascending), or None.

    Reads ``allocated`` only as far as the first gap, so a lazily fetched
    sequence costs as many rows as there are allocated addresses before it.
    """
    candidate = start
    for value in allocated:
        if value < candidate:
            continue
        if value > candidate:
            break
        candidate += 1
        if candidate > end:
            return None
    return candidate if candidate <= end else None


# Database: pools, claims, releases ----------------------------------------------------


def create_pools(subnet: Subnet, plan: SubnetPlan) -> None:
    version = plan.ip_version
    for first, last in plan.pools:
        AllocationPool.create(
            subnet=subnet,
            first_ip=str(first),
            last_ip=str(last),
            first_key=key(version, int(first)),
            last_key=key(version, int(last)),
            next_key=key(version, int(first)),
        )


def pools_of(subnet_id: str) -> list[AllocationPool]:
    return list(
        AllocationPool.select()
        .where(AllocationPool.subnet == subnet_id)
        .order_by(AllocationPool.first_key)
    )


def lock_subnets(subnet_ids: Iterable[str]) -> None:
    """Lock the subnets' rows in a fixed order (no deadlock between two ports)."""
    wanted = sorted(set(subnet_ids))
    if not wanted:
        return
    query = Subnet.select(Subnet.id).where(Subnet.id.in_(wanted)).order_by(Subnet.id)
    found = {row.id for row in transactions.locked(query)}
    missing = [s for s in wanted if s not in found]
    if missing:
        raise NotFound(f"subnet {missing[0]} no longer exists", field="fixed_ips")


def _allocated_from(subnet_id: str, version: int, start: int, end: int) -> Iterator[int]:
    """The allocated addresses of [start, end] in ascending order, fetched in batches."""
    low, high, inclusive = key(version, start), key(version, end), True
    while True:
        bound = IPAllocation.ip_key >= low if inclusive else IPAllocation.ip_key > low
        rows = [
            k
            for (k,) in IPAllocation.select(IPAllocation.ip_key)
            .where((IPAllocation.subnet == subnet_id) & bound & (IPAllocation.ip_key <= high))
            .order_by(IPAllocation.ip_key)
            .limit(BATCH)
            .tuples()
        ]
        for k in rows:
            yield int(k, 16)
        if len(rows) < BATCH:
            return
        low, inclusive = rows[-1], False


def _insert(subnet: Subnet, port: Port, position: int, address: Address) -> IPAllocation | None:
    """Claim ``address``; None when another port holds it."""
    try:
        return transactions.run(
            lambda: IPAllocation.create(
                subnet=subnet,
                port=port,
                ip_address=str(address),
                ip_key=key(address.version, int(address)),
                position=position,
            )
        )
    except peewee.IntegrityError:
        return None


def _claim_in_pool(
    subnet: Subnet, pool: AllocationPool, port: Port, position: int, start: int
) -> IPAllocation | None:
    version, last = subnet.ip_version, int(pool.last_key, 16)
    while start <= last:
        found = first_free(start, last, _allocated_from(subnet.id, version, start, last))
        if found is None:
            return None
        row = _insert(subnet, port, position, address_of(version, found))
        if row is not None:
            # Everything from the pool's start up to ``found`` is now taken.
            pool.next_key = key(version, min(found + 1, last))
            pool.save(only=[AllocationPool.next_key, AllocationPool.update_time])
            return row
        start = found + 1  # lost a race for it: the next candidate
    return None


def claim_any(subnet: Subnet, port: Port, position: int) -> IPAllocation | None:
    """The first free address of the subnet's pools for ``port``, or None when there is none.

    The caller holds the subnet's lock (:func:`lock_subnets`).
    """
    pools = pools_of(subnet.id)
    for pool in pools:
        start = max(int(pool.first_key, 16), int(pool.next_key, 16))
        row = _claim_in_pool(subnet, pool, port, position, start)
        if row is not None:
            return row
    # A hint can stay above an address freed while it was being moved: look again
    # from the start of each pool before calling the subnet full.
    for pool in pools:
        if pool.next_key > pool.first_key:
            row = _claim_in_pool(subnet, pool, port, position, int(pool.first_key, 16))
            if row is not None:
                return row
    return None


def claim_eui64(subnet: Subnet, port: Port, position: int) -> IPAllocation | None:
    """The port's EUI-64 address on an auto-address subnet, or None when it is held."""
    return _insert(
        subnet, port, position, eui64(ipaddress.ip_network(subnet.cidr), port.mac_address)
    )


def claim_address(
    subnet: Subnet, port: Port, position: int, address: Address, field: str
) -> IPAllocation:
    """Claim one requested address; ALREADY_EXISTS when a port holds it.

    On an auto-address subnet only the port's EUI-64 address may be asked for.
    """
    if is_auto_address(subnet):
        expected = eui64(ipaddress.ip_network(subnet.cidr), port.mac_address)
        if address != expected:
            raise InvalidArgument(
                f"subnet {subnet.id} is {subnet.ipv6_address_mode}: a port's address on it is"
                f" its EUI-64 address ({expected} for {port.mac_address}), not {address}",
                field=f"{field}.ip_address",
            )
    row = _insert(subnet, port, position, address)
    if row is None:
        raise AlreadyExists(f"{address} is already in use on subnet {subnet.id}", field=field)
    return row


def release(port_id: str) -> int:
    """Free every address of a port (and lower the pools' hints to them)."""
    rows = list(IPAllocation.select().where(IPAllocation.port == port_id))
    # Under the subnets' locks, so that no claim moves a hint past an address freed here.
    lock_subnets(row.subnet_id for row in rows)
    for row in rows:
        AllocationPool.update(next_key=row.ip_key).where(
            (AllocationPool.subnet == row.subnet_id)
            & (AllocationPool.first_key <= row.ip_key)
            & (AllocationPool.last_key >= row.ip_key)
            & (AllocationPool.next_key > row.ip_key)
        ).execute()
    return IPAllocation.delete().where(IPAllocation.port == port_id).execute()
