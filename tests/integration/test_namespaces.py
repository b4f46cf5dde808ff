"""Namespaces: new ones differ from the host's, joined ones (linux.namespaces[].path) are
the target's; pid 1 is the user process; loopback is up in a new network namespace."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

import pytest

from .support import Bundle, NamespaceHolder, Runtime, expect_error, host_ns_inode, probe_args

# config type -> name under /proc/<pid>/ns
NS_FILES = {"pid": "pid", "mount": "mnt", "uts": "uts", "ipc": "ipc", "network": "net", "cgroup": "cgroup"}


@pytest.mark.parametrize("ns_type", list(NS_FILES))
def test_new_namespace(runtime: Runtime, bundle: Bundle, ns_type: str) -> None:
    inodes = runtime.run_probe(bundle, "ns")
    assert inodes[NS_FILES[ns_type]] != host_ns_inode(NS_FILES[ns_type])


@pytest.mark.parametrize("ns_type", ["uts", "ipc", "network", "cgroup", "pid"])
def test_no_namespace_shares_host(runtime: Runtime, bundle: Bundle, ns_type: str) -> None:
    bundle.linux["namespaces"] = [ns for ns in bundle.linux["namespaces"] if ns["type"] != ns_type]
    if ns_type == "uts":
        assert bundle.config is not None
        del bundle.config["hostname"]
    inodes = runtime.run_probe(bundle, "ns")
    assert inodes[NS_FILES[ns_type]] == host_ns_inode(NS_FILES[ns_type])


def test_hostname_without_uts_namespace_errors(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["namespaces"] = [ns for ns in bundle.linux["namespaces"] if ns["type"] != "uts"]
    res = runtime.try_create(bundle)
    expect_error(runtime, res, runc=r"unable to set hostname without a private UTS namespace",
                 ocirun=r"(?i)hostname.*uts namespace")
    assert runtime.leaks() == []


@pytest.mark.parametrize("ns_type", list(NS_FILES))
def test_join_namespace_by_path(runtime: Runtime, bundle: Bundle, ns_type: str) -> None:
    ns_file = NS_FILES[ns_type]
    with NamespaceHolder(ns_file) as holder:
        ns = bundle.namespace(ns_type)
        assert ns is not None
        ns["path"] = holder.path(ns_file)
        if ns_type == "uts":
            assert bundle.config is not None
            bundle.config["hostname"] = "joined-uts"
        report = runtime.run_probe(bundle, "all")
        assert report["ns"][ns_file] == holder.inode(ns_file)
        # the other namespaces are still new ones
        for other_type, other_file in NS_FILES.items():
            if other_type != ns_type:
                assert report["ns"][other_file] not in (holder.inode(other_file), host_ns_inode(other_file))
        if ns_type == "pid":
            assert report["pid"]["pid"] != 1, "pid 1 of a joined pid namespace is the holder"
        if ns_type == "network":
            assert set(report["net"]) == {"lo"}


def test_join_several_namespaces(runtime: Runtime, bundle: Bundle) -> None:
    with NamespaceHolder("net", "ipc", "uts") as holder:
        for ns_type in ("network", "ipc", "uts"):
            ns = bundle.namespace(ns_type)
            assert ns is not None
            ns["path"] = holder.path(NS_FILES[ns_type])
        inodes = runtime.run_probe(bundle, "ns")
        for ns_type in ("network", "ipc", "uts"):
            assert inodes[NS_FILES[ns_type]] == holder.inode(NS_FILES[ns_type])


def test_two_containers_share_a_netns(runtime: Runtime, bundle: Bundle,
                                      make_bundle: Callable[[str], Bundle]) -> None:
    """The usual pod layout: the second container joins the first one's namespaces."""
    bundle.set_args(*probe_args("sleep", "600"))
    first = runtime.create(bundle)
    pid = runtime.state(first)["pid"]
    second = make_bundle("second")
    for ns_type in ("network", "ipc", "uts"):
        ns = second.namespace(ns_type)
        assert ns is not None
        ns["path"] = f"/proc/{pid}/ns/{NS_FILES[ns_type]}"
    assert second.config is not None
    del second.config["hostname"]
    inodes = runtime.run_probe(second, "ns")
    for ns_type in ("network", "ipc", "uts"):
        name = NS_FILES[ns_type]
        assert inodes[name] == os.stat(f"/proc/{pid}/ns/{name}").st_ino
    assert inodes["pid"] != os.stat(f"/proc/{pid}/ns/pid").st_ino
    runtime.delete(first, force=True)


