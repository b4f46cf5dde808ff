"""Control groups: where a container's cgroups are, creating, joining, freezing and removing them.

The layout is told by statfs(2), as runc tells it: /sys/fs/cgroup itself a cgroup2 mount is
"unified" (cgroup v2 only); a tmpfs there with a cgroup2 mount at /sys/fs/cgroup/unified is
"hybrid" (v1 controllers plus a cgroup2 hierarchy without them, or with a few such as hugetlb);
anything else is "legacy" (v1 only).  On v1 and hybrid every hierarchy is found from
/proc/self/mountinfo and /proc/self/cgroup (named ones such as name=systemd included).

Where the container's cgroup goes (runc's cgroupfs driver): an absolute cgroupsPath is taken
relative to each hierarchy's root; a relative one (and the default, the container id) relative to
ocirun's own cgroup in each v1 hierarchy, and, on cgroup v2, to the parent of ocirun's own cgroup
(ocirun's cgroup has processes in it, so it cannot hand controllers down to a child).

A Manager knows the container's directory in every hierarchy (``paths``: v1 keys are the
controllers joined by ",", the cgroup2 hierarchy's key is ""); it is saved in state.json so that
later commands (delete, pause, kill --all, update, events) need not work it out again.  Creating
and removing are on the hot path of ``run`` and do only the system calls they need (the process
joins its cgroups itself: ocirun.spawn.start, InitProcess.join_at_sync); the resources are
written by ocirun.cgroups.resources, imported only when the config has some, and the device
rules, which every container gets, by ocirun.cgroups.devices.
"""

from __future__ import annotations

from .. import _os as os
from ..errors import CgroupError, SyscallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    from ..spec.model import Spec
    from ..spec.resources import Resources

UNIFIED = ""  # the key of the cgroup2 hierarchy in Manager.paths
ROOT = "/sys/fs/cgroup"
CGROUP2_SUPER_MAGIC = 0x63677270
CGROUP_SUPER_MAGIC = 0x27E0EB
_MOUNT_OPTS = {"rw", "ro", "xattr", "noprefix", "clone_children", "cpuset_v2_mode", "favordynmods"}


class CgroupWriteError(SyscallError):
    """Writing a cgroup file failed: "write `<path>` (<value>): <strerror>[ (<detail>)]"."""

    def __init__(self, path: str, value: str, err: int, detail: str = "") -> None:
        super().__init__("write", err, path)
        self.value = value
        self.detail = detail

    def __str__(self) -> str:
        msg = f"write `{self.path}` ({self.value}): {self.strerror}"
        return f"{msg} ({self.detail})" if self.detail else msg


class Hierarchy:
    """One mounted cgroup hierarchy: ``key`` is its controllers joined by "," ("" for cgroup2)."""

    __slots__ = ("key", "mountpoint", "own", "version")

    def __init__(self, key: str, mountpoint: str, version: int, own: str) -> None:
        self.key = key
        self.mountpoint = mountpoint
        self.version = version
        self.own = own  # this process's cgroup in it, e.g. "/" or "/user.slice/..."

    def __repr__(self) -> str:
        return f"Hierarchy({self.key!r}, {self.mountpoint!r}, {self.version}, {self.own!r})"


def _fs_type(path: str) -> int:
    from ..shim import statfs_type

    try:
        return statfs_type(path)
    except OSError:
        return 0


_mode: str | None = None


def mode() -> str:
    """ "unified", "hybrid" or "legacy", by statfs of /sys/fs/cgroup and /sys/fs/cgroup/unified."""
    global _mode
    if _mode is None:
        if _fs_type(ROOT) == CGROUP2_SUPER_MAGIC:
            _mode = "unified"
        elif _fs_type(ROOT + "/unified") == CGROUP2_SUPER_MAGIC:
            _mode = "hybrid"
        else:
            _mode = "legacy"
    return _mode


def _own_cgroups(self_cgroup: str) -> dict[str, str]:
    own: dict[str, str] = {}
    for line in self_cgroup.splitlines():
        _id, controllers, path = line.split(":", 2)
        own[",".join(sorted(controllers.split(","))) if controllers else UNIFIED] = path
    return own


