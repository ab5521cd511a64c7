"""Every benchmark, each in its own process, then a summary against the targets.

Run: ``make bench`` (``.venv/bin/python -m tests.benchmarks``) or ``make
bench-quick`` (``--quick``: small sizes and few runs, under two minutes).
``--only rpc boot`` runs some of them. The figures of this run replace
``var/bench/latest.json`` (the previous file is kept as ``latest.previous.json``);
each benchmark's load average before it started, its duration and exit code
are recorded there too. Targets are measured and printed, never asserted: the
exit code is non-zero only when a benchmark itself failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable

from tests.benchmarks.results import RESULTS, machine

# name → (module, arguments for make bench, arguments for make bench-quick)
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "rpc": ("bench_rpc", [], ["--quick"]),
    "boot": ("bench_boot", [], ["--quick"]),
    "scheduler": ("bench_scheduler", [], ["--runs", "5"]),
    "identity": ("bench_identity", [], ["--quick"]),
    "image": ("bench_image", [], ["--size-mib", "64", "--runs", "2"]),
    "network": ("bench_network", [], ["--ports", "100", "--runs", "2"]),
    "cli": ("bench_cli", [], ["--size-mib", "128", "--runs", "2"]),
    "machines": ("bench_machines", [], ["--quick"]),
    "dashboard": ("bench_dashboard", [], ["--quick"]),
}


@dataclasses.dataclass(frozen=True)
class Target:
    what: str
    figure: str  # a key of figures, or a prefix/suffix pattern resolved by ``pick``
    goal: float
    higher_is_better: bool
    unit: str
    pick: Callable[[dict[str, dict]], tuple[str, float] | None] | None = None


def _worst(prefix: str, suffix: str, highest: bool):
    """The worst figure named prefix*suffix (the largest when ``highest``)."""

    def pick(figures: dict[str, dict]) -> tuple[str, float] | None:
        found = {
            k: v["median"]
            for k, v in figures.items()
            if k.startswith(prefix) and k.endswith(suffix)
        }
        if not found:
            return None
        key = (max if highest else min)(found, key=found.get)
        return key, found[key]

    return pick


TARGETS = (
    Target("unary call vs oslo rpc.call, 8 callers", "rpc.ratio.call.8_callers", 3, True, "x"),
    Target("casts vs oslo rpc.cast, delivered/s", "rpc.ratio.cast.delivered", 5, True, "x"),
    Target(
        "CreateServer→ACTIVE p50, concurrency 1",
        "boot.cached.create_to_active.c1.p50",
        50,
        False,
        "ms",
    ),
    Target(
        "create+delete per second, concurrency 50",
        "boot.cached.create_delete_per_second.c50",
        50,
        True,
        "/s",
    ),
    Target(
        "SelectDestinations, 10,000 hosts",
        "scheduler.select_destinations.10000_hosts",
        50,
        False,
        "ms",
    ),
    Target("cached token validation", "identity.cached_validate.per_call", 20, False, "us"),
    Target(
        "image upload vs cp",
        "image.*.upload_vs_cp",
        0.5,
        True,
        "",
        _worst("image.", ".upload_vs_cp", False),
    ),
    Target(
        "image download vs cp",
        "image.*.download_vs_cp",
        0.5,
        True,
        "",
        _worst("image.", ".download_vs_cp", False),
    ),
    Target(
        "largest component RSS when idle",
        "memory.*.idle",
        80,
        False,
        "MB",
        _worst("memory.", ".idle", True),
    ),
)


def load() -> dict:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def save(data: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def run(name: str, quick: bool) -> int:
    module, full, small = BENCHMARKS[name]
    argv = [sys.executable, "-m", f"tests.benchmarks.{module}", *(small if quick else full)]
    before = os.getloadavg()[0]
    print(f"\n=== {name}: {' '.join(argv[1:])} (load average {before:.2f})", flush=True)
    started = time.monotonic()
    code = subprocess.run(argv, env=dict(os.environ, STRATUS_BENCH_RESULTS=str(RESULTS))).returncode
    data = load()
    data.setdefault("benchmarks", {})[name] = {
        "command": " ".join(["python", *argv[1:]]),
        "load_average_before": round(before, 2),
        "seconds": round(time.monotonic() - started, 1),
        "exit_code": code,
    }
    save(data)
    if code != 0:
        print(f"=== {name} FAILED with exit code {code}", flush=True)
    return code


def summary(data: dict) -> None:
    figures = data.get("figures", {})
    print("\n=== all figures (median, min, max over runs)")
    for name in sorted(figures):
        f = figures[name]
        print(
            f"{name:<58} {f['median']:>12.3f} {f['unit']:<9}"
            f" [{f['min']:.3f} .. {f['max']:.3f}] load {f.get('load_average', '?')}"
        )
    print("\n=== targets (measured, not asserted)")
    print(f"{'target':<44} {'goal':>10} {'measured':>12}  verdict  figure")
    for target in TARGETS:
        if target.pick is not None:
            found = target.pick(figures)
        else:
            found = (
                (target.figure, figures[target.figure]["median"])
                if target.figure in figures
                else None
            )
        sign = "≥" if target.higher_is_better else "≤"
        goal = f"{sign} {target.goal:g}{target.unit}"
        if found is None:
            print(f"{target.what:<44} {goal:>10} {'—':>12}  not run")
            continue
        key, value = found
        met = value >= target.goal if target.higher_is_better else value <= target.goal
        verdict = "met" if met else "MISSED"
        print(f"{target.what:<44} {goal:>10} {value:>12.3f}  {verdict:<7}  {key}")
    cpu = machine()
    print(f"\nmachine: {cpu['cores']} cores, {cpu['cpu_model']}, Python {cpu['python']}")
    for name, about in data.get("benchmarks", {}).items():
        before = about["load_average_before"]
        print(
            f"  {name:<10} {about['seconds']:>6.1f}s  load before {before:.2f}"
            f"  exit {about['exit_code']}  {about['command']}"
        )
    print(f"figures written to {RESULTS}")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks")
    parser.add_argument("--quick", action="store_true", help="small sizes, under two minutes")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run only these")
    options = parser.parse_args()
    if RESULTS.exists():
        RESULTS.replace(RESULTS.with_name("latest.previous.json"))
    save({"mode": "quick" if options.quick else "full", "machine": machine()})
    started = time.monotonic()
    failed = [name for name in options.only or BENCHMARKS if run(name, options.quick) != 0]
    summary(load())
    print(f"total {time.monotonic() - started:.0f}s")
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