def test_pid1_is_the_user_process(runtime: Runtime, bundle: Bundle) -> None:
    report = runtime.run_probe(bundle, "pid")
    assert report["pid"] == 1
    assert report["ppid"] == 0


def test_state_pid_is_host_pid_of_init(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args(*probe_args("sleep", "600"))
    cid = runtime.create(bundle)
    runtime.start(cid)
    pid = runtime.state(cid)["pid"]
    with open(f"/proc/{pid}/status") as f:
        nspid = next(line for line in f if line.startswith("NSpid:")).split()[1:]
    assert nspid == [str(pid), "1"]
    runtime.delete(cid, force=True)


def test_loopback_up_in_new_netns(runtime: Runtime, bundle: Bundle) -> None:
    net = runtime.run_probe(bundle, "net")
    assert set(net) == {"lo"}, "a new network namespace has only loopback"
    assert net["lo"]["up"] and net["lo"]["loopback"]


def test_cgroup_namespace_root(runtime: Runtime, bundle: Bundle) -> None:
    """In a new cgroup namespace the container's own cgroup is its root: every line of
    /proc/self/cgroup ends in ':/'."""
    lines = runtime.run_probe(bundle, "cgroup")
    assert lines and all(line.endswith(":/") for line in lines), lines


def test_without_cgroup_namespace_sees_full_path(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["namespaces"] = [ns for ns in bundle.linux["namespaces"] if ns["type"] != "cgroup"]
    cid = runtime.new_id()
    bundle.set_args(*probe_args("cgroup"))
    status, out, err = runtime.run_container(bundle, cid)
    assert status == 0, err
    assert f":/ocirun-test/{cid}" in out


def test_hostname(runtime: Runtime, bundle: Bundle) -> None:
    assert bundle.config is not None
    bundle.config["hostname"] = "box1"
    assert runtime.run_probe(bundle, "hostname")["hostname"] == "box1"


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 ignores the spec's `domainname` (runc 1.2 sets it)")
def test_domainname(runtime: Runtime, bundle: Bundle) -> None:
    assert bundle.config is not None
    bundle.config["hostname"] = "box1"
    bundle.config["domainname"] = "example.org"
    assert runtime.run_probe(bundle, "hostname") == {"hostname": "box1", "domainname": "example.org"}


def test_hostname_does_not_leak_to_host(runtime: Runtime, bundle: Bundle) -> None:
    before = socket.gethostname()
    assert bundle.config is not None
    bundle.config["hostname"] = "not-the-host"
    runtime.run_probe(bundle, "hostname")
    assert socket.gethostname() == before


def _mounts_under(path: str) -> list[str]:
    real = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    return [p for p in points if p == real or p.startswith(real + "/")]


@pytest.mark.xfail_runtime("runc", "runc 1.1.5 leaves the mounts of a container without a mount namespace "
                                   "on the host after delete")
def test_no_namespaces_at_all(runtime: Runtime, bundle: Bundle) -> None:
    """Without a mount namespace the container shares the runtime's (runtime-tools linux_ns_itype):
    its mounts are made on the host under the rootfs, and delete takes them away."""
    bundle.linux["namespaces"] = []
    assert bundle.config is not None
    bundle.config.pop("hostname", None)
    bundle.set_args(*probe_args("sleep", "600"))
    cid = runtime.create(bundle)
    runtime.start(cid)
    pid = runtime.state(cid)["pid"]
    for ns in ("mnt", "pid", "net", "uts", "ipc"):
        assert os.stat(f"/proc/{pid}/ns/{ns}").st_ino == host_ns_inode(ns), ns
    assert _mounts_under(str(bundle.rootfs)), "the container's /proc, /dev ... are mounts on the host"
    runtime.delete(cid, force=True)
    assert _mounts_under(str(bundle.rootfs)) == []


@pytest.mark.xfail_runtime("runc", "runc 1.1.5 knows no time namespace (added in runc 1.2)")
def test_time_namespace_with_offsets(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["namespaces"].append({"type": "time"})
    bundle.linux["timeOffsets"] = {"boottime": {"secs": 86400 * 1000, "nanosecs": 0},
                                   "monotonic": {"secs": 3600, "nanosecs": 500}}
    inodes = runtime.run_probe(bundle, "ns")
    assert inodes["time"] != host_ns_inode("time")
    bundle.set_args("/bin/cat", "/proc/uptime")
    status, out, err = runtime.run_container(bundle)
    assert status == 0, err
    with open("/proc/uptime") as f:
        host = float(f.read().split()[0])
    assert float(out.split()[0]) - host > 86400 * 999
