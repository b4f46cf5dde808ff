"""Spec -> Launch: everything the container's first process must do, decided here, as data.

Planning has no side effects and reads nothing: what it needs of the host (the kernel's last
capability, the LSMs, the image's users, the compiled seccomp filter) comes in a HostFacts
(ocirun.hostfacts) that the caller gathers, so tests check plans without root.  The C init
stage then executes the ops in order (csrc/init.c); ``Plan.describe`` names each op in errors.

The init stage gets its fds at fixed numbers above the preserved ones:

    0, 1, 2                 stdio (the caller's)
    3 .. 3+N-1              --preserve-fds N
    base = 3+N              sync socket
    base+1                  the plan (a memfd)
    base+2                  exec.fifo (create only)
    base+3                  the console socket (process.terminal)
    base+4                  a pid namespace to join (OP_PIDNS_FORK)
    base+5 ...              bind sources cloned by the runtime (Launch.trees, MNT_SRC_FD)
"""

from __future__ import annotations

from . import _os as os
from . import caps as _caps
from . import protocol as P
from .errors import InvalidSpec
from .spec import mountopts as mo
from .spec.validate import (
    IOPRIO_CLASSES,
    MEMORY_POLICY,
    MPOL_FLAGS,
    MPOL_MODES,
    PERSONALITY_DOMAINS,
    RLIMITS,
    SCHED_FLAGS,
    SCHED_POLICIES,
    cpu_mask,
    node_list,
    node_mask,
)
from .users import exec_candidates

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from .cgroups import Hierarchy
    from .hostfacts import HostFacts
    from .seccomp import Filter
    from .spec.model import IDMapping, MemoryPolicy, Mount, Personality, Process, Spec

    IdMaps = tuple[list[IDMapping], list[IDMapping], bool]  # uid maps, gid maps, recursive (ridmap)

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NEWTIME = 0x00000080

NAMESPACE_FLAGS = {
    "pid": CLONE_NEWPID,
    "network": CLONE_NEWNET,
    "mount": CLONE_NEWNS,
    "ipc": CLONE_NEWIPC,
    "uts": CLONE_NEWUTS,
    "user": CLONE_NEWUSER,
    "cgroup": CLONE_NEWCGROUP,
    "time": CLONE_NEWTIME,
}
PROC_NS_NAMES = {"pid": "pid", "network": "net", "mount": "mnt", "ipc": "ipc", "uts": "uts",
                 "user": "user", "cgroup": "cgroup", "time": "time"}
# setns order: the user namespace first (it owns the others), the mount namespace last.
JOIN_ORDER = ("user", "ipc", "uts", "network", "cgroup", "time", "mount")
_JOIN_RANK = {NAMESPACE_FLAGS[name]: i for i, name in enumerate(JOIN_ORDER)}

S_IFCHR = 0o020000
S_IFBLK = 0o060000
S_IFIFO = 0o010000
DEVICE_TYPES = {"c": S_IFCHR, "u": S_IFCHR, "b": S_IFBLK, "p": S_IFIFO}

# runtime-spec config-linux.md "Default Devices", and runtime-linux.md "Dev symbolic links"
DEFAULT_DEVICES = (
    ("/dev/null", 1, 3),
    ("/dev/zero", 1, 5),
    ("/dev/full", 1, 7),
    ("/dev/random", 1, 8),
    ("/dev/urandom", 1, 9),
    ("/dev/tty", 5, 0),
)
DEV_SYMLINKS = (
    ("/proc/self/fd", "/dev/fd"),
    ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"),
    ("/proc/self/fd/2", "/dev/stderr"),
)

DEFAULT_UMASK = 0o022


