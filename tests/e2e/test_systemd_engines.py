"""podman (``cgroup_manager = "systemd"``) and containerd (``ctr run --runc-systemd-cgroup``, the
runc shim's ``SystemdCgroup = true``) on ocirun, and on runc as the oracle, with systemd as PID 1:
the container's limits are checked from the host, in its scope's cgroup and unit properties.

Skipped unless systemd is PID 1 on pure cgroup v2: run in the systemd guest (``make test-systemd``).
The podman and containerd setups are those of test_podman.py and test_containerd.py.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..integration.support import SLOWDOWN
from ..integration.test_systemd import systemd_is_pid1
from .support import EngineRuntime, engine_dir, engine_runtimes, unmount_all, wait_until
from .test_containerd import IMAGE as CTR_IMAGE
from .test_containerd import Containerd
from .test_podman import IMAGE as PODMAN_IMAGE
from .test_podman import Podman, podman_in

pytestmark = [
    pytest.mark.skipif(not systemd_is_pid1(), reason="systemd is not PID 1 (on pure cgroup v2): "
                       "run under run-in-v2.sh --systemd (make test-systemd)"),
    pytest.mark.timeout(600),  # not e2e's 180 s: podman on ocirun took 74 s in a busy guest
]

ROOT = Path("/sys/fs/cgroup")
# what may take long in the emulated guest (10 there): waits end as soon as they can, so the margin costs nothing
WAIT = 20.0 * SLOWDOWN


def show(unit: str, *props: str) -> dict[str, str]:
    out = subprocess.run(["systemctl", "show", *(f"--property={p}" for p in props), unit],
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def scope_of(pid: int) -> Path:
    """The cgroup directory of a process, from the host."""
    line = Path(f"/proc/{pid}/cgroup").read_text().strip()
    return ROOT / line.split("::", 1)[1].lstrip("/")


# ---------------------------------------------------------------------------- podman


@pytest.fixture(scope="module")
def podman(image_dir: Path, request: pytest.FixtureRequest) -> Iterator[Podman]:
    with podman_in(engine_dir("podman-sd-"), engine_runtimes(request.config), image_dir, cgroup_manager="systemd",
                   timeout=300) as pm:
        yield pm


def test_podman_systemd_cgroups(podman: Podman, runtime: EngineRuntime) -> None:
    """podman run -d --memory --pids-limit: the container's scope libpod-ID.scope in machine.slice
    has them (unit properties and cgroup files); podman rm stops it."""
    pm = podman
    name = f"e2e-sd-{runtime.name}-{uuid.uuid4().hex[:6]}"
    pm("run", "-d", "--name", name, "--memory", "64m", "--pids-limit", "50", PODMAN_IMAGE,
       "sh", "-c", "echo started; exec sleep 600", runtime=runtime, timeout=3 * WAIT)
    try:
        wait_until(lambda: "started" in pm("logs", name).stdout, f"{name} to start", timeout=WAIT)
        info = pm.inspect(name)
        cid, pid = info["Id"], info["State"]["Pid"]
        unit = f"libpod-{cid}.scope"
        path = scope_of(pid)
        assert path == ROOT / "machine.slice" / unit
        assert (path / "memory.max").read_text().strip() == str(64 << 20)
        assert (path / "pids.max").read_text().strip() == "50"
        props = show(unit, "MemoryMax", "TasksMax", "Delegate", "ActiveState")
        assert props == {"MemoryMax": str(64 << 20), "TasksMax": "50", "Delegate": "yes", "ActiveState": "active"}
        res = pm("exec", name, "cat", "/proc/self/cgroup", timeout=3 * WAIT)
        assert res.stdout.strip() == "0::/", "a cgroup namespace of its own, rooted in the scope"
    finally:
        pm("rm", "--force", "--time", "0", name, check=False)
    wait_until(lambda: show(unit, "LoadState")["LoadState"] == "not-found", f"{unit} to go", timeout=WAIT)
    assert not path.exists()


# ---------------------------------------------------------------------------- containerd


class SlowContainerd(Containerd):
    START_TIMEOUT = 300.0  # the guest is emulated


@pytest.fixture(scope="module")
def containerd(image_dir: Path) -> Iterator[Containerd]:
    base = engine_dir("containerd-sd-")
    cd = SlowContainerd(base)
    try:
        cd("image", "import", str(image_dir / "oci.tar"))
        yield cd
    finally:
        cd.clear(CTR_IMAGE)
        unmount_all(base)
        shutil.rmtree(base, ignore_errors=True)


def test_containerd_systemd_cgroups(containerd: Containerd, runtime: EngineRuntime) -> None:
    """ctr run -d --runc-systemd-cgroup --cgroup system.slice:ctr:ID with a memory limit and a cpu
    quota (ctr has no pids flag): the scope ctr-ID.scope has them; task delete stops it."""
    cd = containerd
    cid = f"e2e-sd-{runtime.name}-{uuid.uuid4().hex[:6]}"
    unit = f"ctr-{cid}.scope"
    cd(*cd.run_args(runtime, "-d", "--runc-systemd-cgroup", "--cgroup", f"system.slice:ctr:{cid}",
                    "--memory-limit", str(64 << 20), "--cpu-quota", "20000", "--cpu-period", "100000"),
       CTR_IMAGE, cid, "sleep", "600", timeout=3 * WAIT)
    try:
        wait_until(lambda: cd.status(cid) == "RUNNING", f"{cid} to run", timeout=WAIT)
        path = ROOT / "system.slice" / unit
        assert path.is_dir()
        assert (path / "memory.max").read_text().strip() == str(64 << 20)
        assert (path / "cpu.max").read_text().strip() == "20000 100000"
        props = show(unit, "MemoryMax", "CPUQuotaPerSecUSec", "Delegate", "ActiveState")
        assert props == {"MemoryMax": str(64 << 20), "CPUQuotaPerSecUSec": "200ms", "Delegate": "yes",
                         "ActiveState": "active"}
        res = cd("task", "exec", "--exec-id", "e1", cid, "cat", "/proc/self/cgroup", timeout=3 * WAIT)
        assert res.stdout.strip() == f"0::/system.slice/{unit}", "ctr makes no cgroup namespace"
    finally:
        cd.remove(cid)
    wait_until(lambda: show(unit, "LoadState")["LoadState"] == "not-found", f"{unit} to go", timeout=WAIT)
