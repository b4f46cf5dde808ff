"""ocirun.cgroups without root: layout detection from sample /proc texts, path computation, the
device filter (its v1 lines, and its eBPF program run by a small interpreter here), the mapping of
linux.resources to files on a fake cgroup tree in a temporary directory, statistics, and the
parsing done by update and events.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

import pytest

from ocirun import cgroups
from ocirun.cgroups import CgroupWriteError, Hierarchy, Manager, container_paths, hierarchies, layout, stats
from ocirun.cgroups import devices as dev
from ocirun.cgroups import resources as res
from ocirun.errors import CgroupError, InvalidArgument, InvalidSpec
from ocirun.lifecycle import events, update
from ocirun.spec.resources import DeviceRule, Resources, check



def typed(obj: dict[str, Any]) -> Resources:
    """linux.resources as create and update hand it to the cgroup code: typed and checked."""
    r = Resources.from_json(obj)
    check(r)
    return r


def apply(mgr: Manager, obj: dict[str, Any], warn: Any, update: bool) -> None:
    res.apply(mgr, typed(obj), warn, update=update)


def rules_(objs: list[dict[str, Any]]) -> list[DeviceRule]:
    return typed({"devices": objs}).devices


# -- layout -------------------------------------------------------------------------------------

HYBRID_MOUNTINFO = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
"""
HYBRID_CGROUP = """\
9:name=systemd:/user.slice/session-1.scope
6:freezer:/
5:devices:/user.slice
4:memory:/process_api/f8cc
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/user.slice/session-1.scope
"""
LEGACY_MOUNTINFO = """\
25 20 0:22 / /sys/fs/cgroup rw - tmpfs tmpfs rw
26 25 0:23 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
27 25 0:24 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio
28 25 0:25 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
29 25 0:26 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices
30 99 0:26 / /elsewhere/devices rw - cgroup cgroup rw,devices
"""
LEGACY_CGROUP = """\
4:devices:/docker/abc
3:memory:/docker/abc
2:net_cls,net_prio:/
1:cpu,cpuacct:/docker/abc
"""
UNIFIED_MOUNTINFO = """\
24 20 0:21 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
30 20 0:5 / /proc rw - proc proc rw
"""
UNIFIED_CGROUP = "0::/user.slice/user-0.slice/session-3.scope\n"
# a container's view: its cgroup namespace root is a mount of a sub-tree
NESTED_MOUNTINFO = "40 30 0:21 /kubepods/pod1 /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n"
NESTED_CGROUP = "0::/kubepods/pod1/ctr\n"


def test_hybrid_hierarchies() -> None:
    hs = {h.key: h for h in hierarchies(HYBRID_MOUNTINFO, HYBRID_CGROUP)}
    assert set(hs) == {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "name=systemd", ""}
    assert hs[""].version == 2 and hs[""].mountpoint == "/sys/fs/cgroup/unified"
    assert hs[""].own == "/user.slice/session-1.scope"
    assert hs["memory"].own == "/process_api/f8cc" and hs["memory"].version == 1
    assert hs["name=systemd"].mountpoint == "/sys/fs/cgroup/systemd"
    assert layout(hs.values()) == "hybrid"


def test_legacy_hierarchies_with_combined_controllers() -> None:
    hs = {h.key: h for h in hierarchies(LEGACY_MOUNTINFO, LEGACY_CGROUP)}
    assert set(hs) == {"cpu,cpuacct", "net_cls,net_prio", "memory", "devices"}
    assert hs["devices"].mountpoint == "/sys/fs/cgroup/devices", "the first mount point wins"
    assert hs["cpu,cpuacct"].own == "/docker/abc"
    assert layout(hs.values()) == "legacy"


def test_unified_hierarchy() -> None:
    hs = hierarchies(UNIFIED_MOUNTINFO, UNIFIED_CGROUP)
    assert [(h.key, h.mountpoint, h.version, h.own) for h in hs] == [
        ("", "/sys/fs/cgroup", 2, "/user.slice/user-0.slice/session-3.scope")
    ]
    assert layout(hs) == "unified"


def test_mount_root_is_taken_off_the_own_path() -> None:
    [h] = hierarchies(NESTED_MOUNTINFO, NESTED_CGROUP)
    assert h.own == "/ctr"


def test_escaped_mount_points() -> None:
    text = "32 31 0:29 / /sys/fs/cgroup/a\\040b rw - cgroup cgroup rw,memory\n"
    [h] = hierarchies(text, "1:memory:/\n")
    assert h.mountpoint == "/sys/fs/cgroup/a b"


def test_mode_by_statfs(monkeypatch: pytest.MonkeyPatch) -> None:
    for types, expected in (
        ({"/sys/fs/cgroup": cgroups.CGROUP2_SUPER_MAGIC}, "unified"),
        ({"/sys/fs/cgroup": 0x01021994, "/sys/fs/cgroup/unified": cgroups.CGROUP2_SUPER_MAGIC}, "hybrid"),
        ({"/sys/fs/cgroup": 0x01021994}, "legacy"),
    ):
        monkeypatch.setattr(cgroups, "_mode", None)
        monkeypatch.setattr(cgroups, "_fs_type", lambda p, t=types: t.get(p, 0))
        assert cgroups.mode() == expected


# -- where the container's cgroups go -------------------------------------------------------------


def test_absolute_path_is_under_each_hierarchy_root() -> None:
    hs = hierarchies(HYBRID_MOUNTINFO, HYBRID_CGROUP)
    paths = container_paths(hs, "/ocirun-test/c1", "c1")
    assert paths["memory"] == "/sys/fs/cgroup/memory/ocirun-test/c1"
    assert paths[""] == "/sys/fs/cgroup/unified/ocirun-test/c1"
    assert paths["name=systemd"] == "/sys/fs/cgroup/systemd/ocirun-test/c1"


