"""Paths inside the container's root, as the init stage resolves them (csrc/init/paths.c), run
without root by the C test program tests/unit/c/init_parts.c in a temporary directory.

Every path of the image is opened with openat2(RESOLVE_IN_ROOT) from the rootfs: absolute
symlinks and ".." stop at the root, missing parts are made one at a time, each resolved again
from the root.  Nothing outside the root is ever opened, made or followed into.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., tuple[int, list[str]]]  # the init_parts fixture (tests/unit/conftest.py)


@pytest.fixture
def root(tmp_path: Path, init_parts: Run) -> Path:
    """A rootfs: etc/, a/b/, a file, and beside it outside/ that nothing may reach."""
    rootfs = tmp_path / "rootfs"
    for d in ("etc", "a/b", "dev"):
        (rootfs / d).mkdir(parents=True)
    (rootfs / "file").write_text("")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_text("host")
    status, out = init_parts("resolve", rootfs, "", "none")
    if out == [f"err {errno.ENOSYS}"]:
        pytest.skip("the kernel has no openat2 (Linux < 5.6): the init stage cannot run here")
    assert (status, out) == (0, [f"ok {rootfs}"])
    return rootfs


def resolve(run: Run, root: Path, path: str, how: str = "none") -> str:
    status, out = run("resolve", root, path, how)
    assert status == 0 and len(out) == 1, out
    return out[0]


def test_paths_are_the_root_s(root: Path, init_parts: Run) -> None:
    assert resolve(init_parts, root, "a/b") == f"ok {root}/a/b"
    assert resolve(init_parts, root, "/a/b") == f"ok {root}/a/b"
    assert resolve(init_parts, root, "//a//b/") == f"ok {root}/a/b"
    assert resolve(init_parts, root, "/") == f"ok {root}"
    assert resolve(init_parts, root, "") == f"ok {root}"
    assert resolve(init_parts, root, "missing") == f"err {errno.ENOENT}"
    assert resolve(init_parts, root, "file/x") == f"err {errno.ENOTDIR}"


def test_dot_dot_stops_at_the_root(root: Path, init_parts: Run) -> None:
    assert resolve(init_parts, root, "..") == f"ok {root}"
    assert resolve(init_parts, root, "../../../a") == f"ok {root}/a"
    assert resolve(init_parts, root, "a/b/../../../../etc") == f"ok {root}/etc"
    assert resolve(init_parts, root, "../outside/secret") == f"err {errno.ENOENT}"


def test_symlinks_lead_inside_the_root(root: Path, init_parts: Run) -> None:
    outside = root.parent / "outside"
    (root / "abs").symlink_to("/etc")  # the image's /etc, not the host's
    (root / "host").symlink_to(outside)  # an absolute path of the host: in the root, it is not there
    (root / "a" / "up").symlink_to("../../../../outside")
    (root / "a" / "b" / "loop").symlink_to("loop")
    assert resolve(init_parts, root, "abs") == f"ok {root}/etc"
    assert resolve(init_parts, root, "host/secret") == f"err {errno.ENOENT}"
    assert resolve(init_parts, root, "a/up/secret") == f"err {errno.ENOENT}"
    assert resolve(init_parts, root, "a/b/loop") == f"err {errno.ELOOP}"
    (root / "outside").mkdir()  # where the escaping link really leads, inside
    assert resolve(init_parts, root, "a/up") == f"ok {root}/outside"


def test_missing_parts_are_made_in_the_root(root: Path, init_parts: Run) -> None:
    assert resolve(init_parts, root, "/x/y/z", "dir") == f"ok {root}/x/y/z"
    assert (root / "x" / "y" / "z").is_dir()
    assert resolve(init_parts, root, "/x/y/z", "dir") == f"ok {root}/x/y/z"  # there already: opened
    assert resolve(init_parts, root, "/d/e/f", "file") == f"ok {root}/d/e/f"
    assert (root / "d" / "e").is_dir() and (root / "d" / "e" / "f").is_file()
    assert (root / "d" / "e" / "f").stat().st_size == 0
    # through "..": made where ".." stops, at the root
    assert resolve(init_parts, root, "../../g/h", "dir") == f"ok {root}/g/h"
    # a file in the way is not a directory
    assert resolve(init_parts, root, "file/sub", "dir") == f"err {errno.ENOTDIR}"


def test_dangling_symlinks_are_made_real_inside_the_root(root: Path, init_parts: Run) -> None:
    """A missing part behind a dangling symlink is made where the link points, resolved in the
    root as runc does (an image's /etc/resolv.conf -> ../run/...): never outside it."""
    outside = root.parent / "outside"
    before = sorted(os.listdir(outside))
    (root / "host").symlink_to(outside)  # absolute, of the host: in the root it is {root}{outside}
    assert resolve(init_parts, root, "host/new", "dir") == f"ok {root}{outside}/new"
    (root / "a" / "up").symlink_to("../../../outside")  # ".." stops at the root: {root}/outside
    assert resolve(init_parts, root, "a/up/new", "file") == f"ok {root}/outside/new"
    assert (root / "outside" / "new").is_file()
    (root / "etc" / "resolv.conf").symlink_to("../run/resolve/stub.conf")  # the last part, a file
    assert resolve(init_parts, root, "etc/resolv.conf", "file") == f"ok {root}/run/resolve/stub.conf"
    assert (root / "run" / "resolve" / "stub.conf").is_file() and (root / "etc" / "resolv.conf").is_symlink()
    (root / "dev" / "shm").symlink_to("/run/shm")
    assert resolve(init_parts, root, "dev/shm/x", "dir") == f"ok {root}/run/shm/x"
    (root / "chain1").symlink_to("chain2")
    (root / "chain2").symlink_to("/made/by/chain")
    assert resolve(init_parts, root, "chain1", "dir") == f"ok {root}/made/by/chain"
    assert sorted(os.listdir(outside)) == before, "something was made outside the root"
    # a path with no symlink in it is made as before; not asked to make: not made
    assert resolve(init_parts, root, "elsewhere/x") == f"err {errno.ENOENT}"


def test_symlinks_that_keep_leading_to_symlinks(root: Path, init_parts: Run) -> None:
    for n in range(45):  # each link names a missing part behind the next one
        (root / f"l{n}").symlink_to(f"l{n + 1}/x")
    assert resolve(init_parts, root, "l0", "dir") == f"err {errno.ELOOP}"
    (root / "self").symlink_to("self/x")
    assert resolve(init_parts, root, "self", "dir") == f"err {errno.ELOOP}"


def test_too_long_a_path_to_make(root: Path, init_parts: Run) -> None:
    assert resolve(init_parts, root, "a/" + "x" * 4100, "dir") == f"err {errno.ENAMETOOLONG}"


def test_parent_and_last_component(root: Path, init_parts: Run) -> None:
    assert init_parts("parent", root, "/a/b/c") == (0, [f"ok {root}/a/b c"])
    assert init_parts("parent", root, "/a/b/c//") == (0, [f"ok {root}/a/b c"])
    assert init_parts("parent", root, "top") == (0, [f"ok {root} top"])
    # the parents are made (as directories), the last component is left to the caller
    assert init_parts("parent", root, "/p/q/r") == (0, [f"ok {root}/p/q r"])
    assert (root / "p" / "q").is_dir() and not (root / "p" / "q" / "r").exists()
    (root / "a" / "up").symlink_to("../../..")
    assert init_parts("parent", root, "/a/up/x") == (0, [f"ok {root} x"])


def test_proc_and_sys_go_on_a_plain_directory(root: Path, init_parts: Run) -> None:
    """open_plain_dir: the last component is never a symlink (CVE-2019-19921); made if missing."""
    (root / "proc").symlink_to("/etc")
    (root / "sys").symlink_to("/nowhere")
    assert init_parts("plain", root, "/proc") == (1, [f"fail {errno.ENOTDIR} must be mounted on ordinary directory"])
    assert init_parts("plain", root, "/sys") == (1, [f"fail {errno.ENOTDIR} must be mounted on ordinary directory"])
    assert not (root / "nowhere").exists()
    assert init_parts("plain", root, "/a/b") == (0, [f"ok {root}/a/b"])
    assert init_parts("plain", root, "/new/proc") == (0, [f"ok {root}/new/proc"])
    assert (root / "new" / "proc").is_dir()
    assert init_parts("plain", root, "/file") == (1, [f"fail {errno.ENOTDIR} must be mounted on ordinary directory"])


def test_the_weakened_build_escapes(root: Path, init_parts: Run, init_parts_weakened: Run) -> None:
    """The no-resolve-in-root build of `make attack-proof` follows ".." and symlinks out of the
    root: proof that the tests above would see an escape."""
    outside = root.parent / "outside"
    (root / "a" / "up").symlink_to("../../outside")
    assert resolve(init_parts_weakened, root, "../outside/secret") == f"ok {outside}/secret"
    assert resolve(init_parts_weakened, root, "a/up") == f"ok {outside}"
    assert resolve(init_parts, root, "../outside/secret") == f"err {errno.ENOENT}"
    assert resolve(init_parts, root, "a/up") == f"err {errno.ENOENT}"