_hierarchies: list[Hierarchy] | None = None


def hierarchies(mountinfo: str | None = None, self_cgroup: str | None = None) -> list[Hierarchy]:
    """The cgroup hierarchies mounted here (one entry per hierarchy, first mount point wins).

    Without arguments: those of this process, worked out once (on cgroup v2 without reading
    mountinfo: the one hierarchy is /sys/fs/cgroup).
    """
    from ..mountinfo import unescape

    global _hierarchies
    if mountinfo is None and self_cgroup is None:
        if _hierarchies is None:
            with open("/proc/self/cgroup") as f:
                text = f.read()
            if mode() == "unified":
                _hierarchies = [Hierarchy(UNIFIED, ROOT, 2, _own_cgroups(text).get(UNIFIED, "/"))]
            else:
                with open("/proc/self/mountinfo") as f:
                    _hierarchies = hierarchies(f.read(), text)
        return _hierarchies
    if mountinfo is None:
        with open("/proc/self/mountinfo") as f:
            mountinfo = f.read()
    if self_cgroup is None:
        with open("/proc/self/cgroup") as f:
            self_cgroup = f.read()
    own = _own_cgroups(self_cgroup)
    found: dict[str, Hierarchy] = {}
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fstype, _source, super_opts = [*right.split(" "), "", "", ""][:3]
        if fstype not in ("cgroup", "cgroup2"):
            continue
        fields = left.split(" ")
        mount_root, mountpoint = unescape(fields[3]), unescape(fields[4])
        if fstype == "cgroup2":
            key, version = UNIFIED, 2
        else:
            names = [
                o
                for o in super_opts.split(",")
                if (o not in _MOUNT_OPTS and "=" not in o) or o.startswith("name=")
            ]
            key, version = ",".join(sorted(names)), 1
        if key in found or key not in own:
            continue
        path = own[key]
        if mount_root != "/" and path.startswith(mount_root):
            path = path[len(mount_root) :] or "/"
        found[key] = Hierarchy(key, mountpoint, version, path)
    return list(found.values())


def layout(hs: Iterable[Hierarchy]) -> str:
    """ "unified" (cgroup v2 only), "hybrid" (v1 controllers and a cgroup2 mount) or "legacy"."""
    versions = {h.version for h in hs}
    if versions == {2}:
        return "unified"
    return "hybrid" if 2 in versions else "legacy"


def _join(base: str, sub: str) -> str:
    return os.path.normpath(base.rstrip("/") + "/" + sub.lstrip("/"))


def container_paths(hs: Iterable[Hierarchy], cgroups_path: str | None, container_id: str) -> dict[str, str]:
    """The container's directory in each hierarchy (see the module's docstring)."""
    rel = cgroups_path or container_id
    if ":" in rel and not rel.startswith("/"):
        raise CgroupError(
            f"cgroupsPath {rel!r} is in systemd's slice:prefix:name form; "
            "it needs --systemd-cgroup"
        )
    hs = list(hs)
    v2_only = bool(hs) and all(h.version == 2 for h in hs)
    paths = {}
    # Cleaned lexically as runc does: ".." stops at the root ("../x" is "x" below the base).
    clean = os.path.normpath("/" + rel.lstrip("/"))
    if clean == "/":
        raise CgroupError(f"cgroupsPath {rel!r} does not name a cgroup below the root")
    for h in hs:
        if rel.startswith("/"):
            sub = clean
        else:
            base = (os.path.dirname(h.own.rstrip("/")) or "/") if v2_only else h.own
            sub = _join(base, clean)
        paths[h.key] = _join(h.mountpoint, sub)
    if not paths:
        raise CgroupError("no cgroup hierarchy is mounted (/proc/self/mountinfo)")
    return paths


