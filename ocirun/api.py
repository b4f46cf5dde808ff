"""The library interface: drive containers from Python without running the ocirun command.

    rt = Runtime(root="/run/ocirun")
    c = rt.create("web", bundle="/srv/bundle")      # -> Container, status "created"
    c.start()
    c.state().status                                   # "running"
    c.kill("SIGTERM"); c.delete(force=True)
    rt.run("job", bundle="/srv/bundle")                # foreground: the exit status

Errors are the exceptions of ocirun.errors (all subclasses of OciRunError, and of the matching
builtin: ContainerNotFound is a LookupError, InvalidSpec a ValueError, ...).
"""

from __future__ import annotations

from .context import Context
from .log import Logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


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

    def __repr__(self) -> str:
        return f"<Container {self.id}>"


class Runtime:
    """Containers under one state root (``--root``)."""

    __slots__ = ("context",)

    def __init__(self, root: str = "/run/ocirun", log_file: str | None = None, debug: bool = False) -> None:
        self.context = Context(root=root, log=Logger(log_file, "text", debug))

    def create(
        self,
        container_id: str,
        bundle: str,
        *,
        pid_file: str | None = None,
        no_pivot: bool = False,
        preserve_fds: int = 0,
    ) -> Container:
        from .lifecycle.create import CreateOptions, create

        created = create(
            self.context,
            container_id,
            bundle,
            CreateOptions(pid_file=pid_file, no_pivot=no_pivot, preserve_fds=preserve_fds),
        )
        created.init.close()
        return Container(self, container_id)

    def run(self, container_id: str, bundle: str, *, detach: bool = False, keep: bool = False) -> int:
        """Creates and starts a container; in the foreground, waits and returns its exit status."""
        from .lifecycle.run import run

        return run(self.context, container_id, bundle, detach=detach, keep=keep)

    def get(self, container_id: str) -> Container:
        """The container ``container_id``; raises ContainerNotFound if there is none."""
        c = Container(self, container_id)
        c.state()
        return c

    def list(self) -> list[ContainerState]:
        from .lifecycle.list import list_containers

        return [ContainerState(s) for s in list_containers(self.context)]
