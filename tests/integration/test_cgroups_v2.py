"""Control groups on a pure cgroup v2 host: the files of every resource, the eBPF device filter,
OOM kills and OOM events, pids.max, cgroup.freeze, update, events, ps, kill --all (cgroup.kill)
and delete --force.

Skipped unless /sys/fs/cgroup is a cgroup2 mount.  Run it in the cgroup v2 guest:

    ../shared/tools/cgroup2-vm/run-in-v2.sh --timeout 1200 -- \\
        .venv/bin/python -m pytest -q tests/integration/test_cgroups_v2.py

Everything is 10 to 60 times slower there: the tests wait generously and keep few containers.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .support import (
    CGROUP_PARENT,
    HOG,
    Bundle,
    Runtime,
    check_device_rules,
    events_of,
    expect_error,
    pid_alive,
    probe_args,
    start_detached,
    stranger_in,
    use_device_rules,
    wait_for,
)

ROOT = Path("/sys/fs/cgroup")


def pure_cgroup_v2() -> bool:
    with open("/proc/self/mounts") as f:
        return any(line.split()[1:3] == ["/sys/fs/cgroup", "cgroup2"] for line in f)


pytestmark = [
    pytest.mark.skipif(not pure_cgroup_v2(), reason="pure cgroup v2 only: run under run-in-v2.sh"),
    pytest.mark.timeout(300),
]



def _child_has(name: str) -> bool:
    """Whether a new cgroup has ``name`` (io.bfq.weight is not on the root cgroup): looked up in
    the tests' parent cgroup."""
    parent = ROOT / CGROUP_PARENT
    parent.mkdir(exist_ok=True)
    return (parent / name).exists()


def memory_limit(limit: int) -> dict[str, int]:
    """A limit that stops a hog: memory+swap the same where swap is accounted; without swap
    accounting only on a host without swap (else the hog would swap instead: skipped)."""
    if _child_has("memory.swap.max"):
        return {"limit": limit, "swap": limit}
    with open("/proc/meminfo") as f:
        if any(line.startswith("SwapTotal:") and int(line.split()[1]) for line in f):
            pytest.skip("no swap accounting (memory.swap.max) and the host has swap")
    return {"limit": limit}


def _first(path: Path) -> str:
    return path.read_text().strip().split(",")[0].split("-")[0]


def cg(cid: str) -> Path:
    return ROOT / CGROUP_PARENT / cid


def read(cid: str, name: str) -> str:
    return (cg(cid) / name).read_text().strip()


def key_values(text: str) -> dict[str, str]:
    return dict(line.split(None, 1) for line in text.splitlines() if " " in line)


@pytest.fixture
def loop_device(workdir: Path) -> Iterator[tuple[int, int]]:
    image = workdir / "disk.img"
    with open(image, "wb") as f:
        f.truncate(8 << 20)
    dev = subprocess.run(["losetup", "--find", "--show", str(image)], capture_output=True, text=True)
    if dev.returncode != 0:
        pytest.skip(f"no loop device: {dev.stderr.strip()}")
    path = dev.stdout.strip()
    try:
        major, minor = map(int, Path(f"/sys/block/{Path(path).name}/dev").read_text().split(":"))
        yield major, minor
    finally:
        subprocess.run(["losetup", "-d", path], capture_output=True)