class Manager:
    """The cgroups of one container: ``paths`` maps each hierarchy key to its directory."""

    __slots__ = ("paths",)

    def __init__(self, paths: dict[str, str]) -> None:
        self.paths = paths

    @classmethod
    def for_container(cls, cgroups_path: str | None, container_id: str) -> Manager:
        return cls(container_paths(hierarchies(), cgroups_path, container_id))

    def to_json(self) -> dict[str, str]:
        return dict(self.paths)

    @classmethod
    def from_json(cls, obj: dict[str, str]) -> Manager:
        return cls(dict(obj))

    # -- what is where --------------------------------------------------------------------------

    @property
    def v2(self) -> bool:
        """cgroup v2 only (the container has one directory, in the unified hierarchy)."""
        return len(self.paths) == 1 and UNIFIED in self.paths

    def path(self, controller: str) -> str | None:
        """The container's directory for a controller (on cgroup v2: its one directory)."""
        if self.v2:
            return self.paths[UNIFIED]
        path = self.paths.get(controller)
        if path is not None:
            return path
        for key, path in self.paths.items():
            if controller in key.split(","):
                return path
        return None

    def _main(self) -> str | None:
        """The directory whose cgroup.procs lists the container's processes."""
        for key in ("freezer", UNIFIED, "devices", "pids", "memory"):
            path = self.paths.get(key)
            if path is not None:
                return path
        for path in self.paths.values():
            return path
        return None

    # -- lifecycle ------------------------------------------------------------------------------

    def create(self, keys: Iterable[str] | None = None) -> None:
        """Makes the directories (and their parents) of the hierarchies ``keys`` (None: all); on
        cgroup v2 hands the controllers down."""
        wanted = set(self.paths if keys is None else keys)
        for key, path in self.paths.items():
            if key not in wanted:
                continue
            if self.v2 and mode() == "unified":  # (a rootless container on a hybrid host: v2 alone)
                _enable_controllers(path)
            try:
                _mkdirs(path, cpuset="cpuset" in key.split(","))
            except OSError as e:
                raise SyscallError.from_oserror("mkdir", e, e.filename or path) from None

    def check_unused(self) -> None:
        """Refuses cgroups that exist already frozen or with processes in them, before anything of
        the container is made (runc's checks at create, its wording): a frozen cgroup would freeze
        the init as it joins (create hangs), and another's processes would be killed with the
        container's.  runc 1.1 only warns of a non-empty cgroup, runc 1.2 refuses it.

        Frozen: v1 freezer.state FROZEN (or FREEZING) by the cgroup itself (freezer.self_freezing;
        one frozen by an ancestor runc calls thawed), and cgroup v2's cgroup.freeze, which a hybrid
        host's cgroup2 hierarchy has too.  Costs one failed open per hierarchy for new cgroups."""
        for key, path in self.paths.items():
            if _self_frozen(key, path):
                raise CgroupError("container's cgroup unexpectedly frozen")
        found = 0
        for path in self.paths.values():
            found = max(found, len(_all_pids(path)))
        if found:
            raise CgroupError(f"container's cgroup is not empty: {found} process(es) found")

    def apply(self, resources: Resources | None, warn: Callable[[str], None] | None = None,
              devices: bool = True) -> None:
        """Writes linux.resources into the container's new cgroups, before its program runs (on
        cgroup v2 its init is already in there, setting up the rootfs; on v1 it joins after).

        The device rules are written unless ``devices`` is false (a rootless container): runc's
        default deny-all plus the devices every container gets (ocirun.cgroups.devices), after those
        of the config.
        """
        if devices:
            from . import devices as _devices

            _devices.apply(self, resources.devices if resources else [])
        if resources and resources.beyond_devices():
            from . import resources as res

            res.apply(self, resources, warn or _no_warn, update=False)

    def update(self, resources: Resources, warn: Callable[[str], None] | None = None) -> None:
        """Changes the resources of a running container (``ocirun update``)."""
        from . import resources as res

        res.apply(self, resources, warn or _no_warn, update=True)

    def delegate(self, uid: int | None) -> None:
        """cgroup v2: the container's cgroup directory, and the files the kernel lists as safe to
        delegate (/sys/kernel/cgroup/delegate), handed to ``uid`` (config-linux.md "Cgroup
        ownership"; see delegate_uid).  Nothing for None, or on cgroup v1."""
        path = self.paths.get(UNIFIED)
        if uid is None or not self.v2 or path is None:
            return
        try:
            names = read_text("/sys/kernel/cgroup/delegate").split()
        except OSError:
            names = ["cgroup.procs", "cgroup.subtree_control", "cgroup.threads"]
        for target in (path, *(f"{path}/{name}" for name in names)):
            try:
                os.chown(target, uid, -1)
            except FileNotFoundError:
                pass  # not every listed file exists in every cgroup
            except OSError as e:
                raise SyscallError.from_oserror("chown", e, target) from None

    def destroy(self) -> None:
        """Removes the container's cgroup directories (and any it made inside them, not the parents
        they were made in).  Processes still in them are killed first (a container that shared the
        host's pid namespace may leave some behind its init)."""
        errors = []
        killed = False
        for path in self.paths.values():
            try:
                os.rmdir(path)
                continue
            except FileNotFoundError:
                continue
            except OSError as e:
                if e.errno != 16:  # EBUSY: tasks (leaving or left behind) or cgroups inside
                    errors.append(SyscallError.from_oserror("rmdir", e, path))
                    continue
            if not killed and _all_pids(path):
                killed = True
                self.signal_all(9)
            try:
                _remove(path)
            except OSError as e:
                errors.append(SyscallError.from_oserror("rmdir", e, e.filename or path))
        if errors:
            raise CgroupError("; ".join(str(e) for e in errors))

    def pids(self) -> list[int]:
        """The pids of every process in the container's cgroup and the cgroups below it."""
        path = self._main()
        return _all_pids(path) if path is not None else []

    # -- freezer --------------------------------------------------------------------------------

    def frozen(self) -> bool:
        """Whether the container's processes are frozen (paused) by its own cgroup's freezer."""
        from ..state import frozen

        return frozen(self.paths)

    def freeze(self) -> None:
        """Freezes every process of the container (``pause``)."""
        path = self.paths.get("freezer")
        if path is not None:
            _freeze_v1(path)
            return
        path = self.paths.get(UNIFIED)
        if path is None or not os.path.exists(path + "/cgroup.freeze"):
            raise CgroupError("cannot toggle freezer: cgroups not configured for container")
        _write(path + "/cgroup.freeze", b"1")
        try:
            _wait_frozen_v2(path)
        except BaseException:
            try:
                _write(path + "/cgroup.freeze", b"0")
            except SyscallError:
                pass
            raise

    def thaw(self) -> None:
        path = self.paths.get("freezer")
        if path is not None:
            _write(path + "/freezer.state", b"THAWED")
        path = self.paths.get(UNIFIED)
        if path is not None and os.path.exists(path + "/cgroup.freeze"):
            _write(path + "/cgroup.freeze", b"0")

    def signal_all(self, sig: int) -> list[int]:
        """Sends ``sig`` to every process of the container; the pids it found.

        As runc's signalAllProcesses: the cgroup is frozen meanwhile, so that no process forks
        past the signal, then thawed (a paused container too: frozen processes would not act on
        the signal, not even on SIGKILL).  SIGKILL on cgroup v2 is one write to cgroup.kill
        (Linux 5.14), which reaches frozen processes.
        """
        unified = self.paths.get(UNIFIED) if self.v2 else None
        if sig == 9 and unified is not None:
            pids = _all_pids(unified)
            try:
                _write(unified + "/cgroup.kill", b"1")
                return pids
            except SyscallError:
                pass  # no cgroup.kill: signal them one by one
        try:
            self.freeze()
        except (CgroupError, SyscallError):
            pass
        try:
            pids = self.pids()
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        finally:
            try:
                self.thaw()
            except SyscallError:
                pass
        return pids

    # -- statistics -----------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """runc's stats (the "data" of ``events --stats``)."""
        from . import stats

        return stats.collect(self)


