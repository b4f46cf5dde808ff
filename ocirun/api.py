"""The library interface: drive containers from Python without running the ocirun command.

    rt = Runtime(root="/run/ocirun")
    c = rt.create("web", bundle="/srv/bundle")      # -> Container, status "created"
    c.start()
    c.state().status                                   # "running"
    c.kill("SIGTERM"); c.delete(force=True)
    rt.run("job", bundle="/srv/bundle")                # foreground: the exit status
    p = c.exec(["sh", "-c", "echo hi"]); p.wait()      # -> Process: pid, wait(), returncode
    c.pause(); c.resume(); c.update(memory_limit=...); c.ps(); c.stats()
    for event in c.events(interval=5): ...             # Event: kind "stats" (data) or "oom"
    cfg = rt.spec(); cfg.args = ["sh"]; cfg.write("/srv/bundle")

Waiting fits asyncio without threads: ``await Container.wait_async()``, ``await
Process.wait_async()`` (a pidfd is readable once the process has ended) and ``async for e in
Container.events_async()`` (the OOM watch's fds, see ocirun.lifecycle.events) use the running
loop's ``add_reader``.  Examples that run: docs/library.md.

A container this Runtime created is a child of the calling process: ``Container.wait()`` gives its
exit status, and ``delete`` reaps it.  Its stdio is the caller's unless ``stdin``, ``stdout`` or
``stderr`` (a file descriptor or an object with ``fileno()``) say otherwise.

Errors are the exceptions of ocirun.errors (all subclasses of OciRunError, and of the matching
builtin: ContainerNotFound is a LookupError, InvalidSpec a ValueError, ...).
"""

from __future__ import annotations

from . import _os as os
from . import errors
from .context import Context
from .log import Logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Generator
    from typing import Any, Protocol

    from .spec.resources import Resources

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


async def _readable(fd: int, timeout: float | None = None) -> bool:
    """Waits in the running event loop until ``fd`` is readable: False after ``timeout`` s."""
    import asyncio

    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    def wake() -> None:
        if not done.done():
            done.set_result(None)

    loop.add_reader(fd, wake)
    try:
        await asyncio.wait_for(done, timeout)
        return True
    except (TimeoutError, asyncio.TimeoutError):  # before Python 3.11 these are two classes
        return False
    finally:
        loop.remove_reader(fd)


class Process:
    """A process started by ``Container.exec``: a child of the calling process until ``wait``."""

    __slots__ = ("_pidfd", "container_id", "master", "pid", "returncode")

    def __init__(self, container_id: str, pid: int, master: int = -1) -> None:
        self.container_id = container_id
        self.pid = pid
        self.master = master  # the pty master with terminal=True (the caller closes it), else -1
        self.returncode: int | None = None  # the exit status once waited for, 128+N for signal N
        try:
            self._pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            self._pidfd = -1

    def _reap(self) -> int | None:
        from .spawn import reap

        if self.returncode is None:
            self.returncode = reap(self.pid)
        if self._pidfd >= 0:
            os.close(self._pidfd)
            self._pidfd = -1
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        """Its exit status (128+N when signal N ended it); TimeoutError if it still runs after
        ``timeout`` seconds."""
        if self.returncode is not None:
            return self.returncode
        if self._pidfd >= 0 and not os.wait_pidfd(self._pidfd, timeout):
            raise TimeoutError(f"process {self.pid} of container {self.container_id} still runs after {timeout} s")
        return self._reap()

    async def wait_async(self, timeout: float | None = None) -> int | None:
        """``wait`` for asyncio: the pidfd becomes readable when the process ends."""
        if self.returncode is None and self._pidfd >= 0 and not await _readable(self._pidfd, timeout):
            raise TimeoutError(f"process {self.pid} of container {self.container_id} still runs after {timeout} s")
        return self._reap()

    def __repr__(self) -> str:
        return f"<Process {self.pid} in {self.container_id} returncode={self.returncode}>"


