"""Rootless: the runtime run by a user that is not root, as podman rootless runs it (issue 17).

A user of the test session's own (``useradd`` in the ``rootless_user`` fixture, removed at the
end, with /etc/subuid and /etc/subgid ranges of its own) runs each runtime through setpriv;
its bundles, state root and logs are in the test's workdir, handed to it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import support
from .support import User

SUB_START = 3_100_000  # the user's subordinate ids: SUB_START .. SUB_START+SUB_COUNT-1
SUB_COUNT = 65536

# a rootless run as the test user (several times that in the emulated guest)
RUN_TIMEOUT = 60 * support.SLOWDOWN


@pytest.fixture(scope="session")
def rootless_user() -> Iterator[User]:
    """A user made for this session, with subordinate ids, removed (with its ids) afterwards."""
    if os.geteuid() != 0:
        pytest.skip("making a test user needs root")
    if shutil.which("useradd") is None or shutil.which("setpriv") is None:
        pytest.skip("useradd and setpriv (passwd, util-linux) are needed")
    with support.throwaway_user("ocirl", 23100, SUB_START, SUB_COUNT) as user:
        yield user


class UserRuntime(support.Runtime):
    """support.Runtime run as ``user`` (setpriv: its uid, gid and no other groups)."""

    def __init__(self, name: str, binary: str, workdir: Path, user: User, env: dict[str, str] | None = None) -> None:
        super().__init__(name, binary, workdir)
        self.user = user
        self.env = env or {}
        self.cgroup: Path | None = None  # the cgroup v2 directory the user's commands start in
        os.chown(self.root, user.uid, user.gid)

    def command(self, *args: str, log: bool = True) -> list[str]:
        env = [f"{k}={v}" for k, v in {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **self.env}.items()]
        cmd = ["setpriv", f"--reuid={self.user.uid}", f"--regid={self.user.gid}", "--clear-groups", "--",
               "env", "-i", *env, *super().command(*args, log=log)]
        if self.cgroup is not None:  # as a user's session does: its processes start in its own subtree
            cmd = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(self.cgroup), *cmd]
        return cmd


@pytest.fixture
def user_rt(runtime: support.Runtime, rootless_user: User, workdir: Path) -> Iterator[UserRuntime]:
    """The runtime under test as the rootless user, in the same workdir (and the same leak check:
    ``runtime``'s, which deletes what is left as root)."""
    os.chown(workdir, rootless_user.uid, rootless_user.gid)
    os.chmod(workdir, 0o755)
    (workdir / "user").mkdir()
    os.chown(workdir / "user", rootless_user.uid, rootless_user.gid)
    rt = UserRuntime(runtime.name, runtime.binary, workdir / "user", rootless_user)
    yield rt
    # what the user left: deleted as the user (ocirun's state is the user's), then checked as root
    for cid in rt.ids_in_root():
        rt.run("delete", "--force", cid, check=False)
    assert not rt.ids_in_root(), f"state left in {rt.root}"
    assert not support.leaked_processes(workdir, rt.ids), "processes left"


def _rootless_bundle(workdir: Path, probe: Path, user: User, config: dict[str, Any]) -> support.Bundle:
    path = workdir / "user" / "bundle"
    path.mkdir()
    support.make_rootfs(path / "rootfs", probe)
    b = support.Bundle(path, config)
    subprocess.run(["chown", "-R", f"{user.uid}:{user.gid}", str(path)], check=True)
    return b


def rootless_config(user: User, args: tuple[str, ...] = ("/bin/probe", "ids")) -> dict[str, Any]:
    """support.base_config made rootless as runc's ``spec --rootless`` does: a user namespace
    mapping the user's own ids to root, no network namespace, /sys bound from the host, no
    cgroupsPath (a rootless container has no cgroup of its own here)."""
    cfg = support.base_config(args)
    linux = cfg["linux"]
    del linux["cgroupsPath"]
    linux["namespaces"] = [ns for ns in linux["namespaces"] if ns["type"] not in ("network", "cgroup")]
    linux["namespaces"].append({"type": "user"})
    linux["uidMappings"] = [{"containerID": 0, "hostID": user.uid, "size": 1}]
    linux["gidMappings"] = [{"containerID": 0, "hostID": user.gid, "size": 1}]
    for m in cfg["mounts"]:
        if m["destination"] == "/sys":
            m.update(type="none", source="/sys", options=["rbind", "nosuid", "noexec", "nodev", "ro"])
        m["options"] = [o for o in m.get("options", []) if not o.startswith(("gid=", "uid="))]
    return cfg


def _write(b: support.Bundle, user: User, cid: str) -> None:
    b.write_config(cid)
    os.chown(b.config_path, user.uid, user.gid)


def _run(rt: UserRuntime, b: support.Bundle, *extra: str) -> support.Result:
    cid = rt.new_id("rl")
    _write(b, rt.user, cid)
    return rt.run("run", "--bundle", b.path, *extra, cid, check=False, timeout=RUN_TIMEOUT)


# ---------------------------------------------------------------------------- the example


def test_spec_rootless_runs(user_rt: UserRuntime, probe_binary: Path) -> None:
    """The issue's example: ``spec --rootless`` as the user, args changed, ``run``: the process is
    root in its user namespace, and nothing is said on stderr (no capability warnings)."""
    b = _rootless_bundle(user_rt.workdir.parent, probe_binary, user_rt.user, {})
    spec = user_rt.run("spec", "--rootless", cwd=b.path, log=False)
    assert spec.returncode == 0
    cfg = json.loads(b.config_path.read_text())
    cfg["process"]["args"] = ["sh", "-c", "id; echo rootless-ok"]
    cfg["process"]["terminal"] = False
    b.config = cfg
    cid = user_rt.new_id("rl")
    _write(b, user_rt.user, cid)
    res = user_rt.run("run", "--bundle", b.path, cid, check=False, log=False, timeout=RUN_TIMEOUT)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("uid=0(root) gid=0(root)") and lines[1:] == ["rootless-ok"]
    assert res.stderr == ""


def test_default_root_is_xdg_runtime_dir(user_rt: UserRuntime, probe_binary: Path) -> None:
    """Without --root, a non-root caller's state goes to $XDG_RUNTIME_DIR/<runtime>."""
    xdg = user_rt.workdir / "xdg"
    xdg.mkdir(mode=0o700)
    os.chown(xdg, user_rt.user.uid, user_rt.user.gid)
    b = _rootless_bundle(user_rt.workdir.parent, probe_binary, user_rt.user, rootless_config(user_rt.user))
    cid = user_rt.new_id("rl")
    _write(b, user_rt.user, cid)
    base = ["setpriv", f"--reuid={user_rt.user.uid}", f"--regid={user_rt.user.gid}", "--clear-groups", "--",
            "env", "-i", f"XDG_RUNTIME_DIR={xdg}", "PATH=/usr/bin:/bin", user_rt.binary]
    name = "runc" if user_rt.name == "runc" else "ocirun"
    try:
        subprocess.run([*base, "run", "-d", "--bundle", str(b.path), cid], check=True, timeout=RUN_TIMEOUT,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert (xdg / name / cid).is_dir()
        listed = subprocess.run([*base, "list", "-q"], capture_output=True, text=True, check=True)
        assert listed.stdout.split() == [cid]
    finally:
        subprocess.run([*base, "delete", "--force", cid], capture_output=True, check=False)
    assert not (xdg / name / cid).exists()


def test_root_in_a_user_namespace(user_rt: UserRuntime, probe_binary: Path) -> None:
    """As rootless podman runs the runtime: root in a user namespace the user made (``unshare
    --user --map-root-user``), a config without a user namespace of its own.  The state goes to
    $XDG_RUNTIME_DIR (runc's rule for root in a user namespace), /dev's nodes are bound from the
    host (no mknod there), no cgroups are made, and no user namespace is asked for."""
    if shutil.which("unshare") is None:
        pytest.skip("util-linux unshare is needed")
    u = user_rt.user
    xdg = user_rt.workdir / "xdg"
    xdg.mkdir(mode=0o700)
    os.chown(xdg, u.uid, u.gid)
    cfg = rootless_config(u, ("sh", "-c", "cat /proc/self/uid_map; echo x > /dev/null && ls -l /dev/null"))
    linux = cfg["linux"]
    linux["namespaces"] = [ns for ns in linux["namespaces"] if ns["type"] != "user"]
    del linux["uidMappings"], linux["gidMappings"]
    b = _rootless_bundle(user_rt.workdir.parent, probe_binary, u, cfg)
    cid = user_rt.new_id("rl")
    _write(b, u, cid)
    name = "runc" if user_rt.name == "runc" else "ocirun"
    cmd = ["setpriv", f"--reuid={u.uid}", f"--regid={u.gid}", "--clear-groups", "--", "env", "-i",
           f"XDG_RUNTIME_DIR={xdg}", "PATH=/usr/bin:/bin", "unshare", "--user", "--map-root-user", "--mount", "--",
           user_rt.binary]
    res = subprocess.run([*cmd, "run", "--bundle", str(b.path), cid], capture_output=True, text=True,
                         timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["0", str(u.uid), "1"]
    assert lines[1].startswith("crw-rw-rw-") and lines[1].endswith("/dev/null")
    assert (xdg / name).is_dir() and not (xdg / name / cid).exists()


# ---------------------------------------------------------------------------- cgroups without root


def test_without_cgroups_where_none_can_be_made(user_rt: UserRuntime, probe_binary: Path) -> None:
    """No limits, no cgroup the user may make: the container runs in its caller's cgroups."""
    b = _rootless_bundle(user_rt.workdir.parent, probe_binary, user_rt.user,
                         rootless_config(user_rt.user, ("cat", "/proc/self/cgroup")))
    res = _run(user_rt, b)
    assert res.returncode == 0, res.stderr
    with open("/proc/self/cgroup") as f:
        ours = {line.split(":", 2)[1] for line in f.read().splitlines()}
    theirs = {line.split(":", 2)[1] for line in res.stdout.splitlines()}
    assert theirs == ours  # every hierarchy, none made for the container


def test_limits_without_a_cgroup_are_an_error(user_rt: UserRuntime, probe_binary: Path) -> None:
    """Limits where the user may make no cgroup: an error, nothing left behind."""
    cfg = rootless_config(user_rt.user)
    cfg["linux"]["resources"] = {"pids": {"limit": 100}}
    b = _rootless_bundle(user_rt.workdir.parent, probe_binary, user_rt.user, cfg)
    res = _run(user_rt, b)
    support.expect_error(user_rt, res, ocirun=r"\$\.linux\.resources: .*rootless.*`/sys/fs/cgroup/.*` is not writable",
                         runc=r"(?i)permission denied|cgroup")
    assert not user_rt.ids_in_root()


def test_rootless_false_does_not_go_without(user_rt: UserRuntime, probe_binary: Path) -> None:
    """--rootless false: the cgroups must be made, as for root (and cannot be)."""
    b = _rootless_bundle(user_rt.workdir.parent, probe_binary, user_rt.user, rootless_config(user_rt.user))
    cid = user_rt.new_id("rl")
    _write(b, user_rt.user, cid)
    cmd = user_rt.command("run", "--bundle", str(b.path), cid, log=False)
    at = cmd.index(user_rt.binary) + 1
    cmd[at:at] = ["--rootless", "false"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)
    assert res.returncode != 0
    assert "ermission denied" in res.stderr
    assert not user_rt.ids_in_root()


def test_rootless_needs_a_user_namespace(user_rt: UserRuntime, probe_binary: Path) -> None:
    cfg = rootless_config(user_rt.user)
    cfg["linux"]["namespaces"] = [ns for ns in cfg["linux"]["namespaces"] if ns["type"] != "user"]
    del cfg["linux"]["uidMappings"], cfg["linux"]["gidMappings"]
    b = _rootless_bundle(user_rt.workdir.parent, probe_binary, user_rt.user, cfg)
    res = _run(user_rt, b)
    support.expect_error(user_rt, res, ocirun=r"\$\.linux\.namespaces: a rootless container needs a user namespace",
                         runc="rootless container requires user namespaces")


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 reads --rootless only where it makes cgroups, not for list")
def test_bad_rootless_value(user_rt: UserRuntime) -> None:
    cmd = user_rt.command("list", log=False)
    at = cmd.index(user_rt.binary) + 1
    cmd[at:at] = ["--rootless", "maybe"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert res.returncode == 1
    assert "maybe" in res.stderr


@pytest.fixture
def delegated(rootless_user: User) -> Iterator[str]:
    """A cgroup v2 directory handed to the user (its delegated subtree), removed afterwards."""
    from ocirun import cgroups

    hs = [h for h in cgroups.hierarchies() if h.version == 2]
    if not hs:
        pytest.skip("no cgroup2 hierarchy is mounted")
    top = Path(hs[0].mountpoint) / f"{support.CGROUP_PARENT}-rl-{os.getpid()}"
    top.mkdir()
    try:
        (top / "session").mkdir()
        for d in (top, top / "session"):
            for p in (d, d / "cgroup.procs", d / "cgroup.subtree_control", d / "cgroup.threads"):
                os.chown(p, rootless_user.uid, rootless_user.gid)
        yield top
    finally:
        for sub in sorted(top.glob("**/"), key=lambda p: -len(p.parts)):
            try:
                sub.rmdir()
            except OSError:
                pass


def test_delegated_cgroup2_subtree_is_used(user_rt: UserRuntime, probe_binary: Path, delegated: Path) -> None:
    """A cgroup v2 subtree the user owns, its commands started in it (as systemd's user session
    does): the container gets its cgroup there (and it is removed with the container)."""
    from ocirun import cgroups

    if user_rt.name == "runc" and cgroups.mode() != "unified":
        pytest.xfail("runc 1.1.5's v1 manager (hybrid host) fails on the v1 hierarchies of a given cgroupsPath")
    user_rt.cgroup = delegated / "session"
    cfg = rootless_config(user_rt.user, ("cat", "/proc/self/cgroup"))
    cfg["linux"]["cgroupsPath"] = f"/{delegated.name}/{{id}}"
    b = _rootless_bundle(user_rt.workdir.parent, probe_binary, user_rt.user, cfg)
    cid = user_rt.new_id("rl")
    _write(b, user_rt.user, cid)
    res = user_rt.run("run", "--bundle", b.path, cid, check=False, timeout=RUN_TIMEOUT)
    assert res.returncode == 0, res.stderr
    v2 = [line for line in res.stdout.splitlines() if line.startswith("0::")]
    assert v2 == [f"0::/{delegated.name}/{cid}"]
    assert not (delegated / cid).exists()


def test_limits_in_a_delegated_cgroup2_subtree(user_rt: UserRuntime, probe_binary: Path, delegated: Path) -> None:
    """Pure cgroup v2, a subtree the user owns (as systemd delegates user@UID.service: the
    controllers enabled in its parent by root, its own cgroup.subtree_control the user's): a
    rootless container gets its memory and pids limits there, read back from its cgroup's files."""
    from ocirun import cgroups

    if cgroups.mode() != "unified":
        pytest.skip("needs pure cgroup v2 (make test-v2 runs it in the guest): the cgroup2 hierarchy here "
                    "has no memory or pids controller")
    root = delegated.parent
    for c in ("memory", "pids"):
        if c not in (root / "cgroup.subtree_control").read_text().split():
            (root / "cgroup.subtree_control").write_text("+" + c)
    user_rt.cgroup = delegated / "session"
    script = ('p=$(sed -n "s/^0:://p" /proc/self/cgroup); echo $p; '
              'cat /sys/fs/cgroup$p/memory.max /sys/fs/cgroup$p/pids.max')
    cfg = rootless_config(user_rt.user, ("sh", "-c", script))
    # no cgroup mount: the host's /sys (bound) shows the hierarchy itself, the same on both runtimes
    cfg["mounts"] = [m for m in cfg["mounts"] if m["type"] != "cgroup"]
    cfg["linux"]["cgroupsPath"] = f"/{delegated.name}/{{id}}"
    cfg["linux"]["resources"] = {"memory": {"limit": 64 << 20}, "pids": {"limit": 50}}
    b = _rootless_bundle(user_rt.workdir.parent, probe_binary, user_rt.user, cfg)
    cid = user_rt.new_id("rl")
    _write(b, user_rt.user, cid)
    res = user_rt.run("run", "--bundle", b.path, cid, check=False, timeout=RUN_TIMEOUT)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == [f"/{delegated.name}/{cid}", str(64 << 20), "50"], res
    assert set((delegated / "cgroup.subtree_control").read_text().split()) >= {"memory", "pids"}
    assert not (delegated / cid).exists()


# ---------------------------------------------------------------------------- several ranges: newuidmap


def _needs_uidmap() -> None:
    if shutil.which("newuidmap") is None or shutil.which("newgidmap") is None:
        pytest.skip("newuidmap/newgidmap are not installed (Debian: uidmap)")


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 refuses additionalGids in every rootless container, even "
                                           "where newgidmap leaves setgroups allowed")
def test_subordinate_ranges_through_newuidmap(user_rt: UserRuntime, probe_binary: Path) -> None:
    """Root is the user, 1..65536 its subordinate ids (newuidmap, newgidmap): the container's
    user 1000 is SUB_START+999 on the host, and has its groups (setgroups is allowed)."""
    _needs_uidmap()
    u = user_rt.user
    cfg = rootless_config(u, ("sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; "
                                          "id -u; id -G; sleep 1 & cat /proc/$!/status | grep -E '^(Uid|Gid)'"))
    cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": u.uid, "size": 1},
                                   {"containerID": 1, "hostID": SUB_START, "size": SUB_COUNT}]
    cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": u.gid, "size": 1},
                                   {"containerID": 1, "hostID": SUB_START, "size": SUB_COUNT}]
    cfg["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5, 1001]}
    b = _rootless_bundle(user_rt.workdir.parent, probe_binary, u, cfg)
    res = _run(user_rt, b)
    assert res.returncode == 0, res.stderr
    lines = [" ".join(line.split()) for line in res.stdout.splitlines()]
    assert lines[:5] == [f"0 {u.uid} 1", f"1 {SUB_START} {SUB_COUNT}", f"0 {u.gid} 1", f"1 {SUB_START} {SUB_COUNT}",
                         "allow"]
    assert lines[5] == "1000"
    assert sorted(lines[6].split()) == ["1000", "1001", "5"]


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 leaves it to newuidmap after the clone: two lines, "
                                           "newuidmap's and its own")
def test_more_than_the_users_allocation(user_rt: UserRuntime, probe_binary: Path) -> None:
    """Host ids beyond /etc/subuid's: one line naming the mapping, nothing left."""
    _needs_uidmap()
    u = user_rt.user
    cfg = rootless_config(u)
    cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": u.uid, "size": 1},
                                   {"containerID": 1, "hostID": SUB_START, "size": SUB_COUNT + 1}]
    cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": u.gid, "size": 1}]
    b = _rootless_bundle(user_rt.workdir.parent, probe_binary, u, cfg)
    res = _run(user_rt, b)
    last = SUB_START + SUB_COUNT
    support.expect_error(user_rt, res, ocirun=rf"\$\.linux\.uidMappings\[1\]: host ids {SUB_START}-{last} are not "
                         rf"{u.name}'s to map \(/etc/subuid gives it: {SUB_START}-{last - 1}", runc="newuidmap")
    assert not user_rt.ids_in_root()