def rootless_paths(paths: dict[str, str], resources: Resources | None) -> dict[str, str]:
    """A rootless caller's cgroups (runc's rule): the hierarchies where it may make (or join) the
    container's cgroup, such as a cgroup v2 subtree delegated to it; the others are done without,
    unless linux.resources asks for limits, which then cannot be kept: an error naming the first
    cgroup it may not make."""
    kept = {}
    for key, path in paths.items():
        if _may_use(path):
            kept[key] = path
        elif resources is not None and resources.beyond_devices():  # (device rules it goes without)
            from ..errors import InvalidSpec

            raise InvalidSpec("$.linux.resources", f"a rootless container gets limits only in a cgroup its user may "
                              f"make: `{path}` is not writable (give it a cgroup v2 subtree of its own, or no limits)")
    return kept


def _may_use(path: str) -> bool:
    """Whether this process may make the cgroup ``path`` (write access to its nearest existing
    ancestor) or, when it exists, move processes into it."""
    parent = path
    while not os.path.exists(parent):
        up = os.path.dirname(parent)
        if up == parent:
            return False
        parent = up
    if parent == path:
        return os.access(path + "/cgroup.procs", os.W_OK)
    return os.access(parent, os.W_OK | os.X_OK)


def delegate_uid(spec: Spec) -> int | None:
    """The host uid the container's cgroup is handed to, or None (config-linux.md "Cgroup
    ownership"): only where the container's user is not root, it has a cgroup namespace of its own
    and /sys/fs/cgroup is mounted read-write, so that the user may manage its own cgroup tree."""
    process = spec.process
    if process is None or not process.user.uid:
        return None
    if not any(ns.type == "cgroup" and not ns.path for ns in spec.linux.namespaces):
        return None
    if not any(
        m.destination.rstrip("/") == ROOT
        and (m.type == "cgroup" or m.source == "cgroup")
        and "ro" not in m.options
        for m in spec.mounts
    ):
        return None
    uid: int = process.user.uid
    if spec.linux.uid_mappings:
        for m in spec.linux.uid_mappings:
            if m.container_id <= uid < m.container_id + m.size:
                return int(m.host_id + uid - m.container_id)
        return None
    return uid


