"""Control groups: where a container's cgroups are, creating, joining and removing them.

The layout is found from /proc/self/mountinfo and /proc/self/cgroup: every cgroup v1 hierarchy
(named ones such as name=systemd included) and the cgroup2 hierarchy, which on a hybrid system
sits at /sys/fs/cgroup/unified next to the v1 controllers and on a unified system is
/sys/fs/cgroup itself.  Like runc's cgroupfs driver, a relative cgroupsPath (and the default, the
container id) is taken relative to ocirun's own cgroup in each hierarchy, an absolute one relative
to the hierarchy's root.

A Manager knows the container's directory in every hierarchy; it is saved in state.json so that
later commands (delete, pause, kill --all) need not work it out again.
"""

from __future__ import annotations

from .. import _os as os

from ..errors import CgroupError, SyscallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

UNIFIED = ""  # the key of the cgroup2 hierarchy in Manager.paths
_MOUNT_OPTS = {"rw", "ro", "xattr", "noprefix", "clone_children", "cpuset_v2_mode", "favordynmods"}


class Hierarchy:
    """One mounted cgroup hierarchy: ``key`` is its controllers joined by "," ("" for cgroup2)."""

    __slots__ = ("key", "mountpoint", "own", "version")

    def __init__(self, key: str, mountpoint: str, version: int, own: str) -> None:
        self.key = key
        self.mountpoint = mountpoint
        self.version = version
        self.own = own  # this process's cgroup in it, e.g. "/" or "/user.slice/..."


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal."""
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) + 0 and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def hierarchies(mountinfo: str | None = None, self_cgroup: str | None = None) -> list[Hierarchy]:
    """The cgroup hierarchies mounted here (one entry per hierarchy, first mount point wins)."""
    if mountinfo is None:
        with open("/proc/self/mountinfo") as f:
            mountinfo = f.read()
    if self_cgroup is None:
        with open("/proc/self/cgroup") as f:
            self_cgroup = f.read()
    own: dict[str, str] = {}
    for line in self_cgroup.splitlines():
        _id, controllers, path = line.split(":", 2)
        own[",".join(sorted(controllers.split(","))) if controllers else UNIFIED] = path
    found: dict[str, Hierarchy] = {}
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fstype, _source, super_opts = (right.split(" ") + ["", "", ""])[:3]
        if fstype not in ("cgroup", "cgroup2"):
            continue
        fields = left.split(" ")
        mount_root, mountpoint = _unescape(fields[3]), _unescape(fields[4])
        if fstype == "cgroup2":
            key, version = UNIFIED, 2
        else:
            names = [o for o in super_opts.split(",") if o not in _MOUNT_OPTS and "=" not in o or o.startswith("name=")]
            key, version = ",".join(sorted(names)), 1
        if key in found or key not in own:
            continue
        path = own[key]
        if mount_root != "/" and path.startswith(mount_root):
            path = path[len(mount_root) :] or "/"
        found[key] = Hierarchy(key, mountpoint, version, path)
    return list(found.values())


def layout(hs: Iterable[Hierarchy]) -> str:
    """"unified" (cgroup v2 only), "hybrid" (v1 controllers and a cgroup2 mount) or "legacy"."""
    versions = {h.version for h in hs}
    if versions == {2}:
        return "unified"
    return "hybrid" if 2 in versions else "legacy"


def _join(base: str, sub: str) -> str:
    return os.path.normpath(base.rstrip("/") + "/" + sub.lstrip("/"))


class Manager:
    """The cgroups of one container: ``paths`` maps each hierarchy key to its directory."""

    __slots__ = ("paths",)

    def __init__(self, paths: dict[str, str]) -> None:
        self.paths = paths

    @classmethod
    def for_container(cls, cgroups_path: str | None, container_id: str) -> Manager:
        rel = cgroups_path or container_id
        if ":" in rel and not rel.startswith("/"):
            raise CgroupError(
                f"cgroupsPath {rel!r} is in systemd's slice:prefix:name form; "
                "it needs --systemd-cgroup, which ocirun does not support here"
            )
        paths = {}
        for h in hierarchies():
            sub = rel if rel.startswith("/") else _join(h.own, rel)
            if sub == "/" or ".." in sub.split("/"):
                raise CgroupError(f"cgroupsPath {rel!r} does not name a cgroup below the root")
            paths[h.key] = _join(h.mountpoint, sub)
        return cls(paths)

    def to_json(self) -> dict[str, str]:
        return dict(self.paths)

    @classmethod
    def from_json(cls, obj: dict[str, str]) -> Manager:
        return cls(dict(obj))

    # -- lifecycle ------------------------------------------------------------------------------

    def create(self) -> None:
        for key, path in self.paths.items():
            try:
                _mkdirs(path, cpuset="cpuset" in key.split(","))
            except OSError as e:
                raise SyscallError.from_oserror("mkdir", e, path) from None

    def join(self, pid: int) -> None:
        data = b"%d" % pid
        for path in self.paths.values():
            _write(path + "/cgroup.procs", data)

    def destroy(self) -> None:
        """Removes the container's cgroup directories (not the parents they were made in)."""
        errors = []
        for path in self.paths.values():
            try:
                _rmdir_retry(path)
            except OSError as e:
                errors.append(SyscallError.from_oserror("rmdir", e, path))
        if errors:
            raise CgroupError("; ".join(str(e) for e in errors))

    def pids(self) -> list[int]:
        """The pids of every process in the container's cgroup (the freezer's, or the first found)."""
        for key in ("freezer", UNIFIED, *self.paths):
            path = self.paths.get(key)
            if path is None:
                continue
            try:
                with open(path + "/cgroup.procs", "rb") as f:
                    return [int(x) for x in f.read().split()]
            except FileNotFoundError:
                return []
        return []

    def frozen(self) -> bool:
        """Whether the container's processes are frozen (paused)."""
        path = self.paths.get("freezer")
        try:
            if path is not None:
                with open(path + "/freezer.state", "rb") as f:
                    return f.read().strip() in (b"FROZEN", b"FREEZING")
            path = self.paths.get(UNIFIED)
            if path is not None:
                with open(path + "/cgroup.freeze", "rb") as f:
                    return f.read().strip() == b"1"
        except OSError:
            pass
        return False

    def thaw(self) -> None:
        path = self.paths.get("freezer")
        if path is not None:
            _write(path + "/freezer.state", b"THAWED")
        path = self.paths.get(UNIFIED)
        if path is not None and os.path.exists(path + "/cgroup.freeze"):
            _write(path + "/cgroup.freeze", b"0")


def _write(path: str, data: bytes) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    except OSError as e:
        raise SyscallError.from_oserror("write", e, path) from None


def _mkdirs(path: str, cpuset: bool) -> None:
    """mkdir -p; new v1 cpuset directories get their parent's cpus and mems, or no task may join."""
    if os.path.isdir(path):
        return
    parent = os.path.dirname(path)
    _mkdirs(parent, cpuset)
    try:
        os.mkdir(path, 0o755)
    except FileExistsError:
        return
    if cpuset:
        for name in ("cpuset.cpus", "cpuset.mems"):
            try:
                with open(path + "/" + name, "rb") as f:
                    if f.read().strip():
                        continue
                with open(parent + "/" + name, "rb") as f:
                    value = f.read().strip()
                _write(path + "/" + name, value or b"\n")
            except FileNotFoundError:
                pass


def _rmdir_retry(path: str) -> None:
    import time

    for attempt in range(50):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError as e:
            if e.errno != 16 or attempt == 49:  # EBUSY: the last tasks are still leaving
                raise
            time.sleep(0.005 * (attempt + 1))

