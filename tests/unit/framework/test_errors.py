"""Errors quote a short prefix of bad input, and a status always fits gRPC's trailers."""

import grpc
import pytest
from google.rpc import error_details_pb2

from components.framework import errors, validation


def test_quote_keeps_short_values_and_cuts_long_ones():
    assert validation.quote("abc") == "'abc'"
    long = validation.quote("x" * 7000)
    assert len(long) == validation.QUOTE_MAX + 1 and long.endswith("…")


def test_uuid_error_quotes_a_bounded_prefix():
    with pytest.raises(errors.InvalidArgument) as info:
        validation.uuid_str("server_id", "x" * 7000)
    assert len(info.value.message) < 200


def trailer_bytes(status: grpc.Status) -> int:
    return sum(len(k) + len(v) for k, v in status.trailing_metadata) + len(status.details) * 3


@pytest.mark.parametrize("text", ["x" * 7000, "é" * 7000, "\x00" * 7000])
def test_status_of_a_huge_error_fits_the_trailers(text):
    error = errors.InvalidArgument(
        f"server_id {text} is bad", field=text, value=text, **{f"k{i}": text for i in range(50)}
    )
    status = errors.to_status(error, "stratus.test")
    assert trailer_bytes(status) < 6 * 1024
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT
    assert status.details.endswith("…")


def test_status_of_a_small_error_is_unchanged():
    error = errors.NotFound("no server with id 'a'", server_id="a")
    status = errors.to_status(error, "stratus.test")
    assert status.details == "no server with id 'a'"
    ((_, raw),) = status.trailing_metadata
    from google.rpc import status_pb2

    info = error_details_pb2.ErrorInfo()
    status_pb2.Status.FromString(raw).details[0].Unpack(info)
    assert dict(info.metadata) == {"server_id": "a"} and info.reason == "NOT_FOUND"