def _no_warn(msg: str) -> None:
    pass


def _write(path: str, data: bytes) -> None:
    try:
        os.write_once(path, data)
    except OSError as e:
        raise SyscallError.from_oserror("write", e, path) from None


def write_value(path: str, value: str, detail: Callable[[], str] | None = None) -> None:
    """Writes one value to a cgroup file; CgroupWriteError names the file and the value."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, value.encode())
        finally:
            os.close(fd)
    except OSError as e:
        raise CgroupWriteError(path, value, e.errno or 0, detail() if detail is not None else "") from None


def read_text(path: str) -> str:
    with open(path, "rb") as f:
        return f.read().decode()


def _enable_controllers(path: str) -> None:
    """cgroup v2: every available controller enabled in the subtree_control of the ancestors of
    ``path`` (from the root down), as runc does, so that the container's cgroup gets them all."""
    try:
        available = read_text(ROOT + "/cgroup.controllers").split()
    except OSError as e:
        raise SyscallError.from_oserror("read", e, ROOT + "/cgroup.controllers") from None
    if not available:
        return
    data = " ".join("+" + c for c in available).encode()
    parts = path[len(ROOT) :].strip("/").split("/")[:-1]
    current = ROOT
    for i in range(len(parts) + 1):
        if i:
            current += "/" + parts[i - 1]
            try:
                os.mkdir(current, 0o755)
            except FileExistsError:
                pass
            except OSError as e:
                raise SyscallError.from_oserror("mkdir", e, current) from None
        try:
            _write(current + "/cgroup.subtree_control", data)
        except SyscallError:
            for c in available:  # one by one: enable what can be
                try:
                    _write(current + "/cgroup.subtree_control", b"+" + c.encode())
                except SyscallError:
                    pass


