"""Rootfs and mounts, as the container sees them in /proc/self/mountinfo (via the probe)."""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .support import (
    SLOWDOWN,
    Bundle,
    Runtime,
    expect_error,
    find_mount,
    parse_json,
    probe_args,
    work_base_limit,
)


def mounts_of(runtime: Runtime, bundle: Bundle, extra: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    bundle.set_args(*probe_args("mounts"))
    status, out, err = runtime.run_container(bundle, extra=extra)
    assert status == 0, f"{err}\n{runtime.log_tail()}"
    return parse_json(out)  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------- default mounts


@pytest.mark.v2lane
def test_default_mounts(runtime: Runtime, bundle: Bundle) -> None:
    mounts = mounts_of(runtime, bundle)
    expect = {
        "/proc": ("proc", set(), set()),
        "/dev": ("tmpfs", {"nosuid"}, {"mode=755", "size=65536k"}),
        "/dev/pts": ("devpts", {"nosuid", "noexec"}, {"gid=5", "mode=620", "ptmxmode=666"}),
        "/dev/shm": ("tmpfs", {"nosuid", "noexec", "nodev"}, {"size=65536k"}),
        "/dev/mqueue": ("mqueue", {"nosuid", "noexec", "nodev"}, set()),
        "/sys": ("sysfs", {"ro", "nosuid", "noexec", "nodev"}, set()),
    }
    for target, (fstype, options, super_options) in expect.items():
        m = find_mount(mounts, target)
        assert m["fstype"] == fstype, m
        assert options <= set(m["options"]), m
        assert super_options <= set(m["super_options"]), m
    root = find_mount(mounts, "/")
    assert root["root"] == in_its_filesystem(bundle.rootfs), "/ must be the bundle's rootfs"
    assert "rw" in root["options"]


def in_its_filesystem(path: Path) -> str:
    """``path`` as mountinfo's root field shows a bind mount of it: from the root of the host
    filesystem it is on (/tmp is a tmpfs of its own in the cgroup v2 guest)."""
    point, fs_root = "/", "/"
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if f"{path}/".startswith(fields[4].rstrip("/") + "/") and len(fields[4]) >= len(point):
                point, fs_root = fields[4], fields[3]
    return os.path.normpath(os.path.join(fs_root, os.path.relpath(path, point)))


def host_cgroup_v1_hierarchies() -> set[str]:
    names = set()
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            fstype = fields[fields.index("-") + 1]
            if fstype == "cgroup" and fields[4].startswith("/sys/fs/cgroup/"):
                names.add(os.path.basename(fields[4]))
    return names


@pytest.mark.v2lane
def test_cgroup_mount(runtime: Runtime, bundle: Bundle) -> None:
    """A `cgroup` mount at /sys/fs/cgroup: on a v1 (hybrid) host a tmpfs with one read-only
    cgroup mount per v1 hierarchy, each showing the container's own cgroup as its root."""
    mounts = mounts_of(runtime, bundle)
    top = find_mount(mounts, "/sys/fs/cgroup")
    v1 = host_cgroup_v1_hierarchies()
    if not v1:
        assert top["fstype"] == "cgroup2" and "ro" in top["options"]
        return
    assert top["fstype"] == "tmpfs"
    subs = {m["target"].rsplit("/", 1)[1]: m for m in mounts if m["target"].startswith("/sys/fs/cgroup/")}
    assert set(subs) == v1
    for m in subs.values():
        assert m["fstype"] == "cgroup" and "ro" in m["options"], m
        assert m["root"] == "/", "in a new cgroup namespace the container's cgroup is the root"


DEVICES = {
    "/dev/null": (1, 3),
    "/dev/zero": (1, 5),
    "/dev/full": (1, 7),
    "/dev/random": (1, 8),
    "/dev/urandom": (1, 9),
    "/dev/tty": (5, 0),
}
DEV_LINKS = {
    "/dev/fd": "/proc/self/fd",
    "/dev/stdin": "/proc/self/fd/0",
    "/dev/stdout": "/proc/self/fd/1",
    "/dev/stderr": "/proc/self/fd/2",
    "/dev/ptmx": "pts/ptmx",
}


@pytest.mark.v2lane
def test_default_devices(runtime: Runtime, bundle: Bundle) -> None:
    paths = [*DEVICES, *DEV_LINKS, "/dev/shm", "/dev/pts/ptmx", "/dev/mqueue", "/dev/pts"]
    report = {s["path"]: s for s in runtime.run_probe(bundle, "stat", *paths)}
    for path, (major, minor) in DEVICES.items():
        st = report[path]
        assert st["exists"] and st["type"] == "char", st
        assert (st["major"], st["minor"]) == (major, minor), st
        assert st["mode"] == 0o666, (path, oct(st["mode"]))
        assert (st["uid"], st["gid"]) == (0, 0)
    for path, target in DEV_LINKS.items():
        st = report[path]
        assert st["type"] == "symlink" and st["target"] == target, st
    assert report["/dev/shm"]["type"] == "dir" and report["/dev/shm"]["mode"] == 0o1777
    assert (report["/dev/pts/ptmx"]["major"], report["/dev/pts/ptmx"]["minor"]) == (5, 2)
    assert report["/dev/mqueue"]["type"] == "dir"


@pytest.mark.v2lane
def test_devices_work(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("sh", "-c",
                    "echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 8 /dev/urandom | wc -c")
    status, out, err = runtime.run_container(bundle)
    assert status == 0, err
    assert out.split() == ["4", "8"]


def test_device_outside_dev_is_made_inside_the_rootfs(runtime: Runtime, bundle: Bundle, workdir: Path) -> None:
    """A linux.devices path MAY be anywhere (config-linux.md): made there, its missing parents too,
    and through the image's symlinks only inside the rootfs (never in the host's directory that an
    absolute link names)."""
    if reason := work_base_limit("nodev"):
        pytest.skip(reason)
    host_dir = workdir / "host-dir"
    host_dir.mkdir()
    (bundle.rootfs / "link").symlink_to(host_dir)
    bundle.linux["devices"] = [
        {"path": "/opt/devs/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 0o666},
        {"path": "/link/other-null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o666},
    ]
    bundle.set_args("/bin/sh", "-c", "echo x > /opt/devs/mynull && /bin/probe stat /opt/devs/mynull /link/other-null")
    status, out, err = runtime.run_container(bundle)
    assert status == 0, err
    for st in json.loads(out):
        assert (st["type"], st["major"], st["minor"]) == ("char", 1, 3), st
    assert list(host_dir.iterdir()) == [], "a device was made in the host's directory"


def test_no_terminal_no_console(runtime: Runtime, bundle: Bundle) -> None:
    [st] = runtime.run_probe(bundle, "stat", "/dev/console")
    assert not st["exists"]


# ---------------------------------------------------------------------------- a bind-mounted /dev

# What a throwaway /dev holds before the container: unusual owners and modes, so that a runtime
# that remade or chmod'ed a node shows.  (name: (type bits, major, minor, uid, gid, mode))
FAKE_DEV_NODES = {
    "null": (0o020000, 1, 3, 1, 1, 0o600),
    "zero": (0o020000, 1, 5, 2, 3, 0o640),
    "full": (0o020000, 1, 7, 0, 0, 0o604),
    "random": (0o020000, 1, 8, 4, 4, 0o444),
    "urandom": (0o020000, 1, 9, 5, 5, 0o600),
    "tty": (0o020000, 5, 0, 0, 5, 0o620),
    "loop7": (0o060000, 7, 7, 0, 6, 0o660),
    "fifo": (0o010000, 0, 0, 7, 7, 0o610),
}


def dev_snapshot(d: Path) -> dict[str, tuple[int, int, int, int, int]]:
    """inode, mode (with the type), owner, group and rdev of everything in ``d``, recursively."""
    snap = {}
    for p in sorted(d.rglob("*")):
        st = p.lstat()
        snap[str(p.relative_to(d))] = (st.st_ino, st.st_mode, st.st_uid, st.st_gid, st.st_rdev)
    return snap


@pytest.fixture
def bound_dev(workdir: Path, bundle: Bundle) -> Path:
    """A throwaway directory of device nodes bind-mounted as the container's /dev (rbind, rw), in
    place of the tmpfs: what `podman run -v /dev:/dev` does with the host's (never used here)."""
    d = workdir / "fake-dev"
    d.mkdir()
    for name, (kind, major, minor, uid, gid, mode) in FAKE_DEV_NODES.items():
        os.mknod(d / name, kind | mode, os.makedev(major, minor))
        os.chown(d / name, uid, gid)
        os.chmod(d / name, mode)
    for sub in ("pts", "shm", "mqueue"):  # the mount points of the default mounts below /dev
        (d / sub).mkdir()
    (d / "keep").write_text("a file\n")
    os.symlink("null", d / "a-link")
    os.symlink("pts/ptmx", d / "ptmx")  # the container's devpts: for a terminal
    mounts = bundle.config["mounts"]
    at = next(i for i, m in enumerate(mounts) if m["destination"] == "/dev")
    mounts[at] = {"destination": "/dev", "type": "bind", "source": str(d), "options": ["rbind", "rw"]}
    return d


def test_bind_mounted_dev_is_left_alone(runtime: Runtime, bundle: Bundle, bound_dev: Path) -> None:
    """No node in a bind-mounted /dev is made, replaced, chowned or chmod'ed, and nothing is added
    (no /dev symlinks): the container sees the very nodes that were there."""
    before = dev_snapshot(bound_dev)
    paths = [f"/dev/{n}" for n in FAKE_DEV_NODES]
    report = runtime.run_probe(bundle, "stat", *paths, "/dev/fd", "/dev/stdin")
    assert dev_snapshot(bound_dev) == before, "the bind-mounted /dev changed"
    for st, name in zip(report, FAKE_DEV_NODES, strict=False):
        _kind, major, minor, uid, gid, mode = FAKE_DEV_NODES[name]
        assert (st["uid"], st["gid"], st["mode"]) == (uid, gid, mode), st
        assert (st.get("major", 0), st.get("minor", 0)) == (major, minor), st
        assert st["ino"] == before[name][0], f"the container does not see the node that was there: {st}"
    assert not report[-2]["exists"] and not report[-1]["exists"], report[-2:]


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 opens (os.Create) the /dev/console device of a "
                                          "bind-mounted /dev before it mounts the pty on it: the device "
                                          "cgroup refuses that (EPERM)")
def test_bind_mounted_dev_with_a_terminal(runtime: Runtime, bundle: Bundle, bound_dev: Path,
                                          workdir: Path) -> None:
    """With process.terminal the pty is mounted on /dev/console in the container; a console node
    in the bind-mounted /dev is covered, never opened, replaced or removed."""
    from .test_cves import ConsoleSocket

    os.mknod(bound_dev / "console", 0o020000 | 0o600, os.makedev(5, 1))
    before = dev_snapshot(bound_dev)
    bundle.process["terminal"] = True
    bundle.set_args("sh", "-c", "/bin/probe stat /dev/console; sleep 0.2")
    cs = ConsoleSocket(workdir / "console.sock")
    try:
        res = runtime.try_create(bundle, extra=["--console-socket", str(workdir / "console.sock")])
        assert res.returncode == 0, res.stderr
        cid = runtime.ids[-1]
        runtime.start(cid)
        runtime.wait_status(cid, "stopped")
        runtime.delete(cid)
        cs.thread.join(timeout=5 * SLOWDOWN)
        text = cs.text()
    finally:
        cs.close()
    assert dev_snapshot(bound_dev) == before, "the bind-mounted /dev changed"
    [console] = next(json.loads(line) for line in text.splitlines() if line.startswith("["))
    assert console["type"] == "char" and 136 <= console["major"] <= 143, console


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 makes no device at all in a bind-mounted /dev and does "
                                          "not check configured ones (runtime-spec: a different file there "
                                          "MUST be an error)")
@pytest.mark.parametrize("case", ["different", "missing"])
def test_bind_mounted_dev_configured_device_must_be_there(runtime: Runtime, bundle: Bundle, bound_dev: Path,
                                                           case: str) -> None:
    """linux.devices in a bind-mounted /dev: one that is not the requested device, or not there, is
    an error naming its path; nothing is made or removed."""
    path = "/dev/zero" if case == "different" else "/dev/fuse"
    bundle.linux["devices"] = [{"path": path, "type": "c", "major": 10, "minor": 229}]
    before = dev_snapshot(bound_dev)
    bundle.set_args("true")
    res = runtime.try_create(bundle)
    if res.returncode == 0:
        runtime.delete(runtime.ids[-1], force=True)
    assert dev_snapshot(bound_dev) == before, "the bind-mounted /dev changed"
    expect_error(runtime, res, ocirun=re.escape(path))
    assert runtime.leaks() == []


def test_bind_mounted_dev_configured_device_that_is_there(runtime: Runtime, bundle: Bundle,
                                                          bound_dev: Path) -> None:
    """linux.devices naming nodes the bind-mounted /dev has: fine, and they keep owner and mode."""
    bundle.linux["devices"] = [{"path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o666},
                               {"path": "/dev/loop7", "type": "b", "major": 7, "minor": 7}]
    before = dev_snapshot(bound_dev)
    [null, loop] = runtime.run_probe(bundle, "stat", "/dev/null", "/dev/loop7")
    assert dev_snapshot(bound_dev) == before, "the bind-mounted /dev changed"
    assert (null["type"], null["mode"], null["uid"]) == ("char", 0o600, 1), null
    assert (loop["type"], loop["major"], loop["minor"]) == ("block", 7, 7), loop


# ---------------------------------------------------------------------------- linux.devices on existing files


@pytest.fixture
def existing_node(bundle: Bundle) -> Path:
    """No tmpfs on /dev, so the (throwaway) image's /dev is the container's; in it /dev/mynull, the
    null device, owned 1:1, mode 600."""
    bundle.config["mounts"] = [m for m in bundle.config["mounts"] if m["destination"] != "/dev"]
    node = bundle.rootfs / "dev" / "mynull"
    node.parent.mkdir(exist_ok=True)
    os.mknod(node, 0o020000 | 0o600, os.makedev(1, 3))
    os.chown(node, 1, 1)
    os.chmod(node, 0o600)
    return node


def test_configured_device_matching_an_existing_node(runtime: Runtime, bundle: Bundle,
                                                     existing_node: Path) -> None:
    """A node already at a linux.devices path that is the requested device is fine, and is left
    as it is (same inode, owner and mode)."""
    before = existing_node.lstat()
    bundle.linux["devices"] = [{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 0o666}]
    [st] = runtime.run_probe(bundle, "stat", "/dev/mynull")
    after = existing_node.lstat()
    assert (after.st_ino, after.st_mode, after.st_uid, after.st_gid, after.st_rdev) == \
        (before.st_ino, before.st_mode, before.st_uid, before.st_gid, before.st_rdev)
    assert (st["type"], st["major"], st["minor"], st["ino"]) == ("char", 1, 3, before.st_ino), st


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 keeps any file that is at a device's path, whatever it "
                                          "is (runtime-spec, Devices: a different one MUST be an error)")
@pytest.mark.parametrize("what", ["other-device", "other-type", "regular-file"])
def test_configured_device_on_a_different_file(runtime: Runtime, bundle: Bundle, existing_node: Path,
                                               what: str) -> None:
    """A file at a linux.devices path that is not the requested device: an error naming the path,
    and the file is not removed or changed."""
    device: dict[str, Any] = {"path": "/dev/mynull", "type": "c", "major": 1, "minor": 5}
    if what == "other-type":
        device = {"path": "/dev/mynull", "type": "b", "major": 1, "minor": 3}
    elif what == "regular-file":
        existing_node.unlink()
        existing_node.write_text("image data\n")
        device = {"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3}
    before = existing_node.lstat()
    bundle.linux["devices"] = [device]
    bundle.set_args("true")
    res = runtime.try_create(bundle)
    if res.returncode == 0:
        runtime.delete(runtime.ids[-1], force=True)
    after = existing_node.lstat()
    assert (after.st_ino, after.st_mode, after.st_uid, after.st_gid, after.st_rdev) == \
        (before.st_ino, before.st_mode, before.st_uid, before.st_gid, before.st_rdev)
    expect_error(runtime, res, ocirun=re.escape("/dev/mynull"))
    assert runtime.leaks() == []


# ---------------------------------------------------------------------------- tmpfs and friends


def test_tmpfs_options(runtime: Runtime, bundle: Bundle) -> None:
    bundle.mount("/mnt/t", "tmpfs", "tmpfs", ["size=1m", "mode=700", "nosuid", "nodev", "noexec"])
    # first run: /mnt/t does not exist in the rootfs yet (see the next test for why it matters)
    [st] = runtime.run_probe(bundle, "stat", "/mnt/t")
    assert st["mode"] == 0o700
    mounts = mounts_of(runtime, bundle)
    m = find_mount(mounts, "/mnt/t")
    assert m["fstype"] == "tmpfs"
    assert {"nosuid", "nodev", "noexec", "rw"} <= set(m["options"])
    assert {"size=1024k", "mode=700"} <= set(m["super_options"])


def test_tmpfs_on_existing_dir_takes_its_mode(runtime: Runtime, bundle: Bundle) -> None:
    """A tmpfs without mode= mounted on a directory of the image gets that directory's mode
    (so an image's 1777 /tmp stays 1777, and a 0750 one stays 0750)."""
    (bundle.rootfs / "mnt" / "t").mkdir(parents=True)
    os.chmod(bundle.rootfs / "mnt" / "t", 0o750)
    bundle.mount("/mnt/t", "tmpfs", "tmpfs", ["nosuid"])
    [st] = runtime.run_probe(bundle, "stat", "/mnt/t")
    assert st["mode"] & 0o7777 == 0o750


@pytest.mark.xfail_runtime("runc", "runc chmods a tmpfs to the covered directory's mode even when mode= is given")
def test_tmpfs_explicit_mode_wins(runtime: Runtime, bundle: Bundle) -> None:
    (bundle.rootfs / "mnt" / "t").mkdir(parents=True)
    os.chmod(bundle.rootfs / "mnt" / "t", 0o1777)
    bundle.mount("/mnt/t", "tmpfs", "tmpfs", ["mode=700"])
    [st] = runtime.run_probe(bundle, "stat", "/mnt/t")
    assert st["mode"] & 0o7777 == 0o700


def test_tmpfs_readonly(runtime: Runtime, bundle: Bundle) -> None:
    bundle.mount("/mnt/t", "tmpfs", "tmpfs", ["ro"])
    bundle.set_args(*probe_args("write", "/mnt/t/f", "x"))
    status, out, _ = runtime.run_container(bundle)
    assert status == 1

    assert parse_json(out)["errno"] == errno.EROFS


def test_tmpfs_readonly_over_a_directory_keeps_its_mode(runtime: Runtime, bundle: Bundle) -> None:
    """``ro`` without ``mode=`` over an image's directory: the tmpfs gets the directory's mode (set
    while it is still writable) and is read-only."""
    (bundle.rootfs / "mnt" / "t").mkdir(parents=True)
    os.chmod(bundle.rootfs / "mnt" / "t", 0o1777)
    bundle.mount("/mnt/t", "tmpfs", "tmpfs", ["ro", "nosuid"])
    bundle.set_args("/bin/sh", "-c", "/bin/probe stat /mnt/t; /bin/probe write /mnt/t/f x")
    status, out, err = runtime.run_container(bundle)
    assert status == 1, err
    [st], written = (json.loads(line) for line in out.splitlines())
    assert st["mode"] & 0o7777 == 0o1777, st
    assert written["errno"] == errno.EROFS


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 makes no /dev/shm without a mount there")
def test_dev_shm_made_without_a_mount_is_world_writable(runtime: Runtime, bundle: Bundle) -> None:
    """Without a mount at /dev/shm, the /dev/shm made in the container's /dev is 1777."""
    assert bundle.config is not None
    bundle.config["mounts"] = [m for m in bundle.config["mounts"] if m["destination"] != "/dev/shm"]
    [st] = runtime.run_probe(bundle, "stat", "/dev/shm")
    assert (st["type"], st["mode"] & 0o7777) == ("dir", 0o1777), st


def assert_bound_file_reads(runtime: Runtime, bundle: Bundle, src: Path, dest: str, text: str) -> None:
    """Writes ``text`` to ``src``, binds it read-only at ``dest`` and checks that the container
    reads it there."""
    src.write_text(text)
    bundle.mount(dest, "bind", str(src), ["bind", "ro"])
    bundle.set_args("cat", dest)
    status, out, err = runtime.run_container(bundle)
    assert status == 0, err
    assert out == text


@pytest.mark.parametrize("form", ["relative", "absolute", "host-path"])
def test_mount_destination_that_is_a_dangling_symlink(
        runtime: Runtime, bundle: Bundle, workdir: Path, form: str) -> None:
    """An image's /etc/resolv.conf -> ../run/resolve/stub.conf, its target not there yet: the
    bind mount goes where the link points, made inside the rootfs (as runc); a link naming a host
    path is resolved in the rootfs too, and nothing is made on the host."""
    host_dir = workdir / "host-dir"
    host_dir.mkdir()
    target = {"relative": "../run/resolve/stub.conf", "absolute": "/run/resolve/stub.conf",
              "host-path": str(host_dir / "stub.conf")}[form]
    (bundle.rootfs / "etc" / "resolv.conf").unlink(missing_ok=True)
    (bundle.rootfs / "etc" / "resolv.conf").symlink_to(target)
    assert_bound_file_reads(runtime, bundle, workdir / "resolv.conf", "/etc/resolv.conf", "nameserver 192.0.2.1\n")
    made = bundle.rootfs / (target.lstrip("/") if form != "relative" else "run/resolve/stub.conf")
    assert made.is_file(), "the link's target was not made inside the rootfs"
    assert list(host_dir.iterdir()) == [], "something was made on the host"


def test_mount_creates_missing_destination(runtime: Runtime, bundle: Bundle) -> None:
    assert not (bundle.rootfs / "mnt").exists()
    bundle.mount("/mnt/new/deep", "tmpfs", "tmpfs")
    mounts = mounts_of(runtime, bundle)
    assert find_mount(mounts, "/mnt/new/deep")["fstype"] == "tmpfs"
    assert (bundle.rootfs / "mnt" / "new" / "deep").is_dir()


def test_bind_file_onto_missing_file(runtime: Runtime, bundle: Bundle, workdir: Path) -> None:
    assert_bound_file_reads(runtime, bundle, workdir / "extra.conf", "/etc/extra.conf", "hello\n")
    assert (bundle.rootfs / "etc" / "extra.conf").is_file()


def test_mounts_in_order(runtime: Runtime, bundle: Bundle, workdir: Path) -> None:
    """Later mounts go on top of earlier ones: a bind mount inside a tmpfs mount."""
    src = workdir / "src"
    src.mkdir()
    (src / "marker").write_text("m")
    bundle.mount("/mnt", "tmpfs", "tmpfs")
    bundle.mount("/mnt/inner", "bind", str(src), ["bind"])
    bundle.set_args("cat", "/mnt/inner/marker")
    status, out, err = runtime.run_container(bundle)
    assert status == 0, err
    assert out == "m"


def test_masked_and_readonly_paths(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["maskedPaths"] = ["/proc/keys", "/sys/firmware", "/proc/no-such-path"]
    bundle.linux["readonlyPaths"] = ["/proc/sys", "/proc/no-such-path"]
    report = runtime.run_probe(bundle, "all")
    mounts = report["mounts"]
    assert find_mount(mounts, "/sys/firmware")["fstype"] == "tmpfs"
    assert "ro" in find_mount(mounts, "/sys/firmware")["options"]
    assert "ro" in find_mount(mounts, "/proc/sys")["options"]
    [keys] = runtime.run_probe(bundle, "stat", "/proc/keys")
    assert (keys["type"], keys["major"], keys["minor"]) == ("char", 1, 3), "a masked file is /dev/null"


def test_readonly_paths_keep_the_flags_of_their_mount(runtime: Runtime, bundle: Bundle) -> None:
    """A read-only path keeps nosuid, nodev and noexec of the mount it is on (Docker's /proc:
    /proc/bus is ro,nosuid,nodev,noexec, not ro,relatime)."""
    assert bundle.config is not None
    [proc_mount] = [m for m in bundle.config["mounts"] if m["destination"] == "/proc"]
    proc_mount["options"] = ["nosuid", "noexec", "nodev"]  # as Docker and podman mount it
    bundle.linux["readonlyPaths"] = ["/proc/bus", "/proc/sys"]
    bundle.mount("/mnt", "tmpfs", "tmpfs", ["nosuid", "noexec"])
    bundle.linux["readonlyPaths"].append("/mnt")
    mounts = runtime.run_probe(bundle, "mounts")
    proc = set(find_mount(mounts, "/proc")["options"])
    assert {"nosuid", "nodev", "noexec"} <= proc
    for target, kept in (("/proc/bus", {"nosuid", "nodev", "noexec"}), ("/proc/sys", {"nosuid", "nodev", "noexec"}),
                         ("/mnt", {"nosuid", "noexec"})):
        options = set(find_mount(mounts, target)["options"])
        assert {"ro", *kept} <= options, (target, options)
    assert "nodev" not in find_mount(mounts, "/mnt")["options"], "no flag the mount lacked"


# ---------------------------------------------------------------------------- bind mounts


@pytest.fixture
def host_dir(workdir: Path) -> Iterator[Path]:
    """A host directory with a file and a tmpfs submount (for rbind vs bind)."""
    src = workdir / "src"
    (src / "sub").mkdir(parents=True)
    (src / "file").write_text("data")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(src / "sub")], check=True)
    (src / "sub" / "in-submount").write_text("x")
    try:
        yield src
    finally:
        subprocess.run(["umount", "-l", str(src / "sub")], check=True)


def test_bind_is_not_recursive(runtime: Runtime, bundle: Bundle, host_dir: Path) -> None:
    bundle.mount("/mnt/b", "bind", str(host_dir), ["bind"])
    report = runtime.run_probe(bundle, "stat", "/mnt/b/file", "/mnt/b/sub/in-submount")
    assert report[0]["exists"] and report[0]["type"] == "file"
    assert not report[1]["exists"], "a plain bind mount does not bring submounts"


def test_rbind_is_recursive(runtime: Runtime, bundle: Bundle, host_dir: Path) -> None:
    bundle.mount("/mnt/b", "bind", str(host_dir), ["rbind"])
    mounts = mounts_of(runtime, bundle)
    assert find_mount(mounts, "/mnt/b/sub")["fstype"] == "tmpfs"


def test_bind_without_type(runtime: Runtime, bundle: Bundle, host_dir: Path) -> None:
    """`type` is optional for bind mounts: the `bind` option makes it one."""
    bundle.mount("/mnt/b", None, str(host_dir), ["bind"])
    [st] = runtime.run_probe(bundle, "stat", "/mnt/b/file")
    assert st["exists"]


@pytest.mark.parametrize("flag", ["ro", "nosuid", "nodev", "noexec"])
def test_bind_flags(runtime: Runtime, bundle: Bundle, host_dir: Path, flag: str) -> None:
    bundle.mount("/mnt/b", "bind", str(host_dir), ["bind", flag])
    m = find_mount(mounts_of(runtime, bundle), "/mnt/b")
    assert flag in m["options"], m
    assert m["root"] == in_its_filesystem(host_dir)


def test_rbind_flags_all(runtime: Runtime, bundle: Bundle, host_dir: Path) -> None:
    bundle.mount("/mnt/b", "bind", str(host_dir), ["rbind", "ro", "nosuid", "nodev", "noexec"])
    m = find_mount(mounts_of(runtime, bundle), "/mnt/b")
    assert {"ro", "nosuid", "nodev", "noexec"} <= set(m["options"]), m


def test_bind_ro_blocks_writes_and_host_untouched(runtime: Runtime, bundle: Bundle, host_dir: Path) -> None:
    bundle.mount("/mnt/b", "bind", str(host_dir), ["bind", "ro"])
    bundle.set_args(*probe_args("write", "/mnt/b/file", "changed"))
    status, out, _ = runtime.run_container(bundle)

    assert status == 1 and parse_json(out)["errno"] == errno.EROFS
    assert (host_dir / "file").read_text() == "data"
    assert "ro" not in host_mount_options(host_dir / "sub"), "the host's mounts must keep their flags"


def test_bind_rw_writes_reach_host(runtime: Runtime, bundle: Bundle, host_dir: Path) -> None:
    bundle.mount("/mnt/b", "bind", str(host_dir), ["bind", "rw"])
    bundle.set_args(*probe_args("write", "/mnt/b/new", "from-container"))
    status, _, err = runtime.run_container(bundle)
    assert status == 0, err
    assert (host_dir / "new").read_text() == "from-container"


def host_mount_options(path: Path) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == str(path):
                return fields[5].split(",")
    raise AssertionError(f"{path} is not a mount point")


@pytest.fixture
def shared_host_dir(runtime: Runtime, host_dir: Path) -> Iterator[Path]:
    """``host_dir`` made a shared mount on the host (a bind mount of itself)."""
    subprocess.run(["mount", "--bind", str(host_dir), str(host_dir)], check=True)
    try:
        subprocess.run(["mount", "--make-shared", str(host_dir)], check=True)
        yield host_dir
    finally:
        subprocess.run(["umount", "-l", str(host_dir)], check=True)


@pytest.mark.parametrize(
    "option, propagation",
    [("private", "private"), ("rprivate", "private"), ("shared", "shared"), ("rshared", "shared"),
     ("unbindable", "unbindable"), ("runbindable", "unbindable")],
)
def test_bind_propagation(runtime: Runtime, bundle: Bundle, host_dir: Path, option: str,
                          propagation: str) -> None:
    bundle.mount("/mnt/b", "bind", str(host_dir), ["rbind", option])
    m = find_mount(mounts_of(runtime, bundle), "/mnt/b")
    assert m["propagation"] == propagation, m


@pytest.mark.parametrize("option", ["slave", "rslave"])
def test_bind_propagation_slave(runtime: Runtime, bundle: Bundle, shared_host_dir: Path, option: str) -> None:
    bundle.mount("/mnt/b", "bind", str(shared_host_dir), ["bind", option])
    m = find_mount(mounts_of(runtime, bundle), "/mnt/b")
    assert m["propagation"] == "slave", m


# ---------------------------------------------------------------------------- the root


def test_root_readonly(runtime: Runtime, bundle: Bundle) -> None:
    assert bundle.config is not None
    bundle.config["root"]["readonly"] = True
    report = runtime.run_probe(bundle, "mounts")
    assert "ro" in find_mount(report, "/")["options"]
    assert "rw" in find_mount(report, "/dev")["options"], "mounts on top of a read-only root stay writable"
    bundle.set_args(*probe_args("write", "/new-file", "x"))
    status, out, _ = runtime.run_container(bundle)

    assert status == 1 and parse_json(out)["errno"] == errno.EROFS
    assert not (bundle.rootfs / "new-file").exists()


def test_root_writable(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args(*probe_args("write", "/new-file", "x"))
    status, _, err = runtime.run_container(bundle)
    assert status == 0, err
    assert (bundle.rootfs / "new-file").read_text() == "x"


def test_no_pivot(runtime: Runtime, bundle: Bundle) -> None:
    mounts = mounts_of(runtime, bundle, extra=("--no-pivot",))
    assert find_mount(mounts, "/")["root"] == in_its_filesystem(bundle.rootfs)
    assert find_mount(mounts, "/proc")["fstype"] == "proc"
    bundle.set_args("cat", "/etc/hostname")
    status, out, err = runtime.run_container(bundle, extra=["--no-pivot"])
    assert status == 0, err
    assert out == "rootfs\n", "the process must see the bundle's rootfs as /"


def test_host_root_invisible(runtime: Runtime, bundle: Bundle) -> None:
    """After pivot_root the host's / is not reachable (no stray mount of it remains)."""
    mounts = mounts_of(runtime, bundle)
    host_root = find_host_root()
    assert [m["target"] for m in mounts if (m["dev"], m["root"]) == host_root] == []


def find_host_root() -> tuple[str, str]:
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == "/":
                return fields[2], fields[3]
    raise AssertionError("no / in mountinfo")


@pytest.fixture
def shared_bundle(runtime: Runtime, bundle: Bundle) -> Iterator[Bundle]:
    """The bundle directory made a shared mount on the host, so that the rootfs propagation
    the runtime sets up is visible (the host's / here is private: everything below it would
    come out private whatever the runtime does)."""
    path = str(bundle.path)
    subprocess.run(["mount", "--bind", path, path], check=True)
    try:
        subprocess.run(["mount", "--make-shared", path], check=True)
        yield bundle
    finally:
        subprocess.run(["umount", "-l", path], check=True)


def peer_tags(optional: list[str]) -> dict[str, str]:
    """mountinfo optional fields as {"shared": peer group, "master": peer group}."""
    return dict(field.split(":", 1) for field in optional if ":" in field)


def host_peer_group(path: Path) -> str:
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == str(path):
                return peer_tags(fields[6:fields.index("-")])["shared"]
    raise AssertionError(f"{path} is not a mount point")


def root_peers(runtime: Runtime, bundle: Bundle, value: str | None) -> dict[str, str]:
    """The container root's propagation tags, with linux.rootfsPropagation = value."""
    if value is not None:
        bundle.linux["rootfsPropagation"] = value
    return peer_tags(find_mount(mounts_of(runtime, bundle), "/")["optional"])


def test_rootfs_propagation_default_is_slave(runtime: Runtime, shared_bundle: Bundle) -> None:
    """runc's default: the root is rslave, receiving the host's mount events."""
    assert root_peers(runtime, shared_bundle, None) == {"master": host_peer_group(shared_bundle.path)}


def test_rootfs_propagation_private(runtime: Runtime, shared_bundle: Bundle) -> None:
    assert root_peers(runtime, shared_bundle, "private") == {}


def test_rootfs_propagation_rslave(runtime: Runtime, shared_bundle: Bundle) -> None:
    assert root_peers(runtime, shared_bundle, "rslave") == {"master": host_peer_group(shared_bundle.path)}


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 applies a non-recursive `slave` to the host's / only "
                           "and then makes the rootfs parent private: the root comes out private")
def test_rootfs_propagation_slave(runtime: Runtime, shared_bundle: Bundle) -> None:
    """The spec: the root receives the host's mount events (a slave of the host's peer group)."""
    assert root_peers(runtime, shared_bundle, "slave") == {"master": host_peer_group(shared_bundle.path)}


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 makes the rootfs parent private before the bind mount, "
                           "so a `shared` root comes out private (runtime-tools linux_rootfs_propagation "
                           "fails on runc too)")
def test_rootfs_propagation_shared(runtime: Runtime, shared_bundle: Bundle) -> None:
    """The spec: the root belongs to a new peer group ("this does not mean that it's shared
    with the host"); it may also be a slave of the host's."""
    peers = root_peers(runtime, shared_bundle, "shared")
    assert "shared" in peers, peers
    assert peers["shared"] != host_peer_group(shared_bundle.path), "a new peer group, not the host's"


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 fails with EINVAL binding an unbindable rootfs: "
                           "'mount ROOTFS:ROOTFS, flags: 0x5000: invalid argument'")
