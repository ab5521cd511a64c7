"""Every enum field of a request is checked against its enum, wherever it sits."""

import pytest
from google.protobuf import struct_pb2

from components.framework import enums, errors
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.compute.v1 import compute_service_pb2 as compute_pb2


def refused(message) -> errors.InvalidArgument:
    with pytest.raises(errors.InvalidArgument) as info:
        enums.check(message)
    return info.value


@pytest.mark.parametrize("number", [999, -1])
def test_undefined_top_level_enum_is_refused_naming_the_field(number):
    error = refused(api_pb2.ListServersRequest(status=number))
    assert error.metadata["field"] == "status"
    assert str(number) in error.message


def test_defined_values_and_defaults_pass():
    enums.check(api_pb2.ListServersRequest())
    enums.check(api_pb2.ListServersRequest(status=api_pb2.Server.Status.STATUS_ACTIVE))
    enums.check(api_pb2.GetServerRequest(server_id="x" * 10_000))


def test_undefined_enum_in_a_repeated_message_names_its_index():
    reply = compute_pb2.ListDomainsResponse(
        domains=[compute_pb2.Domain(state=1), compute_pb2.Domain(state=77)]
    )
    assert refused(reply).metadata["field"] == "domains[1].state"


def test_undefined_enum_inside_a_map_value_names_its_key():
    message = struct_pb2.Struct()
    message.fields["ok"].null_value = 0
    message.fields["bad"].null_value = 5
    assert refused(message).metadata["field"] == "fields['bad'].null_value"


def test_undefined_enum_in_a_recursive_message_is_found():
    message = struct_pb2.Struct()
    inner = message.fields["list"].list_value.values.add().struct_value
    inner.fields["deep"].null_value = 3
    path = refused(message).metadata["field"]
    assert path == "fields['list'].list_value.values[0].struct_value.fields['deep'].null_value"


def test_an_unset_oneof_member_is_not_walked():
    enums.check(struct_pb2.Value(string_value="s"))


def test_a_message_without_enums_has_an_empty_cached_plan():
    enums.check(api_pb2.GetServerRequest(server_id="x"))
    assert enums._plans[api_pb2.GetServerRequest.DESCRIPTOR] == ()


def test_client_stream_is_checked_message_by_message():
    seen = []
    stream = enums.check_stream(
        iter([api_pb2.ListServersRequest(status=1), api_pb2.ListServersRequest(status=42)])
    )
    with pytest.raises(errors.InvalidArgument):
        for message in stream:
            seen.append(message.status)
    assert seen == [1]
