"""The conductor's servicer: compute hosts' only way to the database."""

from __future__ import annotations

from components.conductor import instances, messages, nodes
from components.conductor.config import ConductorConfig
from components.conductor.reschedule import Rescheduler
from components.framework import CastReceiver, from_timestamp, validation
from stratus.conductor.v1 import conductor_service_pb2 as pb2
from stratus.conductor.v1 import conductor_service_pb2_grpc as pb2_grpc


def _changes(request) -> dict:
    paths = validation.update_mask(request.update_mask.paths, instances.UPDATABLE)
    changes: dict = {}
    for path in paths:
        if path == "launched_time":
            changes[path] = from_timestamp(request.launched_time)
        elif path == "addresses":
            changes[path] = [
                {
                    f: getattr(a, f)
                    for f in ("network_id", "network_name", "port_id", "ip_address", "mac_address")
                }
                for a in request.addresses
            ]
        elif path == "volumes":
            changes[path] = [
                {"volume_id": v.volume_id, "device": v.device} for v in request.volumes
            ]
        else:
            changes[path] = getattr(request, path)
    return changes


class ConductorServicer(pb2_grpc.ConductorServicer):
    def __init__(self, config: ConductorConfig, compute_casts) -> None:
        self.config = config
        self.rescheduler = Rescheduler(compute_casts, config.placement)
        self.receiver = CastReceiver(
            {
                "instance_build_failed": self.rescheduler.build_failed,
                "instance_deleted": lambda ctx, msg: instances.deleted(msg.instance_id),
            }
        )

    def GetInstance(self, request, context):
        return messages.instance_info(instances.get(request.instance_id))

    def UpdateInstance(self, request, context):
        expected = request.expected_task_state if request.HasField("expected_task_state") else None
        row = instances.update(request.instance_id, _changes(request), expected)
        return messages.instance_info(row)

    def AddInstanceFault(self, request, context):
        instances.add_fault(request.instance_id, request.code, request.message, request.details)
        return pb2.AddInstanceFaultResponse()

    def ReportComputeNode(self, request, context):
        fields = {
            name: getattr(request, name)
            for name in (
                "host",
                "address",
                "availability_zone",
                "hypervisor_type",
                "hypervisor_version",
                "architecture",
                "vcpus",
                "ram_mib",
                "disk_gib",
            )
        }
        if not fields["availability_zone"]:
            fields["availability_zone"] = "nova"
        enabled = request.enabled if request.HasField("enabled") else None
        node = nodes.report(fields, enabled)
        return pb2.ReportComputeNodeResponse(
            report_interval_seconds=self.config.report_interval_seconds, enabled=node.enabled
        )

    def ListHostInstances(self, request, context):
        rows, token = instances.list_on_host(request.host, request.page_size, request.page_token)
        return pb2.ListHostInstancesResponse(
            instances=[messages.instance_info(r) for r in rows], next_page_token=token
        )

    def Casts(self, request_iterator, context):
        return pb2.CastsSummary(received=self.receiver.receive(request_iterator))