class Launch:
    """A plan plus how to start the process that runs it."""

    __slots__ = (
        "arg0",
        "base_fd",
        "become_root",
        "bundle",
        "cgroupns",
        "cgroups_synced",
        "clone_flags",
        "console",
        "container_id",
        "fifo",
        "joins",
        "new_timens",
        "new_userns",
        "own_console",
        "pidns_path",
        "pidns_unshare",
        "plan",
        "seccomp",
        "trees",
        "unshare_flags",
        "warnings",
    )

    def __init__(self, base_fd: int) -> None:
        self.plan = P.Plan()
        self.clone_flags = 0
        self.joins: list[tuple[str, int]] = []  # (namespace path, CLONE_NEW*), in setns order
        self.pidns_path: str | None = None
        self.pidns_unshare = False  # a new pid namespace made by the init stage (OP_PIDNS_FORK, fd -1)
        self.unshare_flags = 0  # namespaces made after the joins, not at the clone (a joined user namespace)
        # bind sources the runtime clones (open_tree): (path, recursive, the mount's id maps or None)
        self.trees: list[tuple[str, bool, IdMaps | None]] = []
        self.new_userns = False  # the parent writes the new user namespace's maps before the exec
        self.new_timens = False  # the child unshares it, the parent writes its offsets before the exec
        self.become_root = False  # in a (new or joined) user namespace: setresuid(0) before the exec
        self.console = False
        self.own_console = False  # the runtime relays the pty itself: no ONLCR (runc's tty.go)
        self.cgroupns = False
        self.cgroups_synced = False
        self.fifo = False
        self.base_fd = base_fd
        self.warnings: list[str] = []
        self.arg0 = ""
        self.container_id = ""
        self.bundle = ""
        self.seccomp: Filter | None = None  # linux.seccomp compiled (its listener goes to the parent)

    @property
    def sync_fd(self) -> int:
        return self.base_fd

    @property
    def plan_fd(self) -> int:
        return self.base_fd + 1

    @property
    def fifo_fd(self) -> int:
        return self.base_fd + 2

    @property
    def console_fd(self) -> int:
        return self.base_fd + 3

    @property
    def pidns_fd(self) -> int:
        return self.base_fd + 4

    def tree_fd(self, i: int) -> int:
        return self.base_fd + 5 + i


def _dest(m: Mount) -> str:
    d = m.destination
    return os.path.normpath(d if d.startswith("/") else "/" + d)


def build(
    spec: Spec,
    *,
    host: HostFacts,
    rootfs: str,
    bundle: str,
    fifo: bool,
    no_pivot: bool = False,
    preserve_fds: int = 0,
    cgroup_hierarchies: list[Hierarchy] | None = None,
    cgroup_paths: dict[str, str] | None = None,
    container_id: str = "",
    new_keyring: bool = True,
    own_console: bool = False,
) -> Launch:
    """The launch of ``spec``'s container process (create/run), on the host ``host`` describes
    (hostfacts.gather); ``own_console``: ocirun relays the terminal itself (no --console-socket)."""
    if spec.linux.seccomp is not None and spec.process is not None and host.seccomp is None:
        raise ValueError("plan.build: linux.seccomp needs its compiled filter in host.seccomp")
    launch = Launch(3 + preserve_fds)
    launch.warnings.extend(host.notes)
    launch.container_id = container_id
    launch.bundle = bundle
    launch.fifo = fifo
    launch.own_console = own_console
    plan = launch.plan
    lx = spec.linux
    new_ns: set[str] = set()

    for ns in lx.namespaces:
        flag = NAMESPACE_FLAGS[ns.type]
        if ns.path is None:
            new_ns.add(ns.type)
            if ns.type not in ("cgroup", "time"):
                launch.clone_flags |= flag
        elif ns.type == "pid":
            join_pidns(launch, ns.path)
        else:
            launch.joins.append((ns.path, flag))
    launch.joins.sort(key=lambda j: _JOIN_RANK[j[1]])
    if "user" in new_ns:
        launch.new_userns = launch.become_root = True
    elif any(f == CLONE_NEWUSER for _, f in launch.joins):
        join_userns(launch)
    launch.new_timens = "time" in new_ns

    launch.cgroupns = "cgroup" in new_ns
    plan.setsid("start a new session")
    if lx.mount_label and not host.selinux:
        raise InvalidSpec("$.linux.mountLabel", f"mount label {lx.mount_label!r} requested, but SELinux is not enabled")
    if new_keyring:
        plan.keyring("join a new session keyring", f"_ses.{container_id}"[:255])
    if "network" in new_ns:
        plan.loopback_up("bring up the loopback interface")

    host_mounts = "mount" not in new_ns and not any(f == CLONE_NEWNS for _, f in launch.joins)
    _rootfs(launch, spec, rootfs, bundle, no_pivot, new_ns, cgroup_hierarchies or [], cgroup_paths or {},
            host_mounts, host.clone_mounts, host.in_userns)

    if spec.hostname is not None:
        plan.sethostname(f"sethostname `{spec.hostname}`", spec.hostname)
    if spec.domainname is not None:
        plan.setdomainname(f"setdomainname `{spec.domainname}`", spec.domainname)
    cgroups_ready(launch)
    if spec.process is not None:
        _process(launch, spec, host)
    else:  # nothing to run: ready, and at start the init just exits
        plan.close_from("mark the runtime's file descriptors close-on-exec", launch.base_fd)
        plan.ready("report ready", parent_exits=fifo)
        if fifo:
            plan.wait_fifo("wait for start", launch.fifo_fd)
    return launch


