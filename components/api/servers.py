"""Creating, reading and listing servers (seed steps 2 to 7)."""

from __future__ import annotations

import peewee

from components.api import checks, flavors, keypairs, policy, scheduling
from components.api.config import ApiConfig
from components.compute_db import quotas
from components.compute_db.models import Instance
from components.compute_db.states import Status, TaskState, VmState
from components.framework import (
    Caller,
    Clients,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    paging,
    quote,
    transactions,
    validation,
)
from stratus.scheduler.v1 import scheduler_service_pb2 as scheduler_pb2

MAX_METADATA = 128
# Nova's limit on user data (65535 in its database column, 64 KiB here as the contract says).
MAX_USER_DATA = 65536


def _check_request(request) -> tuple[str, list[str], list[str], list[str], dict]:
    name = validation.name("name", request.name, 255)
    # A network may be named twice (two NICs on it), as in Nova; a port or volume may not.
    network_ids = [validation.uuid_str("network_ids", v) for v in request.network_ids]
    port_ids = [validation.uuid_str("port_ids", v) for v in request.port_ids]
    if len(set(port_ids)) != len(port_ids):
        raise InvalidArgument("port_ids names the same port twice", field="port_ids")
    volume_ids = [validation.uuid_str("volume_ids", v) for v in request.volume_ids]
    if len(set(volume_ids)) != len(volume_ids):
        raise InvalidArgument("volume_ids names the same volume twice", field="volume_ids")
    if len(request.metadata) > MAX_METADATA:
        raise InvalidArgument(f"at most {MAX_METADATA} metadata items", field="metadata")
    for key, value in request.metadata.items():
        validation.name("metadata key", key, 255)
        if len(value) > 255:
            raise InvalidArgument(f"metadata {quote(key)} is longer than 255", field="metadata")
    if len(request.user_data) > MAX_USER_DATA:
        raise InvalidArgument(
            f"user_data is {len(request.user_data)} bytes, more than {MAX_USER_DATA}",
            field="user_data",
        )
    return name, network_ids, port_ids, volume_ids, dict(request.metadata)


def _boot_data(who: Caller, request) -> dict:
    """The instance fields of what the guest is given at boot: the key pair's name and
    public key (copied: a key pair deleted later does not change the server), the user
    data, and the config drive, which a key pair or user data always brings."""
    public_key = ""
    if request.key_name:
        try:
            public_key = keypairs.get(who, request.key_name).public_key
        except (NotFound, InvalidArgument):
            raise InvalidArgument(
                f"no key pair named {quote(request.key_name)}",
                reason="KEYPAIR_NOT_FOUND",
                field="key_name",
            ) from None
    user_data = bytes(request.user_data) if request.user_data else None
    return {
        "key_name": request.key_name,
        "public_key": public_key,
        "user_data": user_data,
        "config_drive": bool(request.config_drive or request.key_name or user_data),
    }


def _zone_and_host(who: Caller, value: str) -> tuple[str, str]:
    """The zone and the requested host of availability_zone; only admins may name a host."""
    zone, host = checks.parse_availability_zone(value)
    if host and not policy.forced_host(who):
        raise PermissionDenied(
            f"only admins may choose the host (rule {policy.FORCED_HOST_RULE})",
            reason="POLICY_DENIED",
            rule=policy.FORCED_HOST_RULE,
        )
    return zone, host


def create(
    who: Caller, request, clients: Clients, config: ApiConfig
) -> tuple[Instance, scheduling.Build | None]:
    """Check, reserve quota and record the server (in SCHEDULING) and its build; the build.

    The caller answers with the instance, then queues the build for the
    scheduler (scheduling.py); the build is recorded with the instance, so
    another api replica hands it over if this process dies first. A retry
    with a request_id already used returns the first server and no build.
    """
    name, network_ids, port_ids, volume_ids, metadata = _check_request(request)
    zone, host = _zone_and_host(who, request.availability_zone)
    try:
        flavor = flavors.get(who, request.flavor_id)
    except NotFound as exc:
        raise InvalidArgument(exc.message, reason="FLAVOR_NOT_FOUND", field="flavor_id") from None
    validation.uuid_str("image_id", request.image_id)
    image_properties = checks.image(clients, request.image_id, flavor)
    requested = checks.networks(clients, network_ids) + checks.ports(clients, port_ids)
    checks.volumes(clients, volume_ids)
    checks.availability_zone(zone, host)
    boot_data = _boot_data(who, request)
    limits = quotas.Limits(config.quota_instances, config.quota_cores, config.quota_ram_mib)
    fields = {
        "name": name,
        "metadata": metadata,
        "requested_networks": requested,
        "volume_ids": volume_ids,
        "availability_zone": zone,
        **boot_data,
    }
    try:
        return _record(
            who,
            request,
            flavor,
            limits,
            fields,
            image_properties,
            host,
            config.build_request_lease_seconds,
        )
    except peewee.IntegrityError:
        # The same request_id raced itself: answer with the first server.
        first = Instance.get(
            (Instance.project_id == who.project_id) & (Instance.request_id == request.request_id)
        )
        return first, None


