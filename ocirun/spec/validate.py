"""Checks of a Spec that the schema cannot express, as lists of functions (runc's validator).

Every check that needs only the config is here, one list per area (PROCESS_CHECKS, EXEC_CHECKS,
NAMESPACE_CHECKS, MOUNT_CHECKS, LINUX_CHECKS, SECCOMP_CHECKS), each raising InvalidSpec with the
JSON path of the offending field; ``check_for_create`` runs them all before create plans, so the
planner plans and never validates.  What needs the host is checked where its facts are known:
the rootfs and namespace files below (``rootfs_path``, ``namespace_paths``), the LSMs in the
planner (hostfacts.HostFacts), what the kernel and libseccomp take in seccomp.prepare.
"""

from __future__ import annotations

from .. import _os as os
from ..errors import InvalidSpec
from . import mountopts as mo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from .model import IDMapping, Process, Seccomp, Spec

NAMESPACE_TYPES = ("pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time")
RLIMITS = {
    "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4,
    "RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9,
    "RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
    "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
}
SCHED_POLICIES = {"SCHED_OTHER": 0, "SCHED_FIFO": 1, "SCHED_RR": 2, "SCHED_BATCH": 3, "SCHED_ISO": 4,
                  "SCHED_IDLE": 5, "SCHED_DEADLINE": 6}
SCHED_FLAGS = {"SCHED_FLAG_RESET_ON_FORK": 0x01, "SCHED_FLAG_RECLAIM": 0x02, "SCHED_FLAG_DL_OVERRUN": 0x04,
               "SCHED_FLAG_KEEP_POLICY": 0x08, "SCHED_FLAG_KEEP_PARAMS": 0x10, "SCHED_FLAG_UTIL_CLAMP_MIN": 0x20,
               "SCHED_FLAG_UTIL_CLAMP_MAX": 0x40}
IOPRIO_CLASSES = {"IOPRIO_CLASS_RT": 1, "IOPRIO_CLASS_BE": 2, "IOPRIO_CLASS_IDLE": 3}
PERSONALITY_DOMAINS = {"LINUX": 0x0000, "LINUX32": 0x0008}
# linux/mempolicy.h: the modes of set_mempolicy(2), and the flags ORed into its mode argument
MPOL_MODES = {"MPOL_DEFAULT": 0, "MPOL_PREFERRED": 1, "MPOL_BIND": 2, "MPOL_INTERLEAVE": 3, "MPOL_LOCAL": 4,
              "MPOL_PREFERRED_MANY": 5, "MPOL_WEIGHTED_INTERLEAVE": 6}
MPOL_FLAGS = {"MPOL_F_NUMA_BALANCING": 1 << 13, "MPOL_F_RELATIVE_NODES": 1 << 14, "MPOL_F_STATIC_NODES": 1 << 15}
MAX_NUMA_NODES = 1024  # the most a kernel has (CONFIG_NODES_SHIFT is at most 10)
PROPAGATIONS = ("private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable")
IPC_SYSCTLS = frozenset((
    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax",
    "kernel.shmmni", "kernel.shm_rmid_forced",
))


def _version(spec: Spec) -> None:
    parts = spec.oci_version.split(".")
    if len(parts) < 3 or parts[0] != "1":
        raise InvalidSpec("$.ociVersion", f"unsupported version {spec.oci_version!r}: ocirun implements 1.x")


def _root(spec: Spec) -> None:
    if spec.root is None:
        raise InvalidSpec("$.root", "is required on Linux")
    if not spec.root.path:
        raise InvalidSpec("$.root.path", "must not be empty")


# ---------------------------------------------------------------------------- process (create and exec)


def _rlimits(p: Process) -> None:
    seen: set[str] = set()
    for i, rl in enumerate(p.rlimits):
        if rl.type not in RLIMITS:
            raise InvalidSpec(f"$.process.rlimits[{i}].type", f"unknown rlimit {rl.type!r}")
        if rl.type in seen:
            raise InvalidSpec(f"$.process.rlimits[{i}].type", f"{rl.type} is given twice")
        seen.add(rl.type)
        if rl.soft > rl.hard:
            raise InvalidSpec(f"$.process.rlimits[{i}]", f"soft limit {rl.soft} is above the hard limit {rl.hard}")


