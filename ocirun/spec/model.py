"""The typed model of config.json, built once from the parsed and schema-checked JSON.

Field names are snake_case; ``from_json`` of each class is the one place mapping the JSON names.
Unknown properties are ignored, as the runtime-spec requires.  The input has already passed the
schema (ocirun.spec.schema), so types are trusted here; checks that need more than the schema (the
root exists, no namespace twice, ...) are in ocirun.spec.validate.

Plain classes with __slots__: dataclasses and typing would cost milliseconds of import on every
``create``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .resources import Resources

    JSON = dict[str, Any]


def _list(obj: JSON, key: str) -> list[Any]:
    return list(obj.get(key) or ())


class IDMapping:
    __slots__ = ("container_id", "host_id", "size")

    def __init__(self, container_id: int, host_id: int, size: int) -> None:
        self.container_id = container_id
        self.host_id = host_id
        self.size = size

    @classmethod
    def from_json(cls, obj: JSON) -> IDMapping:
        return cls(obj["containerID"], obj["hostID"], obj["size"])


class Mount:
    __slots__ = ("destination", "gid_mappings", "options", "source", "type", "uid_mappings")

    def __init__(
        self,
        destination: str,
        type: str | None = None,
        source: str | None = None,
        options: list[str] | None = None,
        uid_mappings: list[IDMapping] | None = None,
        gid_mappings: list[IDMapping] | None = None,
    ) -> None:
        self.destination = destination
        self.type = type
        self.source = source
        self.options = options or []
        self.uid_mappings = uid_mappings or []
        self.gid_mappings = gid_mappings or []

    @classmethod
    def from_json(cls, obj: JSON) -> Mount:
        return cls(
            obj["destination"],
            obj.get("type"),
            obj.get("source"),
            _list(obj, "options"),
            [IDMapping.from_json(m) for m in _list(obj, "uidMappings")],
            [IDMapping.from_json(m) for m in _list(obj, "gidMappings")],
        )


class Root:
    __slots__ = ("path", "readonly")

    def __init__(self, path: str, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly

    @classmethod
    def from_json(cls, obj: JSON) -> Root:
        return cls(obj["path"], bool(obj.get("readonly", False)))


class User:
    __slots__ = ("additional_gids", "gid", "uid", "umask", "username")

    def __init__(
        self,
        uid: int = 0,
        gid: int = 0,
        umask: int | None = None,
        additional_gids: list[int] | None = None,
        username: str | None = None,
    ) -> None:
        self.uid = uid
        self.gid = gid
        self.umask = umask
        self.additional_gids = additional_gids or []
        self.username = username

    @classmethod
    def from_json(cls, obj: JSON) -> User:
        return cls(
            obj.get("uid", 0),
            obj.get("gid", 0),
            obj.get("umask"),
            _list(obj, "additionalGids"),
            obj.get("username"),
        )


class Capabilities:
    """The five capability sets as lists of names (``None``: the set was not given)."""

    __slots__ = ("ambient", "bounding", "effective", "inheritable", "permitted")

    def __init__(
        self,
        bounding: list[str] | None = None,
        effective: list[str] | None = None,
        permitted: list[str] | None = None,
        inheritable: list[str] | None = None,
        ambient: list[str] | None = None,
    ) -> None:
        self.bounding = bounding
        self.effective = effective
        self.permitted = permitted
        self.inheritable = inheritable
        self.ambient = ambient

    @classmethod
    def from_json(cls, obj: JSON) -> Capabilities:
        return cls(
            obj.get("bounding"),
            obj.get("effective"),
            obj.get("permitted"),
            obj.get("inheritable"),
            obj.get("ambient"),
        )

    def sets(self) -> dict[str, list[str] | None]:
        return {k: getattr(self, k) for k in ("bounding", "effective", "permitted", "inheritable", "ambient")}


class Rlimit:
    __slots__ = ("hard", "soft", "type")

    def __init__(self, type: str, soft: int, hard: int) -> None:
        self.type = type
        self.soft = soft
        self.hard = hard

    @classmethod
    def from_json(cls, obj: JSON) -> Rlimit:
        return cls(obj["type"], obj["soft"], obj["hard"])


class Scheduler:
    """process.scheduler: sched_setattr(2)'s arguments."""

    __slots__ = ("deadline", "flags", "nice", "period", "policy", "priority", "runtime")

    def __init__(self, obj: JSON) -> None:
        self.policy: str = obj["policy"]
        self.nice: int = obj.get("nice", 0)
        self.priority: int = obj.get("priority", 0)
        self.flags: list[str] = _list(obj, "flags")
        self.runtime: int = obj.get("runtime", 0)
        self.deadline: int = obj.get("deadline", 0)
        self.period: int = obj.get("period", 0)


