"""linux.netDevices (config-linux.md "Network Devices"): a host interface moved into the
container's network namespace, renamed, with its addresses and MTU, up; given back to the host
under its own name at delete (ocirun.network: also after delete --force and a crash); the
errors, each one line naming `$.linux.netDevices...`, nothing left and the device still on the
host.

The devices are veth pairs of the test's own (this host has no dummy driver), uniquely named
and removed afterwards.  runc 1.1.5 predates netDevices: it ignores them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from .support import SLOWDOWN, Bundle, NamespaceHolder, Runtime, expect_error, probe_args

RUNC_LACKS = "runc 1.1.5 predates linux.netDevices (runc 1.3): it ignores them"
ADDRESS = "10.213.{}.1/24"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


class Veth:
    """A veth pair on the host: ``name`` (with an address and MTU 1400) and its ``peer``."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:7]
        self.name, self.peer = f"ocv{tag}a", f"ocv{tag}b"
        self.address = ADDRESS.format(int(tag[:2], 16))
        _ip("link", "add", self.name, "type", "veth", "peer", "name", self.peer)
        try:
            _ip("addr", "add", self.address, "dev", self.name)
            _ip("link", "set", self.name, "mtu", "1400")
        except subprocess.CalledProcessError:
            self.remove()
            raise

    def on_host(self) -> dict[str, object] | None:
        """The device as the host sees it: name, mtu, addresses; None when it is not there."""
        res = _ip("-j", "addr", "show", "dev", self.name, check=False)
        if res.returncode != 0:
            return None
        (link,) = json.loads(res.stdout)
        return {"mtu": link["mtu"], "addresses": [f"{a['local']}/{a['prefixlen']}" for a in link["addr_info"]
                                                   if a["family"] == "inet"]}

    def remove(self) -> None:
        for name in (self.name, self.peer):
            _ip("link", "del", name, check=False)


@pytest.fixture
def veth() -> Iterator[Veth]:
    if shutil.which("ip") is None or shutil.which("nsenter") is None:
        pytest.skip("needs iproute2's ip and util-linux's nsenter")
    try:
        dev = Veth()
    except subprocess.CalledProcessError as e:
        pytest.skip(f"this host cannot make a veth pair: {e.stderr.strip()}")
    try:
        yield dev
    finally:
        dev.remove()


SHOW = "ip -o addr show dev {0}; ip -o link show dev {0}"


def _inside(out: str, name: str) -> tuple[list[str], int, bool]:
    """(IPv4 addresses, MTU, up) of ``name`` as `ip` inside the container printed them."""
    addrs = re.findall(rf"\d+: {re.escape(name)}\s+inet (\S+)", out)
    link = re.search(rf"\d+: {re.escape(name)}(?:@\S+)?: <([^>]*)> mtu (\d+)", out)
    assert link, out
    return addrs, int(link.group(2)), "UP" in link.group(1).split(",")


@pytest.mark.xfail_runtime("runc", RUNC_LACKS)
@pytest.mark.parametrize("rename", ["ceth0", "", "cnet%d"], ids=["renamed", "same-name", "template"])
def test_net_device_moved_in_and_given_back(runtime: Runtime, bundle: Bundle, veth: Veth, rename: str) -> None:
    """Inside: the device under its new name (``%d``: the kernel's first free number), with its
    address and MTU, up; on the host, gone meanwhile; after the container (run, then deleted) the
    device is back on the host under its own name with its address and MTU, and its peer is still
    there."""
    name = rename.replace("%d", "0") or veth.name
    bundle.linux["netDevices"] = {veth.name: {"name": rename}} if rename else {veth.name: {}}
    bundle.set_args("sh", "-c", SHOW.format(name) + f"; ip -o link show dev {veth.name} || echo gone")
    status, out, err = runtime.run_container(bundle)
    assert status == 0, err
    assert _inside(out, name) == ([veth.address], 1400, True)
    if rename:
        assert out.strip().endswith("gone")
    assert veth.on_host() == {"mtu": 1400, "addresses": [veth.address]}
    assert _ip("link", "show", "dev", veth.peer, check=False).returncode == 0
    assert runtime.leaks() == []


