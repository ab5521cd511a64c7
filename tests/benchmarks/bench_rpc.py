"""The framework's RPC layer against the message broker it replaces, same payload, same run.

Run: ``.venv/bin/python -m tests.benchmarks.bench_rpc [--quick] [--runs N]``.

Stratus: an echo servicer of ``stratus.compute.v1.Compute`` (GetConsoleOutput
answers the request's string; Casts counts each message as it is handled)
behind :func:`components.framework.server.build_server` with the real
ServerInterceptor (request id, policy rule ``authenticated``, a
``CachingValidator`` in front of a validator that takes no time, the far side
of identity, and one INFO log line per RPC written to a file, as a component
writes them). It is called through :class:`components.framework.clients.Clients`
stubs (deadline, request id and token metadata) and cast to through
:class:`components.framework.cast_clients.CastClient` (a ``CastSender`` keeping
one long-lived stream, waiting until gRPC has taken each message, as the
scheduler does).

oslo.messaging: an ``RPCServer`` (executor "threading") with the same two
methods, called with ``RPCClient.call`` and ``RPCClient.cast`` over RabbitMQ at
``rabbit://guest:guest@127.0.0.1:5672/``, the context carrying the same token
and request id Stratus sends as metadata.

Each server runs in its own process, the callers in this one; both payloads
are the same 200-byte string. Per run: sequential latency (p50, p99), calls
per second with 1, 8 and 32 concurrent callers, and casts delivered per second
(from the first send until the receiver has handled the last). Each Stratus
figure is divided by the oslo figure of the same run. Without RabbitMQ (or
oslo.messaging) the oslo half is skipped with the reason. Prints numbers and
records them with tests.benchmarks.results; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import logging
import multiprocessing
import os
import socket
import statistics
import tempfile
import threading
import time
import urllib.parse
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.benchmarks.results import record

RABBIT_URL = os.environ.get("STRATUS_BENCH_RABBIT_URL", "rabbit://guest:guest@127.0.0.1:5672/")
PAYLOAD = "p" * 200
# A token of the length identity issues (Fernet, ~164 characters).
TOKEN = "gAAAAA" + "t" * 158
USER, PROJECT = str(uuid.uuid4()), str(uuid.uuid4())
TOPIC = "stratus-bench-echo"
CALLERS = (1, 8, 32)


# ------------------------------------------------------------------ servers


def _counting(counter) -> Callable[[], None]:
    def bump() -> None:
        with counter.get_lock():
            counter.value += 1

    return bump


def _log_to(path: str) -> None:
    from components.framework.logs import configure_logging

    configure_logging("bench", "INFO", stream=open(path, "a", buffering=1))  # noqa: SIM115


class _ZeroValidator:
    """The far side of identity, answering at once: every token is a valid member's."""

    def validate(self, token: str):
        from components.framework import auth

        return auth.Caller(
            user_id=USER,
            user_name="bench",
            project_id=PROJECT,
            project_name="bench",
            roles=frozenset({"member"}),
            token=token,
            expires_time=datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1),
        )


def stratus_server(ready, stop, counter, log_path: str) -> None:
    """In the server process: the echo servicer behind the framework's server."""
    from components.framework import auth
    from components.framework.casts import CastReceiver
    from components.framework.config import Config
    from components.framework.server import Service, build_server
    from stratus.compute.v1 import compute_service_pb2 as pb2
    from stratus.compute.v1 import compute_service_pb2_grpc as pb2_grpc

    _log_to(log_path)
    handled = _counting(counter)

    class Echo(pb2_grpc.ComputeServicer):
        def __init__(self) -> None:
            self.receiver = CastReceiver({"terminate_instance": lambda _ctx, _p: handled()})

        def GetConsoleOutput(self, request, context):
            return pb2.GetConsoleOutputResponse(output=request.instance_id)

        def Casts(self, request_iterator, context):
            return pb2.CastsSummary(received=self.receiver.receive(request_iterator))

    rule = {"GetConsoleOutput": auth.authenticated, "Casts": auth.authenticated}
    policy = auth.Policy.of({"stratus.compute.v1.Compute": rule})
    validator = auth.CachingValidator(_ZeroValidator())
    config = Config(component="bench")  # the defaults every component has (64 workers)
    server, port = build_server(
        config, [Service.of(Echo(), pb2, pb2_grpc, "Compute")], policy, validator, port=0
    )
    server.start()
    ready.send(f"127.0.0.1:{port}")
    stop.wait()
    server.stop(0)


