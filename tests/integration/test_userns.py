"""User namespaces as root (issue 17): the fallbacks runc makes inside one, and joining one.

The container's root is host uid/gid 200000 (65536 ids), as in test_mounts' use_userns, but the
config keeps its sysfs and cgroup mounts: they must work in a user namespace too.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .support import SLOWDOWN, Bundle, Runtime, find_mount, parse_json, probe_args, wait_for

HOST_ID = 200000


def use_userns(runtime: Runtime, bundle: Bundle, *, network: bool = True) -> None:
    bundle.linux["namespaces"].append({"type": "user"})
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": HOST_ID, "size": 65536}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": HOST_ID, "size": 65536}]
    if not network:
        bundle.linux["namespaces"] = [ns for ns in bundle.linux["namespaces"] if ns["type"] != "network"]
    os.chmod(runtime.workdir, 0o711)  # the mapped root must reach the rootfs


def run_probe(runtime: Runtime, bundle: Bundle, *args: str) -> Any:
    bundle.set_args(*probe_args(*args))
    status, out, err = runtime.run_container(bundle)
    assert status == 0, f"{err}\n{runtime.log_tail()}"
    return parse_json(out)


def run_sh(runtime: Runtime, bundle: Bundle, script: str) -> str:
    bundle.set_args("sh", "-c", script)
    status, out, err = runtime.run_container(bundle)
    assert status == 0, f"{out}{err}\n{runtime.log_tail()}"
    return out


def test_userns_with_every_default_mount(runtime: Runtime, bundle: Bundle) -> None:
    """The tests' default config (sysfs, a cgroup namespace and its cgroup mount) in a user
    namespace: cgroup v1 hierarchies, which the kernel mounts only for the initial user namespace,
    are bound instead."""
    use_userns(runtime, bundle)
    mounts = run_probe(runtime, bundle, "mounts")
    assert find_mount(mounts, "/sys")["fstype"] == "sysfs"
    assert find_mount(mounts, "/proc")["fstype"] == "proc"
    assert any(m["target"].startswith("/sys/fs/cgroup") for m in mounts)


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 mounts sysfs and fails with EPERM; no fallback to a bind")
def test_sysfs_bound_without_a_network_namespace(runtime: Runtime, bundle: Bundle) -> None:
    """No network namespace of its own: sysfs cannot be mounted; the host's /sys is bound, with
    the mount's flags (ro, nosuid, nodev, noexec)."""
    use_userns(runtime, bundle, network=False)
    mounts = run_probe(runtime, bundle, "mounts")
    sys_mount = find_mount(mounts, "/sys")
    assert sys_mount["fstype"] == "sysfs"
    assert {"ro", "nosuid", "nodev", "noexec"} <= set(sys_mount["options"])
    assert any(m["target"].startswith("/sys/") for m in mounts), "rbind: the mounts below /sys come along"


def test_devices_are_bound_not_made(runtime: Runtime, bundle: Bundle) -> None:
    """No mknod in a user namespace: the default devices, and a configured one, are the host's
    nodes bound (a char device such as /dev/zero, as runc does; never chowned or chmodded: the
    leak check compares the host's nodes)."""
    bundle.linux["devices"] = [{"path": "/dev/zero", "type": "c", "major": 1, "minor": 5, "fileMode": 0o600,
                                "uid": 0, "gid": 0}]
    use_userns(runtime, bundle)
    out = run_sh(runtime, bundle, "echo x > /dev/null && stat -c '%t:%T %F' /dev/null /dev/zero /dev/full && "
                                  "grep -c ' /dev/null ' /proc/self/mountinfo")
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert lines == ["1:3 character special file", "1:5 character special file",
                     "1:7 character special file", "1"]