class Event:
    """One item of ``Container.events``: ``kind`` "stats" (``data``: runc's statistics object)
    or "oom" (the OOM killer acted in the container; ``data`` None)."""

    __slots__ = ("container_id", "data", "kind")

    def __init__(self, kind: str, container_id: str, data: dict[str, Any] | None) -> None:
        self.kind = kind
        self.container_id = container_id
        self.data = data

    def to_json(self) -> dict[str, Any]:
        """As ``ocirun events`` prints it."""
        out: dict[str, Any] = {"type": self.kind, "id": self.container_id}
        if self.data is not None:
            out["data"] = self.data
        return out

    def __repr__(self) -> str:
        return f"<Event {self.kind} {self.container_id}>"


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
        self.runtime._exits.pop(self.id, None)
        pid = self.runtime._children.pop(self.id, None)
        if pid is not None:
            from .spawn import reap

            reap(pid)  # delete saw it end: no wait

    def wait(self, timeout: float | None = None) -> int | None:
        """Waits until the container's process has ended.  Its exit status (128+N when signal N
        ended it) if this Runtime created the container, else None.  TimeoutError if it still
        runs after ``timeout`` seconds."""
        done, pid, pidfd = self._to_wait()
        if done:
            return self.runtime._exits.get(self.id)
        if pidfd >= 0:
            try:
                if not os.wait_pidfd(pidfd, timeout):
                    raise TimeoutError(f"container {self.id} still runs after {timeout} s")
            finally:
                os.close(pidfd)
        return self._reap(pid)

    async def wait_async(self, timeout: float | None = None) -> int | None:
        """``wait`` for asyncio, without threads: awaits the init's pidfd."""
        done, pid, pidfd = self._to_wait()
        if done:
            return self.runtime._exits.get(self.id)
        if pidfd >= 0:
            try:
                if not await _readable(pidfd, timeout):
                    raise TimeoutError(f"container {self.id} still runs after {timeout} s")
            finally:
                os.close(pidfd)
        return self._reap(pid)

    def _to_wait(self) -> tuple[bool, int, int]:
        """What wait and wait_async wait for: (True, 0, -1) when nothing (the status is known, or
        the container has stopped and is not this Runtime's), else the init's pid and a pidfd of
        it (-1 when it is gone already)."""
        from .lifecycle.state import state

        if self.id in self.runtime._exits:
            return True, 0, -1
        pid = self.runtime._children.get(self.id)
        if pid is None:
            st, status = state(self.runtime.context, self.id)
            if status == "stopped":
                return True, 0, -1
            pid = st.pid
        try:
            return False, pid, os.pidfd_open(pid)
        except ProcessLookupError:
            return False, pid, -1

    def _reap(self, pid: int) -> int | None:
        """Reaps the init this Runtime created, once: its status is kept for later waits (waiting
        for the pid again could wait for another child that got the same pid meanwhile)."""
        if self.runtime._children.pop(self.id, None) is None:
            return None
        from .spawn import reap

        status = self.runtime._exits[self.id] = reap(pid)
        return status

    def exec(
        self,
        args: list[str] | dict[str, Any],
        *,
        env: list[str] | None = None,
        cwd: str | None = None,
        user: tuple[int, int] | None = None,
        terminal: bool = False,
        detach: bool = True,
        stdin: Stdio = None,
        stdout: Stdio = None,
        stderr: Stdio = None,
    ) -> Process:
        """Runs another process in the container (``ocirun exec``): ``args`` a command line, which
        takes the container's process for everything else (``env`` entries are added, ``cwd`` and
        ``user`` (uid, gid) replace), or a whole runtime-spec process object.  With ``terminal``
        its pty master is ``Process.master``.  Returns once it runs; ``detach=False`` waits for
        it to end too (then ``returncode`` is set)."""
        from .lifecycle.exec_ import exec_process, process_from_flags
        from .store import Store

        if isinstance(args, dict):
            raw = args
        else:
            base = Store(self.runtime.context.root).load(self.id).config.get("process") or {"cwd": "/"}
            opts = {"tty": terminal, "env": env or [], "cwd": cwd,
                    "user": f"{user[0]}:{user[1]}" if user else None, "additional_gids": None,
                    "cap": None, "no_new_privs": False, "apparmor": None, "process_label": None}
            raw = process_from_flags(base, opts, list(args))
        got: list[tuple[int, int]] = []
        exec_process(self.runtime.context, self.id, raw, detach=True, stdio=_stdio(stdin, stdout, stderr),
                     started=lambda pid, master: got.append((pid, master)), take_console=True)
        proc = Process(self.id, *got[0])
        if not detach:
            proc.wait()
        return proc

    def pause(self) -> None:
        from .lifecycle.pause import pause

        pause(self.runtime.context, self.id)

    def resume(self) -> None:
        from .lifecycle.resume import resume

        resume(self.runtime.context, self.id)

    def update(self, resources: Resources | dict[str, Any] | None = None, **flags: Any) -> None:
        """Changes the container's resource limits: a typed ``Resources`` (ocirun.spec.resources)
        or a linux.resources object, or ``ocirun update``'s flags by name (``memory="512m"``,
        ``pids_limit=100``, ``cpu_quota=50000`` ...).  Device rules are not changed."""
        from .lifecycle import update

        if resources is None:  # as the command line gives them: two numbers, the rest text
            opts = {name: value if name in ("pids_limit", "blkio_weight") else str(value)
                    for name, value in flags.items()}
            resources = update.typed(update.resources_from_flags(opts))
        elif isinstance(resources, dict):
            resources = update.typed(resources, "the resources given")
        update.update(self.runtime.context, self.id, resources)

    def ps(self) -> list[int]:
        """The pids of the container's processes (``ocirun ps --format json``)."""
        from .lifecycle.ps_ import pids

        return pids(self.runtime.context, self.id)

    def stats(self) -> dict[str, Any]:
        """runc's statistics object of the container's cgroups (``ocirun events --stats``)."""
        from .lifecycle import events

        return events.stats(events.manager(self.runtime.context, self.id))

    def events(self, interval: float = 5.0) -> Generator[Event, None, None]:
        """Statistics every ``interval`` seconds and OOM events, until the container is gone."""
        from .lifecycle import events

        for kind, data in events.stream(self.runtime.context, self.id, interval):
            yield Event(kind, self.id, data)

    async def events_async(self, interval: float = 5.0) -> AsyncGenerator[Event, None]:
        """``events`` for asyncio, without threads: the OOM watch's fds in the running loop."""
        import time

        from .lifecycle import events

        if interval <= 0:
            raise errors.InvalidArgument("duration interval must be greater than 0")
        mgr = events.manager(self.runtime.context, self.id)
        watch = events._OomWatch(mgr)
        # One epoll fd over the watch's fds (v2's cgroup files signal POLLPRI, which an event
        # loop's readers do not wait for): it is readable when any of them is ready.
        import select

        ep = select.epoll()
        try:
            for fd, mask in watch.pollable():
                ep.register(fd, mask)
            next_stats = time.monotonic() + interval
            while True:
                await _readable(ep.fileno(), max(0.0, next_stats - time.monotonic()))
                for fd, _ in ep.poll(0):
                    what = watch.ready(fd)
                    if what == "gone":
                        return
                    if what == "oom":
                        yield Event("oom", self.id, None)
                if time.monotonic() >= next_stats:
                    next_stats += interval
                    yield Event("stats", self.id, events.stats(mgr))
        finally:
            ep.close()
            watch.close()

    def __repr__(self) -> str:
        return f"<Container {self.id}>"


