"""Image upload and download throughput against ``cp`` of the same file.

Run: ``.venv/bin/python -m tests.benchmarks.bench_image [--size-mib N] [--runs N]``
(default 1024 MiB, 3 runs). Serves the image component on SQLite through the
real framework server, writes a file of random bytes, and per run: uploads it
(1 MiB chunks, MD5 and SHA-512 computed by the service), downloads it into a
new file, copies it with ``cp`` (which copies inside the kernel with
copy_file_range), and MD5-hashes it on one core (MD5 cannot be split across
cores, so that rate bounds every upload). The client runs in its own process, as a
compute node or the CLI would. Uploads are measured with the store's fsync
off, as ``cp`` does not sync either, and once more with it on (the default).
Prints numbers and records them with tests.benchmarks.results; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import logging
import multiprocessing
import os
import subprocess
import tempfile
import time
from pathlib import Path

import grpc

from components.image.__main__ import COMPONENT
from components.image.config import ImageConfig
from stratus.image.v1 import image_service_pb2 as pb2
from stratus.image.v1 import image_service_pb2_grpc as pb2_grpc
from tests.benchmarks.results import record
from tests.harness import StaticValidator, caller, serving_component

MIB = 1024 * 1024
TOKEN = (("x-auth-token", "bench"),)
VALIDATOR = StaticValidator({"bench": caller(["admin"], project_id="bench", token="bench")})


def _requests(image_id: str, source: str):
    yield pb2.UploadImageRequest(header=pb2.UploadImageHeader(image_id=image_id))
    with open(source, "rb", buffering=0) as data:
        while chunk := data.read(MIB):
            yield pb2.UploadImageRequest(chunk=chunk)


def client_upload(address: str, source: str) -> tuple[str, float]:
    """In the client process: create an image, upload ``source``; (id, seconds)."""
    with grpc.insecure_channel(address) as channel:
        stub = pb2_grpc.ImagesStub(channel)
        image = stub.CreateImage(
            pb2.CreateImageRequest(disk_format=pb2.Image.DISK_FORMAT_RAW), metadata=TOKEN
        )
        started = time.perf_counter()
        stub.UploadImage(_requests(image.id, source), metadata=TOKEN)
        return image.id, time.perf_counter() - started


def client_download(address: str, image_id: str, target: str) -> float:
    """In the client process: download the image into ``target``; seconds."""
    with grpc.insecure_channel(address) as channel:
        stub = pb2_grpc.ImagesStub(channel)
        request = pb2.DownloadImageRequest(image_id=image_id)
        started = time.perf_counter()
        with open(target, "wb", buffering=0) as out:
            for reply in stub.DownloadImage(request, metadata=TOKEN):
                out.write(reply.chunk)
        return time.perf_counter() - started


def delete(address: str, image_id: str) -> None:
    with grpc.insecure_channel(address) as channel:
        request = pb2.DeleteImageRequest(image_id=image_id)
        pb2_grpc.ImagesStub(channel).DeleteImage(request, metadata=TOKEN)


def random_file(path: Path, size_mib: int) -> None:
    with open(path, "wb") as out:
        for _ in range(size_mib):
            out.write(os.urandom(MIB))


def time_md5(source: Path) -> float:
    """Reading and MD5-hashing the file on one core: no upload can beat this."""
    digest = hashlib.md5()
    started = time.perf_counter()
    with open(source, "rb", buffering=0) as data:
        while chunk := data.read(MIB):
            digest.update(chunk)
    return time.perf_counter() - started


def time_cp(source: Path, target: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["cp", str(source), str(target)], check=True)
    elapsed = time.perf_counter() - started
    target.unlink()
    return elapsed


@contextlib.contextmanager
def serving(tmp: Path, fsync: bool):
    config = ImageConfig(
        data_dir=str(tmp / f"data-{int(fsync)}"), fsync_uploads=fsync, max_image_bytes=1 << 40
    )
    url = f"sqlite:///{tmp / f'image-{int(fsync)}.sqlite'}"
    with serving_component(COMPONENT, VALIDATOR, url, config=config) as (runtime, _):
        yield f"127.0.0.1:{runtime.port}"


def measure(pool, tmp: Path, source: Path, runs: int, fsync: bool) -> dict[str, list[float]]:
    """Seconds per run of upload, download and cp (the last two with fsync off only)."""
    times: dict[str, list[float]] = {"upload": [], "download": [], "cp": [], "md5": []}
    target = tmp / "downloaded"
    with serving(tmp, fsync) as address:
        for _ in range(runs):
            # Each timed step starts with no dirty pages queued for the disk, so
            # none pays for the writeback of the one before.
            os.sync()
            image_id, seconds = pool.apply(client_upload, (address, str(source)))
            times["upload"].append(seconds)
            if not fsync:
                os.sync()
                times["download"].append(
                    pool.apply(client_download, (address, image_id, str(target)))
                )
                target.unlink()
                os.sync()
                times["cp"].append(time_cp(source, tmp / "copied"))
                times["md5"].append(time_md5(source))
            delete(address, image_id)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_image")
    parser.add_argument("--size-mib", type=int, default=1024, help="image size in MiB")
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    logging.disable(logging.INFO)
    size_mb = options.size_mib * MIB / 1e6
    with tempfile.TemporaryDirectory(dir=os.environ.get("STRATUS_BENCH_TMP")) as name:
        tmp = Path(name)
        source = tmp / "source"
        random_file(source, options.size_mib)
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            plain = measure(pool, tmp, source, options.runs, fsync=False)
            synced = measure(pool, tmp, source, options.runs, fsync=True)
    rate = {key: [size_mb / s for s in seconds] for key, seconds in plain.items()}
    what = f"{options.size_mib} MiB of random bytes, 1 MiB chunks, client in its own process"
    prefix = f"image.{options.size_mib}mib"
    record(f"{prefix}.upload", rate["upload"], "MB/s", f"{what}; fsync off, like cp")
    record(f"{prefix}.download", rate["download"], "MB/s", what)
    record(f"{prefix}.cp", rate["cp"], "MB/s", "cp of the same file, same run")
    record(
        f"{prefix}.md5_one_core",
        rate["md5"],
        "MB/s",
        "reading the file and MD5-hashing it on one core: the ceiling for any upload",
    )
    record(
        f"{prefix}.upload_fsync",
        [size_mb / s for s in synced["upload"]],
        "MB/s",
        f"{what}; fsync on (the default)",
    )
    for kind in ("upload", "download"):
        ratios = [r / c for r, c in zip(rate[kind], rate["cp"], strict=True)]
        record(f"{prefix}.{kind}_vs_cp", ratios, "ratio", f"{kind} MB/s / cp MB/s, run by run")


if __name__ == "__main__":
    main()
