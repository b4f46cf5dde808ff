"""linux.memoryPolicy: the config-only checks (spec.validate), the host's nodes (hostfacts), and
the set_mempolicy op the planner makes, for create and exec.  From inside a container:
tests/integration/test_security.py."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ocirun import hostfacts, plan
from ocirun import protocol as P
from ocirun.errors import InvalidSpec
from ocirun.hostfacts import HostFacts
from ocirun.spec import validate
from ocirun.spec.model import MemoryPolicy, Process, Spec

BASE: dict[str, Any] = {
    "ociVersion": "1.3.0",
    "root": {"path": "rootfs"},
    "process": {"args": ["sh"], "cwd": "/", "env": ["PATH=/bin"]},
    "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]},
}
MPOL_PREFERRED, MPOL_BIND, MPOL_INTERLEAVE, MPOL_LOCAL = 1, 2, 3, 4
MPOL_F_STATIC_NODES, MPOL_F_RELATIVE_NODES, MPOL_F_NUMA_BALANCING = 1 << 15, 1 << 14, 1 << 13


def spec(**policy: Any) -> Spec:
    cfg = copy.deepcopy(BASE)
    cfg["linux"]["memoryPolicy"] = policy
    return Spec.from_json(cfg)


def mempolicy_ops(launch: plan.Launch) -> list[Any]:
    return [op for op in launch.plan.decode() if op.code == P.OP_SET_MEMPOLICY]


def build(tmp_path: Path, sp: Spec, numa_nodes: set[int] | None = None) -> plan.Launch:
    (tmp_path / "rootfs").mkdir(exist_ok=True)
    host = HostFacts(cap_last_cap=40)
    host.numa_nodes = numa_nodes
    return plan.build(sp, host=host, rootfs=str(tmp_path / "rootfs"), bundle=str(tmp_path), fifo=True)


@pytest.mark.parametrize(("nodes", "expected"), [
    ("", set()), ("0", {0}), ("0-3,7", {0, 1, 2, 3, 7}), (" 1 , 3-4 ", {1, 3, 4}), ("5-5", {5}), ("1023", {1023}),
])
def test_node_list(nodes: str, expected: set[int]) -> None:
    assert validate.node_list(nodes) == expected


@pytest.mark.parametrize("nodes", ["3-1", "x", "1,,2", "-1", "0-", "1-2-3", "0,a", "1024", "0-5000", ",", "1.5"])
def test_node_list_refuses(nodes: str) -> None:
    with pytest.raises(ValueError):
        validate.node_list(nodes)


def test_node_mask_is_unsigned_longs() -> None:
    assert validate.node_mask(set()) == b""
    assert validate.node_mask({0}) == (1).to_bytes(8, "little")
    assert validate.node_mask({0, 64}) == (1 | 1 << 64).to_bytes(16, "little")


# (memoryPolicy, the JSON path refused, words of the reason): what set_mempolicy(2) refuses on any
# host (EINVAL), or takes and ignores (MPOL_DEFAULT's flags).
BAD = [
    ({"mode": "MPOL_BIND", "nodes": "3-1"}, "$.linux.memoryPolicy.nodes", "'3-1' is not a node list like 0-3,7"),
    ({"mode": "MPOL_BIND", "nodes": "0,x"}, "$.linux.memoryPolicy.nodes", "is not a node list"),
    ({"mode": "MPOL_BIND", "nodes": "4096"}, "$.linux.memoryPolicy.nodes", "nodes 0 to 1023"),
    ({"mode": "MPOL_BIND"}, "$.linux.memoryPolicy.nodes", "MPOL_BIND needs at least one node"),
    ({"mode": "MPOL_INTERLEAVE", "nodes": ""}, "$.linux.memoryPolicy.nodes", "MPOL_INTERLEAVE needs at least one"),
    ({"mode": "MPOL_WEIGHTED_INTERLEAVE"}, "$.linux.memoryPolicy.nodes", "needs at least one node"),
    ({"mode": "MPOL_PREFERRED_MANY"}, "$.linux.memoryPolicy.nodes", "needs at least one node"),
    ({"mode": "MPOL_DEFAULT", "nodes": "0"}, "$.linux.memoryPolicy.nodes", "MPOL_DEFAULT takes no nodes"),
    ({"mode": "MPOL_LOCAL", "nodes": "0"}, "$.linux.memoryPolicy.nodes", "MPOL_LOCAL takes no nodes"),
    ({"mode": "MPOL_DEFAULT", "flags": ["MPOL_F_STATIC_NODES"]}, "$.linux.memoryPolicy.flags",
     "MPOL_DEFAULT takes no flags"),
    ({"mode": "MPOL_LOCAL", "flags": ["MPOL_F_RELATIVE_NODES"]}, "$.linux.memoryPolicy.flags",
     "MPOL_LOCAL takes no flags"),
    ({"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES", "MPOL_F_RELATIVE_NODES"]},
     "$.linux.memoryPolicy.flags", "exclude each other"),
    ({"mode": "MPOL_INTERLEAVE", "nodes": "0", "flags": ["MPOL_F_NUMA_BALANCING"]},
     "$.linux.memoryPolicy.flags[0]", "MPOL_F_NUMA_BALANCING is for MPOL_BIND and MPOL_PREFERRED_MANY"),
    ({"mode": "MPOL_PREFERRED", "flags": ["MPOL_F_STATIC_NODES"]}, "$.linux.memoryPolicy.flags[0]",
     "MPOL_F_STATIC_NODES needs nodes"),
]


@pytest.mark.parametrize(("policy", "path", "reason"), BAD)
def test_config_only_checks(policy: dict[str, Any], path: str, reason: str) -> None:
    with pytest.raises(InvalidSpec) as info:
        validate.check_for_create(spec(**policy))
    assert info.value.path == path
    assert reason in info.value.reason


GOOD = [
    ({"mode": "MPOL_DEFAULT"}, 0, 0, set()),
    ({"mode": "MPOL_LOCAL"}, MPOL_LOCAL, 0, set()),
    ({"mode": "MPOL_PREFERRED"}, MPOL_PREFERRED, 0, set()),  # no node: local allocation
    ({"mode": "MPOL_PREFERRED", "nodes": "1"}, MPOL_PREFERRED, 0, {1}),
    ({"mode": "MPOL_BIND", "nodes": "0-2,7", "flags": ["MPOL_F_NUMA_BALANCING"]}, MPOL_BIND,
     MPOL_F_NUMA_BALANCING, {0, 1, 2, 7}),
    ({"mode": "MPOL_INTERLEAVE", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]}, MPOL_INTERLEAVE,
     MPOL_F_STATIC_NODES, {0}),
    ({"mode": "MPOL_WEIGHTED_INTERLEAVE", "nodes": "70", "flags": ["MPOL_F_RELATIVE_NODES"]}, 6,
     MPOL_F_RELATIVE_NODES, {70}),
    ({"mode": "MPOL_PREFERRED_MANY", "nodes": "0,1", "flags": ["MPOL_F_NUMA_BALANCING"]}, 5,
     MPOL_F_NUMA_BALANCING, {0, 1}),
]


@pytest.mark.parametrize(("policy", "mode", "flags", "nodes"), GOOD)
def test_planned_as_set_mempolicy(tmp_path: Path, policy: dict[str, Any], mode: int, flags: int,
                                  nodes: set[int]) -> None:
    sp = spec(**policy)
    validate.check_for_create(sp)
    (op,) = mempolicy_ops(build(tmp_path, sp))
    assert (op["mode"], op["flags"], op["nodes"]) == (mode, flags, sum(1 << n for n in nodes))
    assert op["size"] == len(validate.node_mask(nodes))
    assert op.what.startswith(f"set_mempolicy {policy['mode']}") and op.what.endswith("($.linux.memoryPolicy)")


def test_no_policy_no_op(tmp_path: Path) -> None:
    assert mempolicy_ops(build(tmp_path, Spec.from_json(copy.deepcopy(BASE)))) == []


def test_set_after_scheduling_before_seccomp_caps_and_ready(tmp_path: Path) -> None:
    """runc 1.3's order: after personality, before READY (and seccomp, and the capabilities)."""
    sp = spec(mode="MPOL_BIND", nodes="0")
    sp.linux.personality = None
    codes = build(tmp_path, sp).plan.codes()
    at = codes.index(P.OP_SET_MEMPOLICY)
    assert codes.index(P.OP_CLOSE_FROM) < at < codes.index(P.OP_CAPS) < codes.index(P.OP_READY)


