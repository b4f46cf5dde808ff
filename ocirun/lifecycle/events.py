"""events: a container's statistics and OOM notifications, as runc prints them: one JSON object per
line, ``{"type": "stats"|"oom", "id": ..., "data": {...}}``.

``--stats`` prints the statistics once.  Otherwise statistics every ``--interval`` and an "oom"
event whenever the OOM killer acts in the container, until the container is gone: on cgroup v1
until its memory cgroup is removed (the eventfd registered on memory.oom_control fires then too),
on cgroup v2 until cgroup.events says it has no process left (memory.events and cgroup.events are
watched with poll(2): the kernel flags them POLLPRI when they change).
"""

from __future__ import annotations

from .. import _os as os
from .._json import dumps
from ..errors import CgroupError, InvalidArgument, OciRunError
from ..state import check
from ..store import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from ..cgroups import Manager
    from ..context import Context

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """A Go duration ("5s", "1.5s", "100ms", "1m30s", "-1s") in seconds."""
    s = text
    sign = 1.0
    if s[:1] in "+-" and s:
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise InvalidArgument(f'invalid value "{text}" for flag -interval: parse error')
    total = 0.0
    while s:
        i = 0
        while i < len(s) and (s[i].isdigit() or s[i] == "."):
            i += 1
        number, s = s[:i], s[i:]
        j = 0
        while j < len(s) and not (s[j].isdigit() or s[j] == "."):
            j += 1
        unit, s = s[:j], s[j:]
        try:
            value = float(number)
        except ValueError:
            raise InvalidArgument(f'invalid value "{text}" for flag -interval: parse error') from None
        if unit not in _UNITS:
            raise InvalidArgument(f'invalid value "{text}" for flag -interval: parse error')
        total += value * _UNITS[unit]
    return sign * total


def _emit(kind: str, container_id: str, data: dict[str, Any] | None = None) -> None:
    event: dict[str, Any] = {"type": kind, "id": container_id}
    if data is not None:
        event["data"] = data
    os.write(1, (dumps(event) + "\n").encode())


class _OomWatch:
    """OOM notifications of a container's memory cgroup; ``wait(timeout)`` returns "oom", "gone" or
    None (timeout)."""

    def __init__(self, mgr: Manager) -> None:
        import select

        self.poller = select.poll()
        self.fds: list[int] = []
        self.v2 = mgr.v2
        path = mgr.path("memory")
        if path is None:
            raise CgroupError("memory controller missing")
        self.path = path
        if self.v2:
            self.events = self._open(path + "/memory.events")
            self.cgroup_events = self._open(path + "/cgroup.events")
            self.poller.register(self.events, select.POLLPRI)
            self.poller.register(self.cgroup_events, select.POLLPRI)
            self.kills = self._oom_kills()
        else:
            self.efd = os.eventfd(0, os.EFD_CLOEXEC)
            self.fds.append(self.efd)
            control = self._open(path + "/memory.oom_control")
            data = f"{self.efd} {control}".encode()
            fd = os.open(path + "/cgroup.event_control", os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
            self.poller.register(self.efd, select.POLLIN)

    def _open(self, path: str) -> int:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        self.fds.append(fd)
        return fd

    def _read(self, fd: int) -> dict[str, int]:
        os.lseek(fd, 0, os.SEEK_SET)
        out = {}
        for line in os.read(fd, 4096).decode().splitlines():
            key, _, value = line.partition(" ")
            if value.strip().isdigit():
                out[key] = int(value)
        return out

    def _oom_kills(self) -> int:
        return self._read(self.events).get("oom_kill", 0)

    def pollable(self) -> list[tuple[int, int]]:
        """(fd, poll events) to wait on, e.g. with an event loop's add_reader (v1: POLLIN of the
        eventfd) or a selector; then ``ready(fd)`` says what happened."""
        import select

        if self.v2:
            return [(self.events, select.POLLPRI), (self.cgroup_events, select.POLLPRI)]
        return [(self.efd, select.POLLIN)]

    def ready(self, fd: int) -> str | None:
        """What an fd of ``pollable`` that became ready means: "oom", "gone" or None."""
        if self.v2:
            if fd == self.cgroup_events and self._read(self.cgroup_events).get("populated", 1) == 0:
                return "gone"
            if fd == self.events:
                kills = self._oom_kills()
                if kills > self.kills:
                    self.kills = kills
                    return "oom"
            return None
        os.eventfd_read(self.efd)
        # The eventfd fires when the cgroup is removed too: then the control file is gone.
        if not os.path.exists(self.path + "/cgroup.event_control"):
            return "gone"
        return "oom"

    def wait(self, timeout: float) -> str | None:
        for fd, _mask in self.poller.poll(max(timeout, 0) * 1000):
            what = self.ready(fd)
            if what is not None:
                return what
        return None

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)


def manager(ctx: Context, container_id: str) -> Manager:
    """The cgroups of a container that events and stats may look at (created, running, paused)."""
    from ..cgroups import Manager

    store = Store(ctx.root)
    st = store.load(container_id)
    check("events", st.status(store.dir(container_id)), container_id)
    return Manager.from_json(st.cgroup_paths)


def stream(ctx: Context, container_id: str, interval: float) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """("stats", data) every ``interval`` seconds and ("oom", None) whenever the OOM killer acts,
    until the container is gone (the generator then ends).  Statistics that cannot be read are
    logged and skipped."""
    mgr = manager(ctx, container_id)
    if interval <= 0:
        raise InvalidArgument("duration interval must be greater than 0")
    import time

    watch = _OomWatch(mgr)
    try:
        next_stats = time.monotonic() + interval
        while True:
            what = watch.wait(next_stats - time.monotonic())
            if what == "gone":
                return
            if what == "oom":
                yield "oom", None
            if time.monotonic() >= next_stats:
                next_stats += interval
                try:
                    data = stats(mgr)
                except OciRunError as e:
                    ctx.log.error(str(e))
                    continue
                yield "stats", data
    finally:
        watch.close()


def events(ctx: Context, container_id: str, interval: float, stats_only: bool) -> None:
    if stats_only:
        mgr = manager(ctx, container_id)
        if interval <= 0:
            raise InvalidArgument("duration interval must be greater than 0")
        _emit("stats", container_id, stats(mgr))
        return
    for kind, data in stream(ctx, container_id, interval):
        _emit(kind, container_id, data)


def stats(mgr: Manager) -> dict[str, Any]:
    try:
        return mgr.stats()
    except OSError as e:
        raise CgroupError(f"unable to get container cgroup stats: {e}") from None


def command(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    events(ctx, args[0], parse_duration(opts["interval"]), opts["stats"])
    return 0