def test_v2_resource_files(runtime: Runtime, bundle: Bundle, loop_device: tuple[int, int]) -> None:
    """Every resource file; those of host features this host lacks (swap accounting, a BFQ or
    iocost weight, 2 MB huge pages) are left out of the config and not checked."""
    major, minor = loop_device
    swap = _child_has("memory.swap.max")
    weight = _child_has("io.bfq.weight") or _child_has("io.weight")
    huge = Path("/sys/kernel/mm/hugepages/hugepages-2048kB").exists() and _child_has("hugetlb.2MB.max")
    cpu, mem = _first(ROOT / "cpuset.cpus.effective"), _first(ROOT / "cpuset.mems.effective")
    bundle.linux["resources"] = {
        "memory": {"limit": 64 << 20, **({"swap": 96 << 20} if swap else {}), "reservation": 16 << 20},
        "cpu": {"shares": 512, "quota": 20000, "period": 50000, "cpus": cpu, "mems": mem},
        "pids": {"limit": 33},
        "blockIO": {
            **({"weight": 300} if weight else {}),
            "throttleReadBpsDevice": [{"major": major, "minor": minor, "rate": 1 << 20}],
            "throttleWriteIOPSDevice": [{"major": major, "minor": minor, "rate": 300}],
        },
        **({"hugepageLimits": [{"pageSize": "2MB", "limit": 4 << 20}]} if huge else {}),
        "unified": {"memory.high": str(48 << 20), "pids.max": "44"},
    }
    cid = runtime.create(bundle)
    assert read(cid, "memory.max") == str(64 << 20)
    if swap:
        assert read(cid, "memory.swap.max") == str(32 << 20), "v2 swap is memory+swap minus memory"
    assert read(cid, "memory.low") == str(16 << 20)
    assert read(cid, "memory.high") == str(48 << 20)
    assert read(cid, "cpu.weight") == "20", "runc's conversion of 512 shares"
    assert read(cid, "cpu.max") == "20000 50000"
    assert read(cid, "cpuset.cpus") == cpu and read(cid, "cpuset.mems") == mem
    assert read(cid, "pids.max") == "44", "unified is written last"
    if weight:
        value = read(cid, "io.bfq.weight") if (cg(cid) / "io.bfq.weight").exists() else read(cid, "io.weight")
        assert value.split()[-1] in ("300", "2930")  # bfq takes it as is; io.weight converted
    assert f"{major}:{minor} rbps=1048576 wbps=max riops=max wiops=300" in read(cid, "io.max").splitlines()
    if huge:
        assert read(cid, "hugetlb.2MB.max") == str(4 << 20)
    runtime.delete(cid, force=True)


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 predates linux.resources.cpu.burst and cpu.idle")
def test_v2_cpu_burst_and_idle(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["resources"] = {"cpu": {"quota": 20000, "period": 100000, "burst": 5000, "idle": 1}}
    cid = runtime.create(bundle)
    try:
        assert read(cid, "cpu.max.burst") == "5000"
        assert read(cid, "cpu.idle") == "1"
    finally:
        runtime.delete(cid, force=True)


def test_v2_device_filter(runtime: Runtime, bundle: Bundle) -> None:
    """The eBPF program: the allowed device reaches its (missing) driver, the others EPERM."""
    use_device_rules(bundle)
    _status, out, err = runtime.run_container(bundle, timeout=120)
    check_device_rules(out + err)


def test_v2_oom_kill_and_oom_event(runtime: Runtime, bundle: Bundle, workdir: Path) -> None:
    bundle.linux["resources"] = {"memory": memory_limit(16 << 20)}
    cid = start_detached(
        runtime, bundle, "sh", "-c", f"echo ready; sleep 3; sh -c '{HOG}'; echo status=$?; sleep 600"
    )
    runtime.wait_output(cid, "ready", timeout=60)
    with events_of(runtime, cid, "1s", workdir / "events.out") as events:
        wait_for(lambda: any(e["type"] == "oom" for e in events()), what="an oom event")
        runtime.wait_output(cid, "status=137", timeout=60)
        assert int(key_values(read(cid, "memory.events"))["oom_kill"]) >= 1
        stats = wait_for(lambda: [e for e in events() if e["type"] == "stats"], what="a stats event")
        assert stats[0]["id"] == cid and stats[0]["data"]["memory"]["usage"]["limit"] == 16 << 20
    runtime.delete(cid, force=True)


def test_v2_pids_limit_makes_fork_fail(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["resources"] = {"pids": {"limit": 4}}
    bundle.set_args("sh", "-c", "for i in 1 2 3 4 5 6; do sleep 5 & done; echo done")
    _status, out, err = runtime.run_container(bundle, timeout=120)
    assert "can't fork" in out + err, (out, err)


@pytest.mark.xfail_runtime(
    "runc", reason="runc 1.1.5 charges its own init to the container's cgroup (it needs about 5.3 MiB here)"
)
def test_v2_echo_under_1mib_memory_limit(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["resources"] = {"memory": {"limit": 1 << 20}}
    bundle.set_args("echo", "it works")
    status, out, err = runtime.run_container(bundle, timeout=120)
    assert (status, out) == (0, "it works\n"), err


def test_v2_pause_resume_update_stats_ps_kill_all(runtime: Runtime, bundle: Bundle) -> None:
    """One container through the commands that work on a running one (containers are slow here)."""
    bundle.linux["resources"] = {
        "memory": {"limit": 64 << 20},
        "cpu": {"quota": 20000, "period": 50000},
        "pids": {"limit": 20},
    }
    cid = start_detached(
        runtime,
        bundle,
        "sh",
        "-c",
        "probe sleep 600 & i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.1; done",
    )
    counter = bundle.rootfs / "tmp" / "n"
    wait_for(counter.exists, what="the counter")

    runtime.run("pause", cid)
    assert runtime.status(cid) == "paused"
    assert read(cid, "cgroup.freeze") == "1" and key_values(read(cid, "cgroup.events"))["frozen"] == "1"
    before = counter.read_text()
    time.sleep(1)
    assert counter.read_text() == before
    expect_error(runtime, runtime.run("pause", cid, check=False), both=r"container not running")
    runtime.run("resume", cid)
    assert runtime.status(cid) == "running"
    assert read(cid, "cgroup.freeze") == "0"
    wait_for(lambda: counter.read_text() != before, what="the counter to move again")

    runtime.run(
        "update", "--memory", "100m", "--cpu-quota", "30000", "--pids-limit", "30", "--cpu-share", "1024", cid
    )
    assert read(cid, "memory.max") == str(100 << 20)
    assert read(cid, "cpu.max") == "30000 50000", "the period stays"
    assert read(cid, "pids.max") == "30"
    assert read(cid, "cpu.weight") == "39"

    event = json.loads(runtime.run("events", "--stats", cid).stdout)
    assert event["type"] == "stats" and event["id"] == cid
    assert event["data"]["memory"]["usage"]["limit"] == 100 << 20
    assert event["data"]["pids"]["limit"] == 30 and event["data"]["pids"]["current"] >= 2
    assert event["data"]["cpu"]["usage"]["total"] > 0

    pids = sorted(map(int, read(cid, "cgroup.procs").split()))
    listed = json.loads(runtime.run("ps", "--format", "json", cid).stdout)
    assert set(listed) >= set(pids) - {p for p in pids if not pid_alive(p)}

    runtime.kill(cid, "KILL", all=True)
    runtime.wait_status(cid, "stopped", timeout=60)
    wait_for(lambda: all(not pid_alive(p) for p in pids), what="every process gone")
    runtime.delete(cid)
    assert not cg(cid).exists()


def test_v2_delete_force_with_several_processes(runtime: Runtime, bundle: Bundle) -> None:
    cid = start_detached(runtime, bundle, "sh", "-c", "probe sleep 600 & probe sleep 600 & echo ready; wait")
    runtime.wait_output(cid, "ready", timeout=60)
    runtime.run("pause", cid)
    runtime.delete(cid, force=True)
    assert not cg(cid).exists()
    assert runtime.leaks() == []


def test_v2_relative_path_is_beside_our_own_cgroup(runtime: Runtime, bundle: Bundle) -> None:
    """ocirun's own cgroup has processes, so a relative path goes under its parent (runc's fs2)."""
    cid = runtime.new_id()
    own = Path("/proc/self/cgroup").read_text().strip().split("::", 1)[1]
    parent = str(Path(own).parent)
    bundle.linux["cgroupsPath"] = f"{cid}-parent/{cid}"
    runtime.create(bundle, cid)
    pid = runtime.state(cid)["pid"]
    expected = f"{parent.rstrip('/')}/{cid}-parent/{cid}"
    assert Path(f"/proc/{pid}/cgroup").read_text().strip() == f"0::{expected}"
    runtime.delete(cid, force=True)
    with contextlib.suppress(OSError):
        (ROOT / parent.lstrip("/") / f"{cid}-parent").rmdir()


def test_v2_unknown_controller_in_unified_is_an_error(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["resources"] = {"unified": {"nosuch.max": "1"}}
    res = runtime.try_create(bundle)
    expect_error(
        runtime,
        res,
        runc=r'controller "nosuch" not available',
        ocirun=r"the nosuch controller is not available in this cgroup",
    )
    assert runtime.leaks() == []


def test_v2_pause_of_a_stopped_container(runtime: Runtime, bundle: Bundle) -> None:
    cid = start_detached(runtime, bundle, *probe_args("exit", "0"))
    runtime.wait_status(cid, "stopped", timeout=60)
    expect_error(runtime, runtime.run("pause", cid, check=False), both=r"container not running")
    runtime.delete(cid)


@pytest.mark.xfail_runtime(
    "runc", reason="runc 1.1.5 hands the cgroup to the container's user only with its systemd driver"
)
def test_v2_cgroup_owned_by_the_user_where_it_may_manage_it(runtime: Runtime, bundle: Bundle) -> None:
    """config-linux.md "Cgroup ownership": a non-root user, its own cgroup namespace and a read-write
    /sys/fs/cgroup: the cgroup directory and the files of /sys/kernel/cgroup/delegate are its."""
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    for m in bundle.config["mounts"]:  # type: ignore[index]
        if m["destination"] == "/sys/fs/cgroup":
            m["options"] = [o for o in m["options"] if o != "ro"]
    bundle.set_args(*probe_args("sleep", "600"))
    cid = runtime.create(bundle)
    try:
        assert cg(cid).stat().st_uid == 1000
        assert (cg(cid) / "cgroup.procs").stat().st_uid == 1000
        assert (cg(cid) / "memory.max").stat().st_uid == 0
    finally:
        runtime.delete(cid, force=True)


@pytest.mark.xfail_runtime(
    "runc", reason="runc 1.1.5 predates memory.checkBeforeUpdate: it sets the limit and the OOM killer acts"
)
def test_v2_check_before_update_refuses_a_limit_under_the_usage(
    runtime: Runtime, bundle: Bundle, workdir: Path
) -> None:
    cid = start_detached(runtime, bundle, *probe_args("sleep", "600"))
    try:
        assert int(read(cid, "memory.current")) > 4096
        resources = workdir / "r.json"
        resources.write_text(
            # a page: under the usage however much of it the kernel reclaims meanwhile
            json.dumps({"memory": {"limit": 4096, "checkBeforeUpdate": True}})
        )
        res = runtime.run("update", "-r", resources, cid, check=False)
        expect_error(runtime, res, both=r"current usage")
        assert read(cid, "memory.max") == "max"
        assert runtime.status(cid) == "running"
    finally:
        runtime.delete(cid, force=True)


# ---------------------------------------------------------------------------- an existing cgroup


@contextlib.contextmanager
def existing_cgroup(cid: str) -> Iterator[Path]:
    """The container's cgroup, made before the container (thawed and removed after)."""
    path = cg(cid)
    path.mkdir(parents=True)
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            (path / "cgroup.freeze").write_text("0")
        wait_for(lambda: not _rmdir(path), "the cgroup to go", timeout=30)


def _rmdir(path: Path) -> bool:
    """True while it is still there."""
    try:
        path.rmdir()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return False


def test_create_refuses_a_frozen_cgroup(runtime: Runtime, bundle: Bundle) -> None:
    """cgroup.freeze is 1 in the container's existing cgroup: create refuses it (the init would
    be frozen as it joins and create hang), and leaves it as it was."""
    cid = runtime.new_id()
    with existing_cgroup(cid) as path:
        (path / "cgroup.freeze").write_text("1")
        res = runtime.try_create(bundle, cid)
        expect_error(runtime, res, both=r"container's cgroup unexpectedly frozen")
        assert runtime.ids_in_root() == []
        assert (path / "cgroup.freeze").read_text().strip() == "1"


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 only warns (\"container's cgroup is not empty\", "
                                          "DEPRECATED: refused from runc 1.2) and runs the container")
def test_create_refuses_a_cgroup_with_processes(runtime: Runtime, bundle: Bundle) -> None:
    """A process of someone else's is in the container's existing cgroup: create refuses it."""
    cid = runtime.new_id()
    with existing_cgroup(cid) as path, stranger_in(path) as stranger:
        try:
            res = runtime.try_create(bundle, cid)
            expect_error(runtime, res, both=r"container's cgroup is not empty: 1 process\(es\) found")
            assert runtime.ids_in_root() == []
            assert (path / "cgroup.procs").read_text().split() == [str(stranger)]
        finally:
            runtime.delete(cid, force=True, check=False)
