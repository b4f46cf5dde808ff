"""A new user namespace's id maps, written by the parent between the clone and the init's exec.

Root writes /proc/<pid>/uid_map and gid_map itself.  A caller without root may write only a map of
its own id, one line (user_namespaces(7)), and a gid_map only once setgroups(2) is denied in the
namespace: that is the single-id case (``ocirun spec --rootless``).  Anything more (several
ranges, ids other than its own) goes through the setuid helpers newuidmap and newgidmap (Debian's
``uidmap`` package), which map only what /etc/subuid and /etc/subgid give the user: ``check``
compares the config with those files before anything is made, so that a config asking for more
than the user has is one clear error, not the helper's after the clone.
"""

from __future__ import annotations

from . import _os as os
from .errors import InvalidSpec, OciRunError, SyscallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .spec.model import IDMapping, Spec

HELPERS = {"uid_map": "newuidmap", "gid_map": "newgidmap"}
SUBID_FILES = {"uid_map": "/etc/subuid", "gid_map": "/etc/subgid"}
FIELDS = {"uid_map": "$.linux.uidMappings", "gid_map": "$.linux.gidMappings"}


def _own(maps: list[IDMapping], own_id: int) -> bool:
    """The one map an unprivileged process may write itself: its own id, once."""
    return len(maps) == 1 and maps[0].size == 1 and maps[0].host_id == own_id


def denies_setgroups(spec: Spec, euid: int, egid: int) -> bool:
    """Whether the container's new user namespace gets setgroups "deny": a caller without root
    writing the gid map of its own gid itself (the kernel's condition for that write)."""
    user = spec.linux.namespace("user")
    if euid == 0 or user is None or user.path is not None:
        return False
    return _own(spec.linux.gid_mappings, egid)


def subordinate_ranges(text: str, user: str, uid: int) -> list[tuple[int, int]]:
    """(start, count) of each line of /etc/subuid or /etc/subgid that names the user or its uid."""
    out = []
    for line in text.splitlines():
        parts = line.strip().split(":")
        if len(parts) != 3 or parts[0] not in (user, str(uid)):
            continue
        try:
            out.append((int(parts[1]), int(parts[2])))
        except ValueError:
            continue
    return out


def _user_name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)


def _helper(name: str) -> str | None:
    path = bytes(os.environ.get(b"PATH", b"/usr/bin:/bin")).decode(errors="replace")
    for d in [*path.split(":"), "/usr/bin", "/bin", "/usr/sbin", "/sbin"]:
        if d and os.access(os.path.join(d, name), os.X_OK):
            return os.path.join(d, name)
    return None


def check(spec: Spec, euid: int, egid: int) -> None:
    """Before anything is made: a caller without root may map only what is its own (its id, and
    the ranges /etc/subuid and /etc/subgid give it), and needs newuidmap/newgidmap for more."""
    user = spec.linux.namespace("user")
    if euid == 0 or user is None or user.path is not None:
        return
    name = _user_name(euid)
    for kind, maps, own in (("uid_map", spec.linux.uid_mappings, euid), ("gid_map", spec.linux.gid_mappings, egid)):
        if _own(maps, own):
            continue
        try:
            with open(SUBID_FILES[kind]) as f:
                ranges = subordinate_ranges(f.read(), name, euid)
        except OSError:
            ranges = []
        for i, m in enumerate(maps):
            if m.size == 1 and m.host_id == own:
                continue
            if not any(start <= m.host_id and m.host_id + m.size <= start + count for start, count in ranges):
                given = ", ".join(f"{start}-{start + count - 1}" for start, count in ranges) or "none"
                raise InvalidSpec(
                    f"{FIELDS[kind]}[{i}]",
                    f"host ids {m.host_id}-{m.host_id + m.size - 1} are not {name}'s to map "
                    f"({SUBID_FILES[kind]} gives it: {given}; its own id is {own})",
                )
        if _helper(HELPERS[kind]) is None:
            raise OciRunError(
                f"{FIELDS[kind]}: mapping more than its own id needs {HELPERS[kind]} "
                "(Debian: apt-get install uidmap), which is not installed"
            )


def write(pid: int, spec: Spec, euid: int, egid: int) -> None:
    """Writes the maps of the init ``pid``'s new user namespace (see the module's docstring)."""
    for kind, maps, own in (("gid_map", spec.linux.gid_mappings, egid), ("uid_map", spec.linux.uid_mappings, euid)):
        if euid == 0 or _own(maps, own):
            if euid != 0 and kind == "gid_map":
                _write_proc(f"/proc/{pid}/setgroups", b"deny")
            data = "".join(f"{m.container_id} {m.host_id} {m.size}\n" for m in maps)
            _write_proc(f"/proc/{pid}/{kind}", data.encode())
        else:
            _run_helper(kind, pid, maps)


def _write_proc(path: str, data: bytes) -> None:
    try:
        os.write_once(path, data)
    except OSError as e:
        raise SyscallError.from_oserror("write", e, path) from None


def _run_helper(kind: str, pid: int, maps: list[IDMapping]) -> None:
    import subprocess

    helper = _helper(HELPERS[kind]) or HELPERS[kind]
    argv = [helper, str(pid)]
    for m in maps:
        argv += [str(m.container_id), str(m.host_id), str(m.size)]
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise OciRunError(f"{HELPERS[kind]} {pid}: {e}") from None
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip().replace("\n", "; ")
        raise OciRunError(f"{HELPERS[kind]} {pid}: exit status {done.returncode}: {err}")


def userns_fd(uid_maps: list[IDMapping], gid_maps: list[IDMapping]) -> int:
    """An fd of a new user namespace with these maps, for an idmapped mount: a process of ours
    (util-linux ``unshare --user``) makes it, the maps are written, the fd kept, the process killed."""
    import subprocess
    import time

    proc = subprocess.Popen(["unshare", "--user", "--", "sleep", "60"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        own = os.stat("/proc/self/ns/user").st_ino
        deadline = time.monotonic() + 10
        while True:
            try:
                if os.stat(f"/proc/{proc.pid}/ns/user").st_ino != own:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise OciRunError("unshare --user: no user namespace for the idmapped mount")
            time.sleep(0.001)
        for kind, maps in (("uid_map", uid_maps), ("gid_map", gid_maps)):
            _write_proc(f"/proc/{proc.pid}/{kind}",
                        "".join(f"{m.container_id} {m.host_id} {m.size}\n" for m in maps).encode())
        return os.open(f"/proc/{proc.pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        proc.kill()
        proc.wait()


def idmap_tree(tree: int, source: str, uid_maps: list[IDMapping], gid_maps: list[IDMapping], recursive: bool) -> None:
    """The detached tree of an idmapped mount (``source``) gets the mount's maps (mount_setattr)."""
    from .shim import idmap_tree as _idmap_tree

    ns = userns_fd(uid_maps, gid_maps)
    try:
        _idmap_tree(tree, ns, recursive, source)
    finally:
        os.close(ns)