def _record(
    who, request, flavor, limits, fields, image_properties, requested_host, lease_seconds
) -> tuple[Instance, scheduling.Build]:
    """Reserve quota, write the instance and its build, in one transaction (seed step 4)."""

    def write() -> tuple[Instance, scheduling.Build]:
        quotas.reserve(who.project_id, flavor.vcpus, flavor.ram_mib, limits)
        instance = Instance.create(
            **fields,
            project_id=who.project_id,
            user_id=who.user_id,
            flavor_id=flavor.id,
            flavor_name=flavor.name,
            vcpus=flavor.vcpus,
            ram_mib=flavor.ram_mib,
            disk_gib=flavor.disk_gib,
            extra_specs=flavor.extra_specs,
            image_id=request.image_id,
            vm_state=VmState.BUILDING,
            task_state=TaskState.SCHEDULING,
            request_id=request.request_id or None,
        )
        build = _build(who, instance, image_properties, requested_host)
        scheduling.record(build, lease_seconds)
        return instance, build

    return transactions.run(write)


def _build(
    who: Caller, instance: Instance, image_properties: dict, requested_host: str
) -> scheduling.Build:
    """The build to hand over; its spec (with any requested host) is stored with it."""
    spec = scheduler_pb2.RequestSpec(
        project_id=who.project_id,
        user_id=who.user_id,
        vcpus=instance.vcpus,
        ram_mib=instance.ram_mib,
        disk_gib=instance.disk_gib,
        availability_zone=instance.availability_zone,
        image_properties=image_properties,
        requested_host=requested_host,
    )
    return scheduling.Build(instance_id=instance.id, spec=spec, auth_token=who.token)


def get(who: Caller, server_id: str) -> Instance:
    validation.uuid_str("server_id", server_id)
    row = Instance.get_or_none(Instance.id == server_id)
    if row is None or row.deleted_time is not None or not who.can_access(row.project_id):
        raise NotFound(f"no server with id {quote(server_id)}", server_id=server_id)
    return row


# WatchServers follows at most this many servers on one stream.
MAX_WATCHED = 100


def get_many(who: Caller, server_ids) -> dict[str, Instance | None]:
    """Each of ``server_ids`` once, in order, with its server, or None where it names no
    server the caller can read (missing, deleted or another project's, alike)."""
    if not server_ids:
        raise InvalidArgument("server_ids is required", field="server_ids")
    if len(server_ids) > MAX_WATCHED:
        raise InvalidArgument(
            f"server_ids names {len(server_ids)} servers; at most {MAX_WATCHED}",
            field="server_ids",
        )
    ids = list(dict.fromkeys(validation.uuid_str("server_ids", v) for v in server_ids))
    found = {str(r.id): r for r in Instance.select().where(Instance.id.in_(ids))}
    readable = {
        i: r for i, r in found.items() if r.deleted_time is None and who.can_access(r.project_id)
    }
    return {server_id: readable.get(server_id) for server_id in ids}


STATUS_FILTERS = {
    Status.BUILD: Instance.vm_state == VmState.BUILDING,
    Status.ERROR: Instance.vm_state == VmState.ERROR,
    Status.SHUTOFF: (Instance.vm_state == VmState.STOPPED)
    & ~Instance.task_state.in_([TaskState.REBOOTING, TaskState.REBOOTING_HARD]),
    Status.REBOOT: Instance.task_state.in_([TaskState.REBOOTING, TaskState.REBOOTING_HARD]),
    Status.ACTIVE: (Instance.vm_state == VmState.ACTIVE)
    & ~Instance.task_state.in_([TaskState.REBOOTING, TaskState.REBOOTING_HARD]),
}


def _admin_only(who: Caller, what: str) -> None:
    if not who.is_admin:
        raise PermissionDenied(f"only admins may {what}", reason="POLICY_DENIED")


def listing(who: Caller, request):
    """A page of the caller's servers (every project's for admins who ask), filtered."""
    query = Instance.select().where(Instance.deleted_time.is_null())
    if request.all_projects:
        _admin_only(who, "list all projects' servers")
    else:
        query = query.where(Instance.project_id == who.project_id)
    if request.host:
        _admin_only(who, "filter servers by host")
        query = query.where(Instance.host == request.host)
    for field in ("name", "name_contains"):
        if len(getattr(request, field)) > 255:
            raise InvalidArgument(f"{field} is longer than 255 characters", field=field)
    if request.name:
        query = query.where(Instance.name == request.name)
    if request.name_contains:
        query = query.where(Instance.name.contains(request.name_contains))
    if request.status:
        condition = STATUS_FILTERS.get(Status(request.status))
        if condition is None:
            raise InvalidArgument("status cannot be used as a filter", field="status")
        query = query.where(condition)
    return paging.paginate(
        query, Instance, request.page_size, request.page_token, newest_first=True
    )
