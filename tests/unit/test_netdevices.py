"""The config-only checks of linux.netDevices (ocirun.spec.validate), the
name templates ocirun.network gives back, and cleanup.json keeping what delete must give back."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from ocirun import network
from ocirun.errors import InvalidSpec
from ocirun.spec import validate
from ocirun.spec.model import Spec
from ocirun.store import Cleanup, Store

BASE: dict[str, Any] = {
    "ociVersion": "1.3.0",
    "root": {"path": "rootfs"},
    "process": {"args": ["/bin/sh"], "cwd": "/"},
    "linux": {"namespaces": [{"type": "network"}, {"type": "mount"}]},
}


def check(**linux: Any) -> None:
    cfg = copy.deepcopy(BASE)
    cfg["linux"].update(linux)
    validate.check_for_create(Spec.from_json(cfg))


def refused(where: str, **linux: Any) -> str:
    with pytest.raises(InvalidSpec) as e:
        check(**linux)
    assert e.value.path == where, str(e.value)
    return e.value.reason


def test_valid_net_devices() -> None:
    check(netDevices={"eth0": {}, "eth1": {"name": "ceth1"}, "eth2": {"name": "net%d"}, "eth3": {"name": "net%d"}})


@pytest.mark.parametrize(("devices", "where", "why"), [
    ({"a/b": {}}, "$.linux.netDevices.a/b", "is not a network interface name"),
    ({"x" * 16: {}}, "$.linux.netDevices." + "x" * 16, "is not a network interface name"),
    ({"eth0": {"name": "has space"}}, "$.linux.netDevices.eth0.name", "is not a network interface name"),
    ({"eth0": {"name": "a%s%d"}}, "$.linux.netDevices.eth0.name", "is not a network interface name"),
    ({"eth0": {"name": ".."}}, "$.linux.netDevices.eth0.name", "is not a network interface name"),
    ({"eth0": {"name": "lo"}}, "$.linux.netDevices.eth0.name", "`lo` is taken"),
    ({"eth0": {"name": "x"}, "eth1": {"name": "x"}}, "$.linux.netDevices.eth1.name", "`x` is taken"),
    ({"eth0": {}, "eth1": {"name": "eth0"}}, "$.linux.netDevices.eth1.name", "by `eth0`"),
])
def test_bad_net_device_names(devices: dict[str, Any], where: str, why: str) -> None:
    assert why in refused(where, netDevices=devices)


def test_net_devices_need_a_new_network_namespace() -> None:
    assert "new network namespace" in refused("$.linux.netDevices", namespaces=[{"type": "mount"}],
                                              netDevices={"eth0": {}})
    why = refused("$.linux.netDevices", namespaces=[{"type": "network", "path": "/proc/1/ns/net"}],
                  netDevices={"eth0": {}})
    assert "not the existing `/proc/1/ns/net`" in why


def test_targets_and_templates() -> None:
    assert network.targets({"eth0": {}, "eth1": {"name": "c1"}, "eth2": {"name": ""}}) == {
        "eth0": "eth0", "eth1": "c1", "eth2": "eth2"}
    assert network._matches("net%d", "net12") and not network._matches("net%d", "net")
    assert not network._matches("net%d", "netx") and network._matches("x", "x") and not network._matches("x", "y")
    assert network._matches("a%db", "a0b") and not network._matches("a%db", "a0c")


def test_cleanup_keeps_net_devices_and_resctrl_dirs(tmp_path: Path) -> None:
    store = Store(str(tmp_path))
    store.new_dir("c1")
    store.save_cleanup("c1", Cleanup({}, "/r", True, "/b", "now", {"eth0": "c0"}, ["/sys/fs/resctrl/c1"]))
    got = store.load_cleanup("c1")
    assert got is not None and got.net_devices == {"eth0": "c0"} and got.resctrl_dirs == ["/sys/fs/resctrl/c1"]
    (tmp_path / "c1" / "cleanup.json").write_text('{"cgroup_paths": {}, "net_devices": ["eth0"]}')
    assert store.load_cleanup("c1") is None


def test_features_say_what_is_implemented() -> None:
    """`ocirun features`: netDevices, intelRdt and idmapped mounts implemented."""
    from ocirun.lifecycle.features import features

    linux = features()["linux"]
    assert linux["netDevices"] == {"enabled": True}
    assert linux["intelRdt"] == {"enabled": True, "schemata": True, "monitoring": True}
    assert linux["mountExtensions"] == {"idmap": {"enabled": True}}