class Config:
    """An editable config.json: ``ocirun spec``'s default (``Runtime.spec``), with the fields a
    caller usually changes as typed attributes and the whole document in ``doc``.  ``check()``
    validates it as create will (schema and ocirun's checks); ``write(bundle)`` saves it."""

    __slots__ = ("doc",)

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def _process(self) -> dict[str, Any]:
        proc: dict[str, Any] = self.doc.setdefault("process", {"cwd": "/"})
        return proc

    @property
    def args(self) -> list[str]:
        return list(self._process().get("args") or [])

    @args.setter
    def args(self, value: list[str]) -> None:
        self._process()["args"] = list(value)

    @property
    def env(self) -> list[str]:
        return list(self._process().get("env") or [])

    @env.setter
    def env(self, value: list[str]) -> None:
        self._process()["env"] = list(value)

    @property
    def cwd(self) -> str:
        return str(self._process().get("cwd", "/"))

    @cwd.setter
    def cwd(self, value: str) -> None:
        self._process()["cwd"] = value

    @property
    def terminal(self) -> bool:
        return bool(self._process().get("terminal", False))

    @terminal.setter
    def terminal(self, value: bool) -> None:
        self._process()["terminal"] = value

    @property
    def user(self) -> tuple[int, int]:
        u = self._process().get("user") or {}
        return int(u.get("uid", 0)), int(u.get("gid", 0))

    @user.setter
    def user(self, value: tuple[int, int]) -> None:
        self._process().setdefault("user", {}).update(uid=value[0], gid=value[1])

    @property
    def hostname(self) -> str | None:
        name = self.doc.get("hostname")
        return None if name is None else str(name)

    @hostname.setter
    def hostname(self, value: str | None) -> None:
        if value is None:
            self.doc.pop("hostname", None)
        else:
            self.doc["hostname"] = value

    @property
    def root_path(self) -> str:
        return str(self.doc.get("root", {}).get("path", "rootfs"))

    @root_path.setter
    def root_path(self, value: str) -> None:
        self.doc.setdefault("root", {})["path"] = value

    @property
    def readonly(self) -> bool:
        return bool(self.doc.get("root", {}).get("readonly", False))

    @readonly.setter
    def readonly(self, value: bool) -> None:
        self.doc.setdefault("root", {})["readonly"] = value

    @property
    def cgroups_path(self) -> str | None:
        path = self.doc.get("linux", {}).get("cgroupsPath")
        return None if path is None else str(path)

    @cgroups_path.setter
    def cgroups_path(self, value: str | None) -> None:
        linux = self.doc.setdefault("linux", {})
        if value is None:
            linux.pop("cgroupsPath", None)
        else:
            linux["cgroupsPath"] = value

    @property
    def namespaces(self) -> list[str]:
        return [ns["type"] for ns in self.doc.get("linux", {}).get("namespaces") or ()]

    @property
    def resources(self) -> dict[str, Any]:
        """linux.resources, to edit in place (``cfg.resources["memory"] = {"limit": 1 << 28}``)."""
        res: dict[str, Any] = self.doc.setdefault("linux", {}).setdefault("resources", {})
        return res

    def add_mount(self, destination: str, source: str, type: str = "bind",
                  options: list[str] | None = None) -> None:
        self.doc.setdefault("mounts", []).append(
            {"destination": destination, "type": type, "source": source,
             "options": list(options if options is not None else ["rbind", "ro"] if type == "bind" else [])})

    def check(self) -> None:
        """InvalidSpec (one line: the JSON path, what is wrong) where create would refuse it."""
        from .spec import validate
        from .spec.model import Spec
        from .spec.schema import check

        check(self.doc)
        validate.check_for_create(Spec.from_json(self.doc))

    def to_json(self) -> dict[str, Any]:
        return self.doc

    def write(self, bundle: str) -> str:
        """Writes ``bundle``/config.json (replacing one that is there); its path."""
        from ._json import dumps_pretty

        path = os.path.join(bundle, "config.json")
        os.write_atomic(path, (dumps_pretty(self.doc, indent="\t") + "\n").encode())
        return path


