"""Control groups on cgroup v1 and hybrid hosts: every linux.resources field checked in the cgroup
files and, where it has one that can be seen quickly, by its effect; update, pause/resume, events,
ps, kill --all and delete --force of containers with several processes.

Pure cgroup v2 hosts run tests/integration/test_cgroups_v2.py instead (this module skips itself
there).  The hybrid-only behaviour (hugetlb and ``unified`` in the cgroup2 hierarchy) is skipped
on v1-only hosts.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
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
    cgroup_mounts,
    check_device_rules,
    events_of,
    expect_error,
    parse_json,
    pid_alive,
    probe_args,
    runner_cgroup,
    start_detached,
    stranger_in,
    use_device_rules,
    wait_for,
)

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _mounts() -> dict[str, Path]:
    """Controller (or "name=..."; "" for cgroup2) -> the mount point of its hierarchy."""
    out: dict[str, Path] = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fstype, _src, opts = [*right.split(), "", "", ""][:3]
            point = Path(left.split()[4])
            if fstype == "cgroup2":
                out.setdefault("", point)
            elif fstype == "cgroup":
                for opt in opts.split(","):
                    if opt not in ("rw", "ro") and not opt.startswith(("release_agent", "xattr")):
                        out.setdefault(opt, point)
    return out


MOUNTS = _mounts()
PURE_V2 = set(MOUNTS) == {""}
HYBRID = "" in MOUNTS and not PURE_V2

pytestmark = pytest.mark.skipif(
    PURE_V2 or not MOUNTS, reason="cgroup v1/hybrid host only (v2: test_cgroups_v2.py)"
)


def cgdir(controller: str, cid: str) -> Path:
    return MOUNTS[controller] / CGROUP_PARENT / cid


def read(controller: str, cid: str, name: str) -> str:
    return (cgdir(controller, cid) / name).read_text().strip()


def key_values(text: str) -> dict[str, int]:
    return {k: int(v) for k, v in (line.split() for line in text.splitlines() if len(line.split()) == 2)}


def needs(*controllers: str) -> pytest.MarkDecorator:
    missing = [c for c in controllers if c not in MOUNTS]
    return pytest.mark.skipif(bool(missing), reason=f"no {', '.join(missing)} cgroup v1 hierarchy here")


# ---------------------------------------------------------------------------- host features
# What these tests need beyond the controllers: each test checks the host and skips with the
# reason (CI machines are fresh ones of any kind).


def _in_child_cgroup(controller: str, *names: str) -> str | None:
    """The first of ``names`` a new cgroup of ``controller`` has (some files, BFQ's for one, are
    not on the root cgroup): looked up in the tests' parent cgroup."""
    if controller not in MOUNTS:
        return None
    parent = MOUNTS[controller] / CGROUP_PARENT
    parent.mkdir(exist_ok=True)
    return next((name for name in names if (parent / name).exists()), None)


def blkio_weight_file(kind: str = "weight") -> str:
    """blkio.weight (CFQ, before Linux 5.0) or blkio.bfq.weight (the BFQ I/O scheduler), or
    their _device forms: skips the test on a host with neither (no runtime can set a weight)."""
    name = _in_child_cgroup("blkio", f"blkio.{kind}", f"blkio.bfq.{kind}")
    if name is None:
        pytest.skip(f"no blkio.{kind} or blkio.bfq.{kind}: this host has no BFQ I/O scheduler (CFQ is gone "
                    "since Linux 5.0)")
    return name


def has_blkio_weight() -> bool:
    return _in_child_cgroup("blkio", "blkio.weight", "blkio.bfq.weight") is not None


SWAP_ACCOUNTED = "memory" in MOUNTS and (MOUNTS["memory"] / "memory.memsw.limit_in_bytes").exists()


def _host_swap() -> int:
    with open("/proc/meminfo") as f:
        return next((int(line.split()[1]) for line in f if line.startswith("SwapTotal:")), 0)


def memory_limit(limit: int, **more: object) -> dict[str, object]:
    """memory resources that stop a hog at ``limit``: memory+swap the same where the kernel
    accounts swap; without swap accounting only on a host without swap (else the hog would
    swap instead: skipped)."""
    if SWAP_ACCOUNTED:
        return {"limit": limit, "swap": limit, **more}
    if _host_swap():
        pytest.skip("no swap accounting (memory.memsw.*: swapaccount=1) and the host has swap")
    return {"limit": limit, **more}


def _first(path: str) -> str:
    """The first number of a kernel list such as "0-3,8" (a cpuset or /sys/devices/system)."""
    return Path(path).read_text().strip().split(",")[0].split("-")[0]


def first_cpu() -> str:
    return _first(str(MOUNTS["cpuset"] / "cpuset.effective_cpus")) if "cpuset" in MOUNTS else "0"


def first_mem() -> str:
    return _first(str(MOUNTS["cpuset"] / "cpuset.effective_mems")) if "cpuset" in MOUNTS else "0"


def no_such_cpus() -> str:
    """A cpu list this host does not have (beyond /sys/devices/system/cpu/possible)."""
    last = Path("/sys/devices/system/cpu/possible").read_text().strip().split(",")[-1].split("-")[-1]
    return f"{int(last) + 1}-{int(last) + 3}"


def needs_hugepage_size(size_kb: int) -> pytest.MarkDecorator:
    path = Path(f"/sys/kernel/mm/hugepages/hugepages-{size_kb}kB")
    return pytest.mark.skipif(not path.exists(), reason=f"no {size_kb} kB huge pages here ({path})")


def needs_file(controller: str, name: str, what: str) -> pytest.MarkDecorator:
    missing = controller not in MOUNTS or not (MOUNTS[controller] / name).exists()
    return pytest.mark.skipif(missing, reason=f"no {name} here: {what}")


# ---------------------------------------------------------------------------- devices


RUNC_DEFAULT_DEVICES = [
    "b *:* m",
    "c *:* m",
    "c 1:3 rwm",
    "c 1:5 rwm",
    "c 1:7 rwm",
    "c 1:8 rwm",
    "c 1:9 rwm",
    "c 5:0 rwm",
    "c 5:2 rwm",
    "c 10:200 rwm",
    "c 136:* rwm",
]