class IOPriority:
    __slots__ = ("klass", "priority")

    def __init__(self, obj: JSON) -> None:
        self.klass: str = obj["class"]
        self.priority: int = obj["priority"]


class CPUAffinity:
    """process.execCPUAffinity: CPU lists ("0-3,7") before the exec's setup and for the program."""

    __slots__ = ("final", "initial")

    def __init__(self, obj: JSON) -> None:
        self.initial: str = obj.get("initial") or ""
        self.final: str = obj.get("final") or ""


class Process:
    __slots__ = (
        "apparmor_profile",
        "args",
        "capabilities",
        "command_line",
        "console_size",
        "cwd",
        "env",
        "exec_cpu_affinity",
        "io_priority",
        "no_new_privileges",
        "oom_score_adj",
        "rlimits",
        "scheduler",
        "selinux_label",
        "terminal",
        "user",
    )

    def __init__(
        self,
        args: list[str],
        cwd: str = "/",
        env: list[str] | None = None,
        user: User | None = None,
        terminal: bool = False,
        console_size: tuple[int, int] | None = None,
        command_line: str | None = None,
        rlimits: list[Rlimit] | None = None,
        capabilities: Capabilities | None = None,
        no_new_privileges: bool = False,
        oom_score_adj: int | None = None,
        apparmor_profile: str | None = None,
        selinux_label: str | None = None,
        scheduler: Scheduler | None = None,
        io_priority: IOPriority | None = None,
        exec_cpu_affinity: CPUAffinity | None = None,
    ) -> None:
        self.args = args
        self.cwd = cwd
        self.env = env or []
        self.user = user or User()
        self.terminal = terminal
        self.console_size = console_size
        self.command_line = command_line
        self.rlimits = rlimits or []
        self.capabilities = capabilities
        self.no_new_privileges = no_new_privileges
        self.oom_score_adj = oom_score_adj
        self.apparmor_profile = apparmor_profile
        self.selinux_label = selinux_label
        self.scheduler = scheduler
        self.io_priority = io_priority
        self.exec_cpu_affinity = exec_cpu_affinity

    @classmethod
    def from_json(cls, obj: JSON) -> Process:
        size = obj.get("consoleSize")
        caps = obj.get("capabilities")
        sched, io, affinity = obj.get("scheduler"), obj.get("ioPriority"), obj.get("execCPUAffinity")
        return cls(
            args=_list(obj, "args"),
            cwd=obj["cwd"],
            env=_list(obj, "env"),
            user=User.from_json(obj.get("user") or {}),
            terminal=bool(obj.get("terminal", False)),
            console_size=(size["height"], size["width"]) if size else None,
            command_line=obj.get("commandLine"),
            rlimits=[Rlimit.from_json(r) for r in _list(obj, "rlimits")],
            capabilities=Capabilities.from_json(caps) if caps is not None else None,
            no_new_privileges=bool(obj.get("noNewPrivileges", False)),
            oom_score_adj=obj.get("oomScoreAdj"),
            apparmor_profile=obj.get("apparmorProfile"),
            selinux_label=obj.get("selinuxLabel"),
            scheduler=Scheduler(sched) if sched is not None else None,
            io_priority=IOPriority(io) if io is not None else None,
            exec_cpu_affinity=CPUAffinity(affinity) if affinity is not None else None,
        )

    def env_value(self, name: str) -> str | None:
        """The value of the last ``name=`` entry of env, as getenv sees it."""
        prefix = name + "="
        for entry in reversed(self.env):
            if entry.startswith(prefix):
                return entry[len(prefix) :]
        return None


class Hook:
    __slots__ = ("args", "env", "path", "timeout")

    def __init__(
        self, path: str, args: list[str] | None = None, env: list[str] | None = None, timeout: int | None = None
    ) -> None:
        self.path = path
        self.args = args or [path]
        self.env = env  # None: none given (a hook run by ocirun gets ocirun's environment)
        self.timeout = timeout

    @classmethod
    def from_json(cls, obj: JSON) -> Hook:
        return cls(obj["path"], obj.get("args"), obj.get("env"), obj.get("timeout"))

    def to_json(self) -> JSON:
        out: JSON = {"path": self.path, "args": self.args}
        if self.env is not None:
            out["env"] = self.env
        if self.timeout is not None:
            out["timeout"] = self.timeout
        return out


HOOK_KINDS = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop")