@pytest.fixture
def locked_bundle(bundle: Bundle) -> Iterator[Bundle]:
    """A nosuid,nodev,noexec tmpfs of the test's own on the image's /locked: the rootfs, bound in
    the container's user namespace, carries it with those flags locked."""
    path = bundle.rootfs / "locked"
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "nosuid,nodev,noexec,mode=777,size=1m", "tmpfs", str(path)],
                   check=True)
    try:
        yield bundle
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 remounts without the locked flags: EPERM")
def test_remount_keeps_the_locked_flags(runtime: Runtime, locked_bundle: Bundle) -> None:
    """A read-only bind of a nosuid,nodev,noexec mount in the rootfs (bound by the container's root,
    in its user namespace): the remount keeps what the kernel locks instead of failing with EPERM."""
    bundle = locked_bundle
    use_userns(runtime, bundle)
    (bundle.rootfs / "locked" / "ro").mkdir()
    bundle.mount("/locked/ro", "bind", str(bundle.rootfs / "locked"), ["bind", "ro"])
    mounts = run_probe(runtime, bundle, "mounts")
    assert {"ro", "nosuid", "nodev", "noexec"} <= set(find_mount(mounts, "/locked/ro")["options"])


@pytest.fixture
def userns_holder() -> Iterator[int]:
    """A process in a user namespace of its own (uid and gid 0-65535 are host 300000-365535)."""
    proc = subprocess.Popen(["unshare", "--user", "sleep", "600"], stdin=subprocess.DEVNULL)
    try:
        def inside() -> bool:
            try:
                return (os.readlink(f"/proc/{proc.pid}/exe").endswith("sleep")
                        and os.stat(f"/proc/{proc.pid}/ns/user").st_ino != os.stat("/proc/self/ns/user").st_ino)
            except OSError:
                return False

        wait_for(inside, "the user namespace holder")
        for name in ("uid_map", "gid_map"):
            Path(f"/proc/{proc.pid}/{name}").write_text("0 300000 65536\n")
        yield proc.pid
    finally:
        proc.kill()
        proc.wait(timeout=10 * SLOWDOWN)


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 wants uidMappings in the config of a joined user namespace too")
def test_join_user_namespace_by_path(runtime: Runtime, bundle: Bundle, userns_holder: int) -> None:
    """A user namespace joined by path: its mappings are left as they are (none written), the
    process is its root, and the mounts work as in a new one."""
    bundle.linux["namespaces"].append({"type": "user", "path": f"/proc/{userns_holder}/ns/user"})
    os.chmod(runtime.workdir, 0o711)
    out = run_sh(runtime, bundle, "cat /proc/self/uid_map /proc/self/gid_map; id -u; ls /sys/kernel >/dev/null && "
                                  "readlink /proc/self/ns/user")
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert lines[:3] == ["0 300000 65536", "0 300000 65536", "0"]
    assert lines[3] == os.readlink(f"/proc/{userns_holder}/ns/user")
    assert Path(f"/proc/{userns_holder}/uid_map").read_text().split() == ["0", "300000", "65536"]


@pytest.mark.parametrize("kind", ["bind", "rbind"])
def test_bind_source_the_container_root_cannot_reach(runtime: Runtime, bundle: Bundle, workdir: Path,
                                                    kind: str) -> None:
    """A bind source below a directory only the host's root may enter (0700): the runtime clones
    it (open_tree) before the user namespace, so the mapped root need not reach it; a file too."""
    secret = workdir / "secret"
    secret.mkdir(mode=0o700)
    (secret / "dir").mkdir()
    (secret / "dir" / "f").write_text("dir-ok\n")
    (secret / "file").write_text("file-ok\n")
    for name in ("dir", "file"):
        os.chmod(secret / name, 0o755 if name == "dir" else 0o644)
    use_userns(runtime, bundle)
    (bundle.rootfs / "mnt" / "dir").mkdir(parents=True)  # (the mapped root may not make them in the image)
    (bundle.rootfs / "mnt" / "file").touch()
    bundle.mount("/mnt/dir", "bind", str(secret / "dir"), [kind, "ro"])
    bundle.mount("/mnt/file", "bind", str(secret / "file"), [kind])
    out = run_sh(runtime, bundle, "cat /mnt/dir/f /mnt/file; touch /mnt/dir/x 2>/dev/null || echo read-only")
    assert out.splitlines() == ["dir-ok", "file-ok", "read-only"]


# ---------------------------------------------------------------------------- idmapped mounts


