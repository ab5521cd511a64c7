"""A revoked token stops working everywhere within a second, not when caches age out.

The whole cloud as run-all starts it: a user's token is used (and so cached)
by api, image, network and volume, then the user is deleted (or the token
revoked), and every component refuses the token within a second.
"""

from __future__ import annotations

import time
import uuid

import grpc
import pytest

from components.framework import errors
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.api.v1 import api_service_pb2_grpc as api_grpc
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.identity.v1 import identity_service_pb2_grpc as identity_grpc
from stratus.image.v1 import image_service_pb2 as image_pb2
from stratus.image.v1 import image_service_pb2_grpc as image_grpc
from stratus.network.v1 import network_service_pb2 as network_pb2
from stratus.network.v1 import network_service_pb2_grpc as network_grpc
from stratus.volume.v1 import volume_service_pb2 as volume_pb2
from stratus.volume.v1 import volume_service_pb2_grpc as volume_grpc

CALLS = {
    "api": lambda ch: api_grpc.ServersStub(ch).ListServers,
    "image": lambda ch: image_grpc.ImagesStub(ch).ListImages,
    "network": lambda ch: network_grpc.NetworkStub(ch).ListNetworks,
    "volume": lambda ch: volume_grpc.VolumesStub(ch).ListVolumes,
}
REQUESTS = {
    "api": api_pb2.ListServersRequest,
    "image": image_pb2.ListImagesRequest,
    "network": network_pb2.ListNetworksRequest,
    "volume": volume_pb2.ListVolumesRequest,
}


def new_member(cloud) -> tuple[str, str]:
    """A new user with `member` on the demo project; returns (user id, its token)."""
    admin = cloud.md("admin")
    channel = cloud.channel("identity")
    name, password = f"revokee-{uuid.uuid4().hex[:8]}", "revokee-password"
    user = identity_grpc.UsersStub(channel).CreateUser(
        identity_pb2.CreateUserRequest(name=name, password=password), metadata=admin
    )
    roles = identity_grpc.RolesStub(channel)
    member = roles.ListRoles(identity_pb2.ListRolesRequest(name="member"), metadata=admin)
    roles.AssignRole(
        identity_pb2.AssignRoleRequest(
            user_id=user.id,
            project_id=cloud.token_reply("demo").project.id,
            role_id=member.roles[0].id,
        ),
        metadata=admin,
    )
    request = identity_pb2.IssueTokenRequest(username=name, password=password, project_name="demo")
    return user.id, issue_patiently(identity_grpc.IdentityStub(channel), request)


def issue_patiently(stub, request, attempts: int = 5) -> str:
    """IssueToken, waiting out LOGIN_THROTTLED (other tests failed logins from 127.0.0.1)."""
    for _ in range(attempts - 1):
        try:
            return stub.IssueToken(request).token
        except grpc.RpcError as exc:
            info = errors.error_info(exc)
            if info is None or info.reason != "LOGIN_THROTTLED":
                raise
            time.sleep(min(30.0, int(info.metadata["retry_after_ms"]) / 1000))
    return stub.IssueToken(request).token


def refused_by(call, request, token: str, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            call(request, metadata=(("x-auth-token", token),), timeout=5)
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.UNAUTHENTICATED, exc
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("how", ["delete-user", "revoke-token"])
def test_every_component_refuses_a_revoked_token_within_a_second(cloud, how):
    user_id, token = new_member(cloud)
    calls = {name: CALLS[name](cloud.channel(name)) for name in CALLS}
    for name, call in calls.items():
        call(REQUESTS[name](), metadata=(("x-auth-token", token),), timeout=5)
    identity = cloud.channel("identity")
    if how == "delete-user":
        identity_grpc.UsersStub(identity).DeleteUser(
            identity_pb2.DeleteUserRequest(user_id=user_id), metadata=cloud.md("admin")
        )
    else:
        identity_grpc.IdentityStub(identity).RevokeToken(
            identity_pb2.RevokeTokenRequest(subject_token=token), metadata=cloud.md("admin")
        )
    deadline = time.monotonic() + 1.0
    late = [
        name
        for name, call in calls.items()
        if not refused_by(call, REQUESTS[name](), token, deadline)
    ]
    assert late == []
