"""The state root: one directory per container, ``<root>/<id>/``, holding

    state.json   written atomically once the container is created (ocirun.state)
    exec.fifo    exists from create until start (its presence means "created")

Commands on one container serialize on an exclusive flock of its directory.
"""

from __future__ import annotations

from . import _os as os
from . import state as _state
from .errors import ContainerExists, ContainerNotFound, InvalidArgument, SyscallError

_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-.")
STATE_FILE = "state.json"
FIFO = "exec.fifo"


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
        """Creates the container's directory; the mkdir is what makes an id taken."""
        validate_id(container_id)
        path = self.dir(container_id)
        try:
            os.makedirs(self.root, 0o711, exist_ok=True)
        except OSError as e:
            raise SyscallError.from_oserror("mkdir", e, self.root) from None
        try:
            os.mkdir(path, 0o711)
        except FileExistsError:
            raise ContainerExists(container_id) from None
        except OSError as e:
            raise SyscallError.from_oserror("mkdir", e, path) from None
        return path

    def lock(self, container_id: str, missing_ok: bool = False) -> Lock:
        validate_id(container_id)
        return Lock(self.dir(container_id), container_id, missing_ok)

    def load(self, container_id: str) -> _state.State:
        validate_id(container_id)
        try:
            return _state.load(self.state_path(container_id))
        except FileNotFoundError:
            raise ContainerNotFound(container_id) from None
        except (OSError, ValueError, TypeError, KeyError) as e:
            raise SyscallError("read state", getattr(e, "errno", 0) or 22, self.state_path(container_id)) from None

    def save(self, st: _state.State) -> None:
        _state.save(st, self.state_path(st.id))

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
        try:
            os.unlink(f"{path}/{STATE_FILE}")
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


class Lock:
    """An exclusive flock of a container's directory, as a context manager."""

    __slots__ = ("container_id", "fd", "missing_ok", "path")

    def __init__(self, path: str, container_id: str, missing_ok: bool) -> None:
        self.path = path
        self.container_id = container_id
        self.missing_ok = missing_ok
        self.fd = -1

    def __enter__(self) -> Lock:
        import fcntl

        try:
            self.fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            if self.missing_ok:
                return self
            raise ContainerNotFound(self.container_id) from None
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