def test_own_gid_denies_setgroups(user_rt: UserRuntime, probe_binary: Path) -> None:
    """The single-id case: setgroups is "deny" in the container's user namespace."""
    b = _rootless_bundle(user_rt.workdir.parent, probe_binary, user_rt.user,
                         rootless_config(user_rt.user, ("cat", "/proc/self/setgroups")))
    res = _run(user_rt, b)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "deny"


# ---------------------------------------------------------------------------- bad mappings (as root)


def _userns_config(uids: list[dict[str, int]], gids: list[dict[str, int]] | None = None) -> dict[str, Any]:
    cfg = support.base_config()
    cfg["linux"]["namespaces"].append({"type": "user"})
    cfg["linux"]["uidMappings"] = uids
    cfg["linux"]["gidMappings"] = uids if gids is None else gids
    return cfg


def _m(c: int, h: int, s: int) -> dict[str, int]:
    return {"containerID": c, "hostID": h, "size": s}


@pytest.mark.parametrize(("cfg", "ocirun", "runc"), [
    pytest.param(_userns_config([_m(0, 100000, 100), _m(50, 200000, 100)]),
                 r"\$\.linux\.uidMappings\[1\]: its containerID range 50-149 overlaps", "", id="overlap"),
    pytest.param(_userns_config([_m(0, 100000, 0)]),
                 r"\$\.linux\.uidMappings\[0\]\.size: 0 maps no id", "", id="size0"),
    pytest.param(_userns_config([]), r"\$\.linux\.uidMappings: a new user namespace needs uidMappings",
                 "no (user|uid) mapping", id="no-mappings"),
])
def test_bad_mappings(runtime: support.Runtime, bundle: support.Bundle, cfg: dict[str, Any], ocirun: str,
                      runc: str) -> None:
    """ocirun names the field; runc 1.1.5 fails in the kernel's write (its one line names nothing)."""
    bundle.config = cfg
    res = runtime.try_create(bundle)
    support.expect_error(runtime, res, ocirun=ocirun, runc=rf"(?i){runc}")
    assert not runtime.ids_in_root()


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 knows no idmap option (it creates the container)")
def test_idmap_option_without_mappings(runtime: support.Runtime, bundle: support.Bundle) -> None:
    src = bundle.path / "src"
    src.mkdir()
    bundle.mount("/mnt", "bind", str(src), ["bind", "idmap"])
    res = runtime.try_create(bundle)
    support.expect_error(runtime, res, ocirun=r"\$\.mounts\[\d+\]\.options: 'idmap' needs the mount's uidMappings",
                         runc=r"(?i)idmap|mapping")
    assert not runtime.ids_in_root()