def test_a_node_the_host_lacks_is_refused_at_planning(tmp_path: Path) -> None:
    with pytest.raises(InvalidSpec) as info:
        build(tmp_path, spec(mode="MPOL_BIND", nodes="0,5"), numa_nodes={0})
    assert info.value.path == "$.linux.memoryPolicy.nodes"
    assert info.value.reason.startswith("node 5 does not exist on this host")
    assert mempolicy_ops(build(tmp_path, spec(mode="MPOL_BIND", nodes="0"), numa_nodes={0}))
    # relative node numbers fold onto the allowed nodes: any is fine
    assert mempolicy_ops(build(tmp_path, spec(mode="MPOL_BIND", nodes="5", flags=["MPOL_F_RELATIVE_NODES"]),
                               numa_nodes={0}))


def test_exec_sets_the_container_s_policy(tmp_path: Path) -> None:
    proc = Process.from_json({"args": ["sh"], "cwd": "/"})
    host = HostFacts(cap_last_cap=40)
    launch = plan.build_exec(proc, pid=1, rootfs=str(tmp_path), namespaces={"mount": "x"}, host=host,
                             memory_policy=MemoryPolicy("MPOL_INTERLEAVE", "0"))
    (op,) = mempolicy_ops(launch)
    assert (op["mode"], op["nodes"]) == (MPOL_INTERLEAVE, 1)
    assert mempolicy_ops(plan.build_exec(proc, pid=1, rootfs=str(tmp_path), namespaces={"mount": "x"}, host=host)) == []