def join_userns(launch: Launch) -> None:
    """An existing user namespace (its maps are its own, left alone): the new namespaces must
    belong to it, so they are made after the init joins it, not at the clone (which makes them in
    the runtime's): unshared by the shim, a new pid namespace by the init stage, which forks into
    it (OP_PIDNS_FORK with no fd).  The process is its root, as in a new one."""
    launch.become_root = True
    launch.unshare_flags = launch.clone_flags & ~CLONE_NEWPID
    if launch.clone_flags & CLONE_NEWPID:
        launch.pidns_unshare = True
        launch.plan.pidns_fork("unshare a pid namespace in the joined user namespace", -1)
    launch.clone_flags = 0


def join_pidns(launch: Launch, path: str) -> None:
    """An existing pid namespace is joined by the init stage itself, first thing (setns and fork):
    never by the runtime around the clone, which would put a copy of the runtime's process, with
    its root, fds and memory, inside the container's pid namespace before the exec (where a
    container process with CAP_SYS_PTRACE could take hold of it)."""
    launch.pidns_path = path
    launch.plan.pidns_fork(f"join the pid namespace `{path}`", launch.pidns_fd)


def cgroups_ready(launch: Launch) -> None:
    """The point where the init stage joins its cgroup v1 hierarchies (their `tasks` files come
    with the parent's ACK: InitProcess.join_at_sync), learns its pid as the host sees it (for the
    startContainer hooks' state) and makes its cgroup namespace.

    As late as possible, so that the parent makes the v1 cgroups while the init stage sets up the
    rootfs (it is born in its cgroup v2); before the first op that needs them: the cgroup namespace
    (its root is the cgroup the process is in when it is made), a mount of type cgroup, the device
    nodes, and the user's program.
    """
    if launch.cgroups_synced:
        return
    launch.cgroups_synced = True
    launch.plan.sync("wait for the container's cgroups", P.SYNC_CGROUPS)
    if launch.cgroupns:
        launch.plan.unshare("unshare the cgroup namespace", flags=CLONE_NEWCGROUP)


