"""A container's saved state and the status derived from it.

state.json holds what later commands need (youki's "persist only what later verbs need"): the
init's pid and its start time, bundle, rootfs, creation time, owner, annotations, cgroup paths,
namespace paths (for exec) and the hooks still to run.  The status is never stored: it is worked
out on every read (crun status.c, runc refreshState):

    init not ready yet, while a create holds the container's lock -> creating
    init gone, zombie, or its start time changed (pid reused)      -> stopped
    cgroup frozen (a created container can be paused too)         -> paused
    exec.fifo still there and the init has not exec'd yet          -> created
    otherwise                                                      -> running

create saves the state twice: once its init exists (with "creating" in ``config``, so that a
live init is never recorded as pid 0 should create be killed before the init is ready), and
once it is ready.  An init outlives a killed create only once it has reported READY (before,
it gets EOF on its sync socket and exits), so a live init whose create is gone is derived as
created (or running) like any other.  A ``start`` killed between writing the fifo and removing
it leaves exec.fifo behind: "created" is also checked against the init, which runs the init
stage (a memfd, ocirun.shim) until start.
"""

from __future__ import annotations

from . import _json
from . import _os as os
from .errors import InvalidState
from .spec import SPEC_VERSION

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

OCI_VERSION = SPEC_VERSION  # what a state reports

CREATING = "creating"
CREATED = "created"
RUNNING = "running"
PAUSED = "paused"
STOPPED = "stopped"

# Which verb may act on a container in which status, and the sentence that refuses it (runc's
# libcontainer/state_linux.go keeps the transitions by status, youki's ContainerStatus::can_*
# next to the enum).  The sentences are runc's, word for word: containerd and podman match some
# ("container not running", "cannot start a container that has stopped", "is not stopped").
# A refusal by status, or by "*" for any other status; {id} and {status} are filled in.
TRANSITIONS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "start": ((CREATED,), {STOPPED: "cannot start a container that has stopped",
                           "*": "cannot start an already {status} container"}),
    "kill": ((CREATING, CREATED, RUNNING, PAUSED), {"*": "container not running"}),
    "delete": ((CREATED, STOPPED), {"*": "cannot delete container {id} that is not stopped: {status}"}),
    "exec": ((CREATING, CREATED, RUNNING), {
        PAUSED: "cannot exec in a paused container (use --ignore-paused to override)",
        "*": "cannot exec in a stopped container"}),
    "pause": ((CREATED, RUNNING), {"*": "container not running"}),
    "resume": ((PAUSED,), {"*": "container not paused"}),
    "update": ((CREATING, CREATED, RUNNING, PAUSED), {"*": "container not running"}),
    "checkpoint": ((RUNNING, PAUSED), {"*": "container not running"}),
    "events": ((CREATING, CREATED, RUNNING, PAUSED), {"*": "container with id {id} is not running"}),
}


def refuse(verb: str, status: str, container_id: str = "") -> InvalidState:
    """The error that refuses ``verb`` on a container in ``status`` (``TRANSITIONS``)."""
    refusals = TRANSITIONS[verb][1]
    text = refusals.get(status) or refusals["*"]
    return InvalidState(text.format(id=container_id, status=status))


def check(verb: str, status: str, container_id: str = "") -> None:
    """Raises InvalidState unless ``verb`` may act on a container in ``status``."""
    if status not in TRANSITIONS[verb][0]:
        raise refuse(verb, status, container_id)


def frozen(cgroup_paths: dict[str, str]) -> bool:
    """Whether a container's processes are frozen (paused) by its own cgroup's freezer, given its
    cgroup directories (ocirun.cgroups.Manager.paths); here so that every status read does not
    import the cgroups package."""
    try:
        path = cgroup_paths.get("freezer")
        if path is not None:
            with open(path + "/freezer.state", "rb") as f:
                state = f.read().strip()
            if state == b"FREEZING":
                return True
            if state != b"FROZEN":
                return False
            try:  # frozen by an ancestor, not by pause: runc calls that thawed
                with open(path + "/freezer.self_freezing", "rb") as f:
                    return f.read().strip() != b"0"
            except FileNotFoundError:
                return True
        path = cgroup_paths.get("")  # cgroup v2 (ocirun.cgroups.UNIFIED)
        if path is not None:
            with open(path + "/cgroup.freeze", "rb") as f:
                return f.read().strip() == b"1"
    except OSError:
        pass
    return False


