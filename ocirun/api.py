"""The library interface: drive containers from Python without running the ocirun command.

    rt = Runtime(root="/run/ocirun")
    c = rt.create("web", bundle="/srv/bundle")      # -> Container, status "created"
    c.start()
    c.state().status                                   # "running"
    c.kill("SIGTERM"); c.delete(force=True)
    rt.run("job", bundle="/srv/bundle")                # foreground: the exit status

A container this Runtime created is a child of the calling process: ``Container.wait()`` gives its
exit status, and ``delete`` reaps it.  Its stdio is the caller's unless ``stdin``, ``stdout`` or
``stderr`` (a file descriptor or an object with ``fileno()``) say otherwise.

Errors are the exceptions of ocirun.errors (all subclasses of OciRunError, and of the matching
builtin: ContainerNotFound is a LookupError, InvalidSpec a ValueError, ...).
"""

from __future__ import annotations

from . import _os as os
from .context import Context
from .log import Logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol

    class _HasFileno(Protocol):
        def fileno(self) -> int: ...

    Stdio = int | _HasFileno | None


def _stdio(stdin: Stdio, stdout: Stdio, stderr: Stdio) -> list[tuple[int, int]] | None:
    pairs = [(f if isinstance(f, int) else f.fileno(), n) for n, f in enumerate((stdin, stdout, stderr))
             if f is not None]
    return pairs or None


class ContainerState:
    """A snapshot of a container's state (runtime.md "State") with its derived status."""

    __slots__ = ("annotations", "bundle", "created", "id", "oci_version", "owner", "pid", "rootfs", "status")

    def __init__(self, public: dict[str, Any]) -> None:
        self.oci_version: str = public["ociVersion"]
        self.id: str = public["id"]
        self.pid: int = public["pid"]
        self.status: str = public["status"]
        self.bundle: str = public["bundle"]
        self.rootfs: str = public["rootfs"]
        self.created: str = public["created"]
        self.owner: str = public["owner"]
        self.annotations: dict[str, str] = public.get("annotations", {})

    def to_json(self) -> dict[str, Any]:
        """The state as the ``state`` command prints it."""
        out: dict[str, Any] = {
            "ociVersion": self.oci_version, "id": self.id, "pid": self.pid, "status": self.status,
            "bundle": self.bundle, "rootfs": self.rootfs, "created": self.created, "owner": self.owner,
        }
        if self.annotations:
            out["annotations"] = self.annotations
        return out

    def __repr__(self) -> str:
        return f"<ContainerState {self.id} {self.status} pid={self.pid}>"


class Container:
    """A handle on one container of a Runtime; every call reads the current state afresh."""

    __slots__ = ("id", "runtime")

    def __init__(self, runtime: Runtime, container_id: str) -> None:
        self.runtime = runtime
        self.id = container_id

    def state(self) -> ContainerState:
        from .lifecycle.state import state

        st, status = state(self.runtime.context, self.id)
        return ContainerState(st.public(status))

    @property
    def status(self) -> str:
        return self.state().status

    def start(self) -> None:
        from .lifecycle.start import start

        start(self.runtime.context, self.id)

    def kill(self, signal: str | int = "SIGTERM", all: bool = False) -> None:
        from .lifecycle.kill import kill

        kill(self.runtime.context, self.id, signal, all=all)

    def delete(self, force: bool = False) -> None:
        from .lifecycle.delete import delete

        delete(self.runtime.context, self.id, force=force)
        pid = self.runtime._children.pop(self.id, None)
        if pid is not None:
            from .spawn import reap

            reap(pid)  # delete saw it end: no wait

    def wait(self, timeout: float | None = None) -> int | None:
        """Waits until the container's process has ended.  Its exit status (128+N when signal N
        ended it) if this Runtime created the container, else None.  TimeoutError if it still
        runs after ``timeout`` seconds."""
        from .lifecycle.state import state

        pid = self.runtime._children.get(self.id)
        if pid is None:
            st, status = state(self.runtime.context, self.id)
            if status == "stopped":
                return None
            pid = st.pid
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            pidfd = -1
        if pidfd >= 0:
            try:
                if not os.wait_pidfd(pidfd, timeout):
                    raise TimeoutError(f"container {self.id} still runs after {timeout} s")
            finally:
                os.close(pidfd)
        if self.id not in self.runtime._children:
            return None
        from .spawn import reap

        return reap(pid)

    def __repr__(self) -> str:
        return f"<Container {self.id}>"


class Runtime:
    """Containers under one state root (``--root``)."""

    __slots__ = ("_children", "context")

    def __init__(self, root: str = "/run/ocirun", log_file: str | None = None, debug: bool = False) -> None:
        self.context = Context(root=root, log=Logger(log_file, "text", debug))
        self._children: dict[str, int] = {}  # id -> pid of the inits this process is the parent of

    def create(
        self,
        container_id: str,
        bundle: str,
        *,
        pid_file: str | None = None,
        no_pivot: bool = False,
        preserve_fds: int = 0,
        stdin: Stdio = None,
        stdout: Stdio = None,
        stderr: Stdio = None,
    ) -> Container:
        from .lifecycle.creating import CreateOptions, create

        created = create(
            self.context,
            container_id,
            bundle,
            CreateOptions(pid_file=pid_file, no_pivot=no_pivot, preserve_fds=preserve_fds,
                          stdio=_stdio(stdin, stdout, stderr)),
        )
        created.init.close()
        self._children[container_id] = created.init.pid
        return Container(self, container_id)

    def run(
        self,
        container_id: str,
        bundle: str,
        *,
        detach: bool = False,
        keep: bool = False,
        stdin: Stdio = None,
        stdout: Stdio = None,
        stderr: Stdio = None,
    ) -> int:
        """Creates and starts a container; in the foreground, waits and returns its exit status
        (128+N when signal N ended it; signals this process gets meanwhile are passed on to it, so
        call it from the main thread).  With ``detach``: 0 once it runs (then ``get(id).wait()``)."""
        from .lifecycle.run import run

        status = run(self.context, container_id, bundle, detach=detach, keep=keep,
                     stdio=_stdio(stdin, stdout, stderr))
        if detach:
            from .lifecycle.state import state

            self._children[container_id] = state(self.context, container_id)[0].pid
        return status

    def get(self, container_id: str) -> Container:
        """The container ``container_id``; raises ContainerNotFound if there is none."""
        c = Container(self, container_id)
        c.state()
        return c

    def list(self) -> list[ContainerState]:
        from .lifecycle.list import list_containers

        return [ContainerState(s) for s in list_containers(self.context)]
