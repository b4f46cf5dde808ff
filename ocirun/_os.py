"""The part of ``os`` that ocirun uses, built on ``posix`` directly.

``import os`` costs about 1 ms with ``python -S`` (it builds os.environ and imports posixpath,
stat and _collections_abc): half of what ``ocirun state`` may take on top of starting Python.
Every ocirun module does ``from . import _os as os`` and reads like ordinary os code; the system
calls are posix's own, and ``os.path`` has the few POSIX path helpers ocirun needs, with
posixpath's semantics (tests/unit/test_os.py compares them).
"""

from posix import *  # noqa: F403  (posix is os's own implementation on Linux)
from posix import (
    O_CLOEXEC,
    O_CREAT,
    O_DIRECTORY,
    O_RDONLY,
    O_TRUNC,
    O_WRONLY,
    close,
    getpid,
    open,
    rename,
    unlink,
    write,
)
from posix import _exit as _exit
from posix import getcwd as _getcwd
from posix import lstat as _lstat
from posix import mkdir as _mkdir
from posix import pidfd_open as _pidfd_open
from posix import stat as _stat

SEEK_SET = 0
SEEK_END = 2


class path:
    """posixpath's join, dirname, basename, normpath, abspath, exists, isdir, isfile."""

    @staticmethod
    def join(a: str, *parts: str) -> str:
        out = a
        for p in parts:
            if p.startswith("/"):
                out = p
            elif not out or out.endswith("/"):
                out += p
            else:
                out += "/" + p
        return out

    @staticmethod
    def dirname(p: str) -> str:
        head = p[: p.rfind("/") + 1]
        if head and head != "/" * len(head):
            head = head.rstrip("/")
        return head

    @staticmethod
    def basename(p: str) -> str:
        return p[p.rfind("/") + 1 :]

    @staticmethod
    def normpath(p: str) -> str:
        if not p:
            return "."
        initial = 2 if p.startswith("//") and not p.startswith("///") else 1 if p.startswith("/") else 0
        out: list[str] = []
        for comp in p.split("/"):
            if comp in ("", "."):
                continue
            if comp != ".." or (not initial and not out) or (out and out[-1] == ".."):
                out.append(comp)
            elif out:
                out.pop()
        joined = "/" * initial + "/".join(out)
        return joined or "."

    @staticmethod
    def abspath(p: str) -> str:
        if not p.startswith("/"):
            p = path.join(_getcwd(), p)
        return path.normpath(p)

    @staticmethod
    def exists(p: str) -> bool:
        try:
            _stat(p)
        except (OSError, ValueError):
            return False
        return True

    @staticmethod
    def lexists(p: str) -> bool:
        try:
            _lstat(p)
        except (OSError, ValueError):
            return False
        return True

    @staticmethod
    def isdir(p: str) -> bool:
        try:
            return (_stat(p).st_mode & 0o170000) == 0o040000
        except (OSError, ValueError):
            return False

    @staticmethod
    def isfile(p: str) -> bool:
        try:
            return (_stat(p).st_mode & 0o170000) == 0o100000
        except (OSError, ValueError):
            return False


def write_once(path: str, data: bytes) -> None:
    """One write(2) of ``data`` to an existing file (a cgroup or /proc file takes one value a write)."""
    fd = open(path, O_WRONLY | O_CLOEXEC)
    try:
        write(fd, data)
    finally:
        close(fd)


def write_atomic(path: str, data: bytes, mode: int = 0o644, tmp: str | None = None) -> None:
    """Replaces ``path`` with ``data`` so that readers see the old file or the whole new one: a
    temporary file beside it (``tmp``, by default ``<path>.<pid>.tmp``), then rename; nothing is
    left behind when that fails (the OSError goes to the caller)."""
    if tmp is None:
        tmp = f"{path}.{getpid()}.tmp"
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[write(fd, view) :]
        finally:
            close(fd)
        rename(tmp, path)
    except BaseException:
        try:
            unlink(tmp)
        except OSError:
            pass
        raise


def pidfd_open(pid: int, flags: int = 0) -> int:  # type: ignore[no-redef]  # (posix's, through *)
    """posix.pidfd_open, with ProcessLookupError wherever ``pid`` (> 0) is not a process: Linux
    says EINVAL (up to 6.8) or ENOENT (6.9 on) when the pid is still known but has no thread-group
    leader, that is when it is another process's thread (a recycled pid), or when the process is
    being reaped right then (``delete --force`` failed with an internal EINVAL in the v2 guest)."""
    try:
        return _pidfd_open(pid, flags)
    except OSError as e:
        if pid > 0 and e.errno in (22, 2):  # EINVAL, ENOENT
            raise ProcessLookupError(3, "No such process") from None
        raise


def wait_pidfd(pidfd: int, timeout: float | None) -> bool:
    """Waits until the process of ``pidfd`` has ended; False if it still runs after ``timeout``
    seconds (None: no limit)."""
    import select

    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    return bool(poller.poll(None if timeout is None else int(timeout * 1000)))


def lock_dir(path: str, exclusive: bool = True, wait: bool = True) -> int:
    """An fd of directory ``path`` that holds a flock of it (shared or exclusive), or -1 when
    another process holds a conflicting one and ``wait`` is False.  OSError when it cannot be
    opened (FileNotFoundError: it does not exist)."""
    import fcntl

    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        close(fd)
        return -1
    return fd


def makedirs(name: str, mode: int = 0o777, exist_ok: bool = False) -> None:
    """mkdir -p, with os.makedirs' semantics."""
    name = name.rstrip("/") or name
    parent, tail = path.dirname(name), path.basename(name)
    if parent and tail and not path.exists(parent):
        makedirs(parent, mode, exist_ok=True)
        if tail == ".":  # "x/new/." exists once "x/new" does
            return
    try:
        _mkdir(name, mode)
    except FileExistsError:
        if not exist_ok or not path.isdir(name):
            raise
