"""The ``stratus`` command as a user runs it: sign-in latency and image transfer rates.

Run: ``.venv/bin/python -m tests.benchmarks.bench_cli [--size-mib N] [--runs N]``
(default 1024 MiB, 3 runs). Starts the whole cloud as run-all does (one
compute host, port offset ``STRATUS_BENCH_PORT_OFFSET``, default 23000) and
times the installed console script end to end, process start included:

* ``stratus server list`` with an empty token cache (it signs in: IssueToken),
  then again (the token comes from the cache), and with ``--no-cache``;
* ``stratus image create --file`` of a file of random bytes, and ``stratus
  image save`` of it, as MB/s of the whole command.

Prints numbers and records them with tests.benchmarks.results; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from tests.benchmarks.results import record
from tests.e2e.conftest import run_cloud

MIB = 1024 * 1024
REPO = Path(__file__).resolve().parents[2]
STRATUS = str(REPO / ".venv" / "bin" / "stratus")
PORT_OFFSET = int(os.environ.get("STRATUS_BENCH_PORT_OFFSET", "23000"))


def timed(env: dict[str, str], *args: str) -> float:
    """Seconds one ``stratus`` command takes, from exec to exit."""
    started = time.perf_counter()
    result = subprocess.run(
        [STRATUS, *args], env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"stratus {' '.join(args)}: {result.stderr.strip()}")
    return seconds


def sign_in_latency(env: dict[str, str], cache: Path, runs: int) -> None:
    first, second, uncached = [], [], []
    for _ in range(runs):
        shutil.rmtree(cache, ignore_errors=True)
        first.append(timed(env, "server", "list"))
        second.append(timed(env, "server", "list"))
        uncached.append(timed(env, "--no-cache", "server", "list"))
    record("cli.server_list.first_s", first, "s", "empty token cache: signs in (IssueToken)")
    record("cli.server_list.second_s", second, "s", "the next command: token from the cache")
    record("cli.server_list.no_cache_s", uncached, "s", "--no-cache: signs in every time")


def transfers(env: dict[str, str], tmp: Path, size_mib: int, runs: int) -> None:
    source = tmp / "source.raw"
    with open(source, "wb") as out:
        for _ in range(size_mib):
            out.write(os.urandom(MIB))
    size_mb = size_mib * MIB / 1e6
    up, down = [], []
    for _ in range(runs):
        name = f"bench-cli-{uuid.uuid4().hex[:8]}"
        up.append(size_mb / timed(env, "image", "create", "--file", str(source), name))
        target = tmp / "saved.raw"
        down.append(size_mb / timed(env, "image", "save", "--file", str(target), name))
        target.unlink()
        timed(env, "image", "delete", name)
    what = f"{size_mib} MiB of random bytes, the whole command (start, sign-in from cache, MD5)"
    record(f"cli.image.{size_mib}mib.upload", up, "MB/s", f"stratus image create --file; {what}")
    record(f"cli.image.{size_mib}mib.download", down, "MB/s", f"stratus image save; {what}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_cli")
    parser.add_argument("--size-mib", type=int, default=1024, help="image size in MiB")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=["latency", "transfer"], help="one half only")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("STRATUS_BENCH_TMP")) as name:
        tmp = Path(name)
        (tmp / "cloud").mkdir()
        with run_cloud(tmp / "cloud", PORT_OFFSET, compute_hosts=1) as cloud:
            cache = tmp / "cache"
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("OS_")},
                "OS_CLIENT_CONFIG_FILE": str(cloud.clouds),
                "OS_CLOUD": "demo",
                "XDG_CACHE_HOME": str(cache),
            }
            if options.only != "transfer":
                sign_in_latency(env, cache / "stratus", options.runs)
            if options.only != "latency":
                transfers(env, tmp, options.size_mib, options.runs)


if __name__ == "__main__":
    main()
