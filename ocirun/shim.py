"""The one place that calls into the compiled shim (ocirun._shim) and turns its -errno results into
exceptions.  The module is imported on first use: ``state``, ``kill`` and ``delete`` never load it.
"""

from __future__ import annotations

from . import _os as os
from .errors import ShimError, SyscallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_lib: Any = None
_ffi: Any = None
ABI_VERSION = 1
INIT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "libexec", "ocirun-init")


def _load() -> tuple[Any, Any]:
    global _lib, _ffi
    if _lib is None:
        try:
            from ._shim import ffi, lib
        except ImportError as e:
            raise ShimError(f"ocirun's compiled shim is missing ({e}); reinstall ocirun with pip") from None
        if lib.ocirun_abi_version() != ABI_VERSION:
            raise ShimError(
                f"ocirun's compiled shim speaks ABI {lib.ocirun_abi_version()}, this code {ABI_VERSION}; "
                "reinstall ocirun"
            )
        _lib, _ffi = lib, ffi
    return _lib, _ffi


def _check(ret: int, op: str, path: str | None = None) -> int:
    if ret < 0:
        raise SyscallError(op, -ret, path)
    return ret


def socketpair() -> tuple[int, int]:
    """A close-on-exec SOCK_SEQPACKET pair (parent end, child end)."""
    lib, ffi = _load()
    fds = ffi.new("int[2]")
    _check(lib.ocirun_socketpair(fds), "socketpair")
    return fds[0], fds[1]


def sealed_init() -> int:
    """A sealed memfd copy of the init stage."""
    lib, _ = _load()
    return _check(lib.ocirun_sealed_copy(INIT_PATH.encode()), "copy the init stage", INIT_PATH)


def open_in_root(root_fd: int, path: str, flags: int) -> int:
    lib, _ = _load()
    return _check(lib.ocirun_open_in_root(root_fd, path.encode(), flags), "open", path)


def read_in_root(rootfs: str, path: str, limit: int) -> bytes:
    """Reads at most ``limit`` bytes of ``path`` resolved inside ``rootfs``."""
    root = os.open(rootfs, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fd = open_in_root(root, path, os.O_RDONLY)
    finally:
        os.close(root)
    try:
        return os.read(fd, limit)
    finally:
        os.close(fd)


def set_child_subreaper(on: bool = True) -> bool:
    """Makes this process a child subreaper (or no longer); whether it was one before."""
    lib, _ = _load()
    was = lib.ocirun_set_child_subreaper(1 if on else 0)
    _check(min(was, 0), "prctl PR_SET_CHILD_SUBREAPER")
    return bool(was)


def setns(fd: int, nstype: int = 0) -> None:
    lib, _ = _load()
    _check(lib.ocirun_setns(fd, nstype), "setns")


def umount(path: str) -> None:
    lib, _ = _load()
    _check(lib.ocirun_umount(path.encode()), "umount", path)


def connect_unix(path: str, what: str = "the console socket") -> int:
    lib, _ = _load()
    return _check(lib.ocirun_connect_unix(path.encode()), f"connect to {what}", path)


def recv_fd(sock: int) -> int:
    lib, _ = _load()
    return _check(lib.ocirun_recv_fd(sock), "receive the console")


def send_with_fds(sock: int, data: bytes, fds: list[int]) -> None:
    lib, ffi = _load()
    _check(lib.ocirun_send_with_fds(sock, data, len(data), ffi.new("int[]", fds or [0]), len(fds)), "sendmsg")


def open_tree(path: str, recursive: bool) -> int:
    """A detached clone of the mount at ``path`` (and those below it, ``recursive``): an fd."""
    lib, _ = _load()
    return _check(lib.ocirun_open_tree(path.encode(), int(recursive)), "open_tree", path)


def idmap_tree(fd: int, userns_fd: int, recursive: bool, path: str) -> None:
    """MOUNT_ATTR_IDMAP on the detached tree ``fd`` (of ``path``), mapped as ``userns_fd`` maps."""
    lib, _ = _load()
    _check(lib.ocirun_idmap_tree(fd, userns_fd, int(recursive)), "mount_setattr MOUNT_ATTR_IDMAP", path)


def statfs_type(path: str) -> int:
    lib, _ = _load()
    return _check(lib.ocirun_statfs_type(path.encode()), "statfs", path)


def spawn(
    *,
    argv: list[str],
    clone_flags: int,
    sync_fd: int,
    exec_fd: int,
    fds: list[tuple[int, int]],
    joins: list[tuple[int, int]],
    unshare_flags: int = 0,
    wait_go: bool = False,
    become_root: bool = False,
    pdeathsig: int = 9,
    cgroup_fd: int = -1,
    may_freeze: bool = False,
) -> int:
    """Clones the container's first process, which execs the init stage with ``argv`` and the fds
    moved as ``fds`` [(from, to)] says (after the first MSG_ACK with ``wait_go``).  Its pid.

    It is born in the cgroup v2 directory ``cgroup_fd``; ``may_freeze``: that cgroup may be
    frozen, so the parent must not sleep until the child's exec (no CLONE_VFORK)."""
    lib, ffi = _load()
    keep = [ffi.new("char[]", a.encode()) for a in argv]
    c_argv = ffi.new("char *[]", [*keep, ffi.NULL])
    c_envp = ffi.new("char *[]", [ffi.NULL])
    s = ffi.new("struct ocirun_spawn *")
    s.exec_fd = exec_fd
    s.argv = c_argv
    s.envp = c_envp
    s.clone_flags = clone_flags
    s.sync_fd = sync_fd
    s.unshare_flags = unshare_flags
    s.wait_go = int(wait_go)
    s.become_root = int(become_root)
    s.pdeathsig = pdeathsig
    s.cgroup_fd = cgroup_fd
    s.may_freeze = int(may_freeze)
    nsfds = ffi.new("int[]", [fd for fd, _ in joins] or [0])
    nstypes = ffi.new("int[]", [t for _, t in joins] or [0])
    s.nsfds_n = len(joins)
    s.nsfds = nsfds
    s.nstypes = nstypes
    fds_from = ffi.new("int[]", [a for a, _ in fds] or [0])
    fds_to = ffi.new("int[]", [b for _, b in fds] or [0])
    s.fds_n = len(fds)
    s.fds_from = fds_from
    s.fds_to = fds_to
    return _check(lib.ocirun_spawn(s), "clone")
