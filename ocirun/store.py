"""The state root: one directory per container, ``<root>/<id>/``, holding

    cleanup.json written once by create, before it makes any cgroup or process: what ``delete
                 --force`` needs when state.json is unreadable (see Cleanup)
    state.json   written atomically once the init exists, again once it is ready (ocirun.state)
    exec.fifo    exists from create until start (its presence means "created")

Commands on one container serialize on an exclusive flock of its directory; create makes the
directory and takes its lock before anyone else can (new_dir).

Recovery from any state: state.json may be missing (a create killed early, a delete killed
late), empty, truncated or corrupt (a crash of the machine on a disk-backed --root, a hand edit).
Then ``state``/``start``/``kill`` fail with "read state `<path>`: <what is wrong>", ``list`` warns
and shows the container with status "unknown", and ``delete --force`` kills every process in the
container's cgroups, removes them, unmounts its rootfs if it had no mount namespace of its own and
removes the directory, all from cleanup.json (written once, never rewritten, so not damaged by a
crash during a later save).  Without a readable cleanup.json either (a directory not made by this
ocirun, or both files damaged), ``delete --force`` removes the directory only: nothing is guessed
and killed by name.  Poststop hooks are not run for a container whose state.json is unreadable.

OCIRUN_TEST_CRASH_AT=<step> (tests only) makes ocirun SIGKILL itself at the named step
(crash_point); read once at import, a comparison with None otherwise.
"""

from __future__ import annotations

from . import _json
from . import _os as os
from . import state as _state
from .errors import ContainerExists, ContainerNotFound, InvalidArgument, OciRunError, SyscallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-.")
STATE_FILE = "state.json"
CLEANUP_FILE = "cleanup.json"
FIFO = "exec.fifo"
_CRASH_AT = os.environ.get(b"OCIRUN_TEST_CRASH_AT")


def crash_point(step: str) -> None:
    """Test-only: SIGKILL this process here when $OCIRUN_TEST_CRASH_AT is ``step`` (read once at
    import), so that tests can kill ocirun in each of its windows (tests/integration/test_recovery.py).
    The steps: create:mkdir, create:recorded, create:spawned, create:ready, create:saved,
    start:written, delete:killed, delete:destroyed."""
    if _CRASH_AT is not None and step.encode() == _CRASH_AT:
        os.kill(os.getpid(), 9)


