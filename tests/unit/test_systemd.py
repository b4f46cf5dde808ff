"""The systemd cgroup driver's pure parts: cgroupsPath parsing, slice expansion, the unit
properties for linux.resources (ocirun.cgroups.systemd), and its errors where systemd is not."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ocirun.cgroups import systemd as sd
from ocirun.errors import CgroupError, InvalidSpec, OciRunError

INF = (1 << 64) - 1


@pytest.mark.parametrize(
    "slice_, path",
    [("system.slice", "/system.slice"), ("a-b.slice", "/a.slice/a-b.slice"),
     ("a-b-c.slice", "/a.slice/a-b.slice/a-b-c.slice"), ("-.slice", "/")],
)
def test_expand_slice(slice_: str, path: str) -> None:
    assert sd.expand_slice(slice_) == path


@pytest.mark.parametrize("slice_", ["system", ".slice", "a--b.slice", "-a.slice", "a-.slice", "a/b.slice"])
def test_bad_slices(slice_: str) -> None:
    with pytest.raises(InvalidSpec, match=r"\$\.linux\.cgroupsPath: invalid slice name"):
        sd.expand_slice(slice_)


@pytest.mark.parametrize(
    "cgroups_path, name, path",
    [
        ("system.slice:docker:abc", "docker-abc.scope", "/sys/fs/cgroup/system.slice/docker-abc.scope"),
        (":libpod:abc", "libpod-abc.scope", "/sys/fs/cgroup/system.slice/libpod-abc.scope"),
        ("kubepods-besteffort-pod1.slice:cri-containerd:x", "cri-containerd-x.scope",
         "/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/"
         "cri-containerd-x.scope"),
        ("machine.slice::x.slice", "x.slice", "/sys/fs/cgroup/machine.slice/x.slice"),
        ("-.slice:p:n", "p-n.scope", "/sys/fs/cgroup/p-n.scope"),
        (None, "ocirun-c1.scope", "/sys/fs/cgroup/system.slice/ocirun-c1.scope"),
        ("", "ocirun-c1.scope", "/sys/fs/cgroup/system.slice/ocirun-c1.scope"),
    ],
)
def test_parse(cgroups_path: str | None, name: str, path: str) -> None:
    unit = sd.parse(cgroups_path, "c1")
    assert (unit.name, unit.path) == (name, path)


@pytest.mark.parametrize(
    "cgroups_path, message",
    [
        ("a:b", "expected slice:prefix:name"),
        ("a.slice:b:c:d", "expected slice:prefix:name"),
        ("/ocirun/c1", "expected slice:prefix:name"),
        ("system:p:n", "invalid slice name 'system'"),
        ("system.slice:p:", "has no name"),
        ("system.slice:p:a/b", "invalid character '/' in the name"),
        ("system.slice:p q:n", "invalid character ' ' in the prefix"),
        ("system.slice:p:n" + "x" * 260, "longer than 255"),
        ("system.slice::a--b.slice", "invalid slice name 'a--b.slice'"),
    ],
)
def test_malformed(cgroups_path: str, message: str) -> None:
    with pytest.raises(InvalidSpec) as e:
        sd.parse(cgroups_path, "c1")
    assert "$.linux.cgroupsPath: " in str(e.value) and message in str(e.value)
    assert "\n" not in str(e.value)


def props(resources: dict[str, object], update: bool = False) -> dict[str, tuple[str, object]]:
    found, _ = sd.properties(resources, lambda msg: None, update=update)
    return {name: value for name, value in found if not name.startswith("Device")}


def test_resources_as_properties() -> None:
    got = props({
        "memory": {"limit": 64 << 20, "reservation": 16 << 20, "swap": 96 << 20},
        "cpu": {"shares": 512, "quota": 20000, "period": 50000, "cpus": "0-2,7", "mems": "0"},
        "pids": {"limit": 33},
        "blockIO": {"weight": 500, "weightDevice": [{"major": 7, "minor": 0, "weight": 100}],
                    "throttleReadBpsDevice": [{"major": 7, "minor": 0, "rate": 1024}],
                    "throttleWriteIOPSDevice": [{"major": 7, "minor": 0, "rate": 30}]},
    })
    assert got == {
        "MemoryMax": ("t", 64 << 20),
        "MemoryLow": ("t", 16 << 20),
        "MemorySwapMax": ("t", 32 << 20),
        "CPUWeight": ("t", 20),
        "CPUQuotaPeriodUSec": ("t", 50000),
        "CPUQuotaPerSecUSec": ("t", 400000),
        "TasksMax": ("t", 33),
        "AllowedCPUs": ("ay", bytes([0b10000111])),
        "AllowedMemoryNodes": ("ay", b"\x01"),
        "IOWeight": ("t", 4950),
        "IODeviceWeight": ("a(st)", [("/dev/block/7:0", 910)]),
        "IOReadBandwidthMax": ("a(st)", [("/dev/block/7:0", 1024)]),
        "IOWriteIOPSMax": ("a(st)", [("/dev/block/7:0", 30)]),
    }


def test_unlimited_and_zero() -> None:
    assert props({"memory": {"limit": -1, "swap": -1}, "pids": {"limit": -1}}) == {
        "MemoryMax": ("t", INF), "MemorySwapMax": ("t", INF), "TasksMax": ("t", INF)}
    assert props({"pids": {"limit": 0}}) == {"TasksMax": ("t", 1)}, "systemd takes no 0"
    assert props({"pids": {"limit": 0}}, update=True) == {}, "update: 0 is unchanged"
    assert props({"cpu": {"quota": -1}}) == {"CPUQuotaPerSecUSec": ("t", INF)}


def test_cpu_quota_is_rounded_to_whole_percents_on_both_sides() -> None:
    found, res = sd.properties({"cpu": {"quota": 12345, "period": 100000}}, lambda msg: None)
    assert ("CPUQuotaPerSecUSec", ("t", 130000)) in found
    assert res["cpu"]["quota"] == 13000, "cgroupfs gets what systemd has"


def test_unified_as_properties() -> None:
    got = props({"unified": {"memory.high": "1000", "memory.max": "max", "pids.max": "9", "cpu.weight": "50",
                             "cpu.max": "max 20000", "cpuset.cpus": "1", "io.max": "ignored"}})
    assert got == {"MemoryHigh": ("t", 1000), "MemoryMax": ("t", INF), "TasksMax": ("t", 9),
                   "CPUWeight": ("t", 50), "CPUQuotaPeriodUSec": ("t", 20000),
                   "CPUQuotaPerSecUSec": ("t", INF), "AllowedCPUs": ("ay", b"\x02")}
    with pytest.raises(InvalidSpec, match=r"unified\['memory.high'\]"):
        props({"unified": {"memory.high": "lots"}})


def test_device_properties() -> None:
    warnings: list[str] = []
    allow_all = sd.device_properties([{"allow": True, "access": "rwm"}], warnings.append)
    assert allow_all == [("DevicePolicy", ("s", "auto")), ("DeviceAllow", ("a(ss)", []))]
    found = dict(sd.device_properties([], warnings.append))
    assert found["DevicePolicy"] == ("s", "strict")
    entries = dict(found["DeviceAllow"][1])  # type: ignore[arg-type]
    assert entries["char-*"] == "m" and entries["block-*"] == "m" and entries["char-136"] == "rwm"
    if Path("/sys/dev/char/1:3").exists():
        assert entries["/dev/char/1:3"] == "rwm"
    if not Path("/sys/dev/char/10:200").exists():
        assert "/dev/char/10:200" not in entries and any("10:200" in w for w in warnings)
    deny = sd.device_properties([{"allow": True}, {"allow": False, "type": "c", "major": 4, "minor": 1}],
                                warnings.append)
    assert deny == [("DevicePolicy", ("s", "strict")), ("DeviceAllow", ("a(ss)", []))]


def test_range_to_bits() -> None:
    assert sd.range_to_bits("0", "x") == b"\x01"
    assert sd.range_to_bits("8-9", "x") == b"\x00\x03"
    with pytest.raises(InvalidSpec, match=r"\$\.linux\.resources\.cpu\.cpus"):
        sd.range_to_bits("1-a", "$.linux.resources.cpu.cpus")


def test_unit_properties() -> None:
    scope = sd.parse("system.slice:p:n", "c1")
    got = dict(sd.unit_properties(scope, 42, "ocirun container c1"))
    assert got["Slice"] == ("s", "system.slice") and got["Delegate"] == ("b", True)
    assert got["PIDs"] == ("au", [42]) and got["DefaultDependencies"] == ("b", False)
    sl = dict(sd.unit_properties(sd.parse("machine.slice::x.slice", "c1"), 42, "d"))
    assert sl["Wants"] == ("as", ["machine.slice"]) and "Delegate" not in sl


def test_bus_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SYSTEM_BUS_ADDRESS", raising=False)
    assert sd.bus_socket() == "/run/dbus/system_bus_socket"
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "tcp:host=x;unix:path=/run/x/bus,guid=1")
    assert sd.bus_socket() == "/run/x/bus"


def test_unreachable_bus_names_the_socket(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    sock = str(tmp_path / "no-bus")
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={sock}")
    with pytest.raises(CgroupError, match=f"cannot reach systemd over D-Bus at {sock}: No such file"):
        sd.Bus()


@pytest.mark.skipif(Path("/run/systemd/system").is_dir(), reason="systemd is running here")
def test_check_host_without_systemd() -> None:
    with pytest.raises(OciRunError, match="systemd is not running here"):
        sd.check_host()


def test_jeepney_only_with_systemd_cgroup() -> None:
    """The verbs' modules import neither jeepney nor the driver (it is imported on its path only)."""
    code = ("import sys, ocirun.cli, ocirun.cgroups, ocirun.lifecycle.creating, ocirun.lifecycle.run, "
            "ocirun.lifecycle.update, ocirun.lifecycle.delete, ocirun.lifecycle.teardown, ocirun.lifecycle.exec_; "
            "print(sorted(m for m in sys.modules if 'jeepney' in m or m == 'ocirun.cgroups.systemd'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}).stdout
    assert out.strip() == "[]"


OCIRUN = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "ocirun"


@pytest.mark.skipif(not OCIRUN.exists(), reason="ocirun is not installed in .venv")
@pytest.mark.parametrize(
    "cgroups_path, message",
    [("a:b", r'\$\.linux\.cgroupsPath: expected slice:prefix:name'),
     ("system.slice:p:n!", r"\$\.linux\.cgroupsPath: invalid character '!' in the name"),
     ("system.slice:p:ok", r"--systemd-cgroup: (systemd is not running here|only on cgroup v2)")],
)
def test_create_refuses_in_one_line_and_leaves_nothing(tmp_path: Path, cgroups_path: str, message: str) -> None:
    if "ok" in cgroups_path and Path("/run/systemd/system").is_dir():
        pytest.skip("systemd is running here")
    (tmp_path / "b" / "rootfs").mkdir(parents=True)
    config = {"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "process": {"args": ["sh"], "cwd": "/"},
              "linux": {"namespaces": [{"type": "mount"}], "cgroupsPath": cgroups_path}}
    (tmp_path / "b" / "config.json").write_text(json.dumps(config))
    root = tmp_path / "root"
    res = subprocess.run([str(OCIRUN), "--root", str(root), "--systemd-cgroup", "create", "-b", str(tmp_path / "b"),
                          "c1"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(message, lines[0]), res.stderr
    assert not root.exists() or not [n for n in os.listdir(root) if not n.startswith(".")]


def test_annotation_properties() -> None:
    """org.systemd.property.NAME annotations as runc takes them: in name order, others ignored, a
    lower-case letter then "Sec" is seconds sent as USec; bad ones name the annotation."""
    props = sd.annotation_properties({
        "org.systemd.property.TimeoutStopSec": "5",
        "org.systemd.property.CollectMode": "'inactive-or-failed'",
        "org.systemd.property.After": "['a.service']",
        "org.systemd.property.CPUQuotaPerSecUSec": "uint64 100000",   # USec: not converted
        "org.systemd.property.Sec": "5",   # no letter before "Sec": not seconds
        "org.example.other": "whatever",
    })
    assert props == [("After", ("as", ["a.service"])), ("CPUQuotaPerSecUSec", ("t", 100000)),
                     ("CollectMode", ("s", "inactive-or-failed")), ("Sec", ("i", 5)),
                     ("TimeoutStopUSec", ("t", 5_000_000))]
    for name, value, message in [("Ab", "1", "3 or more ASCII letters"), ("Tasks1", "1", "ASCII letters"),
                                 ("TasksMax", "uint64 -1", r"'uint64 -1': -1 is out of the range"),
                                 ("TimeoutStopSec", "'x'", "seconds must be a number")]:
        key = f"org.systemd.property.{name}"
        with pytest.raises(InvalidSpec, match=re.escape(f'$.annotations["{key}"]') + ".*" + message):
            sd.annotation_properties({key: value})
