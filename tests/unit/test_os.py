"""ocirun._os, the part of ``os`` ocirun uses without importing os: its path helpers must agree
with posixpath / os.path, and makedirs with os.makedirs."""

from __future__ import annotations

import errno
import itertools
import os
import posixpath
import stat
from pathlib import Path

import pytest

from ocirun import _os

TRICKY = [
    "",
    "/",
    "//",
    "///",
    "////",
    "///a",
    "//a",
    "//a/b/",
    "/a",
    "a",
    "abc",
    "a/",
    "a//",
    "a/b",
    "a/b/",
    "a/b//",
    "/a/b/",
    ".",
    "./",
    "./a/",
    "..",
    "../",
    "/..",
    "//..",
    "///..",
    "/../a",
    "../../a",
    "a/..",
    "a/.",
    "a/./b",
    "a/../b",
    "a/../..",
    "/a/b/../../..",
    "a/b/../../..",
    "/a//b///c",
    "//a//",
    ".../a",
    "a/...",
    "...",
    ".a",
    "a.",
    "/a/b/c/../../d/",
    "a/b/./../c/.",
    "~",
    "a b/c d",
    "é/ü",
]


@pytest.mark.parametrize("name", ["dirname", "basename", "normpath"])
def test_pure_functions_agree_with_posixpath(name: str) -> None:
    ours, theirs = getattr(_os.path, name), getattr(posixpath, name)
    wrong = [(p, ours(p), theirs(p)) for p in TRICKY if ours(p) != theirs(p)]
    assert not wrong


def test_abspath_agrees_with_posixpath(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    wrong = [(p, _os.path.abspath(p)) for p in TRICKY if _os.path.abspath(p) != posixpath.abspath(p)]
    assert not wrong


@pytest.mark.parametrize("p", ["a", ".", "", "..", "a/../../b", "a/"])
def test_abspath_at_root(monkeypatch: pytest.MonkeyPatch, p: str) -> None:
    monkeypatch.chdir("/")
    assert _os.path.abspath(p) == posixpath.abspath(p)


JOIN_PARTS = ["", "/", "a", "a/", "/b", "b/", "//c", ".", "..", "a//"]


def test_join_of_two_agrees_with_posixpath() -> None:
    cases = list(itertools.product(TRICKY, JOIN_PARTS)) + list(itertools.product(JOIN_PARTS, TRICKY))
    wrong = [(a, b, _os.path.join(a, b)) for a, b in cases if _os.path.join(a, b) != posixpath.join(a, b)]
    assert not wrong


def test_join_of_three_agrees_with_posixpath() -> None:
    cases = list(itertools.product(JOIN_PARTS, repeat=3))
    wrong = [
        (parts, _os.path.join(*parts)) for parts in cases if _os.path.join(*parts) != posixpath.join(*parts)
    ]
    assert not wrong


def test_join_of_one() -> None:
    assert [_os.path.join(p) for p in TRICKY] == [posixpath.join(p) for p in TRICKY]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """dir/, file, fifo, link-to-dir, link-to-file, dangling link, loop link, unreadable-name entries."""
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "sub").mkdir()
    (tmp_path / "file").write_text("x")
    os.mkfifo(tmp_path / "fifo")
    os.symlink("dir", tmp_path / "link-dir")
    os.symlink("file", tmp_path / "link-file")
    os.symlink("nothing", tmp_path / "dangling")
    os.symlink("loop", tmp_path / "loop")
    return tmp_path


FS_CASES = [
    "dir",
    "dir/",
    "dir/.",
    "dir/..",
    "dir/sub",
    "dir//sub/",
    "file",
    "file/",
    "file/.",
    "file/x",
    "fifo",
    "link-dir",
    "link-dir/",
    "link-dir/sub",
    "link-file",
    "link-file/",
    "dangling",
    "dangling/",
    "loop",
    "missing",
    "missing/x",
    "",
    ".",
    "..",
    "/",
    "//",
    "a\0b",
    "x" * 300,
    ("y" * 200 + "/") * 30,
]


