"""linux.memoryPolicy (issue 15): the NUMA memory policy the container's process has, read from
inside with get_mempolicy(2) (``probe mempolicy``), for create and exec; and the configs that
must be refused, with one line naming the field and nothing left behind.

This host's nodes are in /sys/devices/system/node/online (a VM: likely node 0 only): each mode
and flag is tried on the first online node; a node list of several nodes only where there are.
runc 1.1.5 (runtime-spec 1.0.2) ignores linux.memoryPolicy (runc 1.3 sets it): the tests that
expect a policy, or a refusal, are a strict xfail there.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .support import SLOWDOWN, Bundle, Runtime, expect_error, parse_json

ONLINE = Path("/sys/devices/system/node/online")
RUNC_IGNORES = "runc 1.1.5 (runtime-spec 1.0.2) ignores linux.memoryPolicy (runc 1.3 sets it)"
MPOL_DEFAULT, MPOL_PREFERRED, MPOL_BIND, MPOL_INTERLEAVE, MPOL_LOCAL = 0, 1, 2, 3, 4
MPOL_PREFERRED_MANY, MPOL_WEIGHTED_INTERLEAVE = 5, 6
MPOL_F_NUMA_BALANCING, MPOL_F_RELATIVE_NODES, MPOL_F_STATIC_NODES = 1 << 13, 1 << 14, 1 << 15


def online_nodes() -> list[int]:
    nodes: list[int] = []
    text = ONLINE.read_text().strip() if ONLINE.exists() else ""
    for part in filter(None, text.split(",")):
        low, _, high = part.partition("-")
        nodes.extend(range(int(low), int(high or low) + 1))
    return nodes


@pytest.fixture
def node() -> int:
    """The first online NUMA node (set_mempolicy needs a kernel with NUMA)."""
    nodes = online_nodes()
    if not nodes:
        pytest.skip(f"no NUMA nodes online ({ONLINE}): this kernel has no set_mempolicy")
    return nodes[0]


MODES = {"MPOL_DEFAULT": 0, "MPOL_PREFERRED": 1, "MPOL_BIND": 2, "MPOL_INTERLEAVE": 3, "MPOL_LOCAL": 4,
         "MPOL_PREFERRED_MANY": 5, "MPOL_WEIGHTED_INTERLEAVE": 6}
FLAGS = {"MPOL_F_NUMA_BALANCING": 1 << 13, "MPOL_F_RELATIVE_NODES": 1 << 14, "MPOL_F_STATIC_NODES": 1 << 15}
# set_mempolicy(2) in a child of the test's (its own policy is never changed): the host's kernel
# takes the policy, or says why not (MPOL_WEIGHTED_INTERLEAVE is 6.9+, MPOL_F_NUMA_BALANCING with
# MPOL_PREFERRED_MANY newer still)
KERNEL_TAKES = """
import ctypes, os, sys
mode, nodes = int(sys.argv[1]), int(sys.argv[2])
mask = ctypes.c_ulong(nodes)
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(238, mode, ctypes.byref(mask) if nodes else None, 65 if nodes else 0)
print(os.strerror(ctypes.get_errno()) if r else "")
"""


def skip_unless_the_kernel_takes(policy: dict[str, Any]) -> None:
    if os.uname().machine != "x86_64":
        return  # (238 is set_mempolicy on x86_64 only): the runtime's error will say
    mode = MODES[policy["mode"]] | sum(FLAGS[f] for f in policy.get("flags", ()))
    nodes = sum(1 << int(n) for n in policy["nodes"].split(",")) if policy.get("nodes") else 0
    out = subprocess.run([sys.executable, "-I", "-c", KERNEL_TAKES, str(mode), str(nodes)], capture_output=True,
                         text=True, check=True, timeout=30 * SLOWDOWN).stdout.strip()
    if out:
        pytest.skip(f"this kernel ({os.uname().release}) refuses {policy}: {out}")


def ours(*marks: Any) -> Any:
    return [pytest.mark.xfail_runtime("runc", reason=RUNC_IGNORES), *marks]


# (memoryPolicy with "N" for the node, mode, flags, nodes) that get_mempolicy reports
APPLIED = [
    pytest.param({"mode": "MPOL_DEFAULT"}, MPOL_DEFAULT, 0, False, id="default"),
    pytest.param({"mode": "MPOL_LOCAL"}, MPOL_LOCAL, 0, False, id="local", marks=ours()),
    pytest.param({"mode": "MPOL_BIND", "nodes": "N"}, MPOL_BIND, 0, True, id="bind", marks=ours()),
    pytest.param({"mode": "MPOL_INTERLEAVE", "nodes": "N"}, MPOL_INTERLEAVE, 0, True, id="interleave", marks=ours()),
    pytest.param({"mode": "MPOL_WEIGHTED_INTERLEAVE", "nodes": "N"}, MPOL_WEIGHTED_INTERLEAVE, 0, True,
                 id="weighted-interleave", marks=ours()),
    pytest.param({"mode": "MPOL_PREFERRED", "nodes": "N"}, MPOL_PREFERRED, 0, True, id="preferred", marks=ours()),
    # no node: "local allocation", which the kernel keeps as MPOL_LOCAL
    pytest.param({"mode": "MPOL_PREFERRED"}, MPOL_LOCAL, 0, False, id="preferred-local", marks=ours()),
    pytest.param({"mode": "MPOL_PREFERRED_MANY", "nodes": "N"}, MPOL_PREFERRED_MANY, 0, True, id="preferred-many",
                 marks=ours()),
    pytest.param({"mode": "MPOL_BIND", "nodes": "N", "flags": ["MPOL_F_STATIC_NODES"]}, MPOL_BIND,
                 MPOL_F_STATIC_NODES, True, id="bind-static", marks=ours()),
    pytest.param({"mode": "MPOL_INTERLEAVE", "nodes": "N", "flags": ["MPOL_F_RELATIVE_NODES"]}, MPOL_INTERLEAVE,
                 MPOL_F_RELATIVE_NODES, True, id="interleave-relative", marks=ours()),
    pytest.param({"mode": "MPOL_BIND", "nodes": "N", "flags": ["MPOL_F_NUMA_BALANCING"]}, MPOL_BIND,
                 MPOL_F_NUMA_BALANCING, True, id="bind-numa-balancing", marks=ours()),
    pytest.param({"mode": "MPOL_PREFERRED_MANY", "nodes": "N", "flags": ["MPOL_F_NUMA_BALANCING"]},
                 MPOL_PREFERRED_MANY, MPOL_F_NUMA_BALANCING, True, id="preferred-many-numa-balancing", marks=ours()),
]


def _policy(policy: dict[str, Any], node: int) -> dict[str, Any]:
    return {k: (v.replace("N", str(node)) if k == "nodes" else v) for k, v in policy.items()}


@pytest.mark.parametrize(("policy", "mode", "flags", "has_node"), APPLIED)
def test_policy_seen_from_inside(runtime: Runtime, bundle: Bundle, node: int, policy: dict[str, Any], mode: int,
                                 flags: int, has_node: bool) -> None:
    bundle.linux["memoryPolicy"] = policy = _policy(policy, node)
    skip_unless_the_kernel_takes(policy)
    report = runtime.run_probe(bundle, "mempolicy")
    assert report == {"errno": 0, "mode": mode, "flags": flags, "nodes": 1 << node if has_node else 0}


@pytest.mark.xfail_runtime("runc", reason=RUNC_IGNORES)
def test_relative_node_numbers_fold_onto_the_host_s(runtime: Runtime, bundle: Bundle, node: int) -> None:
    """MPOL_F_RELATIVE_NODES: node N is the Nth allowed one, modulo their number; so a number
    beyond the host's nodes is no error (get_mempolicy reports the numbers as given)."""
    count = len(online_nodes())
    bundle.linux["memoryPolicy"] = {"mode": "MPOL_BIND", "nodes": str(count), "flags": ["MPOL_F_RELATIVE_NODES"]}
    report = runtime.run_probe(bundle, "mempolicy")
    assert (report["mode"], report["flags"]) == (MPOL_BIND, MPOL_F_RELATIVE_NODES), report
    assert report["nodes"] == 1 << count


