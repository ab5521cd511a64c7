"""Recording benchmark figures: printed, and merged into var/bench/latest.json.

Each figure is the median of several runs with its min and max and unit;
the file also records the machine (cores, CPU model) and, with each figure,
the load average when it was taken. Benchmarks never assert on a timing.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

RESULTS = Path(os.environ.get("STRATUS_BENCH_RESULTS", "var/bench/latest.json"))


def machine() -> dict[str, object]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu_model": model, "python": platform.python_version()}


def record(name: str, samples: Sequence[float], unit: str, note: str = "") -> dict[str, object]:
    """Store and print ``name``: the median, min and max of ``samples``."""
    figure = {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "unit": unit,
        "runs": len(samples),
        # The machine is shared: the 1-minute load average when the figure was
        # taken says how much else (including the benchmark itself) was running.
        "load_average": round(os.getloadavg()[0], 2),
    }
    if note:
        figure["note"] = note
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data.setdefault("figures", {})[name] = figure
    data["machine"] = machine()
    data["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    print(
        f"{name:<55} median {figure['median']:>12.3f} {unit:<8} "
        f"(min {figure['min']:.3f}, max {figure['max']:.3f}, {len(samples)} runs)",
        flush=True,
    )
    return figure


def repeat(fn: Callable[[], float], runs: int) -> list[float]:
    """Run ``fn`` (which returns one measurement) ``runs`` times."""
    return [fn() for _ in range(runs)]
