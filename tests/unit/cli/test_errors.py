"""gRPC statuses turned into one line of words."""

from __future__ import annotations

import grpc

from components.cli.errors import RemoteError


def words(code, details="details here", **kwargs) -> str:
    return RemoteError(code, details, **kwargs).format_message()


def test_not_found_and_invalid_argument_lead_with_what_happened():
    assert words(grpc.StatusCode.NOT_FOUND, "image x does not exist") == (
        "Not found: image x does not exist"
    )
    assert words(grpc.StatusCode.INVALID_ARGUMENT, "size_gib must be at least 1") == (
        "Invalid request: size_gib must be at least 1"
    )


def test_quota_reason_says_quota():
    assert words(grpc.StatusCode.RESOURCE_EXHAUSTED, "cores 4 > 2", reason="QUOTA_EXCEEDED") == (
        "Quota exceeded: cores 4 > 2"
    )


def test_unavailable_names_the_service_and_address():
    text = words(
        grpc.StatusCode.UNAVAILABLE, "connection refused", service="image", address="127.0.0.1:9292"
    )
    assert text == "Cannot reach the image service at 127.0.0.1:9292: connection refused"


def test_deadline_names_the_limit_and_the_call():
    text = words(
        grpc.StatusCode.DEADLINE_EXCEEDED,
        "Deadline Exceeded",
        service="api",
        address="127.0.0.1:8774",
        method="CreateServer",
        timeout=30.0,
    )
    assert text == "No answer from the api service at 127.0.0.1:8774 within 30 s (CreateServer)"


def test_internal_points_at_the_service_log():
    text = words(grpc.StatusCode.INTERNAL, "internal error (request id req-1)", service="volume")
    assert text == (
        "Internal error in the volume service: internal error (request id req-1) "
        "(its log has the details)"
    )


def test_multi_line_details_become_one_line():
    assert words(grpc.StatusCode.FAILED_PRECONDITION, "line one\n  line two") == (
        "Not possible in the current state: line one line two"
    )