class Runtime:
    """Containers under one state root (``--root``)."""

    __slots__ = ("_children", "_exits", "context")

    def __init__(self, root: str = "/run/ocirun", log_file: str | None = None, debug: bool = False) -> None:
        self.context = Context(root=root, log=Logger(log_file, "text", debug))
        self._children: dict[str, int] = {}  # id -> pid of the inits this process is the parent of
        self._exits: dict[str, int | None] = {}  # id -> exit status of those reaped (until delete)

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
        self._exits.pop(container_id, None)
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

            self._exits.pop(container_id, None)
            self._children[container_id] = state(self.context, container_id)[0].pid
        return status

    def get(self, container_id: str) -> Container:
        """The container ``container_id``; raises ContainerNotFound if there is none."""
        c = Container(self, container_id)
        c.state()
        return c

    def spec(self, rootless: bool = False, seccomp: bool = False) -> Config:
        """``ocirun spec``'s config.json as an editable Config (nothing is written)."""
        from .cgroups import mode
        from .lifecycle.spec_ import default_spec

        return Config(default_spec(rootless, cgroup_ns=mode() == "unified", seccomp=seccomp))

    def list(self) -> list[ContainerState]:
        from .lifecycle.list import list_containers

        return [ContainerState(s) for s in list_containers(self.context)]
