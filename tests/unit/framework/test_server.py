"""The server interceptor: auth, policy, error mapping, request ids, health, reflection."""

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from components.framework import auth, errors
from components.framework.server import Service
from stratus.compute.v1 import compute_service_pb2 as pb2
from stratus.compute.v1 import compute_service_pb2_grpc as pb2_grpc
from tests.harness import StaticValidator, caller, metadata, serving

CONSOLE = "/stratus.compute.v1.Compute/GetConsoleOutput"
STATUS = "/stratus.compute.v1.Compute/GetHostStatus"
CASTS = "/stratus.compute.v1.Compute/Casts"
POLICY = auth.Policy({CONSOLE: auth.reader, STATUS: auth.admin_required, CASTS: auth.reader})
VALIDATOR = StaticValidator(
    {
        "member": caller(["member"], token="member"),
        "admin": caller(["admin"], token="admin"),
    }
)


class Console(pb2_grpc.ComputeServicer):
    """Answers by instance id: a way to make the servicer raise what a test needs."""

    def __init__(self):
        self.seen: list[tuple[str, str]] = []

    def GetConsoleOutput(self, request, context):
        who = auth.caller()
        self.seen.append((who.user_id, dict(context.invocation_metadata()).get("x-request-id")))
        if request.instance_id == "missing":
            raise errors.NotFound("no instance 'missing' on this host", instance_id="missing")
        if request.instance_id.startswith("huge"):
            raise errors.NotFound(
                f"no instance {request.instance_id}", instance_id=request.instance_id
            )
        if request.instance_id == "boom":
            raise RuntimeError("secret internal detail")
        return pb2.GetConsoleOutputResponse(output=f"console of {request.instance_id}")

    def GetHostStatus(self, request, context):
        return pb2.GetHostStatusResponse()

    def Casts(self, request_iterator, context):
        received = 0
        for cast in request_iterator:
            received += 1
            self.seen.append(("cast", cast.reboot_instance.instance_id))
        return pb2.CastsSummary(received=received)


@pytest.fixture
def served():
    console = Console()
    with serving([Service.of(console, pb2, pb2_grpc, "Compute")], POLICY, VALIDATOR) as (ch, _):
        yield pb2_grpc.ComputeStub(ch), ch, console


def code_of(fn, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        fn(*args, **kwargs)
    return info.value


def test_valid_token_reaches_servicer_with_the_caller(served):
    stub, _, console = served
    reply = stub.GetConsoleOutput(
        pb2.GetConsoleOutputRequest(instance_id="i-1"), metadata=metadata("member")
    )
    assert reply.output == "console of i-1"
    assert console.seen[0][0] == "u-member"


@pytest.mark.parametrize("token", [None, "garbage"])
def test_missing_or_garbage_token_is_unauthenticated(served, token):
    stub, _, console = served
    error = code_of(
        stub.GetConsoleOutput,
        pb2.GetConsoleOutputRequest(instance_id="i"),
        metadata=metadata(token),
    )
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert console.seen == []


def test_policy_refusal_is_permission_denied_with_reason(served):
    stub, _, _ = served
    error = code_of(stub.GetHostStatus, pb2.GetHostStatusRequest(), metadata=metadata("member"))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert errors.error_info(error).reason == "POLICY_DENIED"
    assert stub.GetHostStatus(pb2.GetHostStatusRequest(), metadata=metadata("admin")) is not None


def test_method_without_a_rule_is_refused_even_for_admin(served):
    stub, _, _ = served
    error = code_of(stub.ListDomains, pb2.ListDomainsRequest(), metadata=metadata("admin"))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED


def test_domain_error_maps_to_its_code_with_error_info(served):
    stub, _, _ = served
    error = code_of(
        stub.GetConsoleOutput,
        pb2.GetConsoleOutputRequest(instance_id="missing"),
        metadata=metadata("member"),
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert "missing" in error.details()
    info = errors.error_info(error)
    assert (info.reason, info.domain, info.metadata["instance_id"]) == (
        "NOT_FOUND",
        "stratus.test",
        "missing",
    )
    again = errors.from_rpc_error(error)
    assert isinstance(again, errors.NotFound)
    assert again.metadata == {"instance_id": "missing"}


def test_error_quoting_a_huge_value_still_reaches_the_client_with_its_code(served):
    stub, _, _ = served
    error = code_of(
        stub.GetConsoleOutput,
        pb2.GetConsoleOutputRequest(instance_id="huge" + "x" * 7000),
        metadata=metadata("member"),
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert len(error.details()) <= errors.MESSAGE_MAX_BYTES
    assert errors.error_info(error).reason == "NOT_FOUND"


def test_undefined_enum_in_a_client_stream_message_is_invalid_argument_naming_the_field(served):
    stub, _, console = served
    casts = [
        pb2.ComputeCast(reboot_instance=pb2.RebootInstance(instance_id="a", reboot_type=1)),
        pb2.ComputeCast(reboot_instance=pb2.RebootInstance(instance_id="b", reboot_type=999)),
    ]
    error = code_of(stub.Casts, iter(casts), metadata=metadata("member"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert errors.error_info(error).metadata["field"] == "reboot_instance.reboot_type"
    assert console.seen == [("cast", "a")]


def test_unexpected_exception_is_internal_with_a_generic_message(served):
    stub, _, _ = served
    error = code_of(
        stub.GetConsoleOutput,
        pb2.GetConsoleOutputRequest(instance_id="boom"),
        metadata=metadata("member"),
    )
    assert error.code() == grpc.StatusCode.INTERNAL
    assert "secret" not in error.details()
    assert "request id" in error.details()


def test_request_id_is_kept_when_given_and_made_when_not(served):
    stub, _, _console = served
    given = (*metadata("member"), ("x-request-id", "req-from-client"))
    _, call = stub.GetConsoleOutput.with_call(
        pb2.GetConsoleOutputRequest(instance_id="a"), metadata=given
    )
    assert dict(call.initial_metadata())["x-request-id"] == "req-from-client"
    _, call = stub.GetConsoleOutput.with_call(
        pb2.GetConsoleOutputRequest(instance_id="b"), metadata=metadata("member")
    )
    assert dict(call.initial_metadata())["x-request-id"].startswith("req-")


def test_health_says_serving_for_the_server_and_each_service(served):
    _, channel, _ = served
    health = health_pb2_grpc.HealthStub(channel)
    for name in ("", "stratus.compute.v1.Compute"):
        reply = health.Check(health_pb2.HealthCheckRequest(service=name))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_service_health_and_reflection(served):
    _, channel, _ = served
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    replies = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = {s.name for r in replies for s in r.list_services_response.service}
    assert {
        "stratus.compute.v1.Compute",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    } <= names


def test_every_status_code_class_round_trips_through_from_rpc_error():
    for cls in (
        errors.InvalidArgument,
        errors.NotFound,
        errors.AlreadyExists,
        errors.FailedPrecondition,
        errors.PermissionDenied,
        errors.Unauthenticated,
        errors.ResourceExhausted,
        errors.Unavailable,
    ):
        status = errors.to_status(cls("m", field="f"), "stratus.x")
        assert status.code == cls.code