@pytest.mark.xfail_runtime("runc", reason=RUNC_IGNORES)
def test_several_nodes(runtime: Runtime, bundle: Bundle, node: int) -> None:
    nodes = online_nodes()
    if len(nodes) < 2:
        pytest.skip("one NUMA node on this host")
    bundle.linux["memoryPolicy"] = {"mode": "MPOL_INTERLEAVE", "nodes": f"{nodes[0]},{nodes[1]}"}
    assert runtime.run_probe(bundle, "mempolicy")["nodes"] == 1 << nodes[0] | 1 << nodes[1]


@pytest.fixture
def sleeper(runtime: Runtime, bundle: Bundle, node: int) -> Iterator[str]:
    """A running container with an MPOL_BIND policy on ``node``."""
    bundle.linux["memoryPolicy"] = {"mode": "MPOL_BIND", "nodes": str(node)}
    bundle.set_args("/bin/probe", "sleep", "600")
    cid = runtime.create(bundle)
    runtime.start(cid)
    yield cid
    runtime.delete(cid, force=True, check=False)


@pytest.mark.xfail_runtime("runc", reason=RUNC_IGNORES)
def test_exec_gets_the_container_s_policy(runtime: Runtime, sleeper: str, node: int) -> None:
    """runc 1.3 sets the policy in exec's process too (setns_init_linux.go)."""
    report = parse_json(runtime.run("exec", sleeper, "/bin/probe", "mempolicy").stdout)
    assert (report["mode"], report["nodes"]) == (MPOL_BIND, 1 << node), report