@pytest.mark.parametrize("name", ["exists", "isdir", "isfile", "lexists"])
def test_file_tests_agree_with_os_path(tree: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.chdir(tree)
    ours, theirs = getattr(_os.path, name), getattr(os.path, name)
    # relative and absolute spellings of each case (not tree / rel: pathlib drops "." and "/")
    paths = FS_CASES + [f"{tree}/{rel}" for rel in FS_CASES if rel]
    wrong = [(p[:80], ours(p)) for p in paths if ours(p) is not theirs(p)]
    assert not wrong
    assert any(ours(p) for p in paths) and not all(ours(p) for p in paths)


# ---------------------------------------------------------------------------- makedirs


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _outcome(fn: object, root: Path, rel: str, exist_ok: bool) -> tuple[str, list[str]]:
    (root / "existing").mkdir()
    (root / "file").write_text("")
    try:
        fn(f"{root}/{rel}", exist_ok=exist_ok)  # type: ignore[operator]
        result = "ok"
    except OSError as e:
        result = type(e).__name__
    return result, _tree(root)


MAKEDIRS = [
    "a",
    "a/b/c",
    "a/b/c/",
    "a//b",
    "a/./b",
    "a/../b",
    "a/b/..",
    "existing",
    "existing/",
    "existing/x/y",
    "existing/.",
    "file",
    "file/",
    "file/x",
    "file/x/y",
]


@pytest.mark.parametrize("exist_ok", [False, True])
@pytest.mark.parametrize("rel", MAKEDIRS)
def test_makedirs_agrees_with_os_makedirs(tmp_path: Path, rel: str, exist_ok: bool) -> None:
    (tmp_path / "os").mkdir()
    (tmp_path / "ours").mkdir()
    expected = _outcome(os.makedirs, tmp_path / "os", rel, exist_ok)
    got = _outcome(_os.makedirs, tmp_path / "ours", rel, exist_ok)
    assert got == expected


def test_makedirs_with_a_final_dot(tmp_path: Path) -> None:
    _os.makedirs(f"{tmp_path}/new/.")
    assert (tmp_path / "new").is_dir()


def test_makedirs_mode_of_the_leaf(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        _os.makedirs(str(tmp_path / "a" / "b"), 0o711)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a" / "b").st_mode) == 0o711


def test_makedirs_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _os.makedirs("r/s/t")
    assert (tmp_path / "r" / "s" / "t").is_dir()
    _os.makedirs("r/s/t", exist_ok=True)
    with pytest.raises(FileExistsError):
        _os.makedirs("r/s/t")


def test_makedirs_of_root(tmp_path: Path) -> None:
    _os.makedirs("/", exist_ok=True)
    with pytest.raises(FileExistsError):
        _os.makedirs("/")


def test_module_is_posix() -> None:
    import posix

    for name in ("open", "read", "write", "close", "stat", "listdir", "getpid", "kill", "waitpid"):
        assert getattr(_os, name) is getattr(posix, name)
    assert (_os.SEEK_SET, _os.SEEK_END) == (os.SEEK_SET, os.SEEK_END)


# ---------------------------------------------------------------------------- pidfd_open


def test_pidfd_open_of_a_thread_is_no_such_process(thread_id: int) -> None:
    """Linux says EINVAL (to 6.8) or ENOENT (6.9 on): both are ProcessLookupError here."""
    with pytest.raises(ProcessLookupError):
        _os.pidfd_open(thread_id)


@pytest.mark.parametrize("err", [errno.EINVAL, errno.ENOENT, errno.ESRCH])
def test_pidfd_open_of_a_pid_being_reaped_is_no_such_process(monkeypatch: pytest.MonkeyPatch, err: int) -> None:
    """EINVAL also when the process is reaped between the kernel's pid lookup and its leader check."""
    def fail(pid: int, flags: int = 0) -> int:
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr(_os, "_pidfd_open", fail)
    with pytest.raises(ProcessLookupError):
        _os.pidfd_open(12345)


def test_pidfd_open_of_a_bad_pid_stays_einval() -> None:
    with pytest.raises(OSError) as e:
        _os.pidfd_open(0)
    assert e.value.errno == errno.EINVAL and not isinstance(e.value, ProcessLookupError)


def test_pidfd_open_of_this_process() -> None:
    fd = _os.pidfd_open(os.getpid())
    os.close(fd)