def _scheduler(p: Process) -> None:
    sched = p.scheduler
    if sched is None:
        return
    if sched.policy not in SCHED_POLICIES:
        raise InvalidSpec("$.process.scheduler.policy", f"unknown policy {sched.policy!r}")
    for i, name in enumerate(sched.flags):
        if name not in SCHED_FLAGS:
            raise InvalidSpec(f"$.process.scheduler.flags[{i}]", f"unknown flag {name!r}")


def _io_priority(p: Process) -> None:
    if p.io_priority is not None and p.io_priority.klass not in IOPRIO_CLASSES:
        raise InvalidSpec("$.process.ioPriority.class", f"unknown class {p.io_priority.klass!r}")


def _env_bytes(p: Process) -> None:
    for i, entry in enumerate(p.env):
        if "\0" in entry:
            raise InvalidSpec(f"$.process.env[{i}]", "contains a NUL byte")


def _exec_cpu_affinity(p: Process) -> None:
    affinity = p.exec_cpu_affinity
    if affinity is not None:
        for key, cpus in (("initial", affinity.initial), ("final", affinity.final)):
            if cpus:
                cpu_mask(cpus, f"$.process.execCPUAffinity.{key}")


#: What a process must be, in a config.json and in exec's process description alike.
PROCESS_CHECKS: tuple[Callable[[Process], None], ...] = (_env_bytes, _rlimits, _scheduler, _io_priority)
#: exec's process description (exec alone reads execCPUAffinity).
EXEC_CHECKS: tuple[Callable[[Process], None], ...] = (*PROCESS_CHECKS, _exec_cpu_affinity)


def _process(spec: Spec) -> None:
    p = spec.process
    if p is None:
        return  # a container without a program: `start` ends it (runtime-tools "start")
    if not p.args:
        raise InvalidSpec("$.process.args", "must name the program to run")
    if not p.cwd.startswith("/"):
        raise InvalidSpec("$.process.cwd", f"{p.cwd!r} is not an absolute path")
    for i, entry in enumerate(p.env):
        if "=" not in entry or entry.startswith("="):
            raise InvalidSpec(f"$.process.env[{i}]", f"{entry!r} is not of the form NAME=VALUE")
    for check in PROCESS_CHECKS:
        check(p)


def check_exec_process(p: Process) -> None:
    """exec's process description (its cwd is checked by exec itself)."""
    for check in EXEC_CHECKS:
        check(p)