def _rootfs(
    launch: Launch,
    spec: Spec,
    rootfs: str,
    bundle: str,
    no_pivot: bool,
    new_ns: set[str],
    hierarchies: list[Hierarchy],
    cgroup_paths: dict[str, str],
    host_mounts: bool = False,
    clone_mounts: bool = True,
    in_userns: bool = False,
) -> None:
    """The rootfs and its mounts.  ``host_mounts``: the container has no mount namespace of its
    own, so (as the spec says) it shares the runtime's: its mounts are made there, under the rootfs,
    the process is chroot'ed into it, and delete unmounts them.  ``in_userns``: ocirun itself runs
    in a user namespace (rootless podman's), where mknod and mounting sysfs fail as in a new one."""
    plan = launch.plan
    lx = spec.linux
    prop = lx.rootfs_propagation
    readonly = spec.root is not None and spec.root.readonly
    if host_mounts:
        if readonly:  # a mount of its own to make read-only, not the host's
            plan.mount(f"bind mount the rootfs `{rootfs}`", source=rootfs, target=rootfs, flags=mo.MS_BIND | mo.MS_REC)
    else:
        # Nothing done in here may reach the host: every mount becomes a slave (or private) first.
        first = mo.MS_PRIVATE if prop in ("private", "rprivate") else mo.MS_SLAVE
        plan.mount("make the mounts of the container's mount namespace private", target="/", flags=first | mo.MS_REC)
        plan.mount(f"bind mount the rootfs `{rootfs}`", source=rootfs, target=rootfs, flags=mo.MS_BIND | mo.MS_REC)
    plan.rootfs(f"open the rootfs `{rootfs}`", rootfs)

    # In a user namespace (new or joined): no mknod, and sysfs only with a network namespace it
    # owns (runc's fallbacks below).
    user_ns = "user" in new_ns or any(f == CLONE_NEWUSER for _, f in launch.joins)
    confined = user_ns or in_userns  # no mknod, no sysfs of its own
    mounted = set()
    for m in spec.mounts:
        dest = _dest(m)
        mounted.add(dest)
        if m.type == "cgroup":
            cgroups_ready(launch)
            _cgroup_mount(launch, m, dest, "cgroup" in new_ns, hierarchies, cgroup_paths)
        else:
            at = len(plan)
            if m.uid_mappings and not clone_mounts:
                raise InvalidSpec(f"$.mounts[{spec.mounts.index(m)}].uidMappings",
                                  "an idmapped mount needs ocirun to run as root here")
            _mount(launch, m, dest, bundle, rootfs if user_ns and clone_mounts and not host_mounts else None)
            if m.type in ("proc", "sysfs") and not mo.parse(m.options).is_bind:
                # on an ordinary directory, never through a symlink (runc; CVE-2019-19921)
                plan.mount_how(at, P.MNT_PLAIN_DIR)
                if m.type == "sysfs" and confined:
                    plan.mount_how(at, P.MNT_SYSFS_BIND)  # refused: the host's /sys, bound (runc)

    # The device cgroup decides mknod too: the same answer every time means joining it first.
    cgroups_ready(launch)
    # A /dev bind-mounted from elsewhere (podman's `-v /dev:/dev`) is not the container's to fill:
    # like runc, no default devices, /dev symlinks or /dev/shm go into it, and a configured device
    # in it must be there already (nothing is made, replaced or chowned in the host's /dev).
    dev_bound = any(_dest(m) == "/dev" and (m.type == "bind" or mo.parse(m.options).is_bind) for m in spec.mounts)
    devices = {os.path.normpath(d.path): d for d in lx.devices}
    if not dev_bound:
        for path, major, minor in DEFAULT_DEVICES:
            if path not in devices:
                _device(launch, path, S_IFCHR | 0o666, major, minor, 0, 0, confined)
    for d in lx.devices:
        mode = DEVICE_TYPES[d.type] | (d.file_mode if d.file_mode is not None else 0o666) & 0o7777
        path = os.path.normpath(d.path)
        _device(launch, path, mode, d.major, d.minor, d.uid or 0, d.gid or 0, confined,
                check_only=dev_bound and path.startswith("/dev/"))
    if not dev_bound:
        for target, link in DEV_SYMLINKS:
            plan.symlink(f"symlink `{link}`", target=target, path=link)
        if "/dev/ptmx" not in devices:
            plan.symlink("symlink `/dev/ptmx`", target="pts/ptmx", path="/dev/ptmx")
        if "/dev/shm" not in mounted:
            plan.mkdir("mkdir `/dev/shm`", "/dev/shm", mode=0o1777)
    cwd = spec.process.cwd if spec.process else "/"
    if cwd != "/":
        plan.mkdir(f"create the working directory `{cwd}`", cwd, mode=0o755)

    hooks = spec.hooks
    if hooks.get("prestart") or hooks.get("createRuntime") or hooks.get("createContainer"):
        plan.sync("wait for the createRuntime hooks", P.SYNC_HOOKS)

    # Before the masked and read-only paths: clients list /proc/sys in readonlyPaths (runc's order).
    # Resolved in the rootfs like every path here, and written only where that is a procfs.
    for key, value in lx.sysctl.items():
        path = "/proc/sys/" + key.replace(".", "/")
        plan.write_file(f"sysctl `{key}`", path, value, procfs_only=True)
    if lx.masked_paths:
        plan.open_devnull("open the host's /dev/null")
        for path in lx.masked_paths:
            plan.mask(f"mask `{path}`", path)
    for path in lx.readonly_paths:
        plan.readonly(f"make `{path}` read-only", path)

    if host_mounts:
        plan.chroot(f"chroot into `{rootfs}`")
    elif no_pivot:
        plan.move_root(f"move the rootfs `{rootfs}` to /")
    else:
        plan.pivot_root(f"pivot_root into `{rootfs}`")
    if prop is not None:
        plan.mount(f"make / {prop}", target="/", propagation=mo.PROPAGATION[prop], how=P.MNT_ROOT)
    if spec.process is not None and spec.process.terminal:
        _console(launch, spec.process, dev_console=True)
    if readonly:
        plan.mount("remount / read-only", target="/", how=P.MNT_ROOT, remount_flags=mo.MS_BIND | mo.MS_RDONLY)