def oslo_server(ready, stop, counter, log_path: str) -> None:
    """In the server process: an oslo.messaging RPC server with the same two methods."""
    warnings.simplefilter("ignore")
    import oslo_messaging
    from oslo_config import cfg

    _log_to(log_path)
    handled = _counting(counter)

    class Endpoint:
        target = oslo_messaging.Target(version="1.0")

        def echo(self, ctxt, payload):
            return payload

        def note(self, ctxt, instance_id):
            handled()

    cfg.CONF([], project="stratus-bench")
    transport = oslo_messaging.get_rpc_transport(cfg.CONF, url=RABBIT_URL)
    target = oslo_messaging.Target(topic=TOPIC, server="bench")
    server = oslo_messaging.get_rpc_server(transport, target, [Endpoint()], executor="threading")
    server.start()
    ready.send("started")
    stop.wait()
    server.stop()
    server.wait()
    transport.cleanup()


@contextlib.contextmanager
def serving(target: Callable, log_path: str) -> Iterator[tuple[str, object]]:
    """Run ``target`` in its own process; yields (what it sent when ready, cast counter)."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    stop = context.Event()
    counter = context.Value("q", 0)
    process = context.Process(target=target, args=(send, stop, counter, log_path), daemon=True)
    process.start()
    try:
        if not receive.poll(60):
            raise RuntimeError(f"{target.__name__} did not start; see {log_path}")
        yield receive.recv(), counter
    finally:
        stop.set()
        process.join(15)
        if process.is_alive():
            process.kill()


# ------------------------------------------------------------------ clients


class StratusClient:
    def __init__(self, address: str) -> None:
        from components.framework.cast_clients import CastClient
        from components.framework.clients import Clients, ServiceToken
        from stratus.compute.v1 import compute_service_pb2 as pb2
        from stratus.compute.v1 import compute_service_pb2_grpc as pb2_grpc

        self.pb2 = pb2
        self.address = address
        self.clients = Clients(lambda _: address, ServiceToken(lambda: (TOKEN, time.time() + 3600)))
        self.stub = self.clients.stub(pb2_grpc.ComputeStub, "compute")
        self.casts = CastClient(self.clients, pb2_grpc.ComputeStub, pb2, "ComputeCast")

    def call(self) -> None:
        reply = self.stub.GetConsoleOutput(self.pb2.GetConsoleOutputRequest(instance_id=PAYLOAD))
        assert reply.output == PAYLOAD

    def cast(self, i: int) -> None:
        context = self.casts.context(auth_token=TOKEN, user_id=USER, project_id=PROJECT)
        payload = self.pb2.TerminateInstance(instance_id=f"{i:010d}{PAYLOAD[10:]}")
        self.casts.cast(self.address, context, terminate_instance=payload)

    def close(self) -> None:
        self.casts.close()
        self.clients.close()


class OsloClient:
    def __init__(self) -> None:
        warnings.simplefilter("ignore")
        import oslo_messaging
        from oslo_config import cfg

        cfg.CONF([], project="stratus-bench")
        self.transport = oslo_messaging.get_rpc_transport(cfg.CONF, url=RABBIT_URL)
        target = oslo_messaging.Target(topic=TOPIC, server="bench", version="1.0")
        self.client = oslo_messaging.get_rpc_client(self.transport, target, timeout=60)

    @staticmethod
    def _context() -> dict[str, str]:
        # What Stratus sends as metadata, and a CastContext, nova puts in the context.
        return {
            "request_id": f"req-{uuid.uuid4()}",
            "auth_token": TOKEN,
            "user_id": USER,
            "project_id": PROJECT,
        }

    def call(self) -> None:
        reply = self.client.call(self._context(), "echo", payload=PAYLOAD)
        assert reply == PAYLOAD

    def cast(self, i: int) -> None:
        self.client.cast(self._context(), "note", instance_id=f"{i:010d}{PAYLOAD[10:]}")

    def close(self) -> None:
        self.transport.cleanup()


def rabbit_missing() -> str:
    """Why the oslo half cannot run here, or "" if it can."""
    try:
        import oslo_messaging  # noqa: F401
    except ImportError:
        return "oslo.messaging is not installed (pip install -e '.[bench]')"
    url = urllib.parse.urlsplit(RABBIT_URL)
    host, port = url.hostname or "127.0.0.1", url.port or 5672
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError as exc:
        return f"RabbitMQ is not listening on {host}:{port} ({exc})"
    return ""


# ------------------------------------------------------------------ measurements


def latencies(client, count: int) -> tuple[float, float]:
    """p50 and p99 in milliseconds of ``count`` sequential calls."""
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        client.call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def throughput(client, callers: int, seconds: float) -> float:
    """Calls per second completed by ``callers`` threads calling back to back."""
    barrier = threading.Barrier(callers + 1)
    done = [0] * callers
    stop = threading.Event()

    def caller(index: int) -> None:
        client.call()  # warm: this thread's first call is not counted
        barrier.wait()
        while not stop.is_set():
            client.call()
            done[index] += 1

    threads = [threading.Thread(target=caller, args=(i,), daemon=True) for i in range(callers)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    counted = sum(done)
    elapsed = time.perf_counter() - started
    for thread in threads:
        thread.join()
    return counted / elapsed


def cast_rate(client, counter, count: int) -> tuple[float, float]:
    """(casts handed over per second, casts handled by the receiver per second)."""
    with counter.get_lock():
        counter.value = 0
    started = time.perf_counter()
    for i in range(count):
        client.cast(i)
    sent = time.perf_counter() - started
    deadline = time.monotonic() + 120
    while counter.value < count and time.monotonic() < deadline:
        time.sleep(0.0005)
    delivered = time.perf_counter() - started
    if counter.value < count:
        raise RuntimeError(f"only {counter.value} of {count} casts were delivered")
    return count / sent, count / delivered


def one_run(client, counter, sizes: argparse.Namespace) -> dict[str, float]:
    figures: dict[str, float] = {}
    figures["call.p50"], figures["call.p99"] = latencies(client, sizes.calls)
    for callers in CALLERS:
        figures[f"call.{callers}_callers"] = throughput(client, callers, sizes.seconds)
    figures["cast.sent"], figures["cast.delivered"] = cast_rate(client, counter, sizes.casts)
    return figures


UNITS = {
    "call.p50": ("ms", "sequential unary call, median"),
    "call.p99": ("ms", "sequential unary call, 99th percentile"),
    **{
        f"call.{n}_callers": ("calls/s", f"unary calls completed, {n} concurrent caller threads")
        for n in CALLERS
    },
    "cast.sent": ("casts/s", "one sender: casts handed over (send returned)"),
    "cast.delivered": ("casts/s", "one sender: from the first send until the last is handled"),
}


def report(results: dict[str, list[dict[str, float]]], skipped: str, load: list[float]) -> None:
    what = (
        "200-byte payload, server in its own process, callers in this one; "
        f"load average before the runs {load[0]:.2f}"
    )
    notes = {
        "stratus": "framework unary call / cast stream (auth with cached token, logging, "
        "request id, deadline); " + what,
        "oslo": f"oslo.messaging rpc.call / rpc.cast over RabbitMQ (threading executor); {what}",
    }
    for system, runs in results.items():
        for key, (unit, about) in UNITS.items():
            record(f"rpc.{system}.{key}", [r[key] for r in runs], unit, f"{about}; {notes[system]}")
    if skipped:
        print(f"oslo.messaging half skipped: {skipped}", flush=True)
        return
    for key, (unit, about) in UNITS.items():
        ratios = [s[key] / o[key] for s, o in zip(results["stratus"], results["oslo"], strict=True)]
        better = "lower" if unit == "ms" else "higher"
        record(
            f"rpc.ratio.{key}",
            ratios,
            "ratio",
            f"Stratus/oslo.messaging, run by run ({better} is better for Stratus): {about}",
        )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_rpc")
    parser.add_argument("--quick", action="store_true", help="small sizes (for make bench-quick)")
    parser.add_argument("--runs", type=int, help="runs of every measurement (default 5; quick 3)")
    options = parser.parse_args()
    sizes = argparse.Namespace(
        calls=300 if options.quick else 2000,
        seconds=0.5 if options.quick else 2.0,
        casts=1000 if options.quick else 5000,
        runs=options.runs or (3 if options.quick else 5),
    )
    warnings.simplefilter("ignore")
    # oslo.messaging warns about its reply queues and connection pool growing
    # with 32 callers; that is the load this benchmark makes, not news.
    logging.getLogger("oslo_messaging").setLevel(logging.ERROR)
    skipped = rabbit_missing()
    load = list(os.getloadavg())
    results: dict[str, list[dict[str, float]]] = {"stratus": []}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        address, stratus_counter = stack.enter_context(
            serving(stratus_server, str(Path(tmp) / "stratus.log"))
        )
        stratus = StratusClient(address)
        stack.callback(stratus.close)
        systems = [("stratus", stratus, stratus_counter)]
        if not skipped:
            _, oslo_counter = stack.enter_context(serving(oslo_server, str(Path(tmp) / "oslo.log")))
            oslo = OsloClient()
            stack.callback(oslo.close)
            systems.append(("oslo", oslo, oslo_counter))
            results["oslo"] = []
        for _, client, counter in systems:  # warm up: connections, streams, caches
            one_run(client, counter, argparse.Namespace(calls=50, seconds=0.1, casts=100))
        for run in range(sizes.runs):
            for name, client, counter in systems:
                results[name].append(one_run(client, counter, sizes))
            print(f"run {run + 1}/{sizes.runs} done (load {os.getloadavg()[0]:.2f})", flush=True)
    report(results, skipped, load)


if __name__ == "__main__":
    main()