@needs("devices")
def test_default_device_rules(runtime: Runtime, bundle: Bundle) -> None:
    """Without any device rule a container gets runc's allow-list (deny-all plus the devices every
    container has)."""
    cid = runtime.create(bundle)
    assert sorted(read("devices", cid, "devices.list").splitlines()) == sorted(RUNC_DEFAULT_DEVICES)
    runtime.delete(cid, force=True)


@needs("devices")
@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 lists its default device rules first")
def test_device_rules_listed_in_config_order(runtime: Runtime, bundle: Bundle) -> None:
    """config-linux.md: "The runtime MUST apply entries in the listed order". On v1 the kernel lists
    the exceptions in the order they were written, so devices.list starts with the config's rules
    in their order, the defaults after them (runtime-tools' linux_cgroups_devices checks this)."""
    rules = [("c", 10, 229, "rwm"), ("b", 8, 20, "rw"), ("b", 10, 200, "r")]
    bundle.linux["resources"] = {
        "devices": [{"allow": False, "access": "rwm"}]
        + [{"allow": True, "type": t, "major": ma, "minor": mi, "access": a} for t, ma, mi, a in rules]
    }
    cid = runtime.create(bundle)
    listed = read("devices", cid, "devices.list").splitlines()
    runtime.delete(cid, force=True)
    assert listed[:3] == [f"{t} {ma}:{mi} {a}" for t, ma, mi, a in rules]
    assert sorted(listed[3:]) == sorted(RUNC_DEFAULT_DEVICES)


@needs("devices")
def test_device_access_follows_the_rules(runtime: Runtime, bundle: Bundle) -> None:
    use_device_rules(bundle)
    _status, out, err = runtime.run_container(bundle)
    check_device_rules(out + err)


