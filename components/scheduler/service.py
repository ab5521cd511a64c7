"""The Scheduler servicer: requests in, one domain call, replies out."""

from __future__ import annotations

from components.framework import validation
from components.scheduler import hosts, messages
from components.scheduler.config import SchedulerConfig
from components.scheduler.dispatch import OnBehalfOf
from components.scheduler.selection import Scheduler
from stratus.scheduler.v1 import scheduler_service_pb2 as pb2
from stratus.scheduler.v1 import scheduler_service_pb2_grpc as pb2_grpc


class SchedulerServicer(pb2_grpc.SchedulerServicer):
    def __init__(self, config: SchedulerConfig, scheduler: Scheduler) -> None:
        self.config = config
        self.scheduler = scheduler

    def SelectDestinations(self, request, context):
        instance_id = validation.uuid_str("instance_id", request.instance_id)
        spec = messages.request_spec(request.spec)
        max_alternates = validation.non_negative("max_alternates", request.max_alternates)
        who = OnBehalfOf(
            auth_token=messages.auth_token(request.auth_token),
            user_id=spec.user_id,
            project_id=spec.project_id,
            request_id=request.request_id,
        )
        placed = self.scheduler.select_destinations(instance_id, spec, max_alternates, who)
        return pb2.SelectDestinationsResponse(selection=messages.selection(placed))

    def ListHosts(self, request, context):
        rows, next_token = hosts.list_hosts(
            request.page_size, request.page_token, request.availability_zone
        )
        down_time = self.config.service_down_time_seconds
        return pb2.ListHostsResponse(
            hosts=[messages.host(row, down_time) for row in rows], next_page_token=next_token
        )

    def UpdateHost(self, request, context):
        node = hosts.update_host(
            request.host.name,
            request.update_mask.paths,
            request.host.enabled,
            request.host.disabled_reason,
        )
        return messages.host(node, self.config.service_down_time_seconds)

    def DeleteHost(self, request, context):
        hosts.delete_host(request.name, self.config.service_down_time_seconds)
        return pb2.DeleteHostResponse()