def _mkdirs(path: str, cpuset: bool) -> None:
    """mkdir -p.  In a v1 cpuset hierarchy a level without cpus or mems (new, or left so by someone
    else) gets its parent's, as runc does: no task may join it otherwise."""
    exists = os.path.isdir(path)
    if exists and not (cpuset and _cpuset_unset(path)):
        return
    parent = os.path.dirname(path)
    _mkdirs(parent, cpuset)
    if not exists:
        try:
            os.mkdir(path, 0o755)
        except FileExistsError:
            pass
    if cpuset:
        for name in ("cpuset.cpus", "cpuset.mems"):
            try:
                if read_text(path + "/" + name).strip():
                    continue
                _write(path + "/" + name, read_text(parent + "/" + name).strip().encode() or b"\n")
            except FileNotFoundError:
                pass


def _cpuset_unset(path: str) -> bool:
    try:
        return not (read_text(path + "/cpuset.cpus").strip() and read_text(path + "/cpuset.mems").strip())
    except FileNotFoundError:
        return False


def _self_frozen(key: str, path: str) -> bool:
    """Whether an existing cgroup is frozen by itself (see Manager.check_unused)."""
    try:
        if key == UNIFIED:
            return read_text(path + "/cgroup.freeze").strip() == "1"
        if "freezer" not in key.split(","):
            return False
        state = read_text(path + "/freezer.state").strip()
        if state not in ("FROZEN", "FREEZING"):
            return False
        try:
            return read_text(path + "/freezer.self_freezing").strip() != "0"
        except FileNotFoundError:
            return True
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as e:
        raise SyscallError.from_oserror("read", e, e.filename or path) from None


def _subdirs(path: str) -> list[str]:
    try:
        with os.scandir(path) as it:
            return [e.path for e in it if e.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return []


def _all_pids(path: str) -> list[int]:
    """cgroup.procs of ``path`` and of every cgroup below it."""
    try:
        with open(path + "/cgroup.procs", "rb") as f:
            pids = [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []
    for sub in _subdirs(path):
        pids += _all_pids(sub)
    return pids


def _remove(path: str) -> None:
    """rmdir of a cgroup and of the cgroups below it, retried while the last tasks leave."""
    import time

    for attempt in range(50):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError as e:
            if e.errno != 16 or attempt == 49:  # EBUSY: tasks are still leaving, or sub-cgroups
                raise
            if attempt == 0:
                for sub in _subdirs(path):
                    _remove(sub)
                continue
            time.sleep(0.002 * attempt)


def _freeze_v1(path: str) -> None:
    """FROZEN into freezer.state until it reads back FROZEN (it says FREEZING while tasks are
    still being stopped, or keep forking); thawed again if it never gets there."""
    import time

    state_file = path + "/freezer.state"
    try:
        for attempt in range(1000):
            if attempt % 50 == 49:  # new tasks keep coming: let them settle, then retry
                _write(state_file, b"THAWED")
                time.sleep(0.01)
            _write(state_file, b"FROZEN")
            if attempt % 25 == 24:
                time.sleep(0.00001)
            state = read_text(state_file).strip()
            if state == "FROZEN":
                return
            if state != "FREEZING":
                raise CgroupError(f"unexpected state {state} of `{state_file}` while freezing")
        raise CgroupError(f"unable to freeze: `{state_file}` is stuck in FREEZING")
    except BaseException:
        try:
            _write(state_file, b"THAWED")
        except SyscallError:
            pass
        raise


def _wait_frozen_v2(path: str, timeout: float = 10.0) -> None:
    """Waits for "frozen 1" in cgroup.events (cgroup v2 freezes asynchronously)."""
    import select
    import time

    events = path + "/cgroup.events"
    fd = os.open(events, os.O_RDONLY | os.O_CLOEXEC)
    try:
        poller = select.poll()
        poller.register(fd, select.POLLPRI)
        deadline = time.monotonic() + timeout
        while True:
            os.lseek(fd, 0, os.SEEK_SET)
            for line in os.read(fd, 4096).decode().splitlines():
                if line.startswith("frozen "):
                    if line.split()[1] == "1":
                        return
                    break
            else:
                raise CgroupError(f'no "frozen" key in `{events}`')
            left = deadline - time.monotonic()
            if left <= 0:
                raise CgroupError(f"timeout of {timeout:g}s reached waiting for the cgroup to freeze")
            poller.poll(min(left, 0.1) * 1000)
    finally:
        os.close(fd)