class Hooks:
    """The hooks of each kind, keyed by the JSON name ("createRuntime", ...)."""

    __slots__ = ("by_kind",)

    def __init__(self, by_kind: dict[str, list[Hook]] | None = None) -> None:
        self.by_kind = by_kind or {}

    @classmethod
    def from_json(cls, obj: JSON) -> Hooks:
        return cls({k: [Hook.from_json(h) for h in obj[k]] for k in HOOK_KINDS if obj.get(k)})

    def get(self, kind: str) -> list[Hook]:
        return self.by_kind.get(kind, [])


class Namespace:
    __slots__ = ("path", "type")

    def __init__(self, type: str, path: str | None = None) -> None:
        self.type = type
        self.path = path

    @classmethod
    def from_json(cls, obj: JSON) -> Namespace:
        return cls(obj["type"], obj.get("path") or None)


class Device:
    __slots__ = ("file_mode", "gid", "major", "minor", "path", "type", "uid")

    def __init__(
        self,
        path: str,
        type: str,
        major: int = 0,
        minor: int = 0,
        file_mode: int | None = None,
        uid: int | None = None,
        gid: int | None = None,
    ) -> None:
        self.path = path
        self.type = type
        self.major = major
        self.minor = minor
        self.file_mode = file_mode
        self.uid = uid
        self.gid = gid

    @classmethod
    def from_json(cls, obj: JSON) -> Device:
        return cls(
            obj["path"],
            obj["type"],
            obj.get("major", 0),
            obj.get("minor", 0),
            obj.get("fileMode"),
            obj.get("uid"),
            obj.get("gid"),
        )


class SeccompArg:
    """One condition of a seccomp rule (linux.seccomp.syscalls[].args[])."""

    __slots__ = ("index", "op", "value", "value_two")

    def __init__(self, obj: JSON) -> None:
        self.index: int = obj.get("index", 0)
        self.op: str = obj.get("op", "")
        self.value: int = obj.get("value", 0)
        self.value_two: int = obj.get("valueTwo", 0)


class SeccompSyscall:
    """One entry of linux.seccomp.syscalls: its names, action and argument conditions."""

    __slots__ = ("action", "args", "errno_ret", "names")

    def __init__(self, obj: JSON) -> None:
        self.names: list[str] = _list(obj, "names")
        self.action: str = obj.get("action", "")
        self.errno_ret: int | None = obj.get("errnoRet")
        self.args = [SeccompArg(a) for a in _list(obj, "args")]


class Seccomp:
    """linux.seccomp, read from its JSON object, which ``raw`` keeps (the compiled filter's cache
    key, and what state.json keeps for exec)."""

    __slots__ = ("architectures", "default_action", "default_errno_ret", "flags", "listener_metadata",
                 "listener_path", "raw", "syscalls")

    def __init__(self, obj: JSON) -> None:
        self.default_action: str = obj.get("defaultAction", "")
        self.default_errno_ret: int | None = obj.get("defaultErrnoRet")
        self.architectures: list[str] = _list(obj, "architectures")
        self.flags: list[str] | None = obj.get("flags")  # None: not given (the runtime picks)
        self.listener_path: str | None = obj.get("listenerPath") or None
        self.listener_metadata: str | None = obj.get("listenerMetadata") or None
        self.syscalls = [SeccompSyscall(c) for c in _list(obj, "syscalls")]
        self.raw = obj

    @classmethod
    def from_json(cls, obj: JSON) -> Seccomp:
        return cls(obj)

    def uses_notify(self) -> bool:
        return self.default_action == "SCMP_ACT_NOTIFY" or any(
            c.action == "SCMP_ACT_NOTIFY" for c in self.syscalls
        )


class Personality:
    __slots__ = ("domain", "flags")

    def __init__(self, domain: str, flags: list[str] | None = None) -> None:
        self.domain = domain
        self.flags = flags or []

    @classmethod
    def from_json(cls, obj: JSON) -> Personality:
        return cls(obj["domain"], _list(obj, "flags"))


class MemoryPolicy:
    """linux.memoryPolicy: ``nodes`` as written ("0-3,7"; "" when absent)."""

    __slots__ = ("flags", "mode", "nodes")

    def __init__(self, mode: str, nodes: str = "", flags: list[str] | None = None) -> None:
        self.mode = mode
        self.nodes = nodes
        self.flags = flags or []

    @classmethod
    def from_json(cls, obj: JSON) -> MemoryPolicy:
        return cls(obj["mode"], obj.get("nodes") or "", _list(obj, "flags"))