def idmap_refused(path: Path, userns_pid: int) -> str | None:
    """Why this kernel cannot idmap a bind mount of ``path`` (None when it can), asked of the kernel
    itself: open_tree(OPEN_TREE_CLONE) and mount_setattr(MOUNT_ATTR_IDMAP) on a detached clone,
    mapped as the user namespace of ``userns_pid``. Filesystems gained idmapped mounts one kernel
    at a time (tmpfs in 6.3), so the emulated guest's 6.1 refuses what this host allows."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    nr_open_tree, nr_mount_setattr = 428, 442  # the same on every architecture
    at_fdcwd, open_tree_clone, at_empty_path, mount_attr_idmap = -100, 1, 0x1000, 0x100000
    tree = libc.syscall(nr_open_tree, at_fdcwd, os.fsencode(path), open_tree_clone | os.O_CLOEXEC)
    if tree < 0:
        return f"open_tree {path}: {os.strerror(ctypes.get_errno())}"
    ns = os.open(f"/proc/{userns_pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    try:
        attr = (ctypes.c_uint64 * 4)(mount_attr_idmap, 0, 0, ns)  # attr_set, attr_clr, propagation, userns_fd
        if libc.syscall(nr_mount_setattr, tree, b"", at_empty_path, ctypes.byref(attr), ctypes.sizeof(attr)) < 0:
            fstype = subprocess.run(["findmnt", "-n", "-o", "FSTYPE", "--target", str(path)],
                                    capture_output=True, text=True).stdout.strip()
            return (f"this kernel ({os.uname().release}) cannot idmap a mount of {path} ({fstype}): "
                    f"mount_setattr MOUNT_ATTR_IDMAP: {os.strerror(ctypes.get_errno())}")
        return None
    finally:
        os.close(ns)
        os.close(tree)


@pytest.fixture
def idmappable(workdir: Path, userns_holder: int) -> None:
    """Skips a test whose idmapped mount of a directory in ``workdir`` this kernel refuses."""
    reason = idmap_refused(workdir, userns_holder)
    if reason:
        pytest.skip(reason)


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 has no idmapped mounts (it ignores the mappings)")
@pytest.mark.parametrize("option", ["idmap", "ridmap"])
def test_idmapped_mount(runtime: Runtime, bundle: Bundle, workdir: Path, idmappable: None, option: str) -> None:
    """A host directory owned by root, with a file of uid/gid 1000, bound with the mount's maps
    (0-65535 -> 200000-265535, the container's own): inside, the container's root owns the
    directory and 1000 the file; what its root makes there is the host root's."""
    data = workdir / "data"
    data.mkdir()
    (data / "f").write_text("x\n")
    os.chown(data / "f", 1000, 1000)
    use_userns(runtime, bundle)
    (bundle.rootfs / "data").mkdir()
    maps = [{"containerID": 0, "hostID": HOST_ID, "size": 65536}]
    assert bundle.config is not None
    bundle.config["mounts"].append({"destination": "/data", "type": "bind", "source": str(data),
                                    "options": ["rbind", option], "uidMappings": maps, "gidMappings": maps})
    os.chmod(data / "f", 0o666)
    out = run_sh(runtime, bundle, "stat -c '%u:%g' /data /data/f && touch /data/new && echo y >> /data/f")
    assert out.split() == ["0:0", "1000:1000"]
    assert ((data / "new").stat().st_uid, (data / "new").stat().st_gid) == (0, 0)  # root's on the host
    assert ((data / "f").stat().st_uid, (data / "f").read_text()) == (1000, "x\ny\n")


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 has no idmapped mounts (it ignores the mappings)")
def test_idmapped_mount_without_a_user_namespace(runtime: Runtime, bundle: Bundle, workdir: Path,
                                                 idmappable: None) -> None:
    """Without a user namespace: the maps alone decide (host uid 0 on disk is 5000 inside)."""
    data = workdir / "data"
    data.mkdir()
    (data / "f").write_text("x\n")
    maps = [{"containerID": 0, "hostID": 5000, "size": 10}]
    assert bundle.config is not None
    bundle.config["mounts"].append({"destination": "/data", "type": "bind", "source": str(data),
                                    "options": ["bind", "idmap"], "uidMappings": maps, "gidMappings": maps})
    out = run_sh(runtime, bundle, "stat -c '%u:%g' /data/f")
    assert out.split() == ["5000:5000"]
