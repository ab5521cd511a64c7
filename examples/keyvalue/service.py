"""The KeyValue servicer: translate each request, call one domain function, translate back."""

from __future__ import annotations

from components.framework import CastReceiver, Clients, KeyedExecutor, call, caller, timestamp
from example.keyvalue.v1 import keyvalue_service_pb2 as pb2
from example.keyvalue.v1 import keyvalue_service_pb2_grpc as pb2_grpc
from examples.keyvalue import store
from examples.keyvalue.config import KeyValueConfig
from examples.keyvalue.models import KeyEntry
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.identity.v1 import identity_service_pb2_grpc as identity_grpc


def key_message(row: KeyEntry) -> pb2.Key:
    return pb2.Key(
        key=row.key,
        value=row.value,
        version=row.version,
        project_id=row.project_id,
        create_time=timestamp(row.create_time),
        update_time=timestamp(row.update_time),
        touch_time=timestamp(row.touch_time),
    )


class KeyValueServicer(pb2_grpc.KeyValueServicer):
    def __init__(self, config: KeyValueConfig, clients: Clients) -> None:
        self.config = config
        self.clients = clients
        # Casts of one key run one after another, in arrival order; other keys in parallel.
        self.casts = KeyedExecutor(max_workers=4, name="keyvalue-cast")

    def GetStore(self, request, context):
        who = caller()
        # identity's address comes from the config (the catalog for other types); the
        # call carries the caller's token, the request id and a deadline.
        projects = self.clients.stub(identity_grpc.ProjectsStub, "identity")
        request = identity_pb2.GetProjectRequest(project_id=who.project_id)
        project = call(projects.GetProject, request)
        return pb2.Store(
            project_id=who.project_id,
            project_name=project.name,
            key_count=store.count(who),
            max_value_bytes=self.config.max_value_bytes,
        )

    def PutKey(self, request, context):
        # A retry with the same request_id never reaches this method: the framework
        # answers it with the first reply (the request message has a request_id field).
        row = store.put(caller(), request.key, request.value, self.config.max_value_bytes)
        return pb2.PutKeyResponse(key=key_message(row))

    def GetKey(self, request, context):
        return key_message(store.get(caller(), request.key))

    def ListKeys(self, request, context):
        rows, token = store.list_page(
            caller(), request.prefix, request.page_size, request.page_token
        )
        return pb2.ListKeysResponse(keys=[key_message(r) for r in rows], next_page_token=token)

    def DeleteKey(self, request, context):
        store.delete(caller(), request.key)
        return pb2.DeleteKeyResponse()

    def Casts(self, request_iterator, context):
        project_id = caller().project_id  # the stream's token, never the message's context
        receiver = CastReceiver(
            {"touch_key": lambda _context, touch: store.touch(project_id, touch.key)},
            key=lambda payload: f"{project_id}/{payload.key}",
            executor=self.casts,
        )
        return pb2.CastsSummary(received=receiver.receive(request_iterator))

    def close(self) -> None:
        self.casts.shutdown(wait=True)