def _mount(launch: Launch, m: Mount, dest: str, bundle: str, clone_in: str | None = None) -> None:
    """One mount of the config.  ``clone_in``: the rootfs of a container in a user namespace, whose
    bind sources outside it are cloned by the runtime (open_tree, before the user namespace, where
    it can reach them: runc does the same); sources in the rootfs are bound in config order, through
    the mounts made before them."""
    plan = launch.plan
    opts = mo.parse(m.options)
    what = f"mount `{m.source or m.type or 'none'}` to `{dest}`"
    data = ",".join(opts.data)
    if opts.is_bind:
        src = os.path.normpath(os.path.join(bundle, m.source or ""))
        first = opts.flags & (mo.MS_BIND | mo.MS_REC)
        rest = opts.flags & ~(mo.MS_BIND | mo.MS_REC | mo.MS_REMOUNT)
        again = (rest | mo.MS_BIND) if rest else 0
        how = P.MNT_IN_ROOT | P.MNT_SRC_AUTO
        idmap = (m.uid_mappings, m.gid_mappings, opts.idmap == "ridmap") if m.uid_mappings else None
        if idmap is not None or (clone_in is not None and not (src + "/").startswith(clone_in.rstrip("/") + "/")):
            # its fd: tree_fd(its index); an idmapped one gets its maps there (mount_setattr)
            launch.trees.append((src, bool(first & mo.MS_REC), idmap))
            how |= P.MNT_SRC_FD
        plan.mount(what, source=src, target=dest, flags=first, propagation=opts.propagation,
                   how=how, remount_flags=again)
    else:
        how = P.MNT_IN_ROOT | P.MNT_MKDIR
        if m.type == "tmpfs" and not any(o.startswith("mode=") for o in opts.data):
            how |= P.MNT_KEEP_MODE  # an image's 1777 /tmp stays 1777 (runc does the same)
        if opts.copyup:  # on a tmpfs (spec.validate)
            how |= P.MNT_COPYUP
        plan.mount(what, source=m.source or "", target=dest, fstype=m.type or "", data=data, flags=opts.flags,
                   propagation=opts.propagation, how=how)
    if opts.recursive_attrs:
        plan.mount_setattr(f"set the recursive options of `{dest}`", dest, attr_set=opts.attr_set,
                           attr_clr=opts.attr_clr, at_flags=mo.AT_RECURSIVE)


def _cgroup_mount(
    launch: Launch,
    m: Mount,
    dest: str,
    cgroupns: bool,
    hierarchies: list[Hierarchy],
    cgroup_paths: dict[str, str],
) -> None:
    """A mount of type "cgroup": the container's cgroups, per hierarchy, under ``dest``.

    cgroup v2 only: one cgroup2 mount (with a cgroup namespace; otherwise a bind of the container's
    cgroup).  v1 (and hybrid): a tmpfs, and in it one directory per hierarchy holding a fresh
    mount of that hierarchy (cgroup namespace) or a bind of the container's cgroup in it.
    """
    plan = launch.plan
    opts = mo.parse(m.options)
    flags = opts.flags & ~(mo.MS_BIND | mo.MS_REC | mo.MS_REMOUNT)
    v2_only = bool(hierarchies) and all(h.version == 2 for h in hierarchies)
    if v2_only:
        h = hierarchies[0]
        src = cgroup_paths.get(h.key) or _own_cgroup(h)
        if cgroupns:
            # refused where the target is the host's cgroup2 already (a /sys bound from the host):
            # the container's cgroup bound instead, what its cgroup namespace would show (runc)
            plan.mount(f"mount `cgroup2` to `{dest}`", source="cgroup2", target=dest, fstype="cgroup2", flags=flags,
                       how=P.MNT_IN_ROOT | P.MNT_MKDIR | P.MNT_CGROUP2_BIND, fallback=src)
        else:
            plan.mount(f"bind mount `{src}` to `{dest}`", source=src, target=dest, flags=mo.MS_BIND,
                       how=P.MNT_IN_ROOT | P.MNT_MKDIR, remount_flags=(flags | mo.MS_BIND) if flags else 0)
        return
    tmpfs_flags = (flags & ~mo.MS_RDONLY) | mo.MS_NOSUID | mo.MS_NODEV | mo.MS_NOEXEC
    plan.mount(f"mount `tmpfs` to `{dest}`", source="tmpfs", target=dest, fstype="tmpfs", data="mode=755",
               flags=tmpfs_flags, how=P.MNT_IN_ROOT | P.MNT_MKDIR)
    for h in hierarchies:
        if h.version == 2:
            continue  # hybrid: runc shows the container the v1 hierarchies only
        sub = dest + "/" + os.path.basename(h.mountpoint)
        if cgroupns:
            fstype = "cgroup2" if h.version == 2 else "cgroup"
            data = "" if h.version == 2 else (h.key if not h.key.startswith("name=") else "none," + h.key)
            plan.mount(f"mount `{fstype}` ({h.key or 'unified'}) to `{sub}`", source=fstype, target=sub, fstype=fstype,
                       data=data, flags=flags, how=P.MNT_IN_ROOT | P.MNT_MKDIR)
        else:
            src = cgroup_paths.get(h.key) or _own_cgroup(h)
            plan.mount(f"bind mount `{src}` to `{sub}`", source=src, target=sub, flags=mo.MS_BIND,
                       how=P.MNT_IN_ROOT | P.MNT_MKDIR, remount_flags=(flags | mo.MS_BIND) if flags else 0)
    if flags & mo.MS_RDONLY:
        plan.mount(f"remount `{dest}` read-only", target=dest, how=P.MNT_IN_ROOT,
                   remount_flags=tmpfs_flags | mo.MS_RDONLY)


