"""The boot path of the whole cloud, and the memory of every component.

Run: ``.venv/bin/python -m tests.benchmarks.bench_boot [--quick] [--runs N]``.

Starts the cloud as ``make run-all`` does (``python -m components.supervisor``
with three compute hosts on the libvirt test driver, port offset 22000, in a
temporary data directory) and drives it through the generated stubs as a user
would: IssueToken as demo, CreateServer, WatchServer until ACTIVE or ERROR,
DeleteServer and WatchServer until DELETED. As admin it first lifts the demo
project's quota (instances, cores, RAM unlimited) so 50 builds at once are
not refused.

The test driver's node has 3 GiB of RAM, which holds 27 m1.tiny guests across
three hosts at the scheduler's 1.5 RAM ratio, fewer than 50 builds at once:
the hosts are told to offer 64 GiB (``STRATUS_COMPUTE_RAM_MIB``); everything
else is run-all's defaults.

Figures: milliseconds from CreateServer to the WatchServer message saying
ACTIVE (p50 and p95 of each run) at concurrency 1, 10 and 50, and the same
time as the system records it (the host's launched_time less the api's
create_time, so without the client's watch); create+delete cycles completed
per second by 50 concurrent users; the same with an image no host has
cached yet (a fresh 1 MiB raw image uploaded as admin, public, before each
round, outside the timing); and VmRSS of every component process when idle
after start-up and after the boots. Prints numbers and records them with
tests.benchmarks.results; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
from google.protobuf import field_mask_pb2

from components.framework import tls
from components.framework.targets import ROUND_ROBIN, grpc_target
from stratus.api.v1 import api_service_pb2 as api_pb2
from stratus.api.v1 import api_service_pb2_grpc as api_grpc
from stratus.identity.v1 import identity_service_pb2 as identity_pb2
from stratus.identity.v1 import identity_service_pb2_grpc as identity_grpc
from stratus.image.v1 import image_service_pb2 as image_pb2
from stratus.image.v1 import image_service_pb2_grpc as image_grpc
from tests.benchmarks.memory import record_memory
from tests.benchmarks.results import record

PORT_OFFSET = int(os.environ.get("STRATUS_BENCH_PORT_OFFSET", "22000"))
COMPUTE_HOSTS = 3
HOST_RAM_MIB = 65536
IMAGE_BYTES = 1024 * 1024
ACTIVE, ERROR = api_pb2.Server.STATUS_ACTIVE, api_pb2.Server.STATUS_ERROR
CONCURRENCY = (1, 10, 50)
log = logging.getLogger("bench.boot")


@dataclasses.dataclass
class Boot:
    ms: float  # CreateServer until the watch says ACTIVE (or ERROR)
    server_ms: float  # launched_time - create_time, as the system records them
    server_id: str
    ok: bool
    fault: str = ""


def connect(info: dict, name: str) -> grpc.Channel:
    """A channel to component ``name`` of the run whose ready file is ``info``: plaintext
    when the run has no TLS; else verified against its CA with the operator's certificate,
    every replica (``api``, ``api-2``, ...) in one round-robin target."""
    addresses = info["addresses"]
    if "tls" not in info:
        return grpc.insecure_channel(addresses[name])
    security = tls.Tls.from_files(info["tls"]["ca"], info["tls"]["cert"], info["tls"]["key"])
    replicas = [f"{name}-{i}" for i in range(2, info.get("replicas", 1) + 1)]
    found = [addresses[name], *(addresses[r] for r in replicas if r in addresses)]
    options = (("grpc.service_config", ROUND_ROBIN),)
    return tls.channel(grpc_target(found), security, options, server_name=name)


class Cloud:
    """The running cloud seen from a user: tokens, stubs, and what they do."""

    def __init__(self, info: dict, process: subprocess.Popen, data_dir: Path) -> None:
        self.info, self.process, self.data_dir = info, process, data_dir
        self.ids = info["ids"]
        self.channels = {n: connect(info, n) for n in ("identity", "api", "image")}
        self.admin = self._token("admin")
        self.demo = self._token("demo")
        self.servers = api_grpc.ServersStub(self.channels["api"])
        self.images = image_grpc.ImagesStub(self.channels["image"])
        self.md = (("x-auth-token", self.demo.token),)
        self.admin_md = (("x-auth-token", self.admin.token),)

    def _token(self, user: str) -> identity_pb2.IssueTokenResponse:
        stub = identity_grpc.IdentityStub(self.channels["identity"])
        request = identity_pb2.IssueTokenRequest(
            username=user, password=self.info["passwords"][user], project_name=user
        )
        return stub.IssueToken(request, timeout=30)

    def unlimited_quota(self) -> None:
        request = api_pb2.UpdateQuotaRequest(
            project_id=self.demo.project.id,
            instances=-1,
            cores=-1,
            ram_mib=-1,
            update_mask=field_mask_pb2.FieldMask(paths=["instances", "cores", "ram_mib"]),
        )
        api_grpc.QuotasStub(self.channels["api"]).UpdateQuota(request, metadata=self.admin_md)

    def upload_image(self) -> str:
        """A new public raw image no host has cached (its bytes are unique too)."""
        name = f"bench-{uuid.uuid4()}"
        data = name.encode().ljust(IMAGE_BYTES, b"\0")
        image = self.images.CreateImage(
            image_pb2.CreateImageRequest(
                name=name,
                disk_format=image_pb2.Image.DISK_FORMAT_RAW,
                container_format=image_pb2.Image.CONTAINER_FORMAT_BARE,
                visibility=image_pb2.Image.VISIBILITY_PUBLIC,
            ),
            metadata=self.admin_md,
        )
        header = image_pb2.UploadImageHeader(
            image_id=image.id, checksum=hashlib.md5(data).hexdigest()
        )
        chunks = [
            image_pb2.UploadImageRequest(header=header),
            image_pb2.UploadImageRequest(chunk=data),
        ]
        self.images.UploadImage(iter(chunks), metadata=self.admin_md, timeout=60)
        return image.id

    def boot(self, image_id: str) -> Boot:
        request = api_pb2.CreateServerRequest(
            name="bench",
            flavor_id=self.ids["flavor"],
            image_id=image_id,
            network_ids=[self.ids["network"]],
        )
        started = time.perf_counter()
        server = self.servers.CreateServer(request, metadata=self.md, timeout=60)
        last = server
        watch = api_pb2.WatchServerRequest(server_id=server.id)
        try:
            for event in self.servers.WatchServer(watch, metadata=self.md, timeout=120):
                last = event.server
        except grpc.RpcError as exc:  # counted as a failed boot, not a crashed benchmark
            return Boot(float("nan"), float("nan"), server.id, False, f"watch: {exc.code().name}")
        ms = (time.perf_counter() - started) * 1000
        ok = last.status == ACTIVE
        server_ms = (
            (last.launched_time.ToDatetime() - server.create_time.ToDatetime()).total_seconds()
            * 1000
            if ok
            else float("nan")
        )
        fault = "" if ok else f"{api_pb2.Server.Status.Name(last.status)}: {last.fault.message}"
        return Boot(ms, server_ms, server.id, ok, fault)

    def delete(self, server_id: str) -> None:
        """Delete and follow the server until it is gone."""
        self.servers.DeleteServer(
            api_pb2.DeleteServerRequest(server_id=server_id), metadata=self.md, timeout=60
        )
        watch = api_pb2.WatchServerRequest(server_id=server_id)
        try:
            for _ in self.servers.WatchServer(watch, metadata=self.md, timeout=120):
                pass
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise

    def cycle(self, image_id: str) -> Boot:
        boot = self.boot(image_id)
        self.delete(boot.server_id)
        return boot

    def close(self) -> None:
        for channel in self.channels.values():
            channel.close()


@contextlib.contextmanager
def running_cloud(
    data_dir: Path,
    port_offset: int = PORT_OFFSET,
    extra: tuple[str, ...] = (),
    stop: signal.Signals = signal.SIGTERM,
) -> Iterator[Cloud]:
    """``python -m components.supervisor`` as run-all starts it (with ``extra`` arguments
    such as ``--machines 3``); ``stop`` (SIGTERM) at the end."""
    ready = data_dir / "ready.json"
    env = dict(os.environ, STRATUS_COMPUTE_RAM_MIB=str(HOST_RAM_MIB))
    argv = [sys.executable, "-m", "components.supervisor", "--data-dir", str(data_dir)]
    argv += ["--port-offset", str(port_offset), "--compute-hosts", str(COMPUTE_HOSTS)]
    argv += ["--ready-file", str(ready), "--quiet", *extra]
    output = open(data_dir.parent / "supervisor.out", "wb")  # noqa: SIM115
    process = subprocess.Popen(argv, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while not ready.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "the cloud did not come up: "
                    + (data_dir.parent / "supervisor.out").read_text(errors="replace")[-3000:]
                )
            time.sleep(0.2)
        cloud = Cloud(json.loads(ready.read_text()), process, data_dir)
        try:
            yield cloud
        finally:
            cloud.close()
    finally:
        process.send_signal(stop)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
        output.close()


# ------------------------------------------------------------------ boots


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def boot_round(cloud: Cloud, image_id: str, concurrency: int) -> list[Boot]:
    """``concurrency`` boots at once, then all of them deleted (outside the timing)."""
    with ThreadPoolExecutor(concurrency) as pool:
        boots = list(pool.map(lambda _: cloud.boot(image_id), range(concurrency)))
        list(pool.map(lambda b: cloud.delete(b.server_id), boots))
    return boots


def cycles_per_second(cloud: Cloud, images: list[str], users: int, per_user: int) -> float:
    """Create+delete cycles per second, ``users`` each doing ``per_user`` back to back."""
    barrier = threading.Barrier(users + 1)
    errors: list[str] = []

    def user(index: int) -> None:
        barrier.wait()
        for k in range(per_user):
            boot = cloud.cycle(images[(index * per_user + k) % len(images)])
            if not boot.ok:
                errors.append(boot.fault)

    with ThreadPoolExecutor(users) as pool:
        futures = [pool.submit(user, i) for i in range(users)]
        barrier.wait()
        started = time.perf_counter()
        for future in futures:
            future.result()
        elapsed = time.perf_counter() - started
    if errors:
        print(f"  {len(errors)} of {users * per_user} cycles ended in ERROR: {errors[0]}")
    return users * per_user / elapsed


@dataclasses.dataclass
class Sizes:
    runs: int  # runs of the figures at concurrency 1 and 10
    heavy_runs: int  # runs of the figures at concurrency 50 (50 boots or more each)
    sequential: int  # boots per run at concurrency 1
    rounds: dict[int, int]  # rounds per run at concurrency 10 and 50
    per_user: int  # create+delete cycles per user at concurrency 50


def latency_figures(cloud: Cloud, sizes: Sizes, cached: bool) -> None:
    label = "cached" if cached else "uncached"
    what = (
        "image already in every host's cache"
        if cached
        else f"a fresh {IMAGE_BYTES // 1024} KiB raw image per round, uploaded before it"
    )
    for concurrency in CONCURRENCY:
        rounds = sizes.sequential if concurrency == 1 else sizes.rounds[concurrency]
        per_run: dict[str, list[float]] = {"p50": [], "p95": [], "server_p50": []}
        failures = 0
        for _ in range(sizes.runs if concurrency < 50 else sizes.heavy_runs):
            boots: list[Boot] = []
            for _ in range(rounds):
                image = cloud.ids["image"] if cached else cloud.upload_image()
                boots += boot_round(cloud, image, concurrency)
            good = [b for b in boots if b.ok]
            failures += len(boots) - len(good)
            if not good:
                continue
            per_run["p50"].append(percentile([b.ms for b in good], 0.5))
            per_run["p95"].append(percentile([b.ms for b in good], 0.95))
            per_run["server_p50"].append(percentile([b.server_ms for b in good], 0.5))
        note = (
            f"concurrency {concurrency}, {rounds * concurrency} boots per run, {what}; "
            f"{failures} ended in ERROR; load average {os.getloadavg()[0]:.2f}"
        )
        if not per_run["p50"]:
            print(f"boot.{label}.c{concurrency}: every boot failed")
            continue
        prefix = f"boot.{label}.create_to_active.c{concurrency}"
        record(f"{prefix}.p50", per_run["p50"], "ms", f"CreateServer to WatchServer ACTIVE; {note}")
        record(f"{prefix}.p95", per_run["p95"], "ms", f"CreateServer to WatchServer ACTIVE; {note}")
        record(
            f"{prefix}.server_side_p50",
            per_run["server_p50"],
            "ms",
            f"launched_time - create_time as recorded (no client watch); {note}",
        )


def upload_images(cloud: Cloud, count: int) -> list[str]:
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda _: cloud.upload_image(), range(count)))


def throughput_figure(cloud: Cloud, sizes: Sizes, cached: bool) -> None:
    users = CONCURRENCY[-1]
    samples = []
    for _ in range(sizes.heavy_runs):
        count = users * sizes.per_user
        images = [cloud.ids["image"]] if cached else upload_images(cloud, count)
        samples.append(cycles_per_second(cloud, images, users, sizes.per_user))
    label = "cached" if cached else "uncached"
    what = "image cached" if cached else "every cycle a fresh image (uploaded before the timing)"
    record(
        f"boot.{label}.create_delete_per_second.c{users}",
        samples,
        "cycles/s",
        f"{users} users each doing {sizes.per_user} CreateServer, watch to ACTIVE, DeleteServer, "
        f"watch to DELETED; {what}; load average {os.getloadavg()[0]:.2f}",
    )


def warm(cloud: Cloud) -> None:
    """Boot the demo image until every host has it cached (and every stream is open)."""
    for _ in range(10):
        boot_round(cloud, cloud.ids["image"], COMPUTE_HOSTS * 2)
        hosts = [f"compute-{i}" for i in range(1, COMPUTE_HOSTS + 1)]
        cached = [cloud.data_dir / "compute" / h / "_base" / cloud.ids["image"] for h in hosts]
        if all(path.exists() for path in cached):
            return
    print("warning: not every host has the demo image cached", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_boot")
    parser.add_argument("--quick", action="store_true", help="small sizes (for make bench-quick)")
    parser.add_argument(
        "--runs", type=int, help="runs per figure (default 3; quick 2, and 1 at concurrency 50)"
    )
    options = parser.parse_args()
    if options.quick:
        sizes = Sizes(options.runs or 2, options.runs or 1, 5, {10: 1, 50: 1}, 1)
    else:
        sizes = Sizes(options.runs or 3, options.runs or 3, 20, {10: 3, 50: 1}, 3)
    logging.basicConfig(level=logging.WARNING)
    print(f"load average before start-up {os.getloadavg()[0]:.2f}", flush=True)
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(dir=os.environ.get("STRATUS_BENCH_TMP")) as tmp,
        running_cloud(Path(tmp) / "cloud") as cloud,
    ):
        print(f"the cloud is up after {time.monotonic() - started:.1f}s", flush=True)
        time.sleep(2)  # let start-up work (first heartbeats, catalog fetches) settle
        record_memory(cloud.process.pid, "idle")
        cloud.unlimited_quota()
        warm(cloud)
        for cached in (True, False):
            phase = time.monotonic()
            latency_figures(cloud, sizes, cached)
            throughput_figure(cloud, sizes, cached)
            print(f"({'cached' if cached else 'uncached'}: {time.monotonic() - phase:.1f}s)")
        record_memory(cloud.process.pid, "after_boots")


if __name__ == "__main__":
    main()
