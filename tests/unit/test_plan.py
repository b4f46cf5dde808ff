"""Launch plans: Spec -> the ops the init stage runs, checked without root (STYLE.md 7.2).

Each test builds a Spec from a config dict (``Spec.from_json``), plans it with ``plan.build``
against a temporary bundle whose rootfs has an /etc/passwd, and checks the op sequence.  The host is
a HostFacts the tests make (``host``): nothing of the machine running the tests is read.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest

from ocirun import caps, plan, seccomp, users
from ocirun import protocol as P
from ocirun.cgroups import Hierarchy
from ocirun.errors import InvalidSpec
from ocirun.hostfacts import HostFacts
from ocirun.plandecode import DecodedOp
from ocirun.spec import mountopts as mo
from ocirun.spec import validate
from ocirun.spec.model import Process, Seccomp, Spec

PASSWD = "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:A User:/home/user:/bin/sh\nbroken line\n"

BASE: dict[str, Any] = {
    "ociVersion": "1.3.0",
    "root": {"path": "rootfs"},
    "process": {"args": ["sh", "-c", "true"], "cwd": "/", "env": ["PATH=/usr/bin:/bin", "TERM=xterm"]},
    "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]},
}

NAMES = {v: k for k, v in vars(P).items() if k.startswith("OP_") and isinstance(v, int)}


def host(rootfs: str, cfg: dict[str, Any], **facts: Any) -> HostFacts:
    """The host a plan is made for: every capability held, cap_last_cap 40, no LSM, the users of
    the rootfs's /etc/passwd, and the config's linux.seccomp compiled."""
    def home(uid: int) -> str:
        try:
            with open(rootfs + "/etc/passwd") as f:
                return users.home_in(f.read(), uid)
        except FileNotFoundError:
            return "/"

    profile = (cfg.get("linux") or {}).get("seccomp")
    if profile is not None and "seccomp" not in facts:
        facts["seccomp"] = seccomp.prepare(Seccomp.from_json(profile))
    return HostFacts(cap_last_cap=40, home=home, **facts)


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    (tmp_path / "rootfs" / "etc").mkdir(parents=True)
    (tmp_path / "rootfs" / "etc" / "passwd").write_text(PASSWD)
    return tmp_path


def config(**changes: Any) -> dict[str, Any]:
    """BASE with top-level keys replaced, and "process.X" / "linux.X" keys set inside those."""
    cfg = copy.deepcopy(BASE)
    for key, value in changes.items():
        section, _, name = key.partition("__")
        if name:
            cfg.setdefault(section, {})[name] = value
        else:
            cfg[section] = value
    return cfg


def build(bundle: Path, cfg: dict[str, Any], **kwargs: Any) -> plan.Launch:
    kwargs.setdefault("fifo", True)
    rootfs = str(bundle / "rootfs")
    return plan.build(Spec.from_json(cfg), host=host(rootfs, cfg), rootfs=rootfs, bundle=str(bundle), **kwargs)


def check(cfg: dict[str, Any]) -> None:
    """The config-only checks create runs before it plans (spec.validate)."""
    validate.check_for_create(Spec.from_json(cfg))


def strings(payload: bytes, n: int) -> tuple[str, ...]:
    parts = payload.split(b"\0")
    assert len(parts) > n, (payload, n)
    return tuple(p.decode() for p in parts[:n])


def op_list(launch: plan.Launch) -> list[tuple[int, str, tuple[int, int, int, int], bytes]]:
    return launch.plan.ops()


def names(launch: plan.Launch) -> list[str]:
    return [NAMES[c] for c in launch.plan.codes()]


def decoded(launch: plan.Launch) -> list[DecodedOp]:
    """The ops by name: ``op["target"]``, ``op["remount_flags"]`` (protocol.OPS)."""
    return launch.plan.decode()


def mount_ops(launch: plan.Launch) -> list[DecodedOp]:
    return [op for op in decoded(launch) if op.code == P.OP_MOUNT]


def index(launch: plan.Launch, code: int, start: int = 0) -> int:
    return launch.plan.codes().index(code, start)


def user_mounts(launch: plan.Launch) -> list[tuple[int, DecodedOp]]:
    """(op index, op) of the OP_MOUNTs between OP_ROOTFS and the first device op."""
    ops = decoded(launch)
    out = []
    for i in range(index(launch, P.OP_ROOTFS) + 1, len(ops)):
        op = ops[i]
        if op.code in (P.OP_MKNOD, P.OP_SYMLINK) or (op.code == P.OP_MOUNT and "device" in op.what):
            break
        if op.code == P.OP_MOUNT:
            out.append((i, op))
    return out


# ---------------------------------------------------------------------------- the rootfs


# Ops that touch the filesystem or the mount table: none may come before / is made slave or private.
FS_OPS = {
    P.OP_MOUNT,
    P.OP_ROOTFS,
    P.OP_MKNOD,
    P.OP_SYMLINK,
    P.OP_PIVOT_ROOT,
    P.OP_MOVE_ROOT,
    P.OP_WRITE_FILE,
    P.OP_MASK,
    P.OP_READONLY,
    P.OP_MKDIR,
    P.OP_MOUNT_SETATTR,
    P.OP_CHDIR,
}


def first_mount(launch: plan.Launch) -> int:
    """The index of the first op touching the filesystem; it must be the OP_MOUNT of /."""
    i = next(i for i, c in enumerate(launch.plan.codes()) if c in FS_OPS)
    assert launch.plan.codes()[i] == P.OP_MOUNT
    return i


def test_first_ops_isolate_the_mounts_then_bind_the_rootfs(bundle: Path) -> None:
    launch = build(bundle, config())
    ops = decoded(launch)
    rootfs = str(bundle / "rootfs")
    i = first_mount(launch)
    assert (ops[i]["source"], ops[i]["target"], ops[i]["fstype"], ops[i]["data"]) == ("", "/", "", "")
    assert ops[i]["flags"] == mo.MS_SLAVE | mo.MS_REC
    assert ops[i + 1].name == "mount" and ops[i + 1]["flags"] == mo.MS_BIND | mo.MS_REC
    assert (ops[i + 1]["source"], ops[i + 1]["target"]) == (rootfs, rootfs)
    assert ops[i + 2].name == "rootfs" and ops[i + 2]["path"] == rootfs
    assert rootfs in ops[i + 2].what


@pytest.mark.parametrize(
    ("propagation", "first"),
    [
        (None, mo.MS_SLAVE | mo.MS_REC),
        ("slave", mo.MS_SLAVE | mo.MS_REC),
        ("rslave", mo.MS_SLAVE | mo.MS_REC),
        ("shared", mo.MS_SLAVE | mo.MS_REC),
        ("rshared", mo.MS_SLAVE | mo.MS_REC),
        ("unbindable", mo.MS_SLAVE | mo.MS_REC),
        ("private", mo.MS_PRIVATE | mo.MS_REC),
        ("rprivate", mo.MS_PRIVATE | mo.MS_REC),
    ],
)
def test_nothing_propagates_to_the_host_before_pivot_root(
    bundle: Path, propagation: str | None, first: int
) -> None:
    cfg = config()
    if propagation:
        cfg["linux"]["rootfsPropagation"] = propagation
    launch = build(bundle, cfg)
    op = decoded(launch)[first_mount(launch)]
    assert op.values == {"flags": first, "propagation": 0, "how": 0, "remount_flags": 0,
                         "source": "", "target": "/", "fstype": "", "data": "", "fallback": ""}


@pytest.mark.parametrize("no_pivot", [False, True])
def test_first_mount_op_with_more_namespaces(bundle: Path, no_pivot: bool) -> None:
    nss = [{"type": t} for t in ("pid", "network", "mount", "ipc", "uts", "cgroup")]
    launch = build(bundle, config(linux__namespaces=nss, hostname="h"), no_pivot=no_pivot)
    # bringing up lo touches no mount; the first filesystem op still isolates / recursively
    assert P.OP_LOOPBACK_UP in launch.plan.codes()
    assert decoded(launch)[first_mount(launch)]["flags"] == mo.MS_SLAVE | mo.MS_REC


def test_no_loopback_without_a_new_network_namespace(bundle: Path) -> None:
    assert P.OP_LOOPBACK_UP not in build(bundle, config()).plan.codes()
    cfg = config(linux__namespaces=[{"type": "mount"}, {"type": "network", "path": "/proc/1/ns/net"}])
    assert P.OP_LOOPBACK_UP not in build(bundle, cfg).plan.codes()


@pytest.mark.parametrize("no_pivot", [False, True])
def test_pivot_root_or_move_root(bundle: Path, no_pivot: bool) -> None:
    codes = build(bundle, config(), no_pivot=no_pivot).plan.codes()
    if no_pivot:
        assert codes.count(P.OP_MOVE_ROOT) == 1 and P.OP_PIVOT_ROOT not in codes
    else:
        assert codes.count(P.OP_PIVOT_ROOT) == 1 and P.OP_MOVE_ROOT not in codes


@pytest.mark.parametrize(
    "propagation",
    ["shared", "rshared", "slave", "rslave", "private", "rprivate", "unbindable", "runbindable"],
)
@pytest.mark.parametrize("no_pivot", [False, True])
def test_rootfs_propagation_is_applied_to_root_after_pivot(
    bundle: Path, propagation: str, no_pivot: bool
) -> None:
    launch = build(bundle, config(linux__rootfsPropagation=propagation), no_pivot=no_pivot)
    pivot = index(launch, P.OP_MOVE_ROOT if no_pivot else P.OP_PIVOT_ROOT)
    after = [(i, op) for i, op in enumerate(decoded(launch)) if op.code == P.OP_MOUNT and i > pivot]
    assert after, "no propagation change after pivot_root"
    i, op = after[0]
    assert i == pivot + 1
    assert op["target"] == "/"
    assert op["propagation"] == mo.PROPAGATION[propagation]
    assert op["how"] & P.MNT_ROOT
    assert op["flags"] == 0 and op["remount_flags"] == 0  # no mount, only the propagation


def test_no_propagation_op_after_pivot_without_rootfs_propagation(bundle: Path) -> None:
    launch = build(bundle, config())
    pivot = index(launch, P.OP_PIVOT_ROOT)
    assert P.OP_MOUNT not in launch.plan.codes()[pivot:]


@pytest.mark.parametrize("propagation", [None, "rshared"])
def test_readonly_root_is_remounted_after_pivot(bundle: Path, propagation: str | None) -> None:
    cfg = config(root={"path": "rootfs", "readonly": True})
    if propagation:
        cfg["linux"]["rootfsPropagation"] = propagation
    launch = build(bundle, cfg)
    pivot = index(launch, P.OP_PIVOT_ROOT)
    after = [(i, op) for i, op in enumerate(decoded(launch)) if op.code == P.OP_MOUNT and i > pivot]
    i, op = after[-1]
    assert op["target"] == "/"
    assert op["how"] & P.MNT_ROOT
    assert op["remount_flags"] == mo.MS_BIND | mo.MS_RDONLY
    if propagation:
        assert after[0][1]["propagation"] == mo.PROPAGATION[propagation] and after[0][0] < i


def test_writable_root_is_not_remounted(bundle: Path) -> None:
    launch = build(bundle, config(root={"path": "rootfs", "readonly": False}))
    pivot = index(launch, P.OP_PIVOT_ROOT)
    assert P.OP_MOUNT not in launch.plan.codes()[pivot:]


# ---------------------------------------------------------------------------- mounts

MOUNTS: list[dict[str, Any]] = [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {
        "destination": "/dev",
        "type": "tmpfs",
        "source": "tmpfs",
        "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {"destination": "/data", "source": "data", "options": ["bind", "ro"]},
    {
        "destination": "/tree",
        "type": "none",
        "source": "/srv/tree",
        "options": ["rbind", "nosuid", "nodev", "rshared"],
    },
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"},
    {"destination": "/plain", "source": "/srv/plain", "options": ["bind"]},
    {
        "destination": "/sys",
        "type": "sysfs",
        "source": "sysfs",
        "options": ["nosuid", "noexec", "nodev", "ro"],
    },
    {"destination": "/rec", "source": "/srv/rec", "options": ["rbind", "rro", "rnosuid"]},
]


def test_mounts_come_in_config_order(bundle: Path) -> None:
    launch = build(bundle, config(mounts=MOUNTS))
    targets = [op["target"] for _i, op in user_mounts(launch)]
    assert targets == [m["destination"] for m in MOUNTS]


def test_mount_arguments(bundle: Path) -> None:
    launch = build(bundle, config(mounts=MOUNTS))
    got = {op["target"]: op for _i, op in user_mounts(launch)}

    def strs(op: DecodedOp) -> tuple[str, str, str, str]:
        return op["source"], op["target"], op["fstype"], op["data"]

    op = got["/proc"]
    assert strs(op) == ("proc", "/proc", "proc", "")
    assert op["flags"] == op["propagation"] == op["remount_flags"] == 0
    assert op["how"] & P.MNT_IN_ROOT and op["how"] & P.MNT_MKDIR

    # tmpfs: flags for mount(2), the rest is data, comma-joined in order
    op = got["/dev"]
    assert strs(op) == ("tmpfs", "/dev", "tmpfs", "mode=755,size=65536k")
    assert op["flags"] == mo.MS_NOSUID | mo.MS_STRICTATIME
    assert not op["how"] & P.MNT_KEEP_MODE  # mode= given
    op = got["/tmp"]
    assert strs(op) == ("tmpfs", "/tmp", "tmpfs", "")
    assert op["how"] & P.MNT_KEEP_MODE  # no mode=: keep the image's mode

    # bind + ro: bind first, the read-only flag by a remount
    op = got["/data"]
    assert strs(op) == (str(bundle / "data"), "/data", "", "")
    assert op["flags"] == mo.MS_BIND
    assert op["remount_flags"] == mo.MS_BIND | mo.MS_RDONLY
    assert op["how"] & P.MNT_IN_ROOT and op["how"] & P.MNT_SRC_AUTO

    # rbind with flags and propagation
    op = got["/tree"]
    assert (op["source"], op["target"]) == ("/srv/tree", "/tree")
    assert op["flags"] == mo.MS_BIND | mo.MS_REC
    assert op["propagation"] == mo.MS_SHARED | mo.MS_REC
    assert op["remount_flags"] == mo.MS_BIND | mo.MS_NOSUID | mo.MS_NODEV

    # a bind without other flags needs no remount
    op = got["/plain"]
    assert op["flags"] == mo.MS_BIND and op["remount_flags"] == 0 and op["propagation"] == 0

    # not a bind: flags go to mount(2) itself
    op = got["/sys"]
    assert strs(op) == ("sysfs", "/sys", "sysfs", "")
    assert op["flags"] == mo.MS_NOSUID | mo.MS_NOEXEC | mo.MS_NODEV | mo.MS_RDONLY and op["remount_flags"] == 0


def test_recursive_options_follow_their_mount(bundle: Path) -> None:
    launch = build(bundle, config(mounts=MOUNTS))
    ((i, op),) = [(i, op) for i, op in user_mounts(launch) if op["target"] == "/rec"]
    assert op["flags"] == mo.MS_BIND | mo.MS_REC and op["remount_flags"] == 0
    attr = decoded(launch)[i + 1]
    assert attr.values == {"attr_set": mo.MOUNT_ATTR_RDONLY | mo.MOUNT_ATTR_NOSUID, "attr_clr": 0,
                           "propagation": 0, "at_flags": mo.AT_RECURSIVE, "path": "/rec"}
    assert launch.plan.codes().count(P.OP_MOUNT_SETATTR) == 1


@pytest.mark.parametrize(
    ("destination", "target"),
    [("/a/./b/../c", "/a/c"), ("/a//b/", "/a/b"), ("relative/dir", "/relative/dir")],
)
def test_mount_destinations_are_normalized(bundle: Path, destination: str, target: str) -> None:
    cfg = config(mounts=[{"destination": destination, "type": "tmpfs", "source": "tmpfs"}])
    assert [op["target"] for _i, op in user_mounts(build(bundle, cfg))] == [target]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("data", "{bundle}/data"),
        ("./a/../b", "{bundle}/b"),
        ("/abs/path", "/abs/path"),
        ("../up", "{parent}/up"),
    ],
)
def test_bind_sources_are_relative_to_the_bundle(bundle: Path, source: str, expected: str) -> None:
    cfg = config(mounts=[{"destination": "/m", "source": source, "options": ["rbind"]}])
    ((_i, op),) = user_mounts(build(bundle, cfg))
    assert op["source"] == expected.format(bundle=bundle, parent=bundle.parent)


def test_mount_descriptions_name_source_and_target(bundle: Path) -> None:
    launch = build(bundle, config(mounts=MOUNTS[:1]))
    ((i, _op),) = user_mounts(launch)
    assert launch.plan.describe(i) == "mount `proc` to `/proc`"


# ---------------------------------------------------------------------------- cgroups

V2 = [Hierarchy("", "/sys/fs/cgroup", 2, "/")]
CGROUP_MOUNT = {
    "destination": "/sys/fs/cgroup",
    "type": "cgroup",
    "source": "cgroup",
    "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
}


def test_cgroups_sync_point_without_cgroup_namespace(bundle: Path) -> None:
    launch = build(bundle, config())
    codes = launch.plan.codes()
    syncs = [
        i for i, (c, _w, a, _p) in enumerate(op_list(launch)) if c == P.OP_SYNC and a[0] == P.SYNC_CGROUPS
    ]
    assert len(syncs) == 1
    assert syncs[0] < index(launch, P.OP_SETID) and syncs[0] < index(launch, P.OP_EXEC)
    assert not any(c == P.OP_UNSHARE for c in codes)
    assert not launch.cgroupns


@pytest.mark.parametrize("with_mount", [False, True])
def test_cgroups_sync_point_before_cgroup_namespace_and_mount(bundle: Path, with_mount: bool) -> None:
    cfg = config(
        linux__namespaces=[{"type": "pid"}, {"type": "mount"}, {"type": "cgroup"}],
        mounts=[MOUNTS[0], CGROUP_MOUNT] if with_mount else [MOUNTS[0]],
    )
    launch = build(bundle, cfg, cgroup_hierarchies=V2)
    ops = op_list(launch)
    assert launch.cgroupns
    assert not launch.clone_flags & plan.CLONE_NEWCGROUP  # unshared by the init stage, after the sync
    syncs = [i for i, (c, _w, a, _p) in enumerate(ops) if c == P.OP_SYNC and a[0] == P.SYNC_CGROUPS]
    unshares = [i for i, (c, _w, a, _p) in enumerate(ops) if c == P.OP_UNSHARE]
    assert len(syncs) == 1 and len(unshares) == 1
    assert ops[unshares[0]][2][0] == plan.CLONE_NEWCGROUP
    assert syncs[0] < unshares[0]
    first_process_op = min(
        index(launch, c)
        for c in (P.OP_RLIMIT, P.OP_CAPS, P.OP_SETID, P.OP_EXEC_LOOKUP)
        if c in launch.plan.codes()
    )
    assert unshares[0] < first_process_op
    if with_mount:
        cg = [
            i
            for i, (c, _w, _a, p) in enumerate(ops)
            if c == P.OP_MOUNT and strings(p, 2)[1] == "/sys/fs/cgroup"
        ]
        assert syncs[0] < unshares[0] < cg[0]
        # the proc mount before it is not held up by the sync point
        proc = [i for i, (c, _w, _a, p) in enumerate(ops) if c == P.OP_MOUNT and strings(p, 2)[1] == "/proc"]
        assert proc[0] < syncs[0]


def test_cgroup2_mount_with_a_cgroup_namespace(bundle: Path) -> None:
    cfg = config(
        linux__namespaces=[{"type": "pid"}, {"type": "mount"}, {"type": "cgroup"}], mounts=[CGROUP_MOUNT]
    )
    launch = build(bundle, cfg, cgroup_hierarchies=V2, cgroup_paths={"": "/sys/fs/cgroup/ocirun/c1"})
    ((_i, op),) = [m for m in user_mounts(launch) if m[1]["target"] == "/sys/fs/cgroup"]
    assert (op["source"], op["fstype"], op["data"]) == ("cgroup2", "cgroup2", "")
    assert op["flags"] == mo.MS_NOSUID | mo.MS_NOEXEC | mo.MS_NODEV | mo.MS_RELATIME | mo.MS_RDONLY
    # refused where /sys is the host's, bound (its cgroup2 is there already: EBUSY): the
    # container's cgroup is bound instead
    assert op["how"] & P.MNT_CGROUP2_BIND and op["fallback"] == "/sys/fs/cgroup/ocirun/c1"


def test_cgroup2_without_a_cgroup_namespace_binds_the_containers_cgroup(bundle: Path) -> None:
    launch = build(
        bundle,
        config(mounts=[CGROUP_MOUNT]),
        cgroup_hierarchies=V2,
        cgroup_paths={"": "/sys/fs/cgroup/ocirun/c1"},
    )
    ((_i, op),) = [m for m in user_mounts(launch) if m[1]["target"] == "/sys/fs/cgroup"]
    assert op["source"] == "/sys/fs/cgroup/ocirun/c1"
    assert op["flags"] == mo.MS_BIND
    assert op["remount_flags"] & mo.MS_RDONLY and op["remount_flags"] & mo.MS_BIND


def test_cgroups_sync_point_before_the_first_cgroup_mount_even_without_namespace(bundle: Path) -> None:
    launch = build(bundle, config(mounts=[MOUNTS[0], CGROUP_MOUNT]), cgroup_hierarchies=V2)
    ops = op_list(launch)
    sync = next(i for i, (c, _w, a, _p) in enumerate(ops) if c == P.OP_SYNC and a[0] == P.SYNC_CGROUPS)
    cg = next(
        i for i, (c, _w, _a, p) in enumerate(ops) if c == P.OP_MOUNT and strings(p, 2)[1] == "/sys/fs/cgroup"
    )
    assert sync < cg


# ---------------------------------------------------------------------------- devices


def test_default_devices_are_made_with_mknod(bundle: Path) -> None:
    launch = build(bundle, config())
    nodes = {op["path"]: op for op in decoded(launch) if op.code == P.OP_MKNOD}
    assert set(nodes) == {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"}
    for path, major, minor in plan.DEFAULT_DEVICES:
        op = nodes[path]
        assert op["mode"] == plan.S_IFCHR | 0o666
        assert (os.major(op["dev"]), os.minor(op["dev"])) == (major, minor)
        assert (op["uid"], op["gid"]) == (0, 0)
    assert (os.major(nodes["/dev/null"]["dev"]), os.minor(nodes["/dev/null"]["dev"])) == (1, 3)
    assert (os.major(nodes["/dev/tty"]["dev"]), os.minor(nodes["/dev/tty"]["dev"])) == (5, 0)


def test_configured_devices_replace_defaults_and_add(bundle: Path) -> None:
    devices = [
        {"path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o600, "uid": 7, "gid": 8},
        {"path": "/dev/sda", "type": "b", "major": 8, "minor": 0},
        {"path": "/dev/fifo", "type": "p"},
        {"path": "/dev/u", "type": "u", "major": 4, "minor": 64, "fileMode": 0o4644},
    ]
    launch = build(bundle, config(linux__devices=devices))
    nodes = [(strings(p, 1)[0], a) for c, _w, a, p in op_list(launch) if c == P.OP_MKNOD]
    paths = [n for n, _a in nodes]
    assert paths.count("/dev/null") == 1
    got = dict(nodes)
    assert got["/dev/null"] == (plan.S_IFCHR | 0o600, os.makedev(1, 3), 7, 8)
    assert got["/dev/sda"] == (plan.S_IFBLK | 0o666, os.makedev(8, 0), 0, 0)
    assert got["/dev/fifo"][0] == plan.S_IFIFO | 0o666
    assert got["/dev/u"][0] == plan.S_IFCHR | 0o4644


def test_devices_are_bind_mounted_in_a_user_namespace(bundle: Path) -> None:
    cfg = config(
        linux__namespaces=[{"type": "pid"}, {"type": "mount"}, {"type": "user"}],
        linux__uidMappings=[{"containerID": 0, "hostID": 1000, "size": 1}],
        linux__gidMappings=[{"containerID": 0, "hostID": 1000, "size": 1}],
        linux__devices=[{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}],
    )
    launch = build(bundle, cfg)
    assert P.OP_MKNOD not in launch.plan.codes()
    binds = {op["target"]: op for op in mount_ops(launch) if op["target"].startswith("/dev/")}
    expected = {p for p, _ma, _mi in plan.DEFAULT_DEVICES} | {"/dev/fuse"}
    assert set(binds) == expected
    for path, op in binds.items():
        assert (op["source"], op["fstype"], op["data"]) == (path, "", "")
        assert op["flags"] == mo.MS_BIND
        assert op["how"] & P.MNT_IN_ROOT and op["how"] & P.MNT_MKFILE
    assert launch.become_root and launch.clone_flags & plan.CLONE_NEWUSER


@pytest.mark.parametrize("mount", [
    {"destination": "/dev", "type": "bind", "source": "/srv/dev", "options": ["rbind", "rw"]},
    {"destination": "/dev/", "type": "none", "source": "/srv/dev", "options": ["bind"]},
], ids=["type-bind", "bind-option"])
def test_bind_mounted_dev_gets_nothing_made_in_it(bundle: Path, mount: dict[str, Any]) -> None:
    """A bind-mounted /dev (podman's -v /dev:/dev) is not the container's: no default devices, /dev
    symlinks or /dev/shm are made in it (runc's needsSetupDev); configured devices in it are only
    checked, one outside /dev is made."""
    devices = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]
    launch = build(bundle, config(mounts=[mount], linux__devices=devices))
    ops = op_list(launch)
    nodes = [(strings(p, 2), a) for c, _w, a, p in ops if c == P.OP_MKNOD]
    assert nodes == [(("/dev/fuse", "check"), (plan.S_IFCHR | 0o666, os.makedev(10, 229), 0, 0))]
    assert [c for c, _w, _a, _p in ops if c in (P.OP_SYMLINK, P.OP_MKDIR)] == []
    assert "`/dev/fuse`" in launch.plan.describe(next(i for i, o in enumerate(ops) if o[0] == P.OP_MKNOD))


def test_bind_mounted_dev_in_a_user_namespace_gets_no_device_binds(bundle: Path) -> None:
    cfg = config(
        mounts=[{"destination": "/dev", "type": "bind", "source": "/srv/dev", "options": ["rbind"]}],
        linux__namespaces=[{"type": "pid"}, {"type": "mount"}, {"type": "user"}],
        linux__uidMappings=[{"containerID": 0, "hostID": 1000, "size": 1}],
        linux__gidMappings=[{"containerID": 0, "hostID": 1000, "size": 1}],
    )
    launch = build(bundle, cfg)
    assert [op["target"] for op in mount_ops(launch) if op["target"].startswith("/dev/")] == []
    assert P.OP_MKNOD not in launch.plan.codes()


def test_bind_mount_below_dev_still_gets_devices(bundle: Path) -> None:
    mount = {"destination": "/dev/input", "type": "bind", "source": "/srv/input", "options": ["rbind"]}
    launch = build(bundle, config(mounts=[mount]))
    nodes = [strings(p, 2) for c, _w, _a, p in op_list(launch) if c == P.OP_MKNOD]
    assert len(nodes) == len(plan.DEFAULT_DEVICES) and all(s[1] == "" for s in nodes)


def test_proc_and_sysfs_go_on_a_plain_directory(bundle: Path) -> None:
    """proc and sysfs mounts carry MNT_PLAIN_DIR (no symlink at the destination: CVE-2019-19921);
    other mounts, and a bind of /proc somewhere, do not."""
    mounts = [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["ro", "rbind"]},
        {"destination": "/sys2", "type": "sysfs", "source": "sysfs", "options": ["ro"]},
        {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"},
    ]
    launch = build(bundle, config(mounts=mounts))
    flags = {op["target"]: bool(op["how"] & P.MNT_PLAIN_DIR) for op in mount_ops(launch) if op["target"] in
             ("/proc", "/sys", "/sys2", "/tmp")}
    assert flags == {"/proc": True, "/sys": False, "/sys2": True, "/tmp": False}


def test_dev_symlinks(bundle: Path) -> None:
    launch = build(bundle, config())
    links = {strings(p, 2)[1]: strings(p, 2)[0] for c, _w, _a, p in op_list(launch) if c == P.OP_SYMLINK}
    assert links == {
        "/dev/fd": "/proc/self/fd",
        "/dev/stdin": "/proc/self/fd/0",
        "/dev/stdout": "/proc/self/fd/1",
        "/dev/stderr": "/proc/self/fd/2",
        "/dev/ptmx": "pts/ptmx",
    }


def test_no_ptmx_symlink_when_ptmx_is_a_device(bundle: Path) -> None:
    launch = build(
        bundle, config(linux__devices=[{"path": "/dev/ptmx", "type": "c", "major": 5, "minor": 2}])
    )
    links = [strings(p, 2)[1] for c, _w, _a, p in op_list(launch) if c == P.OP_SYMLINK]
    assert "/dev/ptmx" not in links


def test_devices_come_after_the_mounts(bundle: Path) -> None:
    launch = build(bundle, config(mounts=MOUNTS))
    last_mount = max(i for i, _op in user_mounts(launch))
    assert index(launch, P.OP_MKNOD) > last_mount


def test_dev_shm_and_cwd_directories(bundle: Path) -> None:
    launch = build(bundle, config(process__cwd="/work/dir"))
    dirs = {strings(p, 1)[0]: a[0] for c, _w, a, p in op_list(launch) if c == P.OP_MKDIR}
    assert dirs == {"/dev/shm": 0o1777, "/work/dir": 0o755}
    shm = {"destination": "/dev/shm", "type": "tmpfs", "source": "shm"}
    launch = build(bundle, config(mounts=[shm]))
    assert [strings(p, 1)[0] for c, _w, _a, p in op_list(launch) if c == P.OP_MKDIR] == []


# ---------------------------------------------------------------------------- masked, readonly, hooks


def test_masked_and_readonly_paths(bundle: Path) -> None:
    cfg = config(
        linux__maskedPaths=["/proc/kcore", "/sys/firmware"], linux__readonlyPaths=["/proc/sys", "/proc/bus"]
    )
    launch = build(bundle, cfg)
    ops = op_list(launch)
    codes = launch.plan.codes()
    devnull = index(launch, P.OP_OPEN_DEVNULL)
    masks = [(i, strings(p, 1)[0]) for i, (c, _w, _a, p) in enumerate(ops) if c == P.OP_MASK]
    ro = [(i, strings(p, 1)[0]) for i, (c, _w, _a, p) in enumerate(ops) if c == P.OP_READONLY]
    assert [m for _i, m in masks] == ["/proc/kcore", "/sys/firmware"]
    assert [r for _i, r in ro] == ["/proc/sys", "/proc/bus"]
    assert codes.count(P.OP_OPEN_DEVNULL) == 1
    assert devnull < masks[0][0]
    last_mount = (
        max(i for i, _op in user_mounts(launch)) if user_mounts(launch) else index(launch, P.OP_ROOTFS)
    )
    assert last_mount < devnull
    assert max(i for i, _m in masks + ro) < index(launch, P.OP_PIVOT_ROOT)


def test_no_devnull_without_masked_paths(bundle: Path) -> None:
    launch = build(bundle, config(linux__readonlyPaths=["/proc/sys"]))
    assert P.OP_OPEN_DEVNULL not in launch.plan.codes()
    assert P.OP_MASK not in launch.plan.codes()


@pytest.mark.parametrize("kind", ["prestart", "createRuntime", "createContainer"])
def test_hooks_sync_point_after_mounts_before_pivot(bundle: Path, kind: str) -> None:
    cfg = config(mounts=MOUNTS[:2], hooks={kind: [{"path": "/bin/true"}]})
    launch = build(bundle, cfg)
    ops = op_list(launch)
    syncs = [i for i, (c, _w, a, _p) in enumerate(ops) if c == P.OP_SYNC and a[0] == P.SYNC_HOOKS]
    assert len(syncs) == 1
    assert max(i for i, _op in user_mounts(launch)) < syncs[0] < index(launch, P.OP_PIVOT_ROOT)


def test_no_hooks_sync_point_without_those_hooks(bundle: Path) -> None:
    launch = build(
        bundle, config(hooks={"poststart": [{"path": "/bin/true"}], "poststop": [{"path": "/bin/true"}]})
    )
    assert not [a for c, _w, a, _p in op_list(launch) if c == P.OP_SYNC and a[0] == P.SYNC_HOOKS]


# ---------------------------------------------------------------------------- uts, sysctl


def test_hostname_after_pivot_and_sysctls_before_masked_and_readonly_paths(bundle: Path) -> None:
    """Sysctls are written before any masked or read-only path is applied: Docker, podman and
    ``runc spec`` list /proc/sys in readonlyPaths, and a read-only /proc/sys refuses every write."""
    cfg = config(
        hostname="box",
        domainname="example.org",
        linux__namespaces=[{"type": t} for t in ("pid", "mount", "uts", "ipc", "network")],
        linux__sysctl={"net.ipv4.ip_forward": "1", "kernel.msgmax": "8192"},
        linux__maskedPaths=["/proc/kcore", "/proc/sys/kernel/msgmax"],
        linux__readonlyPaths=["/proc/sys", "/proc/bus"],
    )
    launch = build(bundle, cfg)
    ops = op_list(launch)
    pivot = index(launch, P.OP_PIVOT_ROOT)
    h = index(launch, P.OP_SETHOSTNAME)
    d = index(launch, P.OP_SETDOMAINNAME)
    assert strings(ops[h][3], 1) == ("box",) and strings(ops[d][3], 1) == ("example.org",)
    assert pivot < h and pivot < d
    writes = [(i, op.values) for i, op in enumerate(decoded(launch)) if op.code == P.OP_WRITE_FILE]
    assert [w for _i, w in writes] == [
        {"procfs_only": 1, "path": "/proc/sys/net/ipv4/ip_forward", "content": "1"},
        {"procfs_only": 1, "path": "/proc/sys/kernel/msgmax", "content": "8192"},
    ]
    first_protect = min(i for i, (c, *_r) in enumerate(ops) if c in (P.OP_MASK, P.OP_READONLY, P.OP_OPEN_DEVNULL))
    assert max(i for i, *_r in writes) < first_protect < pivot
    assert launch.clone_flags & plan.CLONE_NEWUTS


def test_no_uts_ops_without_hostname(bundle: Path) -> None:
    codes = build(bundle, config()).plan.codes()
    assert P.OP_SETHOSTNAME not in codes and P.OP_SETDOMAINNAME not in codes and P.OP_WRITE_FILE not in codes


# ---------------------------------------------------------------------------- the process


def test_process_ops_order_for_create(bundle: Path) -> None:
    launch = build(bundle, config(), fifo=True)
    tail = names(launch)[-4:]
    assert tail == ["OP_EXEC_LOOKUP", "OP_READY", "OP_WAIT_FIFO", "OP_EXEC"]
    ops = op_list(launch)
    assert ops[index(launch, P.OP_READY)][2][0] == 1
    assert ops[index(launch, P.OP_WAIT_FIFO)][2][0] == launch.fifo_fd == launch.base_fd + 2
    # credentials come before the lookup (it runs as the container user), chdir too
    assert index(launch, P.OP_SETID) < index(launch, P.OP_EXEC_LOOKUP)
    assert index(launch, P.OP_CHDIR, index(launch, P.OP_SETID)) < index(launch, P.OP_EXEC_LOOKUP)


@pytest.mark.parametrize("nnp", [True, False])
def test_chdir_as_root_then_as_the_user(bundle: Path, nnp: bool) -> None:
    """runc's finalizeNamespace: the cwd is entered before the user change, with every capability
    (a USER may start in a WORKDIR only root can enter), and once more after it, before the user's
    capabilities are set, where root was refused; the cwd check comes last.  Both after a seccomp
    filter loaded without no_new_privs (runc loads it before finalizeNamespace)."""
    cfg = config()
    cfg["process"].update(cwd="/root", noNewPrivileges=nnp, user={"uid": 1000, "gid": 1000})
    cfg["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO"}]}
    launch = build(bundle, cfg)
    ops = decoded(launch)
    chdirs = [i for i, op in enumerate(ops) if op.code == P.OP_CHDIR]
    assert [ops[i]["phase"] for i in chdirs] == [P.CHDIR_FIRST, P.CHDIR_AGAIN]
    assert all(ops[i]["path"] == "/root" for i in chdirs)
    assert all("chdir to `/root`" in ops[i].what for i in chdirs)
    first, again = chdirs
    bounding = next(i for i, op in enumerate(ops) if op.code == P.OP_CAPS and op["mode"] == P.CAPS_BOUNDING)
    setcaps = next(i for i, op in enumerate(ops) if op.code == P.OP_CAPS and op["mode"] == P.CAPS_SET)
    assert first < bounding < index(launch, P.OP_SETID) < again < setcaps
    if not nnp:
        assert index(launch, P.OP_SECCOMP) < first


def test_exec_chdir_as_root_then_as_the_user(bundle: Path) -> None:
    """exec --user into a container whose cwd only root can enter: the same two steps."""
    proc = Process.from_json({"user": {"uid": 1000, "gid": 1000}, "args": ["/bin/sh"], "cwd": "/root"})
    rootfs = str(bundle / "rootfs")
    launch = plan.build_exec(proc, pid=1, rootfs=rootfs, namespaces={"mount": "x"}, host=host(rootfs, {}))
    ops = decoded(launch)
    chdirs = [i for i, op in enumerate(ops) if op.code == P.OP_CHDIR]
    assert [ops[i]["phase"] for i in chdirs] == [P.CHDIR_FIRST, P.CHDIR_AGAIN]
    assert chdirs[0] < index(launch, P.OP_SETID) < chdirs[1]


def test_process_ops_order_for_run(bundle: Path) -> None:
    launch = build(bundle, config(), fifo=False)
    assert names(launch)[-3:] == ["OP_EXEC_LOOKUP", "OP_READY", "OP_EXEC"]
    assert P.OP_WAIT_FIFO not in launch.plan.codes()
    assert op_list(launch)[index(launch, P.OP_READY)][2][0] == 0


@pytest.mark.parametrize("preserve_fds", [0, 1, 5])
def test_close_from_before_the_process_ops(bundle: Path, preserve_fds: int) -> None:
    """Every runtime fd is close-on-exec before the first process op (a seccomp filter loaded later
    need not allow close_range): from the first fd above the preserved ones."""
    launch = build(bundle, config(process__rlimits=[{"type": "RLIMIT_NOFILE", "soft": 10, "hard": 10}]),
                   preserve_fds=preserve_fds)
    ops = op_list(launch)
    close = index(launch, P.OP_CLOSE_FROM)
    assert close < index(launch, P.OP_RLIMIT) < index(launch, P.OP_EXEC)
    assert ops[close][2][0] == 3 + preserve_fds == launch.base_fd == launch.sync_fd
    assert launch.plan_fd == 4 + preserve_fds
    assert launch.plan.codes().count(P.OP_CLOSE_FROM) == 1


def test_start_container_hooks_run_between_the_wait_and_exec(bundle: Path) -> None:
    cfg = config(hooks={"startContainer": [{"path": "/bin/hook", "args": ["hook", "x"], "timeout": 3}]})
    launch = build(bundle, cfg, container_id="c1", fifo=True)
    codes = launch.plan.codes()
    wait = index(launch, P.OP_WAIT_FIFO)
    assert codes[wait + 1 : -1] == [P.OP_HOOK]
    assert codes[-1] == P.OP_EXEC
    hook = decoded(launch)[wait + 1]
    assert (hook["path"], hook["args"], hook["env"], hook["timeout"], hook["index"]) == (
        "/bin/hook", ("hook", "x"), (), 3, 0)
    assert hook["state_before"].startswith('{"ociVersion"') and hook["state_after"].endswith("}")


def test_exec_argv_and_env(bundle: Path) -> None:
    launch = build(bundle, config(process__env=["PATH=/bin", "HOME=/h", "A=b=c"]))
    op = decoded(launch)[-1]
    assert op["argv"] == ("sh", "-c", "true") and op["envp"] == ("PATH=/bin", "HOME=/h", "A=b=c")
    assert op.what == 'exec: "sh"'
    assert launch.arg0 == "sh"


@pytest.mark.parametrize(
    ("uid", "env", "home"),
    [
        (0, ["PATH=/bin"], "/root"),
        (1000, ["PATH=/bin"], "/home/user"),
        (4242, ["PATH=/bin"], "/"),  # no passwd entry
    ],
)
def test_home_from_passwd(bundle: Path, uid: int, env: list[str], home: str) -> None:
    launch = build(bundle, config(process__env=env, process__user={"uid": uid, "gid": uid}))
    envp = decoded(launch)[-1]["envp"]
    assert envp == (*env, f"HOME={home}")


def test_home_is_slash_without_passwd(bundle: Path) -> None:
    (bundle / "rootfs" / "etc" / "passwd").unlink()
    launch = build(bundle, config(process__user={"uid": 0, "gid": 0}))
    assert decoded(launch)[-1]["envp"][-1] == "HOME=/"


def test_home_given_is_kept(bundle: Path) -> None:
    launch = build(bundle, config(process__env=["HOME=/x", "PATH=/bin"]))
    envp = decoded(launch)[-1]["envp"]
    assert envp == ("HOME=/x", "PATH=/bin")


def test_duplicate_env_names_keep_the_last_value(bundle: Path) -> None:
    launch = build(bundle, config(process__env=["A=1", "PATH=/bin", "A=2", "HOME=/h"]))
    envp = decoded(launch)[-1]["envp"]
    assert envp == ("A=2", "PATH=/bin", "HOME=/h")  # where the name first stands (runc: Go's Setenv)


def test_home_given_twice_takes_the_last_then_passwd(bundle: Path) -> None:
    env = ["PATH=/bin", "HOME=/x", "B=b", "HOME="]
    launch = build(bundle, config(process__env=env, process__user={"uid": 1000, "gid": 1000}))
    envp = decoded(launch)[-1]["envp"]
    assert envp == ("PATH=/bin", "HOME=/home/user", "B=b")


def test_empty_home_is_set_from_passwd(bundle: Path) -> None:
    launch = build(
        bundle, config(process__env=["PATH=/bin", "HOME="], process__user={"uid": 1000, "gid": 1000})
    )
    envp = decoded(launch)[-1]["envp"]
    assert "HOME=" not in envp and "HOME=/home/user" in envp


@pytest.mark.parametrize(
    ("arg0", "path", "candidates"),
    [
        ("sh", "/usr/bin:/bin", ["/usr/bin/sh", "/bin/sh"]),
        ("sh", "/bin::/usr/bin", ["/bin/sh", "./sh", "/usr/bin/sh"]),
        ("sh", ":/bin", ["./sh", "/bin/sh"]),
        ("sh", "/bin:", ["/bin/sh", "./sh"]),
        ("sh", "/bin/", ["/bin/sh"]),
        ("sh", "rel/dir", ["rel/dir/sh"]),
        ("sh", "", []),
        ("sh", None, []),
        ("/bin/sh", "/usr/bin:/bin", ["/bin/sh"]),
        ("./tool", "/usr/bin", ["./tool"]),
        ("sub/tool", "/usr/bin", ["sub/tool"]),
    ],
)
def test_exec_candidates_follow_go_lookpath(arg0: str, path: str | None, candidates: list[str]) -> None:
    got = users.exec_candidates(arg0, path)
    # "./sh" and "sh" name the same file for execve; Go's filepath.Join gives the latter
    assert [os.path.normpath(c) for c in got] == [os.path.normpath(c) for c in candidates]
    assert all(os.path.basename(c) == os.path.basename(arg0) for c in got)


def test_exec_lookup_op(bundle: Path) -> None:
    launch = build(bundle, config(process__env=["PATH=/a:/b", "PATH=/c::/d"]))
    op = decoded(launch)[index(launch, P.OP_EXEC_LOOKUP)]
    # the last PATH entry counts, as for getenv after runc's setenv of each
    assert [os.path.normpath(c) for c in op["candidates"]] == ["/c/sh", "sh", "/d/sh"]
    assert op.what == 'exec: "sh"'


def test_exec_lookup_without_path(bundle: Path) -> None:
    launch = build(bundle, config(process__env=["TERM=xterm"]))
    assert decoded(launch)[index(launch, P.OP_EXEC_LOOKUP)]["candidates"] == ()


def test_rlimits(bundle: Path) -> None:
    rl = [
        {"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 4096},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
    ]
    launch = build(bundle, config(process__rlimits=rl))
    got = [op.values for op in decoded(launch) if op.code == P.OP_RLIMIT]
    assert got == [{"resource": 7, "soft": 1024, "hard": 4096}, {"resource": 4, "soft": 0, "hard": 0}]


def test_unknown_rlimit_is_invalid_spec(bundle: Path) -> None:
    rl = [{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1}, {"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]
    with pytest.raises(InvalidSpec) as info:
        check(config(process__rlimits=rl))
    assert info.value.path == "$.process.rlimits[1].type"
    assert "RLIMIT_BOGUS" in str(info.value)


def test_soft_above_hard_is_invalid_spec(bundle: Path) -> None:
    rl = [{"type": "RLIMIT_NOFILE", "soft": 2048, "hard": 1024}]
    with pytest.raises(InvalidSpec) as info:
        check(config(process__rlimits=rl))
    assert info.value.path == "$.process.rlimits[0]"
    assert str(info.value).startswith("config.json: $.process.rlimits[0]: ")


def test_duplicate_rlimit_type_is_invalid_spec(bundle: Path) -> None:
    from ocirun.spec import schema

    rl = [{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1}, {"type": "RLIMIT_NOFILE", "soft": 2, "hard": 2}]
    cfg = config(process__rlimits=rl)
    with pytest.raises(InvalidSpec) as info:
        schema.check(cfg)
        check(cfg)
    assert info.value.path.startswith("$.process.rlimits")


def test_user_and_groups(bundle: Path) -> None:
    user = {"uid": 1000, "gid": 100, "additionalGids": [5, 6, 5], "umask": 0o077}
    launch = build(bundle, config(process__user=user))
    ops = decoded(launch)
    assert ops[index(launch, P.OP_SETGROUPS)]["gids"] == (5, 6)
    assert ops[index(launch, P.OP_SETID)].values == {"uid": 1000, "gid": 100}
    assert ops[index(launch, P.OP_UMASK)]["mask"] == 0o077
    assert index(launch, P.OP_SETGROUPS) < index(launch, P.OP_SETID)


def test_default_umask(bundle: Path) -> None:
    launch = build(bundle, config())
    assert decoded(launch)[index(launch, P.OP_UMASK)]["mask"] == 0o022


def test_no_setgroups_when_joining_a_user_namespace(bundle: Path) -> None:
    cfg = config(linux__namespaces=[{"type": "mount"}, {"type": "user", "path": "/proc/1/ns/user"}])
    assert P.OP_SETGROUPS not in build(bundle, cfg).plan.codes()


def test_capabilities_are_applied_around_setid(bundle: Path) -> None:
    cfg = config(
        process__capabilities={"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]}
    )
    launch = build(bundle, cfg)
    caps_ops = [(i, op) for i, op in enumerate(decoded(launch)) if op.code == P.OP_CAPS]
    assert [op["mode"] for _i, op in caps_ops] == [P.CAPS_BOUNDING, P.CAPS_SET]
    assert caps_ops[0][0] < index(launch, P.OP_SETID) < caps_ops[1][0]
    op = caps_ops[1][1]
    masks = [op[name] for name in ("bounding", "effective", "permitted", "inheritable", "ambient")]
    kill = 1 << caps.NUMBERS["CAP_KILL"]
    assert masks == [kill, kill, kill, 0, 0]


def test_no_new_privileges_and_oom_score_adj(bundle: Path) -> None:
    launch = build(bundle, config(process__noNewPrivileges=True, process__oomScoreAdj=-500))
    assert P.OP_NO_NEW_PRIVS in launch.plan.codes()
    assert decoded(launch)[index(launch, P.OP_OOM_SCORE_ADJ)]["score"] == -500
    launch = build(bundle, config())
    assert P.OP_NO_NEW_PRIVS not in launch.plan.codes() and P.OP_OOM_SCORE_ADJ not in launch.plan.codes()


# ---------------------------------------------------------------------------- namespaces


def test_clone_flags_for_new_namespaces(bundle: Path) -> None:
    types = ["pid", "network", "mount", "ipc", "uts", "cgroup"]
    launch = build(bundle, config(linux__namespaces=[{"type": t} for t in types]))
    expected = (
        plan.CLONE_NEWPID | plan.CLONE_NEWNET | plan.CLONE_NEWNS | plan.CLONE_NEWIPC | plan.CLONE_NEWUTS
    )
    assert launch.clone_flags == expected  # cgroup: unshared by the init stage
    assert launch.joins == [] and launch.pidns_path is None
    assert not launch.become_root


def test_joined_namespaces_are_sorted_user_first_mount_last(bundle: Path) -> None:
    nss = [
        {"type": "mount", "path": "/ns/mnt"},
        {"type": "network", "path": "/ns/net"},
        {"type": "uts", "path": "/ns/uts"},
        {"type": "user", "path": "/ns/user"},
        {"type": "cgroup", "path": "/ns/cgroup"},
        {"type": "ipc", "path": "/ns/ipc"},
        {"type": "pid", "path": "/ns/pid"},
    ]
    launch = build(bundle, config(linux__namespaces=nss))
    assert [p for p, _f in launch.joins] == [
        "/ns/user",
        "/ns/ipc",
        "/ns/uts",
        "/ns/net",
        "/ns/cgroup",
        "/ns/mnt",
    ]
    flags = dict(launch.joins)
    assert flags["/ns/user"] == plan.CLONE_NEWUSER and flags["/ns/mnt"] == plan.CLONE_NEWNS
    assert launch.pidns_path == "/ns/pid"
    assert launch.clone_flags == 0
    assert launch.become_root  # root in the joined user namespace: the init stage's exec keeps its capabilities


def test_joined_user_namespace_makes_the_new_ones_in_it(bundle: Path) -> None:
    """A joined user namespace owns the new namespaces: they are unshared after the joins, not
    made at the clone, and a new pid namespace by the init stage's fork (OP_PIDNS_FORK, fd -1)."""
    nss = [{"type": "user", "path": "/ns/user"}, {"type": "pid"}, {"type": "mount"}, {"type": "network"}]
    launch = build(bundle, config(linux__namespaces=nss))
    assert launch.clone_flags == 0
    assert launch.unshare_flags == plan.CLONE_NEWNS | plan.CLONE_NEWNET
    assert launch.pidns_unshare and launch.become_root and not launch.new_userns
    first = launch.plan.listing().splitlines()[0]
    assert "pidns_fork" in first and "fd=-1" in first


def test_mixed_new_and_joined_namespaces(bundle: Path) -> None:
    nss = [{"type": "pid"}, {"type": "mount"}, {"type": "network", "path": "/ns/net"}, {"type": "ipc"}]
    launch = build(bundle, config(linux__namespaces=nss))
    assert launch.clone_flags == plan.CLONE_NEWPID | plan.CLONE_NEWNS | plan.CLONE_NEWIPC
    assert launch.joins == [("/ns/net", plan.CLONE_NEWNET)]


def test_without_a_mount_namespace_the_rootfs_is_chrooted(bundle: Path) -> None:
    """No mount namespace: the container shares the runtime's (spec); nothing is made private or
    pivoted, the mounts go under the rootfs and the process is chroot'ed."""
    launch = build(bundle, config(linux__namespaces=[{"type": "pid"}]))
    codes = launch.plan.codes()
    assert P.OP_CHROOT in codes and P.OP_PIVOT_ROOT not in codes and P.OP_MOVE_ROOT not in codes
    assert not any(c == P.OP_MOUNT and a[2] == 0 and "/" in w for c, w, a, _p in op_list(launch)[:1])
    with pytest.raises(InvalidSpec) as info:
        check(config(linux__namespaces=[{"type": "pid"}], linux__rootfsPropagation="shared"))
    assert info.value.path == "$.linux.rootfsPropagation"


# Each config-only check that planning once made, now in spec.validate: (config changes, path, reason).
CONFIG_ONLY = [
    ({"linux__sysctl": {"kernel.msgmax": "1"}}, "$.linux.sysctl['kernel.msgmax']", "needs a new ipc namespace"),
    ({"linux__sysctl": {"net.ipv4.ip_forward": "1"}}, "$.linux.sysctl['net.ipv4.ip_forward']",
     "is not allowed in the host's network namespace"),
    ({"linux__sysctl": {"kernel.hostname": "h"}}, "$.linux.sysctl['kernel.hostname']", "needs a new uts namespace"),
    ({"linux__sysctl": {"vm.swappiness": "1"}}, "$.linux.sysctl['vm.swappiness']", "would change the host"),
    ({"linux__sysctl": {"net/../x": "1"}}, "$.linux.sysctl['net/../x']", "is not a sysctl name"),
    ({"mounts": [{"destination": "x", "type": "proc", "source": "proc", "options": ["tmpcopyup"]}]}, "$.mounts",
     "tmpcopyup on `/x` needs a tmpfs, not 'proc'"),
    ({"process__scheduler": {"policy": "SCHED_NOPE"}}, "$.process.scheduler.policy", "unknown policy 'SCHED_NOPE'"),
    ({"process__scheduler": {"policy": "SCHED_RR", "flags": ["SCHED_FLAG_NOPE"]}}, "$.process.scheduler.flags[0]",
     "unknown flag"),
    ({"process__ioPriority": {"class": "IOPRIO_CLASS_NOPE", "priority": 1}}, "$.process.ioPriority.class",
     "unknown class"),
    ({"linux__personality": {"domain": "BSD"}}, "$.linux.personality.domain", "unknown domain 'BSD'"),
    ({"linux__personality": {"domain": "LINUX", "flags": ["X"]}}, "$.linux.personality.flags",
     "no personality flags are supported"),
    ({"process__env": ["A=\0"]}, "$.process.env[0]", "contains a NUL byte"),
    ({"linux__devices": [{"path": "dev/x", "type": "c", "major": 1, "minor": 3}]}, "$.linux.devices[0].path",
     "is not an absolute path in the container without `..`"),
    ({"linux__devices": [{"path": "/opt/../x", "type": "c", "major": 1, "minor": 3}]}, "$.linux.devices[0].path",
     "without `..`"),
    ({"linux__devices": [{"path": "/", "type": "c", "major": 1, "minor": 3}]}, "$.linux.devices[0].path",
     "is not an absolute path"),
    ({"linux__namespaces": [{"type": "uts"}], "hostname": "h", "linux__sysctl": {"kernel.hostname": "h"}},
     "$.linux.sysctl['kernel.hostname']", "conflicts with $.hostname"),
]


@pytest.mark.parametrize(("changes", "path", "reason"), CONFIG_ONLY)
def test_config_only_checks_are_made_before_planning(changes: dict[str, Any], path: str, reason: str) -> None:
    """The planner plans and never validates: what needs only the config is refused by
    spec.validate, naming the JSON path (runc's flat list of checks)."""
    with pytest.raises(InvalidSpec) as info:
        check(config(**changes))
    assert info.value.path == path
    assert reason in info.value.reason


@pytest.mark.parametrize(("affinity", "reason"), [("0-x", "is not a CPU list"), (",", "names no CPU")])
def test_exec_cpu_affinity_is_checked_with_the_process(affinity: str, reason: str) -> None:
    proc = Process.from_json({"args": ["sh"], "cwd": "/", "execCPUAffinity": {"final": affinity}})
    with pytest.raises(InvalidSpec) as info:
        validate.check_exec_process(proc)
    assert info.value.path == "$.process.execCPUAffinity.final"
    assert reason in info.value.reason


def test_joining_a_mount_namespace_is_enough(bundle: Path) -> None:
    launch = build(bundle, config(linux__namespaces=[{"type": "mount", "path": "/ns/mnt"}]))
    assert launch.joins == [("/ns/mnt", plan.CLONE_NEWNS)]


def test_new_time_namespace_is_unshared_by_the_child(bundle: Path) -> None:
    """clone(2) cannot make a time namespace: the shim's child unshares it and the parent
    writes its offsets before the exec."""
    launch = build(bundle, config(linux__namespaces=[{"type": "mount"}, {"type": "time"}]))
    assert launch.new_timens and not launch.clone_flags & plan.CLONE_NEWTIME


def test_clone_constants_match_the_kernel() -> None:
    # include/uapi/linux/sched.h
    assert plan.CLONE_NEWNS == 0x00020000
    assert plan.CLONE_NEWCGROUP == 0x02000000
    assert plan.CLONE_NEWUTS == 0x04000000
    assert plan.CLONE_NEWIPC == 0x08000000
    assert plan.CLONE_NEWUSER == 0x10000000
    assert plan.CLONE_NEWPID == 0x20000000
    assert plan.CLONE_NEWNET == 0x40000000
    assert plan.CLONE_NEWTIME == 0x00000080
    assert set(plan.JOIN_ORDER) | {"pid"} == set(plan.NAMESPACE_FLAGS)
    assert plan.JOIN_ORDER[0] == "user" and plan.JOIN_ORDER[-1] == "mount"


# ---------------------------------------------------------------------------- the whole plan


def test_every_op_has_a_description_and_the_plan_encodes(bundle: Path) -> None:
    cfg = config(
        mounts=MOUNTS,
        hostname="h",
        linux__namespaces=[{"type": t} for t in ("pid", "network", "mount", "ipc", "uts", "cgroup")],
        linux__maskedPaths=["/proc/kcore"],
        linux__readonlyPaths=["/proc/sys"],
        linux__rootfsPropagation="rslave",
        root={"path": "rootfs", "readonly": True},
    )
    launch = build(bundle, cfg)
    for i, (_c, what, _a, _p) in enumerate(op_list(launch)):
        assert what and launch.plan.describe(i) == what
    data = launch.plan.encode()
    magic, abi, nops, size = P.PLAN_HDR.unpack_from(data)
    assert (magic, abi, nops, size) == (P.PLAN_MAGIC, P.ABI_VERSION, len(launch.plan), len(data))


def test_planning_has_no_side_effects(bundle: Path) -> None:
    before = sorted(str(p) for p in bundle.rglob("*"))
    build(bundle, config(mounts=MOUNTS, process__cwd="/new/dir"))
    assert sorted(str(p) for p in bundle.rglob("*")) == before


@pytest.mark.parametrize("userns", [False, True])
def test_bind_source_in_the_rootfs_is_resolved_when_mounted(bundle: Path, userns: bool) -> None:
    """A bind source inside the rootfs goes to the init stage as a path, looked up when its op runs:
    after the rootfs is bound on itself and after the earlier mounts on that bind, so it sees them
    (runc resolves each source at mount time, in config order).  Also with a user namespace, where
    a source opened on the host side beforehand would see the image under the earlier mount."""
    rootfs = str(bundle / "rootfs")
    cfg = config(mounts=[
        {"destination": "/final", "type": "bind", "source": "/srv/host-dir", "options": ["bind"]},
        {"destination": "/other", "type": "bind", "source": "rootfs/final/file", "options": ["bind"]},
    ])
    if userns:
        cfg["linux"]["namespaces"].append({"type": "user"})
        cfg["linux"]["uidMappings"] = cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 1000, "size": 1}]
    launch = build(bundle, cfg)
    (first, op1), (second, op2) = user_mounts(launch)
    assert (op1["source"], op1["target"]) == ("/srv/host-dir", "/final")
    assert (op2["source"], op2["target"]) == (rootfs + "/final/file", "/other")
    ops = op_list(launch)
    self_bind = next(i for i, (c, _w, _a, p) in enumerate(ops) if c == P.OP_MOUNT and strings(p, 2) == (rootfs, rootfs))
    assert self_bind < index(launch, P.OP_ROOTFS) < first < second