def _own_cgroup(h: Hierarchy) -> str:
    """Where the container is in a hierarchy it has no cgroup of its own in (a rootless one): in
    the runtime's cgroup."""
    return os.path.normpath(h.mountpoint + "/" + h.own)


def _device(launch: Launch, path: str, mode: int, major: int, minor: int, uid: int, gid: int, user_ns: bool,
            check_only: bool = False) -> None:
    """A device node at ``path``.  A node already there that is the requested device (type and
    numbers) is kept as it is; anything else there is an error (runtime-spec, Devices): nothing is
    ever unlinked.  ``check_only``: in a bind-mounted /dev, the node must be there already."""
    dev = os.makedev(major, minor)
    if check_only:
        launch.plan.mknod(f"device `{path}` in the bind-mounted /dev", path, mode=mode, dev=dev, uid=uid, gid=gid,
                          check_only=True)
    elif user_ns:
        # mknod is not allowed in a user namespace: bind the host's node (never chown or chmod it);
        # one outside /dev by its numbers (the host has nothing of its at that path).
        source = path
        if not path.startswith("/dev/"):
            source = f"/dev/{'block' if mode & 0o170000 == S_IFBLK else 'char'}/{major}:{minor}"
        launch.plan.mount(f"bind mount the device `{path}`", source=source, target=path, flags=mo.MS_BIND,
                          how=P.MNT_IN_ROOT | P.MNT_MKFILE)
    else:
        launch.plan.mknod(f"mknod `{path}`", path, mode=mode, dev=dev, uid=uid, gid=gid)


def _console(launch: Launch, proc: Process, dev_console: bool) -> None:
    """A pty of the container's devpts as the process's terminal; the master goes to the console
    socket (after pivot_root, so that /dev/ptmx is the container's).  ``dev_console``: the
    container's own terminal, also bound on /dev/console (exec's is not).  A pty the runtime
    relays itself has ONLCR cleared, as runc does: the caller's own terminal adds the carriage
    returns, a file or pipe gets none."""
    launch.console = True
    rows, cols = proc.console_size or (0, 0)
    launch.plan.console("set up the console", socket_fd=launch.console_fd, rows=rows, cols=cols if rows else 0,
                        dev_console=dev_console, clear_onlcr=launch.own_console, uid=proc.user.uid, gid=-1)


def build_exec(
    proc: Process,
    *,
    pid: int,
    rootfs: str,
    namespaces: dict[str, str],
    host: HostFacts,
    preserve_fds: int = 0,
    new_keyring: bool = True,
    container_id: str = "",
    own_console: bool = False,
    memory_policy: MemoryPolicy | None = None,
) -> Launch:
    """The launch of a process joining a running container (exec): every namespace of the
    container's init (``/proc/<pid>/ns/*``), then the process ops as for create; ``host.seccomp``:
    the container's linux.seccomp, compiled; ``memory_policy``: the container's (runc sets it
    for exec too)."""
    from .spec import SPEC_VERSION
    from .spec.model import Spec as _Spec

    launch = Launch(3 + preserve_fds)
    launch.warnings.extend(host.notes)
    launch.own_console = own_console
    for ns_type in namespaces:
        path = f"/proc/{pid}/ns/{PROC_NS_NAMES[ns_type]}"
        if ns_type == "pid":
            join_pidns(launch, path)
        else:
            launch.joins.append((path, NAMESPACE_FLAGS[ns_type]))
    launch.joins.sort(key=lambda j: _JOIN_RANK[j[1]])
    launch.become_root = "user" in namespaces
    plan = launch.plan
    # After setns into the mount namespace, / is the container's root.
    affinity = proc.exec_cpu_affinity
    if affinity and affinity.initial:
        mask = cpu_mask(affinity.initial, "$.process.execCPUAffinity.initial")
        plan.affinity(f"set the initial CPU affinity {affinity.initial}", mask)
    plan.rootfs("open the container's root", "/")
    plan.setsid("start a new session")
    if new_keyring:  # the container's own, by name (runc)
        plan.keyring("join the container's session keyring", f"_ses.{container_id}"[:255])
    cgroups_ready(launch)
    if affinity and affinity.final:
        mask = cpu_mask(affinity.final, "$.process.execCPUAffinity.final")
        plan.affinity(f"set the final CPU affinity {affinity.final}", mask)
    if proc.terminal:
        _console(launch, proc, dev_console=False)
    spec = _Spec(SPEC_VERSION, process=proc)
    spec.linux.memory_policy = memory_policy
    _process(launch, spec, host)
    return launch


