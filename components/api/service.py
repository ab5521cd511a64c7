"""The public Servers, Flavors, Quotas and Keypairs APIs (nova-api's peer)."""

from __future__ import annotations

from components.api import actions, flavors, keypairs, messages, scheduling, servers, watch
from components.api.config import ApiConfig
from components.compute_db import quotas
from components.compute_db.models import ProjectQuota
from components.framework import (
    InvalidArgument,
    PermissionDenied,
    caller,
    timestamp,
    utcnow,
    validation,
)
from stratus.api.v1 import api_service_pb2 as pb2
from stratus.api.v1 import api_service_pb2_grpc as pb2_grpc


class ServersServicer(pb2_grpc.ServersServicer):
    def __init__(
        self, config: ApiConfig, clients, compute_casts, builds: scheduling.Scheduling
    ) -> None:
        self.config = config
        self.clients = clients
        self.casts = compute_casts
        self.builds = builds
        self.watches = watch.Poller(config.watch_poll_seconds)

    def CreateServer(self, request, context):
        who = caller()
        instance, build = servers.create(who, request, self.clients, self.config)
        # The answer is taken before the build is handed over, so it says SCHEDULING.
        reply = messages.server(instance, who)
        if build is not None:
            self.builds.submit(build)
        return reply

    def GetServer(self, request, context):
        who = caller()
        return messages.server(servers.get(who, request.server_id), who)

    def ListServers(self, request, context):
        who = caller()
        rows, token = servers.listing(who, request)
        return pb2.ListServersResponse(
            servers=[messages.server(r, who) for r in rows], next_page_token=token
        )

    def DeleteServer(self, request, context):
        who = caller()
        row = actions.delete(
            servers.get(who, request.server_id),
            self.casts,
            self.clients,
            self.config.service_down_time_seconds,
        )
        return pb2.DeleteServerResponse(server=messages.server(row, who))

    def StopServer(self, request, context):
        who = caller()
        row = actions.stop(servers.get(who, request.server_id), self.casts)
        return pb2.StopServerResponse(server=messages.server(row, who))

    def StartServer(self, request, context):
        who = caller()
        row = actions.start(servers.get(who, request.server_id), self.casts)
        return pb2.StartServerResponse(server=messages.server(row, who))

    def RebootServer(self, request, context):
        who = caller()
        # REBOOT_TYPE_UNSPECIFIED is a SOFT reboot (an undefined number never gets here).
        hard = request.reboot_type == pb2.RebootServerRequest.REBOOT_TYPE_HARD
        row = actions.reboot(servers.get(who, request.server_id), self.casts, hard)
        return pb2.RebootServerResponse(server=messages.server(row, who))

    def GetConsoleOutput(self, request, context):
        if request.length < 0:
            raise InvalidArgument("length must not be negative", field="length")
        row = servers.get(caller(), request.server_id)
        return pb2.GetConsoleOutputResponse(
            output=actions.console(row, self.clients, request.length)
        )

    def WatchServer(self, request, context):
        who = caller()
        first = servers.get(who, request.server_id)
        for row in watch.follow(first, context.is_active, self.watches):
            yield pb2.WatchServerResponse(
                server=messages.server(row, who), event_time=timestamp(utcnow())
            )

    def WatchServers(self, request, context):
        who = caller()
        rows = servers.get_many(who, request.server_ids)
        for row in watch.follow_many(rows, context.is_active, self.watches):
            if isinstance(row, str):
                yield pb2.WatchServersResponse(
                    missing_server_id=row, event_time=timestamp(utcnow())
                )
            else:
                yield pb2.WatchServersResponse(
                    server=messages.server(row, who), event_time=timestamp(utcnow())
                )


class FlavorsServicer(pb2_grpc.FlavorsServicer):
    def CreateFlavor(self, request, context):
        is_public = request.is_public if request.HasField("is_public") else True
        return messages.flavor(
            flavors.create(
                request.name,
                request.vcpus,
                request.ram_mib,
                request.disk_gib,
                dict(request.extra_specs),
                is_public,
            )
        )

    def GetFlavor(self, request, context):
        return messages.flavor(flavors.get(caller(), request.flavor_id))

    def ListFlavors(self, request, context):
        rows, token = flavors.listing(caller(), request.page_size, request.page_token)
        return pb2.ListFlavorsResponse(
            flavors=[messages.flavor(r) for r in rows], next_page_token=token
        )

    def DeleteFlavor(self, request, context):
        flavors.delete(caller(), request.flavor_id)
        return pb2.DeleteFlavorResponse()


class QuotasServicer(pb2_grpc.QuotasServicer):
    def __init__(self, config: ApiConfig) -> None:
        self.limits = quotas.Limits(
            config.quota_instances, config.quota_cores, config.quota_ram_mib
        )

    def _project(self, project_id: str) -> str:
        who = caller()
        project_id = project_id or who.project_id
        validation.uuid_str("project_id", project_id)
        if not who.is_admin and project_id != who.project_id:
            # As Nova answers 403: a project's quota is not a secret the way its servers are.
            raise PermissionDenied(
                "only admins may read or set the quota of another project",
                reason="POLICY_DENIED",
                project_id=project_id,
            )
        return project_id

    def GetQuota(self, request, context):
        return messages.quota(quotas.quota_of(self._project(request.project_id), self.limits))

    def UpdateQuota(self, request, context):
        project_id = self._project(request.project_id)
        paths = validation.update_mask(request.update_mask.paths, {"instances", "cores", "ram_mib"})
        changes = {}
        for path in paths:
            value = getattr(request, path)
            if value < -1:
                raise InvalidArgument(f"{path} must be -1 (unlimited) or more", field=path)
            changes[f"{path}_limit"] = value
        row = quotas.quota_of(project_id, self.limits)
        ProjectQuota.update(**changes, is_default=False).where(ProjectQuota.id == row.id).execute()
        return messages.quota(ProjectQuota.get_by_id(row.id))


class KeypairsServicer(pb2_grpc.KeypairsServicer):
    def __init__(self, config: ApiConfig) -> None:
        self.limit = config.quota_key_pairs

    def CreateKeypair(self, request, context):
        row, private_key = keypairs.create(caller(), request.name, request.key_type, self.limit)
        return pb2.CreateKeypairResponse(keypair=messages.keypair(row), private_key=private_key)

    def ImportKeypair(self, request, context):
        row = keypairs.import_(caller(), request.name, request.public_key, self.limit)
        return messages.keypair(row)

    def GetKeypair(self, request, context):
        return messages.keypair(keypairs.get(caller(), request.name, request.user_id))

    def ListKeypairs(self, request, context):
        rows, token = keypairs.listing(
            caller(), request.page_size, request.page_token, request.user_id
        )
        return pb2.ListKeypairsResponse(
            keypairs=[messages.keypair(r) for r in rows], next_page_token=token
        )

    def DeleteKeypair(self, request, context):
        keypairs.delete(caller(), request.name, request.user_id)
        return pb2.DeleteKeypairResponse()