def test_host_nodes_are_read_only_for_a_policy_with_nodes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    online = tmp_path / "online"
    online.write_text("0-1,4\n")
    monkeypatch.setattr(hostfacts, "NUMA_NODES_ONLINE", str(online))
    proc = Process.from_json({"args": ["sh"], "cwd": "/"})
    gather = hostfacts.gather
    assert gather(proc, rootfs="/", memory_policy=MemoryPolicy("MPOL_BIND", "0")).numa_nodes == {0, 1, 4}
    assert gather(proc, rootfs="/", memory_policy=MemoryPolicy("MPOL_LOCAL")).numa_nodes is None
    assert gather(proc, rootfs="/").numa_nodes is None
    online.unlink()  # a kernel without NUMA: the kernel's ENOSYS will say it
    assert gather(proc, rootfs="/", memory_policy=MemoryPolicy("MPOL_BIND", "0")).numa_nodes is None


def _schema_memory_policy(node: Any) -> Any:
    if isinstance(node, dict):
        if "memoryPolicy" in node:
            return node["memoryPolicy"]
        node = list(node.values())
    for child in node if isinstance(node, list) else ():
        found = _schema_memory_policy(child)
        if found is not None:
            return found
    return None


def test_every_mode_and_flag_of_the_schema_is_known_and_listed_by_features() -> None:
    from ocirun.lifecycle.features import features

    schema = _schema_memory_policy(json.loads((Path(validate.__file__).parent / "config.schema.json").read_text()))
    modes, flags = schema["properties"]["mode"]["enum"], schema["properties"]["flags"]["items"]["enum"]
    assert set(modes) == set(validate.MPOL_MODES) and set(flags) == set(validate.MPOL_FLAGS)
    mp = features()["linux"]["memoryPolicy"]
    assert mp == {"modes": sorted(modes), "flags": sorted(flags)}


def test_create_keeps_the_policy_for_exec() -> None:
    from ocirun.lifecycle.creating import saved_config

    assert saved_config(spec(mode="MPOL_BIND", nodes="0"))["linux"]["memoryPolicy"] == {"mode": "MPOL_BIND",
                                                                                        "nodes": "0"}