def test_relative_path_on_v1_is_under_own_cgroup() -> None:
    hs = hierarchies(HYBRID_MOUNTINFO, HYBRID_CGROUP)
    paths = container_paths(hs, "pods/c1", "c1")
    assert paths["memory"] == "/sys/fs/cgroup/memory/process_api/f8cc/pods/c1"
    assert paths["devices"] == "/sys/fs/cgroup/devices/user.slice/pods/c1"
    assert paths["cpu"] == "/sys/fs/cgroup/cpu/pods/c1"


def test_relative_path_on_v2_is_under_the_parent_of_own_cgroup() -> None:
    """ocirun's own cgroup has processes: a child of it could not get controllers (runc's fs2)."""
    hs = hierarchies(UNIFIED_MOUNTINFO, UNIFIED_CGROUP)
    assert container_paths(hs, "c1", "c1") == {"": "/sys/fs/cgroup/user.slice/user-0.slice/c1"}
    assert container_paths(hs, None, "the-id") == {"": "/sys/fs/cgroup/user.slice/user-0.slice/the-id"}
    root = hierarchies(UNIFIED_MOUNTINFO, "0::/\n")
    assert container_paths(root, "c1", "c1") == {"": "/sys/fs/cgroup/c1"}


def test_default_path_is_the_container_id() -> None:
    hs = hierarchies(LEGACY_MOUNTINFO, LEGACY_CGROUP)
    assert container_paths(hs, None, "abc-1")["memory"] == "/sys/fs/cgroup/memory/docker/abc/abc-1"


@pytest.mark.parametrize("bad", ["/", "/a/../..", "/..", ".", "./"])
def test_paths_naming_no_cgroup_are_refused(bad: str) -> None:
    hs = hierarchies(HYBRID_MOUNTINFO, HYBRID_CGROUP)
    with pytest.raises(CgroupError, match="below the root"):
        container_paths(hs, bad, "c1")


@pytest.mark.parametrize(
    "path, inside", [("../x", "x"), ("a/../../b", "b"), ("/../../y", "/y"), ("/a//b/", "/a/b")]
)
def test_dot_dot_stops_at_the_root(path: str, inside: str) -> None:
    hs = hierarchies(HYBRID_MOUNTINFO, HYBRID_CGROUP)
    paths = container_paths(hs, path, "c1")
    base = "/sys/fs/cgroup/memory" + ("" if inside.startswith("/") else "/process_api/f8cc/")
    assert paths["memory"] == base + inside


def test_systemd_form_needs_systemd_cgroup() -> None:
    hs = hierarchies(HYBRID_MOUNTINFO, HYBRID_CGROUP)
    with pytest.raises(CgroupError, match="systemd"):
        container_paths(hs, "system.slice:ocirun:c1", "c1")


def test_manager_json_round_trip() -> None:
    m = Manager({"memory": "/m/x", "cpu,cpuacct": "/c/x", "": "/u/x"})
    back = Manager.from_json(json.loads(json.dumps(m.to_json())))
    assert back.paths == {"memory": "/m/x", "cpu,cpuacct": "/c/x", "": "/u/x"}
    assert back.path("cpuacct") == "/c/x" and back.path("cpu") == "/c/x"
    assert back.path("pids") is None and not back.v2
    v2 = Manager({"": "/sys/fs/cgroup/x"})
    assert v2.v2 and v2.path("memory") == "/sys/fs/cgroup/x"


# -- devices ----------------------------------------------------------------------------------------

