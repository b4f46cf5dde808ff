"""podman container checkpoint / restore, and --export / --import, end to end on ocirun and runc.

criu must work on the kernel: natively (Debian 12's criu 3.17 refuses newer kernels) these skip;
`make test-criu` runs them in the cgroup v2 guest with the criu tests.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from .podman_cases import name_for
from .support import EngineRuntime, require, wait_until
from .test_podman import IMAGE, Podman
from .test_podman import pm as pm  # the fixtures, shared
from .test_podman import podman as podman

require("podman", "conmon", "criu")



def criu_problem() -> str | None:
    proc = subprocess.run([shutil.which("criu") or "criu", "check"], capture_output=True, text=True, timeout=120)
    if proc.returncode == 0:
        return None
    return f"criu check fails on this kernel: {(proc.stderr or proc.stdout).strip().splitlines()[0]}"


PROBLEM = criu_problem()
pytestmark = [pytest.mark.timeout(1200), pytest.mark.skipif(PROBLEM is not None, reason=PROBLEM or "")]

SLOW = 300.0
# numbers on stdout, a pipe to conmon: after a restore they go on from where they were
COUNT = "echo started; i=0; while :; do i=$((i+1)); echo n$i; sleep 0.3; done"


def counted(pm: Podman, name: str) -> list[int]:
    return [int(n) for n in re.findall(r"^n(\d+)$", pm("logs", name, timeout=SLOW).stdout, re.M)]


def going_on(pm: Podman, name: str, after: int) -> None:
    wait_until(lambda: (counted(pm, name) or [0])[-1] >= after + 3, f"{name} to count on", timeout=SLOW)
    got = counted(pm, name)
    assert got == list(range(1, len(got) + 1)), f"the count restarted or skipped: {got}"


def test_checkpoint_restore_export_import(pm: Podman, runtime: EngineRuntime) -> None:
    name = name_for(pm, runtime, "ckpt")
    pm("run", "-d", "--name", name, IMAGE, "sh", "-c", COUNT, runtime=runtime, timeout=SLOW)
    wait_until(lambda: len(counted(pm, name)) >= 3, f"{name} to count", timeout=SLOW)

    pm("container", "checkpoint", name, timeout=SLOW)
    assert pm.status(name) == "exited"
    at = counted(pm, name)[-1]
    pm("container", "restore", name, timeout=SLOW)
    assert pm.status(name) == "running"
    going_on(pm, name, at)

    archive = pm.base / f"{name}.tar.gz"
    pm("container", "checkpoint", "--export", str(archive), name, timeout=SLOW)
    at = counted(pm, name)[-1]
    pm("rm", name, timeout=SLOW)
    moved = name_for(pm, runtime, "moved")
    pm("container", "restore", "--import", str(archive), "--name", moved, timeout=SLOW)
    assert pm.status(moved) == "running"
    wait_until(lambda: (counted(pm, moved) or [0])[-1] >= at + 3, f"{moved} to count on", timeout=SLOW)
    got = counted(pm, moved)  # its log is new (it goes on from `at`) or the old one (all of it)
    assert got[0] > at or got == list(range(1, len(got) + 1)), f"the count restarted: {got}"
    pm("rm", "--force", "--time", "0", moved, timeout=SLOW)