@pytest.mark.xfail_runtime("runc", RUNC_LACKS)
@pytest.mark.parametrize("how", ["created", "running-force", "exited"])
def test_net_device_given_back_at_delete(runtime: Runtime, bundle: Bundle, veth: Veth, how: str) -> None:
    """A created container deleted, a running one deleted with --force, one whose program has
    exited (its network namespace would be gone, and a veth with it): the device is in the
    container until the delete, then back on the host."""
    bundle.linux["netDevices"] = {veth.name: {"name": "inner0"}}
    bundle.set_args(*probe_args("exit", "0") if how == "exited" else probe_args("sleep", "60"))
    cid = runtime.create(bundle)
    pid = runtime.state(cid)["pid"]
    inside = subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", "ip", "-o", "link", "show", "dev", "inner0"],
                            capture_output=True, text=True)
    assert inside.returncode == 0, inside.stderr
    assert veth.on_host() is None
    if how != "created":
        runtime.start(cid)
    if how == "exited":
        runtime.wait_status(cid, "stopped")
    runtime.delete(cid, force=how == "running-force")
    assert veth.on_host() == {"mtu": 1400, "addresses": [veth.address]}
    assert runtime.leaks() == []


def test_net_device_given_back_after_a_crash(runtime: Runtime, bundle: Bundle, veth: Veth) -> None:
    """ocirun killed once the devices are moved (create:ready) and its state.json damaged:
    `delete --force` gives the device back from cleanup.json."""
    if runtime.name != "ocirun":
        pytest.skip("OCIRUN_TEST_CRASH_AT is ocirun's test-only switch")
    bundle.linux["netDevices"] = {veth.name: {"name": "inner0"}}
    bundle.set_args(*probe_args("sleep", "60"))
    cid = runtime.new_id()
    bundle.write_config(cid)
    env = {**os.environ, "OCIRUN_TEST_CRASH_AT": "create:ready"}
    proc = subprocess.run(runtime.command("create", "--bundle", str(bundle.path), cid), env=env,
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          timeout=30 * SLOWDOWN)
    assert proc.returncode == -9, "ocirun create was to kill itself at create:ready"
    assert veth.on_host() is None
    (runtime.root / cid / "state.json").write_bytes(b"")
    runtime.delete(cid, force=True)
    assert veth.on_host() == {"mtu": 1400, "addresses": [veth.address]}
    assert runtime.ids_in_root() == []
    assert runtime.leaks() == []


@pytest.mark.xfail_runtime("runc", RUNC_LACKS)
@pytest.mark.parametrize("case", ["missing", "host-netns", "joined-netns", "lo", "twice", "bad-name"])
def test_net_device_errors(runtime: Runtime, bundle: Bundle, veth: Veth, case: str) -> None:
    """One line naming the JSON path, nothing left behind, the device still on the host as it was."""
    bundle.set_args(*probe_args("exit", "0"))
    devices: dict[str, dict[str, str]] = {veth.name: {"name": "inner0"}}
    expected = rf"\$\.linux\.netDevices\.{veth.name}\.name: `inner0` is taken in the container's network namespace"
    holder = None
    if case == "missing":
        devices = {"ocvnothere0": {}}
        expected = r"\$\.linux\.netDevices\.ocvnothere0: there is no network interface `ocvnothere0` on the host"
    elif case == "host-netns":
        bundle.linux["namespaces"] = [ns for ns in bundle.linux["namespaces"] if ns["type"] != "network"]
        expected = r"\$\.linux\.netDevices: moving network devices needs a new network namespace \(linux\.namespaces"
    elif case == "joined-netns":
        holder = NamespaceHolder("net")
        for ns in bundle.linux["namespaces"]:
            if ns["type"] == "network":
                ns["path"] = holder.path("net")
        expected = r"\$\.linux\.netDevices: moving network devices needs a new network namespace, not the existing"
    elif case == "lo":
        devices = {veth.name: {"name": "lo"}}
        expected = rf"\$\.linux\.netDevices\.{veth.name}\.name: `lo` is taken .* \(by the loopback interface\)"
    elif case == "twice":
        devices = {veth.name: {"name": "inner0"}, veth.peer: {"name": "inner0"}}
        expected = rf"\$\.linux\.netDevices\.{veth.peer}\.name: `inner0` is taken .* \(by `{veth.name}`\)"
    elif case == "bad-name":
        devices = {veth.name: {"name": "a/b"}}
        expected = rf"\$\.linux\.netDevices\.{veth.name}\.name: 'a/b' is not a network interface name"
    bundle.linux["netDevices"] = devices
    try:
        res = runtime.try_create(bundle)
    finally:
        if holder is not None:
            holder.close()
    expect_error(runtime, res, ocirun=expected)
    assert veth.on_host() == {"mtu": 1400, "addresses": [veth.address]}
    assert runtime.ids_in_root() == []
    assert runtime.leaks() == []