# (memoryPolicy, the error ocirun gives): config-only checks, and the host's nodes
REFUSED = [
    pytest.param({"mode": "MPOL_BIND", "nodes": "3-1"},
                 r"\$\.linux\.memoryPolicy\.nodes: '3-1' is not a node list like 0-3,7", id="reversed-range"),
    pytest.param({"mode": "MPOL_BIND"}, r"\$\.linux\.memoryPolicy\.nodes: MPOL_BIND needs at least one node",
                 id="bind-without-nodes"),
    pytest.param({"mode": "MPOL_LOCAL", "nodes": "0"}, r"\$\.linux\.memoryPolicy\.nodes: MPOL_LOCAL takes no nodes",
                 id="local-with-nodes"),
    pytest.param({"mode": "MPOL_DEFAULT", "flags": ["MPOL_F_STATIC_NODES"]},
                 r"\$\.linux\.memoryPolicy\.flags: MPOL_DEFAULT takes no flags", id="default-with-flags"),
    pytest.param({"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES", "MPOL_F_RELATIVE_NODES"]},
                 r"\$\.linux\.memoryPolicy\.flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other",
                 id="static-and-relative"),
    pytest.param({"mode": "MPOL_INTERLEAVE", "nodes": "0", "flags": ["MPOL_F_NUMA_BALANCING"]},
                 r"\$\.linux\.memoryPolicy\.flags\[0\]: MPOL_F_NUMA_BALANCING is for MPOL_BIND and "
                 r"MPOL_PREFERRED_MANY, not MPOL_INTERLEAVE", id="numa-balancing-interleave"),
    pytest.param({"mode": "MPOL_BIND", "nodes": "MISSING"},
                 r"\$\.linux\.memoryPolicy\.nodes: node \d+ does not exist on this host", id="missing-node"),
    pytest.param({"mode": "MPOL_WEIGHTED_ROUND_ROBIN"}, r"\$\.linux\.memoryPolicy\.mode", id="unknown-mode"),
]


@pytest.mark.xfail_runtime("runc", reason=RUNC_IGNORES)
@pytest.mark.parametrize(("policy", "error"), REFUSED)
def test_refused(runtime: Runtime, bundle: Bundle, node: int, policy: dict[str, Any], error: str) -> None:
    if policy.get("nodes") == "MISSING":
        policy = {**policy, "nodes": str(max(online_nodes()) + 1)}
    bundle.linux["memoryPolicy"] = policy
    bundle.set_args("/bin/probe", "exit", "0")
    cid = runtime.new_id()
    res = runtime.try_create(bundle, cid)
    if res.returncode == 0:  # runc 1.1.5 takes it: not left for the leak check to find
        runtime.delete(cid, force=True)
    expect_error(runtime, res, ocirun=r"^config\.json: " + error)
    assert runtime.leaks() == []
    assert not re.search(r"Traceback|internal error", res.stderr)