# ---------------------------------------------------------------------------- golden plans

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
FAKE_BPF = bytes.fromhex("0600000000000000")  # one instruction: the real program depends on the architecture


def golden_listing(bundle: Path, case: dict[str, Any]) -> str:
    """The decoded plan of a tests/golden/*.json config, its "golden" key saying how it is planned
    (plan.build, or plan.build_exec with its pid and namespaces); the bundle's path reads /bundle."""
    options = dict(case.pop("golden"))
    call = options.pop("call")
    rootfs = str(bundle / "rootfs")
    if call == "build_exec":
        launch = plan.build_exec(Process.from_json(case["process"]), rootfs=rootfs, host=host(rootfs, case),
                                 **options)
    else:
        if "cgroup_hierarchies" in options:
            options["cgroup_hierarchies"] = [Hierarchy(*h) for h in options["cgroup_hierarchies"]]
        launch = plan.build(Spec.from_json(case), host=host(rootfs, case), rootfs=rootfs, bundle=str(bundle),
                            **options)
    return launch.plan.listing().replace(str(bundle), "/bundle")


@pytest.mark.parametrize("name", sorted(p.stem for p in GOLDEN.glob("*.json")))
def test_golden_plan(bundle: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """The plan of each canonical config, decoded op by op, is checked in as tests/golden/NAME.txt
    and reviewed like code: a change to what the init stage is told to do shows there.
    OCIRUN_UPDATE_GOLDEN=1 rewrites the files (tests/README.md)."""
    monkeypatch.setattr(seccomp, "compile_bpf", lambda profile: (FAKE_BPF, []))
    got = golden_listing(bundle, json.loads((GOLDEN / f"{name}.json").read_text()))
    got = f"# the plan of tests/golden/{name}.json (tests/unit/test_plan.py::test_golden_plan)\n" + got
    expected = GOLDEN / f"{name}.txt"
    if os.environ.get("OCIRUN_UPDATE_GOLDEN") == "1":
        expected.write_text(got)
    assert expected.exists(), f"no {expected}: run with OCIRUN_UPDATE_GOLDEN=1 and review it"
    assert got == expected.read_text()


def test_golden_plans_decode_back_to_their_bytes(bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every field of every op of the golden plans is named: the decoded fields put back into their
    slots give the op's arguments (decode refuses bits outside the fields)."""
    monkeypatch.setattr(seccomp, "compile_bpf", lambda profile: (FAKE_BPF, []))
    for path in sorted(GOLDEN.glob("*.json")):
        case = json.loads(path.read_text())
        options = case["golden"]
        if options["call"] != "build":
            continue
        kwargs = {k: v for k, v in options.items() if k not in ("call", "cgroup_hierarchies")}
        rootfs = str(bundle / "rootfs")
        launch = plan.build(Spec.from_json(case), host=host(rootfs, case), rootfs=rootfs, bundle=str(bundle),
                            **kwargs)
        ops = launch.plan.decode()
        assert [op.code for op in ops] == launch.plan.codes()
        assert [op.args for op in ops] == [args for _c, _w, args, _p in launch.plan.ops()]
        assert [op.what for op in ops] == [launch.plan.describe(i) for i in range(len(ops))]


def test_unlimited_rlimit_is_planned(bundle: Path) -> None:
    """RLIM_INFINITY (2**64-1, as config.json writes "unlimited") fits the op's signed slot as C's
    u64 reads it back; it made the planner fail with OverflowError (internal error)."""
    unlimited = (1 << 64) - 1
    rl = [{"type": "RLIMIT_CORE", "soft": 0, "hard": unlimited}, {"type": "RLIMIT_NOFILE", "soft": unlimited,
                                                                  "hard": unlimited}]
    launch = build(bundle, config(process__rlimits=rl))
    got = [op.values for op in decoded(launch) if op.code == P.OP_RLIMIT]
    assert got == [{"resource": 4, "soft": 0, "hard": unlimited},
                   {"resource": 7, "soft": unlimited, "hard": unlimited}]
    assert [args[1:3] for c, _w, args, _p in launch.plan.ops() if c == P.OP_RLIMIT] == [(0, -1), (-1, -1)]
