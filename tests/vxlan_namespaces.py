"""Test namespaces for bridges and VXLAN: can they be made here, and removing those of
this run and of earlier runs that crashed.

A test's namespaces are named ``<prefix><pid>-...``: the pid says whose they are, so a
run removes its own and those whose process is gone, never another live run's.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess


def why_not(
    prefix: str, needs_root: str = "bridges in a network namespace need root"
) -> str | None:
    """Why namespaces with VXLAN interfaces cannot be made here, or None."""
    if os.geteuid() != 0:
        return needs_root
    if shutil.which("ip") is None or shutil.which("bridge") is None:
        return "ip and bridge (iproute2) are not installed"
    probe = f"{prefix}{os.getpid()}-probe"
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
        return "network namespaces cannot be created here (ip netns add failed)"
    made = subprocess.run(
        ["ip", "-n", probe, "link", "add", "v", "type", "vxlan", "id", "1", "dstport", "4789"],
        capture_output=True,
    )
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None if made.returncode == 0 else "this kernel cannot make VXLAN interfaces"


def ours(prefix: str) -> list[str]:
    """Namespaces ``<prefix><pid>-...`` of this run, and of earlier runs whose process is gone."""
    pattern = re.compile(rf"{re.escape(prefix)}(\d+)-")
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10)
    names = [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]
    return [
        name
        for name in names
        if (found := pattern.match(name))
        and (int(found[1]) == os.getpid() or not os.path.exists(f"/proc/{found[1]}"))
    ]


def clean(prefix: str) -> None:
    for name in ours(prefix):
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)
