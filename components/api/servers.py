"""Creating, reading and listing servers (seed steps 2 to 7)."""

from __future__ import annotations

import logging

import grpc
import peewee

from components.api import checks, flavors
from components.api.config import ApiConfig
from components.compute_db import lifecycle, quotas
from components.compute_db.models import Instance
from components.compute_db.states import Status, TaskState, VmState
from components.framework import paging, validation
from components.framework.auth import Caller
from components.framework.clients import Clients
from components.framework.database import database
from components.framework.errors import (
    InvalidArgument,
    NotFound,
    PermissionDenied,
    StratusError,
    error_info,
)
from components.framework.validation import quote
from stratus.scheduler.v1 import scheduler_service_pb2 as scheduler_pb2
from stratus.scheduler.v1 import scheduler_service_pb2_grpc as scheduler_grpc

log = logging.getLogger(__name__)
MAX_METADATA = 128


def _unique_ids(field: str, values) -> list[str]:
    ids = [validation.uuid_str(field, v) for v in values]
    if len(set(ids)) != len(ids):
        raise InvalidArgument(f"{field} names the same id twice", field=field)
    return ids


def _check_request(request) -> tuple[str, list[str], list[str], dict]:
    name = validation.name("name", request.name, 255)
    network_ids = _unique_ids("network_ids", request.network_ids)
    volume_ids = _unique_ids("volume_ids", request.volume_ids)
    if len(request.metadata) > MAX_METADATA:
        raise InvalidArgument(f"at most {MAX_METADATA} metadata items", field="metadata")
    for key, value in request.metadata.items():
        validation.name("metadata key", key, 255)
        if len(value) > 255:
            raise InvalidArgument(f"metadata {quote(key)} is longer than 255", field="metadata")
    return name, network_ids, volume_ids, dict(request.metadata)


def create(who: Caller, request, clients: Clients, config: ApiConfig) -> Instance:
    """Check, record, reserve quota and schedule; the build goes on asynchronously."""
    name, network_ids, volume_ids, metadata = _check_request(request)
    try:
        flavor = flavors.get(who, request.flavor_id)
    except NotFound as exc:
        raise InvalidArgument(exc.message, reason="FLAVOR_NOT_FOUND", field="flavor_id") from None
    validation.uuid_str("image_id", request.image_id)
    image_properties = checks.image(clients, request.image_id, flavor)
    requested = checks.networks(clients, network_ids)
    checks.volumes(clients, volume_ids)
    checks.availability_zone(request.availability_zone)
    limits = quotas.Limits(config.quota_instances, config.quota_cores, config.quota_ram_mib)
    try:
        instance = _record(who, request, flavor, limits, name, metadata, requested, volume_ids)
    except peewee.IntegrityError:
        # The same request_id raced itself: answer with the first server.
        return Instance.get(
            (Instance.project_id == who.project_id) & (Instance.request_id == request.request_id)
        )
    _schedule(who, instance, image_properties, clients)
    return Instance.get_by_id(instance.id)


def _record(who, request, flavor, limits, name, metadata, requested, volume_ids) -> Instance:
    """Reserve quota and write the instance, in one transaction (seed step 4)."""
    with database.atomic():
        quotas.reserve(who.project_id, flavor.vcpus, flavor.ram_mib, limits)
        return Instance.create(
            name=name,
            project_id=who.project_id,
            user_id=who.user_id,
            flavor_id=flavor.id,
            flavor_name=flavor.name,
            vcpus=flavor.vcpus,
            ram_mib=flavor.ram_mib,
            disk_gib=flavor.disk_gib,
            extra_specs=flavor.extra_specs,
            image_id=request.image_id,
            availability_zone=request.availability_zone,
            metadata=metadata,
            requested_networks=requested,
            volume_ids=volume_ids,
            vm_state=VmState.BUILDING,
            task_state=TaskState.SCHEDULING,
            request_id=request.request_id or None,
        )


def _schedule(who: Caller, instance: Instance, image_properties: dict, clients: Clients):
    spec = scheduler_pb2.RequestSpec(
        project_id=who.project_id,
        user_id=who.user_id,
        vcpus=instance.vcpus,
        ram_mib=instance.ram_mib,
        disk_gib=instance.disk_gib,
        availability_zone=instance.availability_zone,
        image_properties=image_properties,
    )
    stub = clients.stub(scheduler_grpc.SchedulerStub, "scheduler", as_service=True)
    try:
        stub.SelectDestinations(
            scheduler_pb2.SelectDestinationsRequest(
                instance_id=instance.id, spec=spec, auth_token=who.token
            )
        )
    except grpc.RpcError as exc:
        info = error_info(exc)
        if exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED or (
            info is not None and info.reason == "NO_REACHABLE_HOST"
        ):
            return  # the scheduler has put the instance in ERROR with its fault
        log.warning("scheduling %s failed: %s %s", instance.id, exc.code().name, exc.details())
        lifecycle.set_error(
            instance.id,
            exc.code().value[0],
            "The scheduler could not be reached; the server was not built.",
            exc.details() or "",
        )
    except StratusError as exc:  # the scheduler's address could not be resolved
        lifecycle.set_error(instance.id, 14, "The scheduler could not be reached.", str(exc))


def get(who: Caller, server_id: str) -> Instance:
    validation.uuid_str("server_id", server_id)
    row = Instance.get_or_none(Instance.id == server_id)
    if row is None or row.deleted_time is not None or not who.can_access(row.project_id):
        raise NotFound(f"no server with id {quote(server_id)}", server_id=server_id)
    return row


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