def proc_start_time(pid: int) -> int | None:
    """Field 22 of /proc/<pid>/stat (start time in clock ticks), or None when the process is gone
    or is a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2 :].split()
    if fields[0] in (b"Z", b"X"):
        return None
    return int(fields[19])


class State:
    """What ocirun keeps about one container (``<root>/<id>/state.json``)."""

    __slots__ = (
        "annotations",
        "bundle",
        "cgroup_paths",
        "config",
        "created",
        "id",
        "namespaces",
        "owner",
        "pid",
        "pid_start",
        "rootfs",
    )

    def __init__(
        self,
        id: str,
        pid: int,
        pid_start: int,
        bundle: str,
        rootfs: str,
        created: str,
        owner: str = "",
        annotations: dict[str, str] | None = None,
        cgroup_paths: dict[str, str] | None = None,
        namespaces: dict[str, str] | None = None,
        config: dict[str, Any] | None = None,
    ) -> None:
        self.id = id
        self.pid = pid
        self.pid_start = pid_start
        self.bundle = bundle
        self.rootfs = rootfs
        self.created = created
        self.owner = owner
        self.annotations = annotations or {}
        self.cgroup_paths = cgroup_paths or {}
        self.namespaces = namespaces or {}
        # the parts of config.json later commands use: hooks, process defaults for exec
        self.config = config or {}

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> State:
        return cls(**{name: obj[name] for name in cls.__slots__ if name in obj})

    def alive(self) -> bool:
        """The container's init is the process we started (not a reused pid) and has not exited."""
        return self.pid > 0 and proc_start_time(self.pid) == self.pid_start

    def signal(self, sig: int) -> None:
        """Sends ``sig`` to the init through a pidfd, so a recycled pid is never signalled;
        refused ("container not running", the table's) once it is gone."""
        import _signal

        if self.pid <= 0:  # a create that never got as far as its init
            raise refuse("kill", STOPPED, self.id)
        try:
            pidfd = os.pidfd_open(self.pid)
        except ProcessLookupError:
            raise refuse("kill", STOPPED, self.id) from None
        try:
            if not self.alive():  # same start time: the pidfd is our init
                raise refuse("kill", STOPPED, self.id)
            try:
                _signal.pidfd_send_signal(pidfd, sig)
            except ProcessLookupError:
                raise refuse("kill", STOPPED, self.id) from None
        finally:
            os.close(pidfd)

    def status(self, container_dir: str, holding_lock: bool = False) -> str:
        """The status now; ``holding_lock``: the caller holds the container's lock itself."""
        creating = self.config.get("creating") and not holding_lock and _locked(container_dir)
        if not self.alive():
            return CREATING if creating else STOPPED  # a create under way holds the lock; else it died
        if creating:
            return CREATING
        if self.cgroup_paths and frozen(self.cgroup_paths):  # before "created", as runc: a
            return PAUSED  # created container can be paused too
        if os.path.exists(container_dir + "/exec.fifo") and in_init_stage(self.pid):
            return CREATED
        return RUNNING

    def public(self, status: str) -> dict[str, Any]:
        """The runtime-spec state (runtime.md "State"), with runc's extra keys rootfs, created, owner."""
        out: dict[str, Any] = {
            "ociVersion": OCI_VERSION,
            "id": self.id,
            "pid": self.pid if status != STOPPED else 0,
            "status": status,
            "bundle": self.bundle,
            "rootfs": self.rootfs,
            "created": self.created,
            "owner": self.owner,
        }
        if self.annotations:
            out["annotations"] = self.annotations
        return out


INIT_STAGE_EXE = "/memfd:ocirun-init"  # /proc/<pid>/exe of the init stage (csrc/shim.c)


def in_init_stage(pid: int) -> bool:
    """Whether the container's init still runs ocirun's init stage (waits for start); True when
    that cannot be told, so that the fifo decides."""
    try:
        return os.readlink(f"/proc/{pid}/exe").startswith(INIT_STAGE_EXE)
    except OSError:
        return True


def _locked(container_dir: str) -> bool:
    """Whether another process holds the container's lock (ocirun.store.Lock)."""
    try:
        fd = os.lock_dir(container_dir, exclusive=False, wait=False)
    except OSError:
        return False
    if fd < 0:
        return True
    os.close(fd)
    return False


_TYPES = {
    "id": str, "pid": int, "pid_start": int, "bundle": str, "rootfs": str, "created": str, "owner": str,
    "annotations": dict, "cgroup_paths": dict, "namespaces": dict, "config": dict,
}
_REQUIRED = ("id", "pid", "pid_start", "bundle", "rootfs", "created")


def load(path: str) -> State:
    """The state in ``path``; ValueError (see describe_error) when it is not a state record."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.strip():
        raise ValueError("empty file")
    obj = _json.loads(data)
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    for name in _REQUIRED:
        if name not in obj:
            raise ValueError(f"no {name!r}")
    for name, kind in _TYPES.items():
        if name in obj and (not isinstance(obj[name], kind) or (kind is int and isinstance(obj[name], bool))):
            raise ValueError(f"{name!r} is not a{'n' if kind is int else ''} {kind.__name__}")
    return State.from_json(obj)


def describe_error(e: BaseException) -> str:
    """What is wrong with a state file, for StateUnreadable: the JSON parser's message or ours."""
    if isinstance(e, RecursionError):
        return "not a state record (nested too deeply)"
    if isinstance(e, UnicodeDecodeError):
        return "not UTF-8"
    text = str(e)
    return text if text.startswith(("empty", "not ", "no ", "'")) else f"not valid JSON ({text})"


def save(state: State, path: str) -> None:
    """Writes state.json atomically: a temporary file in the same directory, then rename.

    No fsync (runc and crun do none either): the state root is tmpfs (/run) as a rule, and on a
    disk the state outlives no container, as a restart ends them all; it cost 0.5 ms a write on
    this machine's disk, twice per create."""
    os.write_atomic(path, _json.dumps(state.to_json()).encode(), 0o600)