def cpu_mask(cpus: str, path: str) -> bytes:
    """"0-3,7" -> a little-endian bit mask for sched_setaffinity."""
    mask = 0
    try:
        for part in filter(None, (p.strip() for p in cpus.split(","))):
            low, _, high = part.partition("-")
            for cpu in range(int(low), int(high or low) + 1):
                mask |= 1 << cpu
    except ValueError:
        raise InvalidSpec(path, f"{cpus!r} is not a CPU list like 0-3,7") from None
    if not mask:
        raise InvalidSpec(path, "names no CPU")
    return mask.to_bytes(max(8, (mask.bit_length() + 63) // 64 * 8), "little")


# ---------------------------------------------------------------------------- namespaces


def _namespace_entries(spec: Spec) -> None:
    seen: set[str] = set()
    for i, ns in enumerate(spec.linux.namespaces):
        if ns.type not in NAMESPACE_TYPES:
            raise InvalidSpec(f"$.linux.namespaces[{i}].type", f"unknown namespace type {ns.type!r}")
        if ns.type in seen:
            raise InvalidSpec(f"$.linux.namespaces[{i}]", f"namespace {ns.type!r} is given twice")
        seen.add(ns.type)
        if ns.path is not None and not ns.path.startswith("/"):
            raise InvalidSpec(f"$.linux.namespaces[{i}].path", f"{ns.path!r} is not an absolute path")


def _uts(spec: Spec) -> None:
    has_uts = spec.linux.namespace("uts") is not None
    if spec.hostname and not has_uts:
        raise InvalidSpec("$.hostname", "setting the hostname needs a new uts namespace")
    if spec.domainname and not has_uts:
        raise InvalidSpec("$.domainname", "setting the domainname needs a new uts namespace")


def _user(spec: Spec) -> None:
    user = spec.linux.namespace("user")
    maps = spec.linux.uid_mappings or spec.linux.gid_mappings
    if maps and user is None:
        raise InvalidSpec("$.linux.uidMappings", "id mappings need a user namespace")
    if user is not None and user.path is None and not (spec.linux.uid_mappings and spec.linux.gid_mappings):
        raise InvalidSpec("$.linux.uidMappings", "a new user namespace needs uidMappings and gidMappings")


def _id_maps(where: str, maps: list[IDMapping]) -> None:
    """One list of id mappings: no empty range, none past 2^32, no two overlapping on either side
    (the kernel refuses the whole map for any of these, with EINVAL)."""
    for i, m in enumerate(maps):
        if m.size < 1:
            raise InvalidSpec(f"{where}[{i}].size", f"{m.size} maps no id (it must be at least 1)")
        for side, start in (("containerID", m.container_id), ("hostID", m.host_id)):
            if start + m.size > 1 << 32:
                raise InvalidSpec(f"{where}[{i}]", f"{side} {start} + size {m.size} goes past the last id 4294967295")
    for i, m in enumerate(maps):
        for j in range(i):
            other = maps[j]
            for side, a, b in (("containerID", m.container_id, other.container_id),
                               ("hostID", m.host_id, other.host_id)):
                if a < b + other.size and b < a + m.size:
                    raise InvalidSpec(f"{where}[{i}]", f"its {side} range {a}-{a + m.size - 1} overlaps that of "
                                      f"{where}[{j}] ({b}-{b + other.size - 1})")


def _id_mappings(spec: Spec) -> None:
    _id_maps("$.linux.uidMappings", spec.linux.uid_mappings)
    _id_maps("$.linux.gidMappings", spec.linux.gid_mappings)
    for i, m in enumerate(spec.mounts):
        _id_maps(f"$.mounts[{i}].uidMappings", m.uid_mappings)
        _id_maps(f"$.mounts[{i}].gidMappings", m.gid_mappings)
        idmap = next((o for o in m.options if o in ("idmap", "ridmap")), None)
        if idmap is not None and not m.uid_mappings:
            raise InvalidSpec(f"$.mounts[{i}].options", f"{idmap!r} needs the mount's uidMappings and gidMappings")
        if m.uid_mappings and not mo.parse(m.options).is_bind:
            raise InvalidSpec(f"$.mounts[{i}].uidMappings", "idmapped mounts are bind mounts (add \"bind\" or "
                              "\"rbind\" to its options)")


def _time(spec: Spec) -> None:
    if spec.linux.time_offsets and spec.linux.namespace("time") is None:
        raise InvalidSpec("$.linux.timeOffsets", "time offsets need a time namespace")


NAMESPACE_CHECKS: tuple[Callable[[Spec], None], ...] = (_namespace_entries, _uts, _user, _id_mappings, _time)


# ---------------------------------------------------------------------------- mounts and the rootfs


def _mount_entries(spec: Spec) -> None:
    for i, m in enumerate(spec.mounts):
        if not m.destination:
            raise InvalidSpec(f"$.mounts[{i}].destination", "must not be empty")
        if ("bind" in m.options or "rbind" in m.options) and not m.source:
            raise InvalidSpec(f"$.mounts[{i}].source", "a bind mount needs a source")
        if bool(m.uid_mappings) != bool(m.gid_mappings):
            raise InvalidSpec(f"$.mounts[{i}]", "uidMappings and gidMappings go together")


def _tmpcopyup(spec: Spec) -> None:
    for m in spec.mounts:
        if "tmpcopyup" not in m.options or m.type in ("tmpfs", "cgroup") or mo.parse(m.options).is_bind:
            continue
        d = m.destination
        dest = os.path.normpath(d if d.startswith("/") else "/" + d)
        raise InvalidSpec("$.mounts", f"tmpcopyup on `{dest}` needs a tmpfs, not {m.type!r}")


def _propagation(spec: Spec) -> None:
    value = spec.linux.rootfs_propagation
    if value is None:
        return
    if value not in PROPAGATIONS:
        raise InvalidSpec("$.linux.rootfsPropagation", f"unknown propagation {value!r}")
    if spec.linux.namespace("mount") is None:
        raise InvalidSpec("$.linux.rootfsPropagation", "needs a mount namespace")


MOUNT_CHECKS: tuple[Callable[[Spec], None], ...] = (_mount_entries, _tmpcopyup, _propagation)


# ------------------------------------------------------------------- devices, sysctl, personality, memoryPolicy


def _devices(spec: Spec) -> None:
    for i, d in enumerate(spec.linux.devices):
        # Anywhere in the container (config-linux.md: "MAY be anywhere"), made inside the rootfs.
        if not d.path.startswith("/") or ".." in d.path.split("/") or not d.path.strip("/"):
            raise InvalidSpec(f"$.linux.devices[{i}].path",
                              f"{d.path!r} is not an absolute path in the container without `..`")
        if d.type not in ("c", "b", "u", "p"):
            raise InvalidSpec(f"$.linux.devices[{i}].type", f"unknown device type {d.type!r}")


def _sysctl(spec: Spec) -> None:
    """Only sysctls of a namespace the container has of its own (runc's rules): IPC ones with an ipc
    namespace, net.* with a network namespace, the domain name with a uts one and not $.domainname;
    never the host name ($.hostname's)."""
    lx = spec.linux
    new_ns = {ns.type for ns in lx.namespaces if ns.path is None}
    for key in lx.sysctl:
        where = f"$.linux.sysctl[{key!r}]"
        if "/" in key or ".." in key:
            raise InvalidSpec(where, "is not a sysctl name")
        if key in IPC_SYSCTLS or key.startswith("fs.mqueue."):
            if "ipc" not in new_ns:
                raise InvalidSpec(where, "needs a new ipc namespace")
        elif key.startswith("net."):
            if lx.namespace("network") is None:
                raise InvalidSpec(where, "is not allowed in the host's network namespace")
        elif key in ("kernel.hostname", "kernel.domainname"):
            if "uts" not in new_ns:
                raise InvalidSpec(where, "needs a new uts namespace")
            # The name is $.hostname's to set (runc refuses this sysctl always, crun when both are
            # given); the domainname only when $.domainname sets it too (crun).
            if key == "kernel.hostname" or spec.domainname:
                field = key.split(".")[1]
                raise InvalidSpec(where, f"conflicts with $.{field}: set the {field} there")
        else:
            raise InvalidSpec(where, "is not in a separate kernel namespace: it would change the host")


def _personality(spec: Spec) -> None:
    pers = spec.linux.personality
    if pers is None or spec.process is None:
        return
    if pers.domain not in PERSONALITY_DOMAINS:
        raise InvalidSpec("$.linux.personality.domain", f"unknown domain {pers.domain!r}")
    if pers.flags:
        raise InvalidSpec("$.linux.personality.flags", "no personality flags are supported")


def _valid_ifname(name: str) -> bool:
    """What the kernel takes as an interface name (dev_valid_name), a `%d` template included."""
    return 0 < len(name) < 16 and name not in (".", "..") and not any(c in "/:" or c.isspace() for c in name)


def _net_devices(spec: Spec) -> None:
    """linux.netDevices: valid names, one device per name inside, and a new network namespace to
    move them to (runc's rules); what the host has is checked at create (ocirun.network)."""
    devices = spec.linux.net_devices
    if not devices:
        return
    net = spec.linux.namespace("network")
    if net is None:
        raise InvalidSpec("$.linux.netDevices", "moving network devices needs a new network namespace "
                          "(linux.namespaces has no network entry: the container would share the host's)")
    if net.path is not None:
        raise InvalidSpec("$.linux.netDevices", f"moving network devices needs a new network namespace, "
                          f"not the existing `{net.path}`")
    seen: dict[str, str] = {}
    for host, entry in devices.items():
        if not _valid_ifname(host):
            raise InvalidSpec(f"$.linux.netDevices.{host}", f"{host!r} is not a network interface name")
        name = (entry or {}).get("name") or host
        if not _valid_ifname(name) or name.count("%") > (1 if "%d" in name else 0):
            raise InvalidSpec(f"$.linux.netDevices.{host}.name", f"{name!r} is not a network interface name")
        if name == "lo" or name in seen:
            other = "the loopback interface" if name == "lo" else f"`{seen[name]}`"
            raise InvalidSpec(f"$.linux.netDevices.{host}.name", f"`{name}` is taken in the container's network "
                              f"namespace (by {other})")
        if "%d" not in name:
            seen[name] = host


MEMORY_POLICY = "$.linux.memoryPolicy"


def node_list(nodes: str) -> set[int]:
    """The nodes of a list like "0-3,7" ("": none); ValueError for anything else."""
    out: set[int] = set()
    for part in nodes.split(",") if nodes.strip() else ():
        low, dash, high = part.strip().partition("-")
        if not low.isdigit() or (dash and not high.isdigit()) or int(high or low) < int(low):
            raise ValueError(part)
        if int(high or low) >= MAX_NUMA_NODES:
            raise ValueError(part)
        out.update(range(int(low), int(high or low) + 1))
    return out


def node_mask(nodes: set[int]) -> bytes:
    """The nodes as set_mempolicy's mask: little-endian unsigned longs (b"": none)."""
    mask = sum(1 << n for n in nodes)
    return mask.to_bytes((mask.bit_length() + 63) // 64 * 8, "little")


def _memory_policy(spec: Spec) -> None:
    """What set_mempolicy(2) refuses whatever the host (its sanitize_mpol_flags and mpol_new),
    and flags the kernel takes but ignores (MPOL_DEFAULT's)."""
    mp = spec.linux.memory_policy
    if mp is None:
        return
    try:
        nodes = node_list(mp.nodes)
    except ValueError:
        raise InvalidSpec(f"{MEMORY_POLICY}.nodes",
                          f"{mp.nodes!r} is not a node list like 0-3,7 (nodes 0 to {MAX_NUMA_NODES - 1})") from None
    mode = mp.mode
    if mode in ("MPOL_DEFAULT", "MPOL_LOCAL"):
        if nodes:
            raise InvalidSpec(f"{MEMORY_POLICY}.nodes", f"{mode} takes no nodes")
        if mp.flags:
            raise InvalidSpec(f"{MEMORY_POLICY}.flags", f"{mode} takes no flags")
    elif mode != "MPOL_PREFERRED" and not nodes:
        raise InvalidSpec(f"{MEMORY_POLICY}.nodes", f"{mode} needs at least one node")
    if {"MPOL_F_STATIC_NODES", "MPOL_F_RELATIVE_NODES"} <= set(mp.flags):
        raise InvalidSpec(f"{MEMORY_POLICY}.flags", "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other")
    for i, flag in enumerate(mp.flags):
        if flag == "MPOL_F_NUMA_BALANCING" and mode not in ("MPOL_BIND", "MPOL_PREFERRED_MANY"):
            raise InvalidSpec(f"{MEMORY_POLICY}.flags[{i}]",
                              f"MPOL_F_NUMA_BALANCING is for MPOL_BIND and MPOL_PREFERRED_MANY, not {mode}")
        if flag in ("MPOL_F_STATIC_NODES", "MPOL_F_RELATIVE_NODES") and not nodes:
            raise InvalidSpec(f"{MEMORY_POLICY}.flags[{i}]", f"{flag} needs nodes")


LINUX_CHECKS: tuple[Callable[[Spec], None], ...] = (_devices, _sysctl, _personality, _net_devices, _memory_policy)


# ---------------------------------------------------------------------------- seccomp
# The profile's own rules; what the kernel and libseccomp take is learnt when it is compiled
# (ocirun.seccomp.prepare, on the host).

SECCOMP = "$.linux.seccomp"


def _seccomp_action(name: str, errno_ret: int | None, where: str, what: str) -> None:
    from ..seccomp import ACTIONS, WITH_DATA

    if name not in ACTIONS:
        raise InvalidSpec(where, f"unknown seccomp action {name!r}")
    if name in WITH_DATA:
        if errno_ret is not None and not 0 <= errno_ret <= 0xFFFF:
            raise InvalidSpec(where, f"{what} {errno_ret} is out of range (0 to 65535)")
    elif errno_ret is not None:
        raise InvalidSpec(where, f"{what} is only allowed with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not {name}")


def _seccomp_header(prof: Seccomp) -> None:
    from ..seccomp import ARCHS, FLAGS

    if prof.uses_notify() and not prof.listener_path:
        raise InvalidSpec(SECCOMP, "SCMP_ACT_NOTIFY needs a listenerPath (the seccomp agent's unix socket)")
    for i, name in enumerate(prof.flags or ()):
        if name not in FLAGS:
            raise InvalidSpec(f"{SECCOMP}.flags[{i}]", f"unknown seccomp flag {name!r}")
    if prof.default_action == "SCMP_ACT_NOTIFY":
        raise InvalidSpec(f"{SECCOMP}.defaultAction", "SCMP_ACT_NOTIFY cannot be the default action "
                          "(the runtime's own calls would wait for the agent)")
    _seccomp_action(prof.default_action, prof.default_errno_ret, f"{SECCOMP}.defaultAction", "defaultErrnoRet")
    for i, arch in enumerate(prof.architectures):
        if arch not in ARCHS:
            raise InvalidSpec(f"{SECCOMP}.architectures[{i}]", f"unknown seccomp architecture {arch!r}")


def _seccomp_syscalls(prof: Seccomp) -> None:
    from ..seccomp import NOT_NOTIFIABLE, OPERATORS

    for i, call in enumerate(prof.syscalls):
        where = f"{SECCOMP}.syscalls[{i}]"
        _seccomp_action(call.action, call.errno_ret, f"{where}.action", "errnoRet")
        for k, arg in enumerate(call.args):
            if not 0 <= arg.index < 6:
                raise InvalidSpec(f"{where}.args[{k}].index", f"{arg.index} is not an argument index (0 to 5)")
            if arg.op not in OPERATORS:
                raise InvalidSpec(f"{where}.args[{k}].op", f"unknown seccomp operator {arg.op!r}")
            for field, v in (("value", arg.value), ("valueTwo", arg.value_two)):
                if not 0 <= v < 1 << 64:
                    raise InvalidSpec(f"{where}.args[{k}].{field}", f"{v} is not a 64-bit unsigned value")
        if call.action == "SCMP_ACT_NOTIFY":
            for j, name in enumerate(call.names):
                if name in NOT_NOTIFIABLE:
                    raise InvalidSpec(f"{where}.names[{j}]", f"SCMP_ACT_NOTIFY cannot be used for {name!r} "
                                      "(ocirun's init reports the listener with it)")


#: linux.seccomp, checked whether or not its filter is in the cache.
SECCOMP_CHECKS: tuple[Callable[[Seccomp], None], ...] = (_seccomp_header, _seccomp_syscalls)


def check_seccomp(prof: Seccomp) -> None:
    for check in SECCOMP_CHECKS:
        check(prof)


def _resources(spec: Spec) -> None:
    if spec.linux.resources is not None:
        from .resources import check

        check(spec.linux.resources)


def _seccomp(spec: Spec) -> None:
    if spec.linux.seccomp is not None and spec.process is not None:
        check_seccomp(spec.linux.seccomp)

#: Every check of a config.json that needs nothing but the config, area by area.
CREATE_CHECKS: tuple[Callable[[Spec], None], ...] = (
    _version,
    _root,
    _process,
    *NAMESPACE_CHECKS,
    *MOUNT_CHECKS,
    *LINUX_CHECKS,
    _resources,
    _seccomp,
)


def check_for_create(spec: Spec) -> None:
    for check in CREATE_CHECKS:
        check(spec)


def rootless(spec: Spec) -> None:
    """What a container needs to be made by a caller without root (runc's rootless checks): a
    user namespace of its own (new, with mappings, or joined)."""
    if spec.linux.namespace("user") is None:
        raise InvalidSpec("$.linux.namespaces", "a rootless container needs a user namespace (add {\"type\": \"user\"} "
                          "and linux.uidMappings, linux.gidMappings)")


def rootfs_path(spec: Spec, bundle: str) -> str:
    """The absolute path of the root filesystem; it must be an existing directory, and, as runc
    wants it, not reached through a symlink that root.path names (a rootfs that is a symlink, to
    ``/`` say, is refused, not followed)."""
    assert spec.root is not None
    path = os.path.normpath(os.path.join(bundle, spec.root.path))
    try:
        st = os.stat(path)
    except OSError as e:
        raise InvalidSpec("$.root.path", f"`{path}`: {e.strerror}") from None
    if (st.st_mode & 0o170000) != 0o040000:
        raise InvalidSpec("$.root.path", f"`{path}` is not a directory")
    # every component root.path names (a relative one: below the bundle) must be no symlink
    base = "/" if spec.root.path.startswith("/") else os.path.normpath(bundle)
    rel = path[len(base):].lstrip("/") if path.startswith(base) else ""
    at = base
    for part in rel.split("/") if rel else ():
        at = os.path.join(at, part)
        if (os.lstat(at).st_mode & 0o170000) == 0o120000:
            raise InvalidSpec("$.root.path", f"invalid rootfs `{path}`: `{at}` is a symlink (to `{os.readlink(at)}`)")
    return path


NSFS_MAGIC = 0x6E736673
_NS_GET_NSTYPE = 0xB703
_NS_FLAGS = {
    "mount": 0x20000, "cgroup": 0x02000000, "uts": 0x04000000, "ipc": 0x08000000, "user": 0x10000000,
    "pid": 0x20000000, "network": 0x40000000, "time": 0x80,
}


def namespace_paths(spec: Spec) -> None:
    """Each linux.namespaces[].path must be a namespace file of its type (setns would only say
    "Invalid argument")."""
    for i, ns in enumerate(spec.linux.namespaces):
        if ns.path is None:
            continue
        where = f"$.linux.namespaces[{i}].path"
        try:
            fd = os.open(ns.path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError as e:
            raise InvalidSpec(where, f"`{ns.path}`: {e.strerror}") from None
        try:
            import fcntl

            try:
                kind = fcntl.ioctl(fd, _NS_GET_NSTYPE)
            except OSError:
                raise InvalidSpec(where, f"`{ns.path}` is not a namespace file") from None
        finally:
            os.close(fd)
        if kind != _NS_FLAGS.get(ns.type, kind):
            other = next((name for name, flag in _NS_FLAGS.items() if flag == kind), "another")
            raise InvalidSpec(where, f"`{ns.path}` is a {other} namespace, not a {ns.type} one")


def strings(doc: object, raw: bytes) -> None:
    """No string of config.json (but the opaque annotations) holds what no system call takes: a
    NUL character or a lone surrogate (a ``\\ud800`` escape that is no UTF-16 pair).  Both can come
    only from ``\\u`` escapes: a file without any is not walked."""
    if b"\\u" not in raw:
        return
    stack: list[tuple[str, object]] = [("$", doc)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            _string(where, value)
        elif isinstance(value, dict):
            for key, item in value.items():
                _string(where, key)
                if where != "$" or key != "annotations":
                    stack.append((f"{where}.{key}", item))
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", item) for i, item in enumerate(value))


def _string(where: str, value: str) -> None:
    if "\0" in value:
        raise InvalidSpec(where, "contains a NUL character")
    try:
        value.encode()
    except UnicodeEncodeError as e:
        bad = value[e.start]
        raise InvalidSpec(where, f"contains a lone surrogate \\u{ord(bad):04x} (not valid Unicode)") from None