def _scheduling(launch: Launch, proc: Process, personality: Personality | None) -> None:
    """scheduler, ioPriority and personality: while the process still has its capabilities."""
    plan = launch.plan
    sched = proc.scheduler
    if sched is not None:
        flags = 0
        for name in sched.flags:
            flags |= SCHED_FLAGS[name]
        plan.sched(f"set the scheduler to {sched.policy}", policy=SCHED_POLICIES[sched.policy], nice=sched.nice,
                   priority=sched.priority, flags=flags, runtime=sched.runtime, deadline=sched.deadline,
                   period=sched.period)
    io = proc.io_priority
    if io is not None:
        plan.ioprio(f"set the I/O priority to {io.klass} {io.priority}", ioclass=IOPRIO_CLASSES[io.klass],
                    level=io.priority)
    if personality is not None:
        plan.personality(f"set the personality to {personality.domain}", PERSONALITY_DOMAINS[personality.domain])


def _memory_policy(launch: Launch, mp: MemoryPolicy | None, host: HostFacts) -> None:
    """linux.memoryPolicy (validated: spec.validate): set after the scheduling and before READY
    and seccomp, as runc does.  A node the host does not have is an error here (the kernel would
    refuse only a list without any node it has, and drop the others silently); with
    MPOL_F_RELATIVE_NODES the numbers are relative to the allowed nodes, so any is fine."""
    if mp is None:
        return
    nodes = node_list(mp.nodes)
    if host.numa_nodes is not None and "MPOL_F_RELATIVE_NODES" not in mp.flags:
        missing = sorted(nodes - host.numa_nodes)
        if missing:
            raise InvalidSpec(f"{MEMORY_POLICY}.nodes",
                              f"node {missing[0]} does not exist on this host (see /sys/devices/system/node/online)")
    flags = 0
    for name in mp.flags:
        flags |= MPOL_FLAGS[name]
    what = " ".join([mp.mode, *(["nodes " + mp.nodes] if nodes else []), *mp.flags])
    launch.plan.set_mempolicy(f"set_mempolicy {what} ({MEMORY_POLICY})", mode=MPOL_MODES[mp.mode], flags=flags,
                              nodes=node_mask(nodes))


def _lsm_labels(launch: Launch, proc: Process, host: HostFacts) -> None:
    """AppArmor profile and SELinux label of the process, for the exec: an error where the LSM is
    not enabled (asking for confinement that cannot be had must not run unconfined)."""
    if proc.apparmor_profile:
        if not host.apparmor:
            raise InvalidSpec("$.process.apparmorProfile",
                              f"AppArmor profile {proc.apparmor_profile!r} requested, but AppArmor is not enabled")
        launch.plan.write_file(f"set the AppArmor profile {proc.apparmor_profile!r}", "/proc/self/attr/apparmor/exec",
                               "exec " + proc.apparmor_profile, procfs_only=True)
    if proc.selinux_label:
        if not host.selinux:
            raise InvalidSpec("$.process.selinuxLabel",
                              f"SELinux label {proc.selinux_label!r} requested, but SELinux is not enabled")
        launch.plan.write_file(f"set the SELinux label {proc.selinux_label!r}", "/proc/self/attr/exec",
                               proc.selinux_label, procfs_only=True)


def _hook_state_parts(launch: Launch, spec: Spec) -> tuple[str, str]:
    """The state JSON a startContainer hook reads, split where the pid goes (the init stage
    learns it from the parent's ACK at SYNC_CGROUPS): ocirun.hooks builds it."""
    from .hooks import state_json_parts

    return state_json_parts(launch.container_id, "created", launch.bundle, spec.annotations)


def _environment(env: list[str], home: Callable[[], str]) -> list[str]:
    """process.env as runc passes it on (Go's os.Setenv one entry after the other): one entry per
    name, where the name first stands, with its last value; then an empty or missing HOME is
    ``home()`` (the user's passwd entry)."""
    out: list[str] = []
    where: dict[str, int] = {}
    for entry in env:
        name = entry.partition("=")[0]
        if name in where:
            out[where[name]] = entry
        else:
            where[name] = len(out)
            out.append(entry)
    at = where.get("HOME")
    if at is None:
        out.append("HOME=" + home())
    elif out[at] == "HOME=":
        out[at] = "HOME=" + home()
    return out