@needs("devices")
def test_device_rule_punching_a_hole_in_a_wildcard_is_refused(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["resources"] = {
        "devices": [
            {"allow": False, "access": "rwm"},
            {"allow": True, "type": "c", "major": 4, "access": "rwm"},
            {"allow": False, "type": "c", "major": 4, "minor": 1, "access": "w"},
        ]
    }
    res = runtime.try_create(bundle)
    expect_error(
        runtime,
        res,
        runc=r"cannot punch hole",
        ocirun=r"c 4:1 w cannot be applied: it would punch a hole "
        r"in the wider rule c 4:\* rwm",
    )
    assert runtime.leaks() == []


# ---------------------------------------------------------------------------- memory

# Takes memory with page faults of its own (the string doubles) until the limit stops it.


@needs("memory")
def test_memory_files(runtime: Runtime, bundle: Bundle) -> None:
    memory = {
        "limit": 64 << 20,
        "reservation": 32 << 20,
        "swappiness": 30,
        "disableOOMKiller": False,
        "useHierarchy": True,
    }
    if SWAP_ACCOUNTED:  # (without swap accounting the runtimes refuse a swap limit)
        memory["swap"] = 128 << 20
    bundle.linux["resources"] = {"memory": memory}
    cid = runtime.create(bundle)
    assert read("memory", cid, "memory.limit_in_bytes") == str(64 << 20)
    assert read("memory", cid, "memory.soft_limit_in_bytes") == str(32 << 20)
    if (cgdir("memory", cid) / "memory.memsw.limit_in_bytes").exists():
        assert read("memory", cid, "memory.memsw.limit_in_bytes") == str(128 << 20)
    assert read("memory", cid, "memory.swappiness") == "30"
    assert key_values(read("memory", cid, "memory.oom_control"))["oom_kill_disable"] == 0
    assert read("memory", cid, "memory.use_hierarchy") == "1"
    runtime.delete(cid, force=True)


@needs("memory")
@needs_file("memory", "memory.kmem.tcp.limit_in_bytes", "this kernel has no kernel TCP memory accounting on v1")
@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 ignores memory.kernelTCP (and kernel) with a warning")
def test_memory_kernel_tcp(runtime: Runtime, bundle: Bundle) -> None:
    """kernelTCP goes to memory.kmem.tcp.limit_in_bytes; kernel to memory.kmem.limit_in_bytes,
    which recent kernels keep but ignore (the container must still run)."""
    bundle.linux["resources"] = {"memory": {"kernel": 32 << 20, "kernelTCP": 16 << 20}}
    cid = runtime.create(bundle)
    try:
        assert read("memory", cid, "memory.kmem.tcp.limit_in_bytes") == str(16 << 20)
    finally:
        runtime.delete(cid, force=True)


@needs("memory")
def test_oom_kill_at_the_limit(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["resources"] = {"memory": memory_limit(16 << 20)}
    bundle.set_args("sh", "-c", f"sh -c '{HOG}'; echo status=$?")
    status, out, err = runtime.run_container(bundle)
    assert status == 0, err
    assert "status=137" in out, (out, err)


@needs("memory")
def test_disable_oom_killer_leaves_the_process_waiting(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["resources"] = {"memory": memory_limit(16 << 20, disableOOMKiller=True)}
    cid = start_detached(runtime, bundle, "sh", "-c", HOG)
    assert key_values(read("memory", cid, "memory.oom_control"))["oom_kill_disable"] == 1
    wait_for(
        lambda: key_values(read("memory", cid, "memory.oom_control"))["under_oom"] == 1, what="under_oom 1"
    )
    assert key_values(read("memory", cid, "memory.oom_control"))["oom_kill"] == 0
    assert runtime.status(cid) == "running"
    runtime.delete(cid, force=True)


@needs("memory")
@pytest.mark.xfail_runtime(
    "runc", reason="runc 1.1.5 charges its own init to the container's cgroup (it needs 2 MiB here)"
)
def test_echo_under_1mib_memory_limit(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["resources"] = {"memory": {"limit": 1 << 20}}
    bundle.set_args("echo", "it works")
    status, out, err = runtime.run_container(bundle)
    assert (status, out) == (0, "it works\n"), err


# ---------------------------------------------------------------------------- pids


@needs("pids")
def test_pids_limit_makes_fork_fail(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["resources"] = {"pids": {"limit": 4}}
    bundle.set_args("sh", "-c", "for i in 1 2 3 4 5 6; do sleep 5 & done; echo done")
    cid = runtime.create(bundle)
    assert read("pids", cid, "pids.max") == "4"
    runtime.start(cid)
    runtime.wait_status(cid, "stopped")
    out, err = runtime.output(cid)
    assert "can't fork" in out + err, (out, err)
    runtime.delete(cid)


@needs("pids")
@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 reads pids.limit 0 as unset; the spec makes it a limit")
def test_pids_limit_zero_is_a_limit(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["resources"] = {"pids": {"limit": 0}}
    cid = runtime.create(bundle)
    try:
        assert read("pids", cid, "pids.max") == "0"
    finally:
        runtime.delete(cid, force=True)


# ---------------------------------------------------------------------------- cpu and cpuset


@needs("cpu", "cpuset")
def test_cpu_and_cpuset_files(runtime: Runtime, bundle: Bundle) -> None:
    cpu, mem = first_cpu(), first_mem()  # (not necessarily 0 on every host)
    bundle.linux["resources"] = {
        "cpu": {"shares": 512, "quota": 20000, "period": 50000, "cpus": cpu, "mems": mem}
    }
    bundle.set_args("grep", "-E", "Cpus_allowed_list|Mems_allowed_list", "/proc/self/status")
    cid = runtime.create(bundle)
    assert read("cpu", cid, "cpu.shares") == "512"
    assert read("cpu", cid, "cpu.cfs_quota_us") == "20000"
    assert read("cpu", cid, "cpu.cfs_period_us") == "50000"
    assert read("cpuset", cid, "cpuset.cpus") == cpu
    assert read("cpuset", cid, "cpuset.mems") == mem
    runtime.start(cid)
    runtime.wait_status(cid, "stopped")
    out, _ = runtime.output(cid)
    assert key_values(out.replace(":", " ").replace("\t", " ")) == {
        "Cpus_allowed_list": int(cpu),
        "Mems_allowed_list": int(mem),
    }
    runtime.delete(cid)


@needs("cpu")
@needs_file("cpu", "cpu.idle", "SCHED_IDLE cgroups need Linux 5.15")
@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 predates linux.resources.cpu.burst and cpu.idle")
def test_cpu_burst_and_idle(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["resources"] = {"cpu": {"quota": 20000, "period": 100000, "burst": 5000, "idle": 1}}
    cid = runtime.create(bundle)
    try:
        if (cgdir("cpu", cid) / "cpu.cfs_burst_us").exists():
            assert read("cpu", cid, "cpu.cfs_burst_us") == "5000"
        assert read("cpu", cid, "cpu.idle") == "1"
    finally:
        runtime.delete(cid, force=True)


@needs("cpu")
def test_cpu_quota_throttles(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["resources"] = {"cpu": {"quota": 1000, "period": 10000}}
    cid = start_detached(runtime, bundle, "sh", "-c", "while :; do :; done")
    wait_for(lambda: key_values(read("cpu", cid, "cpu.stat")).get("nr_throttled", 0) > 2, what="throttling")
    runtime.delete(cid, force=True)


@needs("cpu")
def test_cpu_realtime(runtime: Runtime, bundle: Bundle) -> None:
    """The container's parent needs a realtime budget first (runc does not hand one down either)."""
    parent = MOUNTS["cpu"] / CGROUP_PARENT
    if not (MOUNTS["cpu"] / "cpu.rt_runtime_us").exists():
        pytest.skip("no realtime group scheduling in this kernel")
    parent.mkdir(exist_ok=True)
    (parent / "cpu.rt_runtime_us").write_text("100000")
    try:
        bundle.linux["resources"] = {"cpu": {"realtimePeriod": 500000, "realtimeRuntime": 5000}}
        cid = runtime.create(bundle)
        try:
            assert read("cpu", cid, "cpu.rt_period_us") == "500000"
            assert read("cpu", cid, "cpu.rt_runtime_us") == "5000"
        finally:
            runtime.delete(cid, force=True)
    finally:
        # a removed cgroup keeps its budget until the kernel has freed it
        def zero() -> bool:
            try:
                (parent / "cpu.rt_runtime_us").write_text("0")
                return True
            except OSError:
                return False

        wait_for(zero, what="the realtime budget back to 0")


# ---------------------------------------------------------------------------- block IO


@pytest.fixture
def loop_device(workdir: Path) -> Iterator[tuple[str, int, int]]:
    """A 4 MiB loop device of our own, using the bfq scheduler (for the bfq weights): its path,
    major and minor."""
    image = workdir / "disk.img"
    with open(image, "wb") as f:
        f.truncate(4 << 20)
    dev = subprocess.run(["losetup", "--find", "--show", str(image)], capture_output=True, text=True)
    if dev.returncode != 0:
        pytest.skip(f"no loop device: {dev.stderr.strip()}")
    path = dev.stdout.strip()
    name = os.path.basename(path)
    sched = Path(f"/sys/block/{name}/queue/scheduler")
    before = sched.read_text().split("[")[1].split("]")[0] if "[" in sched.read_text() else "none"
    try:
        with contextlib.suppress(OSError):
            sched.write_text("bfq")
        major, minor = map(int, Path(f"/sys/block/{name}/dev").read_text().split(":"))
        yield path, major, minor
    finally:
        with contextlib.suppress(OSError):
            sched.write_text(before)
        subprocess.run(["losetup", "-d", path], capture_output=True)


@needs("blkio")
def test_blkio_weight(runtime: Runtime, bundle: Bundle) -> None:
    name = blkio_weight_file()
    bundle.linux["resources"] = {"blockIO": {"weight": 300}}
    cid = runtime.create(bundle)
    assert read("blkio", cid, name).split()[-1] == "300"
    runtime.delete(cid, force=True)


@needs("blkio")
def test_blkio_leaf_weight_without_cfq_is_an_error(runtime: Runtime, bundle: Bundle) -> None:
    """Leaf weights were CFQ's (gone since Linux 5.0): without blkio.leaf_weight, an error."""
    if (MOUNTS["blkio"] / "blkio.leaf_weight").exists():
        pytest.skip("this kernel has blkio.leaf_weight")
    bundle.linux["resources"] = {"blockIO": {"leafWeight": 200}}
    cid = runtime.new_id()
    res = runtime.try_create(bundle, cid)
    expect_error(
        runtime,
        res,
        runc=r"blkio\.leaf_weight: no such file or directory",
        ocirun=rf"^write `{cgdir('blkio', cid)}/blkio\.leaf_weight` \(200\): No such file or directory$",
    )
    assert runtime.leaks() == []


@needs("blkio", "devices")
def test_blkio_throttle_and_weight_device(
    runtime: Runtime, bundle: Bundle, loop_device: tuple[str, int, int]
) -> None:
    _path, major, minor = loop_device
    dev = f"{major}:{minor}"
    # weights need BFQ on the device (the fixture asks for it): else only the throttles are tested
    weights = _in_child_cgroup("blkio", "blkio.weight_device", "blkio.bfq.weight_device")
    bundle.linux["devices"] = [
        {
            "path": "/dev/disk0",
            "type": "b",
            "major": major,
            "minor": minor,
            "fileMode": 0o666,
            "uid": 0,
            "gid": 0,
        }
    ]
    bundle.linux["resources"] = {
        "devices": [
            {"allow": False, "access": "rwm"},
            {"allow": True, "type": "b", "major": major, "minor": minor, "access": "rw"},
        ],
        "blockIO": {
            **({"weightDevice": [{"major": major, "minor": minor, "weight": 400}]} if weights else {}),
            "throttleReadBpsDevice": [{"major": major, "minor": minor, "rate": 1 << 20}],
            "throttleWriteBpsDevice": [{"major": major, "minor": minor, "rate": 2 << 20}],
            "throttleReadIOPSDevice": [{"major": major, "minor": minor, "rate": 1000}],
            "throttleWriteIOPSDevice": [{"major": major, "minor": minor, "rate": 2000}],
        },
    }
    bundle.set_args("dd", "if=/dev/disk0", "of=/dev/null", "bs=256k", "count=4", "iflag=direct")
    cid = runtime.create(bundle)
    for name, value in (
        ("read_bps_device", 1 << 20),
        ("write_bps_device", 2 << 20),
        ("read_iops_device", 1000),
        ("write_iops_device", 2000),
    ):
        assert read("blkio", cid, f"blkio.throttle.{name}").splitlines() == [f"{dev} {value}"]
    if weights:
        assert f"{dev} 400" in read("blkio", cid, weights).splitlines()
    began = time.monotonic()
    runtime.start(cid)
    runtime.wait_status(cid, "stopped", timeout=20)
    took = time.monotonic() - began
    out, err = runtime.output(cid)
    assert "4+0 records in" in out + err, (out, err)
    assert took > 0.6, f"1 MiB read at 1 MiB/s took {took:.2f}s"
    runtime.delete(cid)


# ---------------------------------------------------------------------------- hugetlb, network, rdma, unified


def _unified_controllers() -> list[str]:
    try:
        return (MOUNTS[""] / "cgroup.controllers").read_text().split()
    except (KeyError, OSError):
        return []


@pytest.fixture
def restore_unified_subtree() -> Iterator[None]:
    """Takes the hugetlb controller back out of the cgroup2 hierarchy's subtree_control files that
    did not have it before the test (ocirun hands it down to give hybrid containers hugetlb)."""
    files = [MOUNTS[""] / "cgroup.subtree_control", MOUNTS[""] / CGROUP_PARENT / "cgroup.subtree_control"]
    before = {f: f.read_text().split() if f.exists() else [] for f in files}
    yield
    for f in reversed(files):
        with contextlib.suppress(OSError):
            for c in set(f.read_text().split()) - set(before[f]):
                f.write_text("-" + c)


@pytest.mark.skipif(
    not HYBRID or "hugetlb" in MOUNTS or "hugetlb" not in _unified_controllers(),
    reason="hybrid host with hugetlb in the cgroup2 hierarchy only",
)
@needs_hugepage_size(2048)
@pytest.mark.xfail_runtime(
    "runc",
    reason="runc 1.1.5 cannot set hugepage limits on a hybrid host whose hugetlb "
    "controller is in the cgroup2 hierarchy (the spec allows the conversion)",
)
def test_hugepage_limits_on_hybrid(runtime: Runtime, bundle: Bundle, restore_unified_subtree: None) -> None:
    bundle.linux["resources"] = {"hugepageLimits": [{"pageSize": "2MB", "limit": 4 << 20}]}
    cid = runtime.create(bundle)
    assert read("", cid, "hugetlb.2MB.max") == str(4 << 20)
    runtime.delete(cid, force=True)


@needs("hugetlb")
@needs_hugepage_size(2048)
def test_hugepage_limits_v1(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["resources"] = {"hugepageLimits": [{"pageSize": "2MB", "limit": 4 << 20}]}
    cid = runtime.create(bundle)
    assert read("hugetlb", cid, "hugetlb.2MB.limit_in_bytes") == str(4 << 20)
    runtime.delete(cid, force=True)


@pytest.mark.skipif("net_cls" in MOUNTS, reason="net_cls is mounted here")
def test_network_class_id_without_net_cls_is_an_error(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["resources"] = {"network": {"classID": 1048577}}
    res = runtime.try_create(bundle)
    expect_error(
        runtime,
        res,
        runc=r"cannot set net_cls limit",
        ocirun=r"^cannot set the network class id: no net_cls cgroup hierarchy is mounted$",
    )
    assert runtime.leaks() == []


@pytest.mark.skipif("net_prio" in MOUNTS, reason="net_prio is mounted here")
def test_network_priorities_without_net_prio_is_an_error(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["resources"] = {"network": {"priorities": [{"name": "lo", "priority": 5}]}}
    res = runtime.try_create(bundle)
    expect_error(
        runtime,
        res,
        runc=r"cannot set net_prio limit",
        ocirun=r"^cannot set network priorities: no net_prio cgroup hierarchy is mounted$",
    )
    assert runtime.leaks() == []


@needs("net_cls", "net_prio")
def test_network_files(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["resources"] = {
        "network": {"classID": 1048577, "priorities": [{"name": "lo", "priority": 5}]}
    }
    cid = runtime.create(bundle)
    assert read("net_cls", cid, "net_cls.classid") == "1048577"
    assert "lo 5" in read("net_prio", cid, "net_prio.ifpriomap").splitlines()
    runtime.delete(cid, force=True)


@pytest.mark.skipif("rdma" in MOUNTS or "rdma" in _unified_controllers(), reason="rdma is available here")
def test_rdma_without_the_controller_is_an_error(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["resources"] = {"rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 100}}}
    res = runtime.try_create(bundle)
    expect_error(
        runtime,
        res,
        runc=r"cannot set rdma limit",
        ocirun=r"^cannot set rdma limits: the rdma controller is mounted neither as a cgroup v1 "
        r"hierarchy nor in the cgroup2 hierarchy$",
    )
    assert runtime.leaks() == []


@pytest.mark.skipif(not HYBRID, reason="hybrid host only")
@pytest.mark.xfail_runtime(
    "runc",
    reason="runc 1.1.5 refuses linux.resources.unified unless the host is cgroup v2 "
    "only, also where the cgroup2 hierarchy has the controller",
)
def test_unified_on_hybrid_goes_to_the_cgroup2_hierarchy(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["resources"] = {"unified": {"cgroup.max.descendants": "3", "cgroup.max.depth": "2"}}
    cid = runtime.create(bundle)
    assert read("", cid, "cgroup.max.descendants") == "3"
    assert read("", cid, "cgroup.max.depth") == "2"
    runtime.delete(cid, force=True)


@pytest.mark.skipif("memory" in _unified_controllers(), reason="memory is in the cgroup2 hierarchy here")
def test_unified_with_a_controller_only_v1_has_is_an_error(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["resources"] = {"unified": {"memory.max": "1000000"}}
    res = runtime.try_create(bundle)
    expect_error(
        runtime,
        res,
        runc=r"cannot use unified on cgroup v1",
        ocirun=r"memory controller is not available in the cgroup2 hierarchy|there is no cgroup v2 "
        r"hierarchy",
    )
    assert runtime.leaks() == []


def test_write_error_names_the_file_and_the_value(runtime: Runtime, bundle: Bundle) -> None:
    cpus = no_such_cpus()  # (7-9 exist on a bigger machine)
    bundle.linux["resources"] = {"cpu": {"cpus": cpus}}
    cid = runtime.new_id()
    res = runtime.try_create(bundle, cid)
    path = cgdir("cpuset", cid) / "cpuset.cpus"
    expect_error(
        runtime,
        res,
        runc=r"cpuset\.cpus: (invalid argument|numerical result out of range)",
        ocirun=rf"^write `{path}` \({cpus}\): (Invalid argument|Numerical result out of range)$",
    )
    assert runtime.leaks() == []


# ---------------------------------------------------------------------------- pause and resume


def _counter(runtime: Runtime, bundle: Bundle) -> tuple[str, Path]:
    cid = start_detached(
        runtime, bundle, "sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.01; done"
    )
    counter = bundle.rootfs / "tmp" / "n"
    wait_for(counter.exists, what="the counter")
    return cid, counter


def _advances(counter: Path, wait: float = 0.3) -> bool:
    def value() -> str:
        for _ in range(100):
            text = counter.read_text().strip()
            if text:
                return text
            time.sleep(0.005)
        return ""

    first = value()
    time.sleep(wait)
    return value() != first


@needs("freezer")
def test_pause_and_resume(runtime: Runtime, bundle: Bundle) -> None:
    cid, counter = _counter(runtime, bundle)
    runtime.run("pause", cid)
    assert runtime.status(cid) == "paused"
    assert read("freezer", cid, "freezer.state") == "FROZEN"
    assert not _advances(counter)
    expect_error(runtime, runtime.run("pause", cid, check=False), both=r"container not running")
    runtime.run("resume", cid)
    assert runtime.status(cid) == "running"
    assert read("freezer", cid, "freezer.state") == "THAWED"
    assert _advances(counter)
    expect_error(runtime, runtime.run("resume", cid, check=False), both=r"container not paused")
    runtime.delete(cid, force=True)


@needs("freezer")
def test_pause_a_created_container(runtime: Runtime, bundle: Bundle) -> None:
    cid = runtime.create(bundle)
    runtime.run("pause", cid)
    assert runtime.status(cid) == "paused"
    runtime.run("resume", cid)
    assert runtime.status(cid) == "created"
    runtime.delete(cid, force=True)


def test_pause_and_resume_a_stopped_container(runtime: Runtime, bundle: Bundle) -> None:
    cid = start_detached(runtime, bundle, *probe_args("exit", "0"))
    runtime.wait_status(cid, "stopped")
    expect_error(runtime, runtime.run("pause", cid, check=False), both=r"container not running")
    expect_error(runtime, runtime.run("resume", cid, check=False), both=r"container not paused")
    runtime.delete(cid)


@needs("freezer")
def test_delete_force_of_a_paused_container(runtime: Runtime, bundle: Bundle) -> None:
    cid, _ = _counter(runtime, bundle)
    runtime.run("pause", cid)
    runtime.delete(cid, force=True)
    assert runtime.leaks() == []


# ---------------------------------------------------------------------------- update


def _sleeper(runtime: Runtime, bundle: Bundle) -> str:
    return start_detached(runtime, bundle, *probe_args("sleep", "60"))


@needs("memory", "cpu", "cpuset", "pids", "blkio")
def test_update_with_flags(runtime: Runtime, bundle: Bundle) -> None:
    """Every flag; --memory-swap only with swap accounting, --blkio-weight only with BFQ (the
    runtimes refuse them otherwise)."""
    weight = has_blkio_weight()
    cpu = first_cpu()
    bundle.linux["resources"] = {
        "memory": {"limit": 64 << 20},
        "cpu": {"shares": 1024},
        "pids": {"limit": 10},
    }
    cid = _sleeper(runtime, bundle)
    runtime.run(
        "update",
        "--memory",
        "100m",
        *(("--memory-swap", "200m") if SWAP_ACCOUNTED else ()),
        "--memory-reservation",
        "50m",
        "--cpu-share",
        "256",
        "--cpu-quota",
        "30000",
        "--cpu-period",
        "60000",
        "--pids-limit",
        "15",
        "--cpuset-cpus",
        cpu,
        *(("--blkio-weight", "200") if weight else ()),
        cid,
    )
    assert read("memory", cid, "memory.limit_in_bytes") == str(100 << 20)
    if (cgdir("memory", cid) / "memory.memsw.limit_in_bytes").exists():
        assert read("memory", cid, "memory.memsw.limit_in_bytes") == str(200 << 20)
    assert read("memory", cid, "memory.soft_limit_in_bytes") == str(50 << 20)
    assert read("cpu", cid, "cpu.shares") == "256"
    assert read("cpu", cid, "cpu.cfs_quota_us") == "30000"
    assert read("cpu", cid, "cpu.cfs_period_us") == "60000"
    assert read("pids", cid, "pids.max") == "15"
    assert read("cpuset", cid, "cpuset.cpus") == cpu
    if weight:
        name = "blkio.weight" if (cgdir("blkio", cid) / "blkio.weight").exists() else "blkio.bfq.weight"
        assert read("blkio", cid, name).split()[-1] == "200"
    # what was not named stays
    runtime.run("update", "--pids-limit", "16", cid)
    assert read("memory", cid, "memory.limit_in_bytes") == str(100 << 20)
    assert read("cpu", cid, "cpu.shares") == "256"
    runtime.delete(cid, force=True)


@needs("memory", "pids")
def test_update_from_a_file_and_from_stdin(runtime: Runtime, bundle: Bundle, workdir: Path) -> None:
    cid = _sleeper(runtime, bundle)
    resources = workdir / "resources.json"
    resources.write_text(json.dumps({"memory": {"limit": 80 << 20}, "pids": {"limit": 7}}))
    runtime.run("update", "-r", resources, "--pids-limit", "99", cid)  # the flags are ignored then
    assert read("memory", cid, "memory.limit_in_bytes") == str(80 << 20)
    assert read("pids", cid, "pids.max") == "7"
    runtime.run("update", "-r", "-", cid, input=json.dumps({"memory": {"limit": 90 << 20}}))
    assert read("memory", cid, "memory.limit_in_bytes") == str(90 << 20)
    runtime.delete(cid, force=True)


@needs("memory")
def test_update_below_the_usage_is_refused(runtime: Runtime, bundle: Bundle) -> None:
    cid = _sleeper(runtime, bundle)
    res = runtime.run("update", "--memory", "4096", cid, check=False)
    expect_error(
        runtime,
        res,
        both=r"current usage: \d+, peak usage: \d+",
        ocirun=r"^write `\S+/memory\.limit_in_bytes` \(4096\): Device or resource busy",
    )
    runtime.delete(cid, force=True)


def test_update_errors(runtime: Runtime, bundle: Bundle) -> None:
    res = runtime.run("update", "--memory", "1m", "oct-nosuch", check=False)
    expect_error(runtime, res, both=r"container does not exist")
    cid = start_detached(runtime, bundle, *probe_args("exit", "0"))
    runtime.wait_status(cid, "stopped")
    expect_error(
        runtime, runtime.run("update", "--memory", "64m", cid, check=False), both=r"container not running"
    )
    runtime.delete(cid)


# ---------------------------------------------------------------------------- events, ps, kill --all


@needs("memory", "pids")
def test_events_stats(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["resources"] = {"memory": {"limit": 64 << 20}, "pids": {"limit": 50}}
    cid = _sleeper(runtime, bundle)
    lines = runtime.run("events", "--stats", cid).stdout.splitlines()
    assert len(lines) == 1
    event = json.loads(lines[0])
    assert event["type"] == "stats" and event["id"] == cid
    data = event["data"]
    assert {"cpu", "memory", "pids", "blkio", "hugetlb", "intel_rdt", "network_interfaces"} <= set(data)
    assert data["memory"]["usage"]["limit"] == 64 << 20
    assert data["memory"]["usage"]["usage"] > 0
    assert data["pids"] == {"current": 1, "limit": 50}
    assert data["cpu"]["usage"]["total"] > 0
    runtime.delete(cid, force=True)


def test_events_errors(runtime: Runtime, bundle: Bundle) -> None:
    cid = _sleeper(runtime, bundle)
    res = runtime.run("events", "--interval", "0s", cid, check=False)
    expect_error(runtime, res, both=r"duration interval must be greater than 0")
    runtime.delete(cid, force=True)
    cid = start_detached(runtime, bundle, *probe_args("exit", "0"))
    runtime.wait_status(cid, "stopped")
    res = runtime.run("events", "--stats", cid, check=False)
    expect_error(runtime, res, both=rf"container with id {cid} is not running")
    runtime.delete(cid)


@needs("memory")
def test_events_reports_oom(runtime: Runtime, bundle: Bundle, workdir: Path) -> None:
    bundle.linux["resources"] = {"memory": memory_limit(16 << 20)}
    cid = start_detached(runtime, bundle, "sh", "-c", f"sleep 1; sh -c '{HOG}'; sleep 60")
    with events_of(runtime, cid, "300ms", workdir / "events.out") as events:
        wait_for(lambda: any(e["type"] == "oom" for e in events()), timeout=15, what="an oom event")
        wait_for(lambda: sum(e["type"] == "stats" for e in events()) >= 2, what="stats every interval")
        assert {e["id"] for e in events()} == {cid}
        assert all(set(e) == {"type", "id"} for e in events() if e["type"] == "oom")
    runtime.delete(cid, force=True)


def _three_processes(runtime: Runtime, bundle: Bundle) -> tuple[str, list[int]]:
    cid = start_detached(runtime, bundle, "sh", "-c", "probe sleep 60 & probe sleep 60 & echo ready; wait")
    runtime.wait_output(cid, "ready")
    procs = cgdir("pids" if "pids" in MOUNTS else "freezer", cid) / "cgroup.procs"
    pids = wait_for(
        lambda: sorted(map(int, procs.read_text().split())) if len(procs.read_text().split()) == 3 else None,
        what="3 processes",
    )
    return cid, pids


def test_ps(runtime: Runtime, bundle: Bundle) -> None:
    cid, pids = _three_processes(runtime, bundle)
    assert sorted(json.loads(runtime.run("ps", "--format", "json", cid).stdout)) == pids
    table = runtime.run("ps", cid).stdout.splitlines()
    assert table[0].split()[:2] == ["UID", "PID"]
    assert sorted(int(line.split()[1]) for line in table[1:]) == pids
    custom = runtime.run("ps", cid, "-o", "pid,comm").stdout.splitlines()
    assert custom[0].split() == ["PID", "COMMAND"]
    assert sorted(int(line.split()[0]) for line in custom[1:]) == pids
    assert sorted(line.split()[1] for line in custom[1:]) == ["probe", "probe", "sh"]
    res = runtime.run("ps", "--format", "yaml", cid, check=False)
    expect_error(runtime, res, both=r"invalid format option")
    runtime.delete(cid, force=True)
    res = runtime.run("ps", cid, check=False)
    expect_error(runtime, res, both=r"container does not exist")


def test_ps_of_a_stopped_container(runtime: Runtime, bundle: Bundle) -> None:
    cid = start_detached(runtime, bundle, *probe_args("exit", "0"))
    runtime.wait_status(cid, "stopped")
    assert json.loads(runtime.run("ps", "--format", "json", cid).stdout) in (None, [])
    assert len(runtime.run("ps", cid).stdout.splitlines()) == 1, "the header only"
    runtime.delete(cid)


@needs("freezer")
def test_kill_all_reaches_a_paused_container(runtime: Runtime, bundle: Bundle) -> None:
    cid, pids = _three_processes(runtime, bundle)
    runtime.run("pause", cid)
    runtime.kill(cid, "KILL", all=True)
    runtime.wait_status(cid, "stopped")
    wait_for(lambda: all(not pid_alive(p) for p in pids), what="the processes gone")
    runtime.delete(cid)


def test_kill_all_with_a_signal_the_processes_handle(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("sh", "-c", "probe signals & probe signals & echo ready; wait")
    cid = runtime.create(bundle)
    runtime.start(cid)
    runtime.wait_output(cid, "ready")
    wait_for(lambda: runtime.output(cid)[0].count("ready") >= 3, what="the probes ready")
    runtime.kill(cid, "USR1", all=True)
    out = wait_for(
        lambda: (lambda o: o if o.count('"signal"') >= 2 else None)(runtime.output(cid)[0]),
        what="both probes signalled",
    )
    assert out.count('{"signal": 10}') + out.count('{"signal":10}') == 2, out
    runtime.delete(cid, force=True)


def test_delete_force_with_several_processes(runtime: Runtime, bundle: Bundle) -> None:
    cid, pids = _three_processes(runtime, bundle)
    runtime.delete(cid, force=True)
    assert runtime.leaks() == []
    wait_for(lambda: all(not pid_alive(p) for p in pids), what="the processes gone")


def test_delete_kills_what_a_crashed_init_left(runtime: Runtime, bundle: Bundle) -> None:
    """Without its own pid namespace a container's processes outlive its init: delete removes
    them with its cgroups (runc kills them the same way)."""
    bundle.linux["namespaces"] = [ns for ns in bundle.linux["namespaces"] if ns["type"] != "pid"]
    cid = start_detached(runtime, bundle, "sh", "-c", "probe sleep 60 & echo ready")
    runtime.wait_status(cid, "stopped")
    left = [
        int(p)
        for p in (cgdir("pids" if "pids" in MOUNTS else "freezer", cid) / "cgroup.procs").read_text().split()
    ]
    assert len(left) == 1, "the probe is still there"
    runtime.delete(cid)
    assert runtime.leaks() == []
    wait_for(lambda: not pid_alive(left[0]), what="the leftover killed")


@needs("memory")
def test_delete_removes_cgroups_the_container_made(runtime: Runtime, bundle: Bundle) -> None:
    """A container that made cgroups of its own inside its cgroup (through a writable cgroup
    mount) leaves them behind when it stops: delete removes them with its own."""
    cid = start_detached(runtime, bundle, "probe", "exit", "0")
    runtime.wait_status(cid, "stopped")
    for sub in ("a", "a/b"):
        (cgdir("memory", cid) / sub).mkdir()  # as the container's mkdir would have
    runtime.delete(cid)
    assert not cgdir("memory", cid).exists()
    assert runtime.leaks() == []


# ---------------------------------------------------------------------------- cgroupsPath


@needs("cpuset")
def test_existing_parent_cpuset_without_cpus_is_filled_in(runtime: Runtime, bundle: Bundle) -> None:
    """A parent cpuset made by someone else and left without cpus or mems (as mkdir leaves it)
    would refuse every task: it gets its parent's, as runc does it."""
    cid = runtime.new_id()
    parent = MOUNTS["cpuset"] / CGROUP_PARENT / f"{cid}-parent"
    parent.mkdir(parents=True)
    try:
        assert (parent / "cpuset.cpus").read_text().strip() == ""
        bundle.linux["cgroupsPath"] = f"/{CGROUP_PARENT}/{cid}-parent/{cid}"
        cid = runtime.create(bundle, cid)
        assert (parent / "cpuset.cpus").read_text().strip()
        assert read("cpuset", f"{cid}-parent/{cid}", "cpuset.mems")
        runtime.delete(cid, force=True)
    finally:
        for mount in cgroup_mounts():
            with contextlib.suppress(OSError):
                (mount / CGROUP_PARENT / f"{cid}-parent").rmdir()


@pytest.mark.xfail_runtime(
    "runc", reason="runc 1.1.5 writes the container's pid to cgroup.procs, and waits for an RCU grace period"
)
def test_the_container_joins_its_cgroups_itself(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    """No runtime process writes a pid to any cgroup.procs, which takes the kernel's global
    migration lock and waits for an RCU grace period (5-10 ms here): the container's process is
    born in its cgroup2 (clone3 CLONE_INTO_CGROUP) and writes "0" to the `tasks` file of each of
    its v1 hierarchies itself.  What bench/ measures for `run` rests on this."""
    cid = runtime.new_id()
    bundle.set_args("/bin/true")
    bundle.write_config(cid)
    trace = tmp_path / "strace.txt"
    argv = runtime.command("run", "--bundle", str(bundle.path), cid, log=False)
    subprocess.run(["strace", "-f", "-qq", "-e", "trace=openat,openat2,write,clone3", "-o", str(trace), *argv],
                   check=True, timeout=60, stdin=subprocess.DEVNULL, capture_output=True)
    lines = trace.read_text().splitlines()
    assert [x for x in lines if "/cgroup.procs" in x and "O_WRONLY" in x] == []
    v1 = {point for key, point in MOUNTS.items() if key != ""}
    opened = [x for x in lines if '/tasks"' in x and "O_WRONLY" in x]
    assert len(opened) == len(v1), f"tasks files opened: {opened}"
    assert sum(bool(re.search(r'write\(\d+, "0", 1\)\s+= 1$', x)) for x in lines) >= len(v1)
    if "" in MOUNTS:
        assert any("CLONE_INTO_CGROUP" in x for x in lines)


@needs("pids", "memory")
def test_relative_cgroups_path_is_under_the_runtimes_own_cgroup(
    runtime: Runtime, bundle: Bundle, workdir: Path
) -> None:
    cid = runtime.new_id()
    bundle.linux["cgroupsPath"] = f"{cid}-parent/{cid}"
    bundle.set_args(*probe_args("sleep", "60"))
    with runner_cgroup(runtime, workdir) as own:
        runtime.create(bundle, cid)
        pid = runtime.state(cid)["pid"]
        theirs = {
            c: p
            for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines()
            for c, p in [(line.split(":", 2)[1], line.split(":", 2)[2])]
        }
        assert theirs["pids"] == f"{own}/{cid}-parent/{cid}"
        assert theirs["memory"] == f"{own}/{cid}-parent/{cid}"
        where = MOUNTS["pids"] / own.lstrip("/") / f"{cid}-parent" / cid
        assert where.is_dir()
        runtime.delete(cid, force=True)
        assert not where.exists()
        # The parents the runtime made, removed for the leak check (runc 1.1.5 makes the one in
        # the cgroup2 hierarchy of a hybrid host at its root).
        for mount in cgroup_mounts():
            for base in (mount / own.lstrip("/"), mount):
                with contextlib.suppress(OSError):
                    (base / f"{cid}-parent").rmdir()


def test_the_container_sees_its_cgroup_as_its_root(runtime: Runtime, bundle: Bundle) -> None:
    """The probe reports the cgroup the container sees (a cgroup namespace: its root)."""
    bundle.set_args(*probe_args("cgroup"))
    status, out, err = runtime.run_container(bundle)
    assert status == 0, err
    lines = parse_json(out)
    assert all(line.endswith(":/") for line in lines), lines


# ---------------------------------------------------------------------------- an existing cgroup


@contextlib.contextmanager
def existing_cgroup(controller: str, cid: str) -> Iterator[Path]:
    """The container's cgroup in one hierarchy, made before the container (removed after, thawed)."""
    path = cgdir(controller, cid)
    path.mkdir(parents=True)
    try:
        yield path
    finally:
        if (path / "freezer.state").exists():
            (path / "freezer.state").write_text("THAWED")
        for _ in range(100):
            try:
                path.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.05)


def test_create_refuses_a_frozen_cgroup(runtime: Runtime, bundle: Bundle) -> None:
    """The container's cgroup exists and is frozen (freezer.state FROZEN, cgroup v1): create
    refuses it (joining it would freeze the init and hang create), and leaves it as it was."""
    if "freezer" not in MOUNTS:
        pytest.skip("no v1 freezer hierarchy")
    cid = runtime.new_id()
    with existing_cgroup("freezer", cid) as path:
        (path / "freezer.state").write_text("FROZEN")
        res = runtime.try_create(bundle, cid)
        expect_error(runtime, res, both=r"container's cgroup unexpectedly frozen")
        assert runtime.ids_in_root() == []
        assert path.is_dir() and (path / "freezer.state").read_text().strip() == "FROZEN"


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 only warns (\"container's cgroup is not empty\", "
                                          "DEPRECATED: refused from runc 1.2) and runs the container")
def test_create_refuses_a_cgroup_with_processes(runtime: Runtime, bundle: Bundle) -> None:
    """The container's cgroup exists with a process of someone else's in it: create refuses it
    (the container's kill --all and delete would kill that process too), and leaves it there."""
    cid = runtime.new_id()
    with existing_cgroup("devices", cid) as devices, existing_cgroup("pids", cid) as pids, \
            stranger_in(devices, pids) as stranger:  # runc 1.1 looks into the devices hierarchy only
        try:
            res = runtime.try_create(bundle, cid)
            expect_error(runtime, res, both=r"container's cgroup is not empty: 1 process\(es\) found")
            assert runtime.ids_in_root() == []
            assert (pids / "cgroup.procs").read_text().split() == [str(stranger)]
        finally:
            runtime.delete(cid, force=True, check=False)
