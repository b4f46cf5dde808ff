"""What the planner needs to know of the host, gathered by the caller (create, exec) before it plans.

``plan.build`` and ``plan.build_exec`` read nothing themselves: the kernel's last capability, the
capabilities ocirun holds, which LSMs are enabled, the image's users database and the compiled
seccomp filter come in a HostFacts (youki's ``Syscall`` trait in spirit: tests hand in the facts
instead of patching /proc readers).  ``gather`` reads only what the config needs, so a create
does no more system calls than it must.
"""

from __future__ import annotations

from . import _os as os
from . import caps as _caps

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from .seccomp import Filter
    from .spec.model import MemoryPolicy, Process, Seccomp

ALL_CAPS = (1 << 64) - 1
SELINUX_FS = "/sys/fs/selinux"
APPARMOR_FS = "/sys/kernel/security/apparmor"
NUMA_NODES_ONLINE = "/sys/devices/system/node/online"


def _no_home(uid: int) -> str:
    return "/"


class HostFacts:
    """The host as the planner sees it.  ``home(uid)``: the user's HOME in the image (called only
    when process.env has none); ``seccomp``: linux.seccomp compiled (None: the config has none);
    ``notes``: debug lines gathering produced (unknown seccomp syscall names), for the launch's
    warnings; ``numa_nodes``: the host's online NUMA nodes (None: not known, nothing checked)."""

    __slots__ = ("apparmor", "cap_last_cap", "clone_mounts", "home", "in_userns", "notes", "numa_nodes",
                 "own_permitted", "seccomp", "selinux", "setgroups_denied")

    def __init__(self, *, cap_last_cap: int = len(_caps.NAMES) - 1, own_permitted: int = ALL_CAPS,
                 home: Callable[[int], str] = _no_home, seccomp: Filter | None = None) -> None:
        self.cap_last_cap = cap_last_cap
        self.own_permitted = own_permitted
        self.home = home
        self.seccomp = seccomp
        self.selinux = False  # enabled (gathered only for a config with an SELinux label)
        self.apparmor = False  # enabled (gathered only for a config with an AppArmor profile)
        self.numa_nodes: set[int] | None = None  # gathered only for a memoryPolicy that names nodes
        self.notes: list[str] = []
        self.setgroups_denied = False  # the new user namespace's setgroups is "deny" (rootless, one gid)
        self.clone_mounts = True  # ocirun may clone mounts (open_tree: root), for bind sources (plan._mount)
        self.in_userns = False  # ocirun runs in a user namespace (rootless podman's): no mknod, no sysfs mount


def gather(
    proc: Process | None,
    *,
    rootfs: str,
    seccomp: Seccomp | None = None,
    mount_label: str | None = None,
    cache_root: str | None = None,
    memory_policy: MemoryPolicy | None = None,
    userns: bool = False,
) -> HostFacts:
    """The facts for planning ``proc`` (and a container's linux.seccomp, mountLabel and
    memoryPolicy): the seccomp profile is compiled here (and kept in ``<cache_root>/.cache/seccomp``).
    ``userns``: the process runs in a user namespace of its own (new or joined), where it holds
    every capability of ocirun's bounding set whatever ocirun holds itself (a rootless caller: none)."""
    from .context import in_user_namespace
    from .users import home_of

    host = HostFacts(cap_last_cap=_caps.last_cap(), home=lambda uid: home_of(rootfs, uid))
    host.clone_mounts = os.geteuid() == 0  # a rootless caller: its container's root reaches what it does
    host.in_userns = in_user_namespace()
    if host.in_userns:  # setgroups "deny" here is every user namespace's below it too
        host.setgroups_denied = _setgroups_denied()
    if proc is not None and proc.capabilities is not None:
        host.own_permitted = _caps.own_set("CapBnd") if userns else _caps.own_set("CapPrm")
    if mount_label or (proc is not None and proc.selinux_label):
        host.selinux = os.path.isdir(SELINUX_FS)
    if proc is not None and proc.apparmor_profile:
        host.apparmor = os.path.isdir(APPARMOR_FS)
    if proc is not None and memory_policy is not None and memory_policy.nodes.strip():
        host.numa_nodes = numa_nodes()
    if seccomp is not None and proc is not None:
        from .seccomp import prepare  # only for a config with linux.seccomp

        host.seccomp = prepare(seccomp, cache_root=cache_root, debug=lambda msg: host.notes.append("debug: " + msg))
    return host


def _setgroups_denied() -> bool:
    """Whether setgroups(2) is denied in this process's user namespace (``unshare --map-root-user``
    writes "deny"; newuidmap, as rootless podman's namespace has it, leaves "allow")."""
    try:
        with open("/proc/self/setgroups") as f:
            return f.read().strip() == "deny"
    except OSError:
        return False


def numa_nodes() -> set[int] | None:
    """The online NUMA nodes (``/sys/devices/system/node/online``, "0-3,7"); None on a kernel
    without NUMA (set_mempolicy then fails with ENOSYS, naming the op)."""
    from .spec.validate import node_list

    try:
        with open(NUMA_NODES_ONLINE) as f:
            return node_list(f.read().strip())
    except (OSError, ValueError):
        return None
