"""Identity: tokens issued and validated per second, and the framework's token cache.

Run: ``.venv/bin/python -m tests.benchmarks.bench_identity [--quick] [--runs N]``.

Serves the identity component on SQLite (WAL) through the real framework
server, bootstrapped as ``make run-all`` bootstraps it, with passwords hashed
at bcrypt's production cost (``password_hash_rounds`` 12, the default): every
IssueToken checks one bcrypt hash, so its rate is the hash's rate. Figures:
IssueToken per second (one caller, then 8 at once); ValidateToken per second
over gRPC with a service token (each call checks the service token and the
subject token: Fernet decryption, user, project, roles and revocation read
from the database, nothing cached); and
``components.framework.auth.CachingValidator.validate`` on a cached token
(what every other component does for each RPC while the token is in its
cache), per second and in microseconds per call. Callers run in the server's
process. Prints numbers and records them with tests.benchmarks.results;
asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from components.framework import auth
from components.identity.__main__ import COMPONENT
from components.identity.bootstrap import bootstrap
from components.identity.config import IdentityConfig
from stratus.identity.v1 import identity_service_pb2 as pb2
from stratus.identity.v1 import identity_service_pb2_grpc as pb2_grpc
from tests.benchmarks.results import record
from tests.harness import serving_component

DEMO_PASSWORD = "bench-demo-password-1"
ROUNDS = IdentityConfig.password_hash_rounds  # production's default


def rate(call: Callable[[], object], callers: int, count: int) -> float:
    """Calls per second: ``count`` calls shared by ``callers`` threads."""
    per_caller = max(1, count // callers)
    barrier = threading.Barrier(callers + 1)

    def work() -> None:
        barrier.wait()
        for _ in range(per_caller):
            call()

    threads = [threading.Thread(target=work) for _ in range(callers)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return per_caller * callers / (time.perf_counter() - started)


def cached_validations(count: int) -> float:
    """Seconds for ``count`` CachingValidator.validate calls on one cached token."""
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    token = "gAAAAA" + "t" * 158  # a Fernet token's length

    class Identity:  # the far side: called once, then the cache answers
        def validate(self, token: str) -> auth.Caller:
            return auth.Caller("u", "user", "p", "project", frozenset({"member"}), token, expires)

    validator = auth.CachingValidator(Identity())
    validator.validate(token)
    started = time.perf_counter()
    for _ in range(count):
        validator.validate(token)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_identity")
    parser.add_argument("--quick", action="store_true", help="small sizes (for make bench-quick)")
    parser.add_argument("--runs", type=int, help="runs per figure (default 5; quick 3)")
    options = parser.parse_args()
    runs = options.runs or (3 if options.quick else 5)
    issues = 4 if options.quick else 12
    validations = 300 if options.quick else 2000
    lookups = 50_000 if options.quick else 500_000
    logging.disable(logging.INFO)  # one log line per RPC would measure the terminal
    os.environ["STRATUS_DEMO_PASSWORD"] = DEMO_PASSWORD
    load = os.getloadavg()[0]
    samples: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        config = IdentityConfig(data_dir=tmp, password_hash_rounds=ROUNDS)
        url = f"sqlite:///{Path(tmp) / 'identity.sqlite'}"
        with serving_component(COMPONENT, None, url, config=config) as (_, channel):
            bootstrap(config, demo=True)
            stub = pb2_grpc.IdentityStub(channel)

            def issue(user: str = "demo", password: str = DEMO_PASSWORD, project: str = "demo"):
                request = pb2.IssueTokenRequest(
                    username=user, password=password, project_name=project
                )
                return stub.IssueToken(request)

            api_password = (Path(tmp) / "secrets" / "api.password").read_text().strip()
            service = (("x-auth-token", issue("api", api_password, "service").token),)
            subject = pb2.ValidateTokenRequest(subject_token=issue().token)

            def validate():
                return stub.ValidateToken(subject, metadata=service)

            validate()
            for _ in range(runs):
                samples.setdefault("issue.sequential", []).append(rate(issue, 1, issues))
                samples.setdefault("issue.8_callers", []).append(rate(issue, 8, issues * 2))
                samples.setdefault("validate.sequential", []).append(rate(validate, 1, validations))
                samples.setdefault("validate.8_callers", []).append(
                    rate(validate, 8, validations * 2)
                )
    where = f"SQLite (WAL), over gRPC, callers in the server's process; load average {load:.2f}"
    bcrypt = f"bcrypt cost {ROUNDS} (production's default)"
    notes = {
        "issue.sequential": (
            "tokens/s",
            f"IssueToken (password, project scope), {bcrypt}; {where}",
        ),
        "issue.8_callers": ("tokens/s", f"IssueToken, 8 concurrent callers, {bcrypt}; {where}"),
        "validate.sequential": ("tokens/s", f"ValidateToken with a service token; {where}"),
        "validate.8_callers": ("tokens/s", f"ValidateToken, 8 concurrent callers; {where}"),
    }
    for key, (unit, note) in notes.items():
        record(f"identity.{key}", samples[key], unit, note)
    cached = [cached_validations(lookups) for _ in range(runs)]
    note = f"CachingValidator.validate on a cached token, one thread, {lookups} calls per run"
    record("identity.cached_validate.per_second", [lookups / s for s in cached], "calls/s", note)
    record("identity.cached_validate.per_call", [s / lookups * 1e6 for s in cached], "us", note)


if __name__ == "__main__":
    main()