RUNC_DEFAULT_LIST = [
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


def test_default_rules_are_a_deny_list_plus_runc_devices() -> None:
    f = dev.build_filter([])
    writes = dev.v1_writes(f)
    assert writes[0] == ("devices.deny", "a *:* rwm")
    assert all(name == "devices.allow" for name, _ in writes[1:])
    # what runc leaves in devices.list (the kernel's order: by major, minor)
    assert sorted(line for _, line in writes[1:]) == sorted(RUNC_DEFAULT_LIST)


def test_config_rules_come_first_and_defaults_win() -> None:
    rules = [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"},
        {"allow": False, "type": "c", "major": 1, "minor": 3, "access": "rwm"},  # defaults re-allow it
        {"allow": True, "type": "b", "major": 8, "minor": 0, "access": "r"},
    ]
    f = dev.build_filter(rules_(rules))
    assert not f.default_allow
    assert f.exceptions[(dev.CHAR, 10, 229)] == dev.READ | dev.WRITE
    assert f.exceptions[(dev.BLOCK, 8, 0)] == dev.READ
    assert f.exceptions[(dev.CHAR, 1, 3)] == dev.ALL
    assert f.allows(dev.BLOCK, 8, 0, dev.READ) and not f.allows(dev.BLOCK, 8, 0, dev.WRITE)
    assert f.allows(dev.BLOCK, 8, 0, dev.MKNOD), "mknod of every device is a default"
    assert not f.allows(dev.CHAR, 1, 11, dev.WRITE)


def test_allow_all_makes_a_deny_list() -> None:
    f = dev.Filter()
    for rule in dev.parse_rules(
        rules_([{"allow": True, "access": "rwm"}, {"allow": False, "type": "c", "major": 1, "minor": 11}])
    ):
        f.add(*rule)
    assert f.default_allow
    assert dev.v1_writes(f) == [("devices.allow", "a *:* rwm"), ("devices.deny", "c 1:11 rwm")]
    assert not f.allows(dev.CHAR, 1, 11, dev.READ) and f.allows(dev.CHAR, 1, 12, dev.READ)


def test_rules_that_agree_with_the_default_narrow_exceptions() -> None:
    f = dev.Filter()
    f.add(True, dev.CHAR, 1, 3, dev.ALL)
    f.add(False, dev.CHAR, 1, 3, dev.WRITE | dev.MKNOD)
    assert f.exceptions == {(dev.CHAR, 1, 3): dev.READ}
    f.add(False, dev.CHAR, 1, 3, dev.READ)
    assert f.exceptions == {}


def test_punching_a_hole_in_a_wildcard_is_refused() -> None:
    f = dev.Filter()
    f.add(True, dev.CHAR, 1, dev.WILDCARD, dev.ALL)
    with pytest.raises(CgroupError, match="punch a hole"):
        f.add(False, dev.CHAR, 1, 3, dev.WRITE)
    f.add(False, dev.CHAR, 1, dev.WILDCARD, dev.WRITE)  # the wildcard itself may be narrowed
    assert f.exceptions == {(dev.CHAR, 1, dev.WILDCARD): dev.READ | dev.MKNOD}


@pytest.mark.parametrize(
    "rule, where",
    [
        ({"allow": True, "type": "x"}, "type"),
        ({"allow": True, "type": "c", "access": "rwx"}, "access"),
    ],
)
def test_bad_rules(rule: dict[str, Any], where: str) -> None:
    with pytest.raises(InvalidSpec, match=where):
        check(Resources.from_json({"devices": [rule]}))


def test_missing_numbers_and_access_mean_all() -> None:
    assert dev.parse_rules(rules_([{"allow": True, "type": "c"}])) == [(True, dev.CHAR, -1, -1, dev.ALL)]
    assert dev.parse_rules(rules_([{"allow": False}])) == [(False, None, -1, -1, dev.ALL)]


def run_bpf(prog: bytes, ctx: tuple[int, int, int]) -> int:
    """Interprets the instructions bpf_program emits, on struct bpf_cgroup_dev_ctx ``ctx``."""
    mem = b"".join(v.to_bytes(4, "little") for v in ctx)
    regs = [0] * 11
    insns = [prog[i : i + 8] for i in range(0, len(prog), 8)]
    pc = 0
    for _ in range(10000):
        code, regbyte = insns[pc][0], insns[pc][1]
        dst, src = regbyte & 0xF, regbyte >> 4
        off = int.from_bytes(insns[pc][2:4], "little", signed=True)
        imm = int.from_bytes(insns[pc][4:8], "little", signed=True)
        pc += 1
        if code == 0x61:
            assert src == 1, "loads come from the context only"
            regs[dst] = int.from_bytes(mem[off : off + 4], "little")
        elif code == 0x54:
            regs[dst] = (regs[dst] & imm) & 0xFFFFFFFF
        elif code == 0x74:
            regs[dst] = (regs[dst] & 0xFFFFFFFF) >> imm
        elif code == 0xBC:
            regs[dst] = regs[src] & 0xFFFFFFFF
        elif code == 0xB4:
            regs[dst] = imm & 0xFFFFFFFF
        elif code == 0x55:
            pc += off if regs[dst] != (imm & 0xFFFFFFFFFFFFFFFF) else 0
        elif code == 0x15:
            pc += off if regs[dst] == (imm & 0xFFFFFFFFFFFFFFFF) else 0
        elif code == 0x5D:
            pc += off if regs[dst] != regs[src] else 0
        elif code == 0x95:
            return regs[0]
        else:
            raise AssertionError(f"unexpected opcode {code:#x}")
        assert 0 <= pc < len(insns)
    raise AssertionError("the program does not end")


RULE_SETS = [
    [],
    [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"},
        {"allow": True, "type": "b", "major": 8, "minor": 0, "access": "r"},
    ],
    [{"allow": True, "access": "rwm"}],
    [
        {"allow": True, "access": "rwm"},
        {"allow": False, "type": "c", "major": 1, "minor": 11, "access": "w"},
        {"allow": False, "type": "b", "major": 7, "access": "rwm"},
    ],
    [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 4, "access": "r"},
        {"allow": True, "type": "c", "minor": 7, "access": "wm"},
    ],
]


@pytest.mark.parametrize("rules", RULE_SETS)
def test_bpf_program_decides_as_the_filter(rules: list[dict[str, Any]]) -> None:
    f = dev.build_filter(rules_(rules)) if rules and rules[0].get("allow") is False else dev.Filter()
    if not (rules and rules[0].get("allow") is False):
        for r in dev.parse_rules(rules_(rules)):
            f.add(*r)
    prog = dev.bpf_program(f)
    assert len(prog) % 8 == 0 and len(prog) // 8 < 4096
    for t, major, minor, access in itertools.product(
        (dev.BLOCK, dev.CHAR), (1, 4, 7, 8, 10, 136), (0, 3, 7, 11, 229), range(1, 8)
    ):
        want = f.allows(t, major, minor, access)
        got = run_bpf(prog, ((access << 16) | t, major, minor))
        assert got == int(want), (t, major, minor, access, want)


# -- resources on a fake tree -----------------------------------------------------------------------

V1_FILES = {
    "memory": [
        "memory.limit_in_bytes",
        "memory.memsw.limit_in_bytes",
        "memory.soft_limit_in_bytes",
        "memory.swappiness",
        "memory.oom_control",
        "memory.use_hierarchy",
        "memory.kmem.tcp.limit_in_bytes",
        "memory.usage_in_bytes",
        "memory.max_usage_in_bytes",
    ],
    "cpu": [
        "cpu.shares",
        "cpu.cfs_quota_us",
        "cpu.cfs_period_us",
        "cpu.cfs_burst_us",
        "cpu.rt_period_us",
        "cpu.rt_runtime_us",
        "cpu.idle",
    ],
    "cpuset": ["cpuset.cpus", "cpuset.mems"],
    "pids": ["pids.max"],
    "blkio": [
        "blkio.weight",
        "blkio.weight_device",
        "blkio.leaf_weight",
        "blkio.leaf_weight_device",
        "blkio.throttle.read_bps_device",
        "blkio.throttle.write_bps_device",
        "blkio.throttle.read_iops_device",
        "blkio.throttle.write_iops_device",
    ],
    "hugetlb": [
        "hugetlb.2MB.limit_in_bytes",
        "hugetlb.2MB.rsvd.limit_in_bytes",
        "hugetlb.1GB.limit_in_bytes",
    ],
    "net_cls,net_prio": ["net_cls.classid", "net_prio.ifpriomap"],
    "rdma": ["rdma.max"],
}
V2_FILES = [
    "cgroup.controllers",
    "memory.max",
    "memory.swap.max",
    "memory.low",
    "memory.current",
    "cpu.weight",
    "cpu.max",
    "cpu.max.burst",
    "cpu.idle",
    "cpuset.cpus",
    "cpuset.mems",
    "pids.max",
    "io.weight",
    "io.max",
    "hugetlb.2MB.max",
    "hugetlb.2MB.rsvd.max",
    "rdma.max",
    "cgroup.max.descendants",
]