def test_rootfs_propagation_unbindable(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["rootfsPropagation"] = "unbindable"
    assert find_mount(mounts_of(runtime, bundle), "/")["propagation"] == "unbindable"


# ---------------------------------------------------------------------------- bind sources in config order


def use_userns(runtime: Runtime, bundle: Bundle) -> None:
    """A user namespace whose root is host uid 200000 (the cgroup mount needs more than it has)."""
    bundle.linux["namespaces"].append({"type": "user"})
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
    assert bundle.config is not None
    bundle.config["mounts"] = [m for m in bundle.config["mounts"] if m["type"] != "cgroup"]
    os.chmod(runtime.workdir, 0o711)  # the mapped root must reach the rootfs and the host directory


@pytest.mark.parametrize("source", ["absolute", "relative"])
@pytest.mark.parametrize("variant", [
    "pivot_root", "no-pivot", "readonly-root",
    pytest.param("userns", marks=pytest.mark.xfail_runtime(
        "runc", reason="with a user namespace runc 1.1.5 opens every bind source before it mounts anything "
                       "(nsexec's mount sources), so it binds the image's file")),
])
def test_bind_source_in_the_rootfs_sees_earlier_mounts(runtime: Runtime, bundle: Bundle, workdir: Path,
                                                       source: str, variant: str) -> None:
    """Each bind source is resolved when its mount is made, in config order (runc's mountToRootfs):
    a source inside the rootfs goes through the mounts made before it.  The image has its own
    /final/file, covered by a host directory bound on /final; a bind of rootfs/final/file must
    show the host directory's file, not the image's."""
    host = workdir / "host-dir"
    host.mkdir()
    (host / "file").write_text("from the earlier mount\n")
    (bundle.rootfs / "final").mkdir()
    (bundle.rootfs / "final" / "file").write_text("from the image\n")
    extra: list[str] = []
    if variant == "no-pivot":
        extra.append("--no-pivot")
    elif variant == "readonly-root":
        assert bundle.config is not None
        bundle.config["root"]["readonly"] = True
    elif variant == "userns":
        use_userns(runtime, bundle)
        (bundle.rootfs / "other").touch()  # the mapped root may not create it in the image
    bundle.mount("/final", "bind", str(host), ["bind"])
    src = str(bundle.rootfs / "final" / "file") if source == "absolute" else "rootfs/final/file"
    bundle.mount("/other", "bind", src, ["bind", "ro"])
    bundle.set_args("cat", "/other")
    status, out, err = runtime.run_container(bundle, extra=extra)
    assert status == 0, f"{err}\nlog:\n{runtime.log_tail()}"
    assert out == "from the earlier mount\n"
    assert (bundle.rootfs / "final" / "file").read_text() == "from the image\n"


def test_bind_source_through_a_tmpfs_and_a_bind_on_it(runtime: Runtime, bundle: Bundle, workdir: Path) -> None:
    """A tmpfs on /final, a host file bound on /final/file (made in the tmpfs), then a bind of
    rootfs/final/file: the source exists only once both earlier mounts are made."""
    host = workdir / "host-file"
    host.write_text("host\n")
    bundle.mount("/final", "tmpfs", "tmpfs")
    bundle.mount("/final/file", "bind", str(host), ["bind"])
    bundle.mount("/other", "bind", "rootfs/final/file", ["bind"])
    bundle.set_args("cat", "/other")
    status, out, err = runtime.run_container(bundle)
    assert status == 0, f"{err}\nlog:\n{runtime.log_tail()}"
    assert out == "host\n"
    assert not (bundle.rootfs / "final" / "file").exists(), "the tmpfs's file was made in the image"


def test_bind_source_covered_by_an_earlier_mount_is_missing(runtime: Runtime, bundle: Bundle) -> None:
    """The image's /final/file under a tmpfs on /final: a later bind of rootfs/final/file finds
    nothing there (the source is not looked up before the tmpfs is mounted)."""
    (bundle.rootfs / "final").mkdir()
    (bundle.rootfs / "final" / "file").write_text("from the image\n")
    bundle.mount("/final", "tmpfs", "tmpfs")
    bundle.mount("/other", "bind", "rootfs/final/file", ["bind"])
    res = runtime.try_create(bundle)
    expect_error(runtime, res, both=r"(?i)no such file or directory")
    assert runtime.leaks() == []
