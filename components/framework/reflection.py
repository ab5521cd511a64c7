"""Server reflection that also finds methods, as ``grpcurl describe Service.Method`` asks.

grpcio-reflection answers ``file_containing_symbol`` with the descriptor pool's
``FindFileContainingSymbol``, which (with the upb protobuf runtime) knows
services, messages, fields and enums but not methods: ``describe
stratus.api.v1.Servers.CreateServer`` got ``Symbol not found``. A method lives
in its service's file, so a symbol ``<service>.<method>`` the pool does not
know is answered with the file of that service when the service has that method.
"""

from __future__ import annotations

from collections.abc import Iterable

import grpc
from google.protobuf import descriptor_pool
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc

SERVICE_NAME = reflection.SERVICE_NAME


class ReflectionServicer(reflection.ReflectionServicer):
    """grpcio-reflection's servicer, with method symbols resolved to their service's file."""

    def __init__(self, service_names: Iterable[str], pool=None) -> None:
        self._descriptors = pool or descriptor_pool.Default()
        super().__init__(service_names, pool=self._descriptors)

    def _file_containing_symbol(self, request, fully_qualified_name):
        reply = super()._file_containing_symbol(request, fully_qualified_name)
        if not reply.HasField("error_response"):
            return reply
        service = self._service_of_method(fully_qualified_name)
        if service is None:
            return reply
        return super()._file_containing_symbol(request, service)

    def _service_of_method(self, name: str) -> str | None:
        """``a.b.Service`` for ``a.b.Service.Method`` if that service has that method."""
        service_name, _, method = name.rpartition(".")
        if not service_name:
            return None
        try:
            service = self._descriptors.FindServiceByName(service_name)
        except KeyError:
            return None
        return service.full_name if method in service.methods_by_name else None


def enable(service_names: Iterable[str], server: grpc.Server) -> None:
    """Serve reflection for ``service_names`` (and reflection itself) on ``server``."""
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(
        ReflectionServicer([*service_names, SERVICE_NAME]), server
    )