class Linux:
    __slots__ = (
        "cgroups_path",
        "devices",
        "gid_mappings",
        "intel_rdt",
        "masked_paths",
        "memory_policy",
        "mount_label",
        "namespaces",
        "net_devices",
        "personality",
        "readonly_paths",
        "resources",
        "rootfs_propagation",
        "seccomp",
        "sysctl",
        "time_offsets",
        "uid_mappings",
    )

    def __init__(self) -> None:
        self.namespaces: list[Namespace] = []
        self.uid_mappings: list[IDMapping] = []
        self.gid_mappings: list[IDMapping] = []
        self.time_offsets: dict[str, tuple[int, int]] = {}  # clock: (secs, nanosecs)
        self.devices: list[Device] = []
        self.net_devices: JSON = {}
        self.cgroups_path: str | None = None
        self.resources: Resources | None = None
        self.intel_rdt: JSON | None = None
        self.memory_policy: MemoryPolicy | None = None
        self.sysctl: dict[str, str] = {}
        self.seccomp: Seccomp | None = None
        self.rootfs_propagation: str | None = None
        self.masked_paths: list[str] = []
        self.readonly_paths: list[str] = []
        self.mount_label: str | None = None
        self.personality: Personality | None = None

    @classmethod
    def from_json(cls, obj: JSON) -> Linux:
        lx = cls()
        lx.namespaces = [Namespace.from_json(n) for n in _list(obj, "namespaces")]
        lx.uid_mappings = [IDMapping.from_json(m) for m in _list(obj, "uidMappings")]
        lx.gid_mappings = [IDMapping.from_json(m) for m in _list(obj, "gidMappings")]
        lx.time_offsets = {clock: (off.get("secs", 0), off.get("nanosecs", 0))
                           for clock, off in (obj.get("timeOffsets") or {}).items()}
        lx.devices = [Device.from_json(d) for d in _list(obj, "devices")]
        lx.net_devices = obj.get("netDevices") or {}
        lx.cgroups_path = obj.get("cgroupsPath") or None
        resources = obj.get("resources")
        if resources is not None:
            from .resources import Resources

            lx.resources = Resources.from_json(resources)
        lx.intel_rdt = obj.get("intelRdt")
        memory_policy = obj.get("memoryPolicy")
        lx.memory_policy = MemoryPolicy.from_json(memory_policy) if memory_policy is not None else None
        lx.sysctl = dict(obj.get("sysctl") or {})
        seccomp = obj.get("seccomp")
        lx.seccomp = Seccomp.from_json(seccomp) if seccomp is not None else None
        lx.rootfs_propagation = obj.get("rootfsPropagation") or None
        lx.masked_paths = _list(obj, "maskedPaths")
        lx.readonly_paths = _list(obj, "readonlyPaths")
        lx.mount_label = obj.get("mountLabel") or None
        personality = obj.get("personality")
        lx.personality = Personality.from_json(personality) if personality is not None else None
        return lx

    def namespace(self, ns_type: str) -> Namespace | None:
        for ns in self.namespaces:
            if ns.type == ns_type:
                return ns
        return None


class Spec:
    """A container's configuration (config.json)."""

    __slots__ = (
        "annotations",
        "domainname",
        "hooks",
        "hostname",
        "linux",
        "mounts",
        "oci_version",
        "process",
        "raw",
        "root",
    )

    def __init__(
        self,
        oci_version: str,
        root: Root | None = None,
        process: Process | None = None,
        mounts: list[Mount] | None = None,
        hostname: str | None = None,
        domainname: str | None = None,
        hooks: Hooks | None = None,
        annotations: dict[str, str] | None = None,
        linux: Linux | None = None,
        raw: JSON | None = None,
    ) -> None:
        self.oci_version = oci_version
        self.root = root
        self.process = process
        self.mounts = mounts or []
        self.hostname = hostname
        self.domainname = domainname
        self.hooks = hooks or Hooks()
        self.annotations = annotations or {}
        self.linux = linux or Linux()
        self.raw = raw or {}

    @classmethod
    def from_json(cls, obj: JSON) -> Spec:
        root = obj.get("root")
        process = obj.get("process")
        linux = obj.get("linux")
        return cls(
            oci_version=obj["ociVersion"],
            root=Root.from_json(root) if root is not None else None,
            process=Process.from_json(process) if process is not None else None,
            mounts=[Mount.from_json(m) for m in _list(obj, "mounts")],
            hostname=obj.get("hostname"),
            domainname=obj.get("domainname"),
            hooks=Hooks.from_json(obj.get("hooks") or {}),
            annotations=dict(obj.get("annotations") or {}),
            linux=Linux.from_json(linux) if linux is not None else None,
            raw=obj,
        )