def _process(launch: Launch, spec: Spec, host: HostFacts) -> None:
    plan = launch.plan
    proc = spec.process
    assert proc is not None
    user = proc.user
    filt = launch.seccomp = host.seccomp

    def load_seccomp() -> None:
        assert filt is not None
        plan.seccomp("load the seccomp filter", flags=filt.flags, instructions=filt.instructions, bpf=filt.bpf)

    # Every fd of the runtime's (sync socket, fifo, console socket) is close-on-exec from here: a
    # seccomp filter loaded later need not allow close_range, and nothing leaks into the program.
    plan.close_from("mark the runtime's file descriptors close-on-exec", launch.base_fd)

    for rl in proc.rlimits:
        plan.rlimit(f"setrlimit {rl.type} {rl.soft}:{rl.hard}", resource=RLIMITS[rl.type], soft=rl.soft, hard=rl.hard)
    if proc.oom_score_adj is not None:
        plan.oom_score_adj(f"set oom_score_adj to {proc.oom_score_adj}", proc.oom_score_adj)
    _scheduling(launch, proc, spec.linux.personality)
    _memory_policy(launch, spec.linux.memory_policy, host)
    _lsm_labels(launch, proc, host)
    if proc.no_new_privileges:
        plan.no_new_privs("set no_new_privs")
    elif filt is not None:
        load_seccomp()  # seccomp(2) without no_new_privs needs CAP_SYS_ADMIN: before the caps go (runc)

    # The working directory is entered while the process is still root with every capability, so
    # that a USER may start in a WORKDIR only root can enter (/root, 0700); only where root is
    # refused (EACCES, EPERM: a root-squashing NFS) is it tried again as the user (runc).
    plan.chdir(f"chdir to `{proc.cwd}`", proc.cwd, phase=P.CHDIR_FIRST)
    top = host.cap_last_cap
    bounding, eff, perm, inh, amb = _caps.masks(proc.capabilities, top, launch.warnings, host.own_permitted)
    sets = {"last_cap": top, "bounding": bounding, "effective": eff, "permitted": perm, "inheritable": inh,
            "ambient": amb}
    plan.caps("drop capabilities from the bounding set", mode=P.CAPS_BOUNDING, **sets)

    gids = list(dict.fromkeys(user.additional_gids))
    if host.setgroups_denied:  # a rootless user namespace with its one gid: no setgroups(2) at all
        if gids:
            raise InvalidSpec("$.process.user.additionalGids", "a rootless container whose gidMappings map only "
                              "its user's gid cannot set groups (setgroups is denied in its user namespace)")
    elif not launch.joins or all(flag != CLONE_NEWUSER for _, flag in launch.joins):
        plan.setgroups(f"setgroups {gids}", gids)
    plan.setid(f"set the user to {user.uid}:{user.gid}", uid=user.uid, gid=user.gid)
    # as the user, before its capabilities are raised again, and the check that the working
    # directory is inside the root (CVE-2024-21626)
    plan.chdir(f"chdir to `{proc.cwd}`", proc.cwd, phase=P.CHDIR_AGAIN)
    plan.caps("set capabilities", mode=P.CAPS_SET, **sets)
    plan.umask("umask", user.umask if user.umask is not None else DEFAULT_UMASK)

    env = _environment(proc.env, lambda: host.home(user.uid))
    arg0 = proc.args[0]
    candidates = exec_candidates(arg0, proc.env_value("PATH"))
    launch.arg0 = arg0
    plan.exec_lookup(f'exec: "{arg0}"', candidates)
    late_seccomp = filt if proc.no_new_privileges else None
    if late_seccomp is not None and late_seccomp.listener:
        load_seccomp()  # with no_new_privs as late as possible, but the parent must take the listener
    plan.ready("report ready", parent_exits=launch.fifo)
    if launch.fifo:
        plan.wait_fifo("wait for start", launch.fifo_fd)
    if late_seccomp is not None and not late_seccomp.listener:
        load_seccomp()  # with no_new_privs as late as possible: fewer of our own calls to allow
    hooks = spec.hooks.get("startContainer")
    if hooks:
        before, after = _hook_state_parts(launch, spec)
        for i, hook in enumerate(hooks):
            plan.hook(f"error running startContainer hook #{i} `{hook.path}`", path=hook.path, args=hook.args,
                      env=hook.env or [], state_before=before, state_after=after, timeout=hook.timeout or 0, index=i)
    plan.exec(f'exec: "{arg0}"', proc.args, env)