class StateUnreadable(OciRunError):
    """state.json exists but cannot be used: "read state `<path>`: <what is wrong>"."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"read state `{path}`: {reason}")


class Cleanup:
    """What ``delete --force`` needs when state.json is unreadable, saved by create before it makes
    any cgroup or process (cleanup.json): the container's cgroup directories (every process of
    the container is in them), its rootfs and whether its mounts are in a mount namespace of its
    own, and, for ``list``, its bundle and creation time."""

    __slots__ = ("bundle", "cgroup_paths", "created", "own_mount_ns", "rootfs")

    def __init__(
        self, cgroup_paths: dict[str, str], rootfs: str, own_mount_ns: bool, bundle: str = "", created: str = ""
    ) -> None:
        self.cgroup_paths = cgroup_paths
        self.rootfs = rootfs
        self.own_mount_ns = own_mount_ns
        self.bundle = bundle
        self.created = created

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_json(cls, obj: Any) -> Cleanup:
        if not isinstance(obj, dict):
            raise ValueError("not a JSON object")
        paths = obj.get("cgroup_paths")
        if not isinstance(paths, dict) or not all(isinstance(v, str) and v.startswith("/") for v in paths.values()):
            raise ValueError("cgroup_paths is not a map of absolute paths")
        rootfs, bundle, created = obj.get("rootfs", ""), obj.get("bundle", ""), obj.get("created", "")
        if not all(isinstance(v, str) for v in (rootfs, bundle, created)):
            raise ValueError("rootfs, bundle and created must be strings")
        return cls(dict(paths), rootfs, bool(obj.get("own_mount_ns", True)), bundle, created)


def validate_id(container_id: str) -> None:
    """Ids are what runc and crun accept: letters, digits, ``_ + - .``, not ``.``-led."""
    if not container_id:
        raise InvalidArgument("container id cannot be empty")
    if len(container_id) > 1024 or container_id.startswith(".") or not _ID_CHARS.issuperset(container_id):
        raise InvalidArgument(f"invalid container ID format: {container_id}")


class Store:
    __slots__ = ("root",)

    def __init__(self, root: str) -> None:
        self.root = root

    def dir(self, container_id: str) -> str:
        return f"{self.root}/{container_id}"

    def state_path(self, container_id: str) -> str:
        return f"{self.root}/{container_id}/{STATE_FILE}"

    def fifo_path(self, container_id: str) -> str:
        return f"{self.root}/{container_id}/{FIFO}"

    def new_dir(self, container_id: str) -> str:
        """Creates the container's directory (not locked: create uses new_locked)."""
        lock = self.new_locked(container_id)
        lock.__exit__()
        return lock.path

    def new_locked(self, container_id: str) -> Lock:
        """Creates the container's directory and returns it locked (a Lock to enter); the mkdir is
        what makes an id taken.

        The root's lock is held (shared) from the mkdir to the flock, so that a delete, to which a
        directory without state.json whose lock is free is a create that died, can tell one that
        is only about to be locked (``delete`` takes the root's lock exclusively: settled)."""
        validate_id(container_id)
        path = self.dir(container_id)
        try:
            os.makedirs(self.root, 0o711, exist_ok=True)
        except OSError as e:
            raise SyscallError.from_oserror("mkdir", e, self.root) from None
        with RootLock(self.root, exclusive=False):
            try:
                os.mkdir(path, 0o711)
            except FileExistsError:
                raise ContainerExists(container_id) from None
            except OSError as e:
                raise SyscallError.from_oserror("mkdir", e, path) from None
            crash_point("create:mkdir")
            return Lock(path, container_id, missing_ok=False).__enter__()

    def settled(self) -> RootLock:
        """The root's lock, exclusively: no create is between its mkdir and its lock meanwhile."""
        return RootLock(self.root, exclusive=True)

    def lock(self, container_id: str, missing_ok: bool = False) -> Lock:
        validate_id(container_id)
        return Lock(self.dir(container_id), container_id, missing_ok)

    def load(self, container_id: str) -> _state.State:
        """The container's state; ContainerNotFound without state.json, StateUnreadable when it
        cannot be used (empty, truncated, not JSON, not a state record)."""
        validate_id(container_id)
        path = self.state_path(container_id)
        try:
            return _state.load(path)
        except FileNotFoundError:
            raise ContainerNotFound(container_id) from None
        except OSError as e:
            raise SyscallError.from_oserror("read state", e, path) from None
        except (ValueError, TypeError, KeyError, RecursionError) as e:
            raise StateUnreadable(path, _state.describe_error(e)) from None

    def save(self, st: _state.State) -> None:
        path = self.state_path(st.id)
        try:
            _state.save(st, path)
        except OSError as e:
            raise SyscallError.from_oserror("write state", e, path) from None

    def save_cleanup(self, container_id: str, cleanup: Cleanup) -> None:
        path = f"{self.dir(container_id)}/{CLEANUP_FILE}"
        try:
            os.write_atomic(path, _json.dumps(cleanup.to_json()).encode(), 0o600)
        except OSError as e:
            raise SyscallError.from_oserror("write state", e, path) from None

    def load_cleanup(self, container_id: str) -> Cleanup | None:
        """cleanup.json, or None when it is missing or unreadable."""
        try:
            with open(f"{self.dir(container_id)}/{CLEANUP_FILE}", "rb") as f:
                return Cleanup.from_json(_json.loads(f.read()))
        except (OSError, ValueError, TypeError, RecursionError):
            return None

    def locked(self, container_id: str) -> bool:
        """Whether another process holds the container's lock (a create under way)."""
        return _state._locked(self.dir(container_id))

    def ids(self) -> list[str]:
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if not n.startswith(".") and os.path.isdir(f"{self.root}/{n}"))

    def remove(self, container_id: str) -> None:
        """Removes the container's directory: state.json and rmdir, or (something else is in it: the
        fifo of a never-started container, a temporary file of an interrupted save) all of it."""
        path = self.dir(container_id)
        for name in (STATE_FILE, CLEANUP_FILE):  # cleanup.json last: it outlives a crash in between
            try:
                os.unlink(f"{path}/{name}")
            except FileNotFoundError:
                pass
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError as e:
            if e.errno != 39:  # ENOTEMPTY
                raise
        for name in os.listdir(path):
            os.unlink(f"{path}/{name}")
        os.rmdir(path)


class RootLock:
    """A flock of the state root (see Store.new_locked), as a context manager; nothing when the
    root does not exist."""

    __slots__ = ("exclusive", "fd", "root")

    def __init__(self, root: str, exclusive: bool) -> None:
        self.root = root
        self.exclusive = exclusive
        self.fd = -1

    def __enter__(self) -> RootLock:
        try:
            self.fd = os.lock_dir(self.root, self.exclusive)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise SyscallError.from_oserror("open", e, self.root) from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class Lock:
    """An exclusive flock of a container's directory, as a context manager."""

    __slots__ = ("container_id", "fd", "missing_ok", "path")

    def __init__(self, path: str, container_id: str, missing_ok: bool) -> None:
        self.path = path
        self.container_id = container_id
        self.missing_ok = missing_ok
        self.fd = -1

    def __enter__(self) -> Lock:
        if self.fd >= 0:  # Store.new_dir's, locked already
            return self
        try:
            self.fd = os.lock_dir(self.path)
        except FileNotFoundError:
            if not self.missing_ok:
                raise ContainerNotFound(self.container_id) from None
        return self

    def try_enter(self) -> bool:
        """Takes the lock if it is free: False when another process holds it (or it is gone)."""
        try:
            self.fd = os.lock_dir(self.path, wait=False)
        except FileNotFoundError:
            return False
        return self.fd >= 0

    def __exit__(self, *exc: object) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
