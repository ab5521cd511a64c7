"""A fake Keypairs service for the CLI's ``keypair`` commands, beside fakes.py's cloud.

It keeps key pairs in a dict by name, records the requests it gets, and makes
and checks keys with the api's own key code, so the CLI gets real OpenSSH keys.
"""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Iterator

from components.api import keypair_keys
from components.framework import errors
from components.framework.server import Service
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.api.v1 import api_service_pb2_grpc as api_grpc
from tests.harness import StaticValidator, caller, serving
from tests.unit.cli.fakes import TOKEN, FakeCloud, _page

USER_ID = "u-fake-token"


class FakeKeypairs(api_grpc.KeypairsServicer):
    def __init__(self) -> None:
        self.requests: collections.defaultdict[str, list] = collections.defaultdict(list)
        self.pairs: dict[str, api_pb2.Keypair] = {}

    def _add(self, name: str, key: keypair_keys.PublicKey) -> api_pb2.Keypair:
        if name in self.pairs:
            raise errors.AlreadyExists(f"a key pair named {name!r} already exists")
        pair = api_pb2.Keypair(
            name=name,
            user_id=USER_ID,
            public_key=key.line,
            fingerprint=key.fingerprint,
            key_type=key.key_type,
        )
        pair.create_time.FromSeconds(1_700_000_000)
        self.pairs[name] = pair
        return pair

    def CreateKeypair(self, request, context):
        self.requests["CreateKeypair"].append(request)
        public, private = keypair_keys.generate(request.key_type or "ssh-ed25519")
        return api_pb2.CreateKeypairResponse(
            keypair=self._add(request.name, public), private_key=private
        )

    def ImportKeypair(self, request, context):
        self.requests["ImportKeypair"].append(request)
        return self._add(request.name, keypair_keys.parse_public_key(request.public_key))

    def GetKeypair(self, request, context):
        self.requests["GetKeypair"].append(request)
        if request.name not in self.pairs:
            raise errors.NotFound(f"no key pair named {request.name!r}")
        return self.pairs[request.name]

    def ListKeypairs(self, request, context):
        self.requests["ListKeypairs"].append(request)
        items, token = _page(sorted(self.pairs.values(), key=lambda k: k.name), request.page_token)
        return api_pb2.ListKeypairsResponse(keypairs=items, next_page_token=token)

    def DeleteKeypair(self, request, context):
        self.requests["DeleteKeypair"].append(request)
        if self.pairs.pop(request.name, None) is None:
            raise errors.NotFound(f"no key pair named {request.name!r}")
        return api_pb2.DeleteKeypairResponse()


class KeypairCloud(FakeCloud):
    """fakes.py's cloud with the Keypairs service."""

    def __init__(self) -> None:
        super().__init__()
        self.keypairs = FakeKeypairs()

    def services(self) -> list[Service]:
        return [*super().services(), Service.of(self.keypairs, api_pb2, api_grpc, "Keypairs")]


@contextlib.contextmanager
def keypair_cloud() -> Iterator[KeypairCloud]:
    cloud = KeypairCloud()
    validator = StaticValidator({TOKEN: caller(["member"], project_id="p-1", token=TOKEN)})
    with serving(cloud.services(), cloud.policy(), validator) as (_, port):
        cloud.address = cloud.identity.address = f"127.0.0.1:{port}"
        yield cloud