class Recorder:
    """Replaces write_value: records (file, value) and writes the file (a cgroup file reads back)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.writes: list[tuple[str, str]] = []

    def __call__(self, path: str, value: str, detail: Any = None) -> None:
        p = Path(path)
        if not p.exists():
            raise CgroupWriteError(path, value, 2)
        self.writes.append((str(p.relative_to(self.root)), value))
        p.write_text(value)

    def last(self, name: str) -> str:
        values = [v for f, v in self.writes if f.endswith(name)]
        assert values, f"{name} not written: {self.writes}"
        return values[-1]

    def all(self, name: str) -> list[str]:
        return [v for f, v in self.writes if f.endswith(name)]


@pytest.fixture
def v1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Manager, Recorder]:
    paths = {}
    for key, files in V1_FILES.items():
        d = tmp_path / key / "ctr"
        d.mkdir(parents=True)
        for name in files:
            (d / name).write_text("0\n")
        paths[key] = str(d)
    (tmp_path / "memory" / "ctr" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    (tmp_path / "cpu" / "ctr" / "cpu.shares").write_text("1024\n")
    rec = Recorder(tmp_path)
    monkeypatch.setattr(res, "write_value", rec)
    return Manager(paths), rec


@pytest.fixture
def v2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Manager, Recorder]:
    d = tmp_path / "ctr"
    d.mkdir()
    for name in V2_FILES:
        (d / name).write_text("0\n")
    (d / "cgroup.controllers").write_text("cpuset cpu io memory hugetlb pids rdma\n")
    (d / "memory.max").write_text("max\n")
    (d / "cpu.max").write_text("max 100000\n")
    rec = Recorder(tmp_path)
    monkeypatch.setattr(res, "write_value", rec)
    return Manager({"": str(d)}), rec


def warnings_of(mgr: Manager, resources: dict[str, Any], update: bool = False) -> list[str]:
    out: list[str] = []
    apply(mgr, resources, out.append, update=update)
    return out


FULL = {
    "memory": {
        "limit": 1 << 26,
        "reservation": 1 << 25,
        "swap": 1 << 27,
        "kernelTCP": 1 << 24,
        "swappiness": 0,
        "disableOOMKiller": True,
        "useHierarchy": True,
    },
    "cpu": {
        "shares": 512,
        "quota": 50000,
        "period": 100000,
        "burst": 10000,
        "realtimeRuntime": 5000,
        "realtimePeriod": 1000000,
        "cpus": "0-1",
        "mems": "0",
        "idle": 1,
    },
    "pids": {"limit": 42},
    "blockIO": {
        "weight": 300,
        "leafWeight": 200,
        "weightDevice": [{"major": 8, "minor": 0, "weight": 400, "leafWeight": 100}],
        "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
        "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 2097152}],
        "throttleReadIOPSDevice": [{"major": 8, "minor": 16, "rate": 100}],
        "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 200}],
    },
    "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
    "network": {
        "classID": 1048577,
        "priorities": [{"name": "eth0", "priority": 5}, {"name": "lo", "priority": 1}],
    },
    "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}},
}


def test_v1_every_field(v1: tuple[Manager, Recorder]) -> None:
    mgr, rec = v1
    assert warnings_of(mgr, FULL) == []
    want = {
        "memory/ctr/memory.limit_in_bytes": str(1 << 26),
        "memory/ctr/memory.memsw.limit_in_bytes": str(1 << 27),
        "memory/ctr/memory.soft_limit_in_bytes": str(1 << 25),
        "memory/ctr/memory.kmem.tcp.limit_in_bytes": str(1 << 24),
        "memory/ctr/memory.swappiness": "0",
        "memory/ctr/memory.oom_control": "1",
        "memory/ctr/memory.use_hierarchy": "1",
        "cpu/ctr/cpu.shares": "512",
        "cpu/ctr/cpu.cfs_quota_us": "50000",
        "cpu/ctr/cpu.cfs_period_us": "100000",
        "cpu/ctr/cpu.cfs_burst_us": "10000",
        "cpu/ctr/cpu.rt_runtime_us": "5000",
        "cpu/ctr/cpu.rt_period_us": "1000000",
        "cpu/ctr/cpu.idle": "1",
        "cpuset/ctr/cpuset.cpus": "0-1",
        "cpuset/ctr/cpuset.mems": "0",
        "pids/ctr/pids.max": "42",
        "blkio/ctr/blkio.weight": "300",
        "blkio/ctr/blkio.leaf_weight": "200",
        "blkio/ctr/blkio.weight_device": "8:0 400",
        "blkio/ctr/blkio.leaf_weight_device": "8:0 100",
        "blkio/ctr/blkio.throttle.read_bps_device": "8:0 1048576",
        "blkio/ctr/blkio.throttle.write_bps_device": "8:0 2097152",
        "blkio/ctr/blkio.throttle.read_iops_device": "8:16 100",
        "blkio/ctr/blkio.throttle.write_iops_device": "8:16 200",
        "hugetlb/ctr/hugetlb.2MB.limit_in_bytes": "4194304",
        "hugetlb/ctr/hugetlb.2MB.rsvd.limit_in_bytes": "4194304",
        "net_cls,net_prio/ctr/net_cls.classid": "1048577",
        "rdma/ctr/rdma.max": "mlx5_1 hca_handle=3 hca_object=10000",
    }
    got = dict(rec.writes)
    for name, value in want.items():
        assert got.get(name) == value, name
    assert rec.all("net_prio.ifpriomap") == ["eth0 5", "lo 1"]
    # a new cgroup has no limits: memory first, then memory+swap (never below it) ...
    order = [f for f, _ in rec.writes]
    assert order.index("memory/ctr/memory.limit_in_bytes") < order.index(
        "memory/ctr/memory.memsw.limit_in_bytes"
    )
    # ... and cpuset, memory, cpu in runc's subsystem order
    assert (
        order.index("cpuset/ctr/cpuset.cpus")
        < order.index("memory/ctr/memory.limit_in_bytes")
        < order.index("cpu/ctr/cpu.shares")
    )


def test_v1_higher_swap_is_written_before_memory(v1: tuple[Manager, Recorder]) -> None:
    """Raising both above the current limit: memory+swap first, or the kernel refuses memory."""
    mgr, rec = v1
    (Path(mgr.paths["memory"]) / "memory.limit_in_bytes").write_text(str(1 << 20))
    apply(mgr, {"memory": {"limit": 1 << 29, "swap": 1 << 30}}, print, update=True)
    names = [f.rsplit("/", 1)[1] for f, _ in rec.writes]
    assert names == ["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"]
    rec.writes.clear()
    apply(mgr, {"memory": {"limit": 1 << 20, "swap": 1 << 21}}, print, update=True)
    names = [f.rsplit("/", 1)[1] for f, _ in rec.writes]
    assert names == ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]


def test_v1_unlimited_memory_lifts_swap_too(v1: tuple[Manager, Recorder]) -> None:
    mgr, rec = v1
    apply(mgr, {"memory": {"limit": -1}}, print, update=False)
    assert rec.last("memory.memsw.limit_in_bytes") == "-1" and rec.last("memory.limit_in_bytes") == "-1"


def test_v1_zero_means_unset_but_pids_zero_is_a_limit(v1: tuple[Manager, Recorder]) -> None:
    mgr, rec = v1
    apply(
        mgr,
        {"memory": {"limit": 0, "swap": 0}, "cpu": {"shares": 0, "quota": 0}, "pids": {"limit": 0}},
        print,
        update=False,
    )
    assert rec.writes == [("pids/ctr/pids.max", "0")]
    rec.writes.clear()
    apply(mgr, {"pids": {"limit": 0}}, print, update=True)
    assert rec.writes == [], "update: zero is runc's unchanged"
    apply(mgr, {"pids": {"limit": -1}}, print, update=True)
    assert rec.writes == [("pids/ctr/pids.max", "max")]


def test_v1_cpu_shares_are_read_back(v1: tuple[Manager, Recorder], monkeypatch: pytest.MonkeyPatch) -> None:
    mgr, rec = v1

    def clamping(path: str, value: str, detail: Any = None) -> None:
        rec(path, "262144" if path.endswith("cpu.shares") else value)

    monkeypatch.setattr(res, "write_value", clamping)
    with pytest.raises(CgroupError, match="the maximum allowed cpu-shares is 262144"):
        apply(mgr, {"cpu": {"shares": 1 << 20}}, print, update=False)


def test_v1_period_refused_before_quota_is_retried(
    v1: tuple[Manager, Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    mgr, rec = v1
    calls: list[str] = []

    def picky(path: str, value: str, detail: Any = None) -> None:
        name = path.rsplit("/", 1)[1]
        calls.append(name)
        if name == "cpu.cfs_period_us" and "cpu.cfs_quota_us" not in calls:
            raise CgroupWriteError(path, value, 22)
        rec(path, value)

    monkeypatch.setattr(res, "write_value", picky)
    apply(mgr, {"cpu": {"quota": 1000, "period": 10000}}, print, update=True)
    assert calls == ["cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.cfs_period_us"]
    assert rec.last("cpu.cfs_period_us") == "10000"


def test_v1_bfq_weight_files_without_blkio_weight(v1: tuple[Manager, Recorder]) -> None:
    mgr, rec = v1
    d = Path(mgr.paths["blkio"])
    (d / "blkio.weight").unlink()
    (d / "blkio.bfq.weight").write_text("100\n")
    (d / "blkio.bfq.weight_device").write_text("")
    apply(
        mgr,
        {"blockIO": {"weight": 500, "weightDevice": [{"major": 7, "minor": 0, "weight": 50}]}},
        print,
        update=False,
    )
    assert rec.writes == [
        ("blkio/ctr/blkio.bfq.weight", "500"),
        ("blkio/ctr/blkio.bfq.weight_device", "7:0 50"),
    ]


def test_v1_missing_controllers_are_errors(v1: tuple[Manager, Recorder]) -> None:
    mgr, _ = v1
    del mgr.paths["net_cls,net_prio"], mgr.paths["rdma"], mgr.paths["hugetlb"]
    with pytest.raises(CgroupError, match="no net_cls cgroup hierarchy is mounted"):
        apply(mgr, {"network": {"classID": 1}}, print, update=False)
    with pytest.raises(CgroupError, match="no net_prio cgroup hierarchy"):
        apply(mgr, {"network": {"priorities": [{"name": "lo", "priority": 1}]}}, print, update=False)
    with pytest.raises(CgroupError, match="rdma controller is mounted neither"):
        apply(mgr, {"rdma": {"mlx4_0": {"hcaHandles": 1}}}, print, update=False)
    with pytest.raises(CgroupError, match="hugetlb controller is mounted neither"):
        apply(mgr, {"hugepageLimits": [{"pageSize": "2MB", "limit": 1}]}, print, update=False)
    with pytest.raises(CgroupError, match="cgroup v1 only"):
        apply(mgr, {"unified": {"cgroup.max.depth": "2"}}, print, update=False)


def test_v1_unknown_page_size(v1: tuple[Manager, Recorder]) -> None:
    mgr, _ = v1
    with pytest.raises(CgroupError, match="no 64KB huge pages"):
        apply(mgr, {"hugepageLimits": [{"pageSize": "64KB", "limit": 1}]}, print, update=False)


def test_v1_swappiness_range(v1: tuple[Manager, Recorder]) -> None:
    mgr, _ = v1
    with pytest.raises(InvalidSpec, match="invalid memory swappiness value: 101"):
        apply(mgr, {"memory": {"swappiness": 101}}, print, update=False)


def test_v1_kernel_memory_where_the_kernel_has_no_file(v1: tuple[Manager, Recorder]) -> None:
    mgr, rec = v1
    assert warnings_of(mgr, {"memory": {"kernel": 1 << 20}}) == [
        "$.linux.resources.memory.kernel ignored: this kernel has no memory.kmem.limit_in_bytes"
    ]
    (Path(mgr.paths["memory"]) / "memory.kmem.limit_in_bytes").write_text("0")
    assert warnings_of(mgr, {"memory": {"kernel": 1 << 20}}) == []
    assert rec.last("memory.kmem.limit_in_bytes") == str(1 << 20)


def test_v1_memory_busy_error_names_file_value_and_usage(
    v1: tuple[Manager, Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    mgr, _ = v1
    d = Path(mgr.paths["memory"])
    (d / "memory.usage_in_bytes").write_text("2125824\n")
    (d / "memory.max_usage_in_bytes").write_text("2252800\n")

    def busy(path: str, value: str, detail: Any = None) -> None:
        raise CgroupWriteError(path, value, 16, detail() if detail else "")

    monkeypatch.setattr(res, "write_value", busy)
    with pytest.raises(CgroupWriteError) as info:
        apply(mgr, {"memory": {"limit": 1048576}}, print, update=True)
    assert str(info.value) == (
        f"write `{d}/memory.limit_in_bytes` (1048576): Device or resource busy "
        "(current usage: 2125824, peak usage: 2252800)"
    )


def test_v2_every_field(v2: tuple[Manager, Recorder]) -> None:
    mgr, rec = v2
    warnings = warnings_of(mgr, {**FULL, "unified": {"cgroup.max.descendants": "5"}})
    assert rec.last("memory.max") == str(1 << 26)
    assert rec.last("memory.swap.max") == str((1 << 27) - (1 << 26)), "v2 swap excludes memory"
    assert rec.last("memory.low") == str(1 << 25)
    assert rec.last("cpu.weight") == "20", "512 shares -> weight 20 (runc's conversion)"
    assert rec.last("cpu.max") == "50000 100000"
    assert rec.last("cpu.max.burst") == "10000"
    assert rec.last("cpu.idle") == "1"
    assert rec.last("cpuset.cpus") == "0-1" and rec.last("cpuset.mems") == "0"
    assert rec.last("pids.max") == "42"
    assert rec.all("io.weight") == [str(res.blkio_to_io_weight(300)), f"8:0 {res.blkio_to_io_weight(400)}"]
    assert rec.all("io.max") == ["8:0 rbps=1048576", "8:0 wbps=2097152", "8:16 riops=100", "8:16 wiops=200"]
    assert rec.last("hugetlb.2MB.max") == "4194304" and rec.last("hugetlb.2MB.rsvd.max") == "4194304"
    assert rec.last("rdma.max") == "mlx5_1 hca_handle=3 hca_object=10000"
    assert rec.last("cgroup.max.descendants") == "5"
    ignored = sorted(w.split()[0].removeprefix("$.linux.resources.") for w in warnings)
    assert ignored == [
        "blockIO.leafWeight",
        "cpu.realtimeRuntime/realtimePeriod",
        "memory.disableOOMKiller",
        "memory.kernelTCP",
        "memory.swappiness",
        "network",
    ], warnings


def test_v2_bfq_weight(v2: tuple[Manager, Recorder]) -> None:
    mgr, rec = v2
    (Path(mgr.paths[""]) / "io.bfq.weight").write_text("default 100\n")
    apply(
        mgr,
        {"blockIO": {"weight": 300, "weightDevice": [{"major": 8, "minor": 0, "weight": 50}]}},
        print,
        update=False,
    )
    assert rec.all("io.bfq.weight") == ["300", "8:0 50"]


@pytest.mark.parametrize(
    "swap, limit, expected",
    [(None, -1, -1), (None, 100, None), (-1, 100, -1), (300, 100, 200), (100, 100, 0)],
)
def test_swap_conversion(swap: int | None, limit: int | None, expected: int | None) -> None:
    assert res.swap_to_v2(swap, limit) == expected


@pytest.mark.parametrize(
    "swap, limit, match", [(300, None, "without memory limit"), (50, 100, "should be >=")]
)
def test_swap_conversion_errors(swap: int, limit: int | None, match: str) -> None:
    with pytest.raises(CgroupError, match=match):
        res.swap_to_v2(swap, limit)


def test_weight_conversions() -> None:
    assert [res.shares_to_weight(s) for s in (0, 2, 1024, 262144)] == [0, 1, 39, 10000]
    assert [res.blkio_to_io_weight(w) for w in (0, 10, 500, 1000)] == [0, 1, 4950, 10000]


def test_v2_update_keeps_the_other_half_of_cpu_max(v2: tuple[Manager, Recorder]) -> None:
    mgr, rec = v2
    (Path(mgr.paths[""]) / "cpu.max").write_text("20000 50000\n")
    apply(mgr, {"cpu": {"quota": 30000}}, print, update=True)
    assert rec.last("cpu.max") == "30000 50000"
    apply(mgr, {"cpu": {"period": 200000}}, print, update=True)
    assert rec.last("cpu.max") == "30000 200000"
    apply(mgr, {"cpu": {"quota": -1}}, print, update=True)
    assert rec.last("cpu.max") == "max 200000"


def test_v2_check_before_update(v2: tuple[Manager, Recorder]) -> None:
    mgr, rec = v2
    (Path(mgr.paths[""]) / "memory.current").write_text("5000000\n")
    with pytest.raises(CgroupError, match="current usage: 5000000"):
        apply(mgr, {"memory": {"limit": 4000000, "checkBeforeUpdate": True}}, print, update=True)
    assert rec.writes == []
    apply(mgr, {"memory": {"limit": 4000000}}, print, update=True)  # v2 itself would OOM-kill
    assert rec.last("memory.max") == "4000000"


def test_v2_swap_update_uses_the_current_limit(v2: tuple[Manager, Recorder]) -> None:
    mgr, rec = v2
    (Path(mgr.paths[""]) / "memory.max").write_text("1000\n")
    apply(mgr, {"memory": {"swap": 3000}}, print, update=True)
    assert rec.writes == [("ctr/memory.swap.max", "2000")]


def test_v2_missing_controller_is_named(v2: tuple[Manager, Recorder]) -> None:
    mgr, _ = v2
    (Path(mgr.paths[""]) / "cgroup.controllers").write_text("cpu memory\n")
    with pytest.raises(CgroupError, match="the misc controller is not available"):
        apply(mgr, {"unified": {"misc.max": "x 1"}}, print, update=False)
    with pytest.raises(InvalidSpec, match="must be a file name"):
        apply(mgr, {"unified": {"../memory.max": "1"}}, print, update=False)


def test_update_says_which_file_breaks_a_check() -> None:
    with pytest.raises(InvalidArgument, match=r"^invalid resources JSON in r\.json: \$\.linux\.resources\.memory\.swappiness: "):
        update.typed({"memory": {"swappiness": 101}}, "r.json")


# -- statistics -------------------------------------------------------------------------------------


def test_v1_stats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {
        "cpuacct/cpuacct.usage": "3000\n",
        "cpuacct/cpuacct.usage_percpu": "1000 2000 \n",
        "cpuacct/cpuacct.stat": "user 3\nsystem 5\n",
        "cpuacct/cpuacct.usage_all": "cpu user system\n0 600 400\n1 1500 500\n",
        "cpu/cpu.stat": "nr_periods 10\nnr_throttled 2\nthrottled_time 777\n",
        "memory/memory.stat": "cache 4096\nrss 8192\n",
        "memory/memory.usage_in_bytes": "12288\n",
        "memory/memory.max_usage_in_bytes": "20000\n",
        "memory/memory.failcnt": "1\n",
        "memory/memory.limit_in_bytes": "67108864\n",
        "pids/pids.current": "3\n",
        "pids/pids.max": "max\n",
        "blkio/blkio.throttle.io_service_bytes": "7:0 Read 4096\n7:0 Write 0\nTotal 4096\n",
        "blkio/blkio.throttle.io_serviced": "7:0 Read 1\nTotal 1\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(stats, "page_sizes", lambda: [])
    mgr = Manager({k: str(tmp_path / k) for k in ("cpuacct", "cpu", "memory", "pids", "blkio")})
    s = stats.collect(mgr)
    assert s["cpu"] == {
        "usage": {
            "total": 3000,
            "percpu": [1000, 2000],
            "percpu_kernel": [400, 500],
            "percpu_user": [600, 1500],
            "kernel": 50_000_000,
            "user": 30_000_000,
        },
        "throttling": {"periods": 10, "throttledPeriods": 2, "throttledTime": 777},
    }
    assert s["memory"]["usage"] == {"limit": 67108864, "usage": 12288, "max": 20000, "failcnt": 1}
    assert s["memory"]["cache"] == 4096 and s["memory"]["raw"] == {"cache": 4096, "rss": 8192}
    assert s["memory"]["swap"] == {"limit": 0, "failcnt": 0}, "no memsw files: zero (omitempty)"
    assert s["pids"] == {"current": 3}
    assert s["blkio"] == {
        "ioServicedRecursive": [{"major": 7, "op": "Read", "value": 1}],
        "ioServiceBytesRecursive": [{"major": 7, "op": "Read", "value": 4096}, {"major": 7, "op": "Write"}],
    }
    assert s["hugetlb"] == {} and s["intel_rdt"] == {} and s["network_interfaces"] is None


def test_v2_stats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {
        "pids.current": "2\n",
        "pids.max": "10\n",
        "memory.current": "1000\n",
        "memory.max": "max\n",
        "memory.stat": "anon 600\nfile 400\n",
        "memory.swap.current": "0\n",
        "memory.swap.max": "max\n",
        "cpu.stat": "usage_usec 5\nuser_usec 3\nsystem_usec 2\nnr_periods 1\nnr_throttled 0\n"
        "throttled_usec 0\n",
        "io.stat": "7:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n",
        "hugetlb.2MB.current": "0\n",
        "hugetlb.2MB.events": "max 3\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(stats, "page_sizes", lambda: ["2MB", "1GB"])
    s = stats.collect(Manager({"": str(tmp_path)}))
    assert s["pids"] == {"current": 2, "limit": 10}
    assert s["memory"]["usage"] == {"limit": stats.MAX_UINT64, "usage": 1000, "failcnt": 0}
    assert s["memory"]["swap"] == {"limit": stats.MAX_UINT64, "usage": 1000, "failcnt": 0}
    assert s["memory"]["cache"] == 400
    assert s["cpu"] == {"usage": {"total": 5000, "kernel": 2000, "user": 3000}, "throttling": {"periods": 1}}
    assert s["blkio"]["ioServiceBytesRecursive"] == [
        {"major": 7, "op": "Read", "value": 4096},
        {"major": 7, "op": "Write"},
    ]
    assert s["hugetlb"] == {"2MB": {"failcnt": 3}}


def test_page_size_names() -> None:
    assert all(size.endswith(("KB", "MB", "GB")) for size in stats.page_sizes())


# -- update and events parsing ----------------------------------------------------------------------


def test_update_flags_to_resources() -> None:
    opts = {
        "memory": "64m",
        "memory_swap": "-1",
        "memory_reservation": "1.5k",
        "cpu_quota": "-1",
        "cpu_period": "100000",
        "cpu_share": "512",
        "cpuset_cpus": "0",
        "blkio_weight": 300,
        "pids_limit": 20,
        "cpu_idle": "1",
        "cpu_burst": "10",
    }
    assert update.resources_from_flags(opts) == {
        "memory": {"limit": 64 << 20, "swap": -1, "reservation": 1536},
        "cpu": {"period": 100000, "shares": 512, "burst": 10, "quota": -1, "idle": 1, "cpus": "0"},
        "blockIO": {"weight": 300},
        "pids": {"limit": 20},
    }
    assert update.resources_from_flags({}) == {}


@pytest.mark.parametrize(
    "opts, match",
    [
        ({"memory": "lots"}, "invalid value for memory: invalid size: 'lots'"),
        ({"cpu_period": "-5"}, 'invalid value for cpu-period: strconv.ParseUint: parsing "-5"'),
        ({"cpu_quota": "1.5"}, "invalid value for cpu-quota: strconv.ParseInt"),
    ],
)
def test_update_flag_errors(opts: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidArgument, match=match):
        update.resources_from_flags(opts)


def test_update_resources_file(tmp_path: Path) -> None:
    good = tmp_path / "r.json"
    good.write_text('{"memory": {"limit": 1024}, "pids": {"limit": 3}}')
    assert update.resources_from_file(str(good)) == {"memory": {"limit": 1024}, "pids": {"limit": 3}}
    bad = tmp_path / "bad.json"
    bad.write_text('{"memory": {"limit": "x"}}')
    with pytest.raises(InvalidArgument, match=r"\$\.memory\.limit"):
        update.resources_from_file(str(bad))


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("5s", 5.0),
        ("100ms", 0.1),
        ("1m30s", 90.0),
        ("1.5s", 1.5),
        ("2h", 7200.0),
        ("250us", 0.00025),
        ("0", 0.0),
        ("-1s", -1.0),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert events.parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "s", "5x", "1..2s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(InvalidArgument, match="for flag -interval"):
        events.parse_duration(text)


def test_hierarchy_repr() -> None:
    assert "memory" in repr(Hierarchy("memory", "/sys/fs/cgroup/memory", 1, "/"))


# -- ownership ------------------------------------------------------------------------------------


def _spec(**linux: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "ociVersion": "1.3.0",
        "root": {"path": "rootfs"},
        "process": {"args": ["sh"], "cwd": "/", "user": {"uid": 1000, "gid": 1000}},
        "mounts": [
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid"]}
        ],
        "linux": {"namespaces": [{"type": "cgroup"}, {"type": "mount"}], **linux},
    }
    return cfg


def test_delegate_uid_follows_the_spec_rules() -> None:
    from ocirun.spec.model import Spec

    cfg = _spec()
    assert cgroups.delegate_uid(Spec.from_json(cfg)) == 1000
    mapped = _spec(
        uidMappings=[{"containerID": 0, "hostID": 100000, "size": 65536}],
        gidMappings=[{"containerID": 0, "hostID": 100000, "size": 65536}],
    )
    mapped["linux"]["namespaces"].append({"type": "user"})
    assert cgroups.delegate_uid(Spec.from_json(mapped)) == 101000
    for change in (
        lambda c: c["process"]["user"].update(uid=0),  # root: nothing to hand over
        lambda c: c["mounts"][0]["options"].append("ro"),  # read-only mount
        lambda c: c["linux"].update(namespaces=[{"type": "mount"}]),  # no cgroup namespace
        lambda c: c["linux"]["namespaces"][0].update(path="/proc/1/ns/cgroup"),  # joined one
        lambda c: c.update(mounts=[]),  # no cgroup mount
    ):
        cfg = _spec()
        change(cfg)
        assert cgroups.delegate_uid(Spec.from_json(cfg)) is None


def test_delegate_chowns_the_directory_and_the_delegated_files(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("chown to another user needs root")
    d = tmp_path / "ctr"
    d.mkdir()
    for name in ("cgroup.procs", "cgroup.threads", "memory.max"):
        (d / name).write_text("")
    Manager({"": str(d)}).delegate(1234)
    assert d.stat().st_uid == 1234 and (d / "cgroup.procs").stat().st_uid == 1234
    assert (d / "memory.max").stat().st_uid == 0, "a limit is not the container's to change"
    Manager({"memory": str(d / "x")}).delegate(1234)  # v1: never
    Manager({"": str(d)}).delegate(None)


# ---------------------------------------------------------------------------- an existing cgroup


def _fake_cgroup(path: Path, **files: str) -> str:
    path.mkdir(parents=True)
    for name, text in {"cgroup.procs": "", **files}.items():
        (path / name.replace("_", ".", 1)).write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("key", "files", "frozen"),
    [
        ("freezer", {"freezer_state": "FROZEN\n", "freezer_self_freezing": "1\n"}, True),
        ("freezer", {"freezer_state": "FREEZING\n", "freezer_self_freezing": "1\n"}, True),
        ("freezer", {"freezer_state": "FROZEN\n", "freezer_self_freezing": "0\n"}, False),  # by an ancestor
        ("freezer", {"freezer_state": "THAWED\n", "freezer_self_freezing": "0\n"}, False),
        ("", {"cgroup_freeze": "1\n"}, True),  # cgroup v2, or a hybrid host's cgroup2 hierarchy
        ("", {"cgroup_freeze": "0\n"}, False),
        ("memory", {}, False),
    ],
)
def test_check_unused_refuses_a_frozen_cgroup(tmp_path: Path, key: str, files: dict[str, str], frozen: bool) -> None:
    m = Manager({key: _fake_cgroup(tmp_path / "c", **files), "pids": str(tmp_path / "none")})
    if frozen:
        with pytest.raises(CgroupError, match=r"^container's cgroup unexpectedly frozen$"):
            m.check_unused()
    else:
        m.check_unused()


def test_check_unused_refuses_a_cgroup_with_processes(tmp_path: Path) -> None:
    top = _fake_cgroup(tmp_path / "c")
    _fake_cgroup(tmp_path / "c" / "sub", **{"cgroup_procs": "12\n13\n"})
    m = Manager({"pids": top, "": str(tmp_path / "none")})
    with pytest.raises(CgroupError, match=r"^container's cgroup is not empty: 2 process\(es\) found$"):
        m.check_unused()
    Manager({"pids": str(tmp_path / "none")}).check_unused()  # a new cgroup
