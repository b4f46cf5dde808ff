"""Creating a container (runtime.md "Create"), for the create and run verbs and the library.

A create is a transaction (``Creation``) in four steps: ``prepare`` (the plan, the cgroups to
be, the resctrl group, the exec fifo, cleanup.json), ``spawn`` (the init, its pid saved at
once), ``answer`` (the init's sync points: maps and time offsets, cgroups, the resctrl group,
the network devices moved in, the create hooks, a seccomp listener, until it is ready) and
``commit`` (state.json, the pid file).  Every resource taken (console, state
dir, fifo, cgroups, the init process) registers its undo with the ``Transaction``; should a step
fail, they are undone in reverse order, so a failed create leaves nothing behind.
"""

from __future__ import annotations

import time

from .. import _os as os
from .. import cgroups, hostfacts, plan, spawn
from ..errors import ContainerInitError, CreateError, InvalidSpec, OciRunError, SyscallError
from ..protocol import SYNC_CGROUPS, SYNC_HOOKS, SYNC_UNSHARED
from ..spec import bundle as _bundle
from ..spec import validate
from ..state import CREATED, CREATING, State
from ..store import Cleanup, Store, crash_point
from .launching import PidfdSocket, check_preserve_fds, console_for, debug_plan, write_pid_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .. import resctrl
    from ..cgroups.systemd import Bus, Property, Unit
    from ..console import ConsoleSocket, StdioPipes
    from ..context import Context
    from ..spawn import InitProcess
    from ..spec.model import Spec


def rfc3339_now() -> str:
    ns = time.time_ns()
    secs, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:09d}Z"


def saved_config(spec: Spec, opts: CreateOptions | None = None, unit: Unit | None = None) -> dict[str, Any]:
    """What later commands need of config.json (they never read it again), and of the flags (the
    systemd unit of --systemd-cgroup, which delete stops and update changes)."""
    raw = spec.raw
    out: dict[str, Any] = {}
    if unit is not None:
        out["systemdUnit"] = unit.name
    if opts is not None and opts.no_new_keyring:
        out["noNewKeyring"] = True  # exec keeps the session keyring too
    if raw.get("hooks"):
        out["hooks"] = raw["hooks"]
    if raw.get("process"):
        out["process"] = raw["process"]
    linux = raw.get("linux") or {}
    keep = {k: linux[k] for k in ("seccomp", "namespaces", "memoryPolicy", "netDevices") if linux.get(k)}
    if linux.get("intelRdt") is not None:  # (exec sets the first three too; delete undoes the others)
        keep["intelRdt"] = linux["intelRdt"]
    if keep:
        out["linux"] = keep
    return out


def _write_proc_file(path: str, data: bytes) -> None:
    """One write(2) of ``data`` to a /proc file of the init's (id maps and time offsets take one)."""
    try:
        os.write_once(path, data)
    except OSError as e:
        raise SyscallError.from_oserror("write", e, path) from None


def _write_time_offsets(pid: int, spec: Spec) -> None:
    """linux.timeOffsets, before any process is in the new time namespace (config-linux.md)."""
    lines = []
    for clock in ("monotonic", "boottime"):
        off = spec.linux.time_offsets.get(clock)
        if off:
            lines.append(f"{clock} {off[0]} {off[1]}\n")
    if not lines:
        return
    _write_proc_file(f"/proc/{pid}/timens_offsets", "".join(lines).encode())


class Created:
    """A container whose init is waiting (create) or about to exec (run)."""

    __slots__ = ("console", "init", "spec", "state", "stdio")

    def __init__(
        self,
        state: State,
        init: InitProcess,
        spec: Spec,
        console: ConsoleSocket | None,
        stdio: StdioPipes | None = None,
    ) -> None:
        self.state = state
        self.init = init
        self.spec = spec
        self.console = console  # ocirun's own console socket (foreground run), else None
        self.stdio = stdio  # pipes ocirun relays to its own stdio (foreground run), else None


class CreateOptions:
    """How to create: runc's create/run flags (``foreground``: run, no fifo, the init execs once
    ready; ``detach``: run -d, nobody stays to hold a terminal)."""

    __slots__ = (
        "console_socket", "detach", "foreground", "listen_fds", "no_new_keyring", "no_pivot", "pid_file",
        "pidfd_socket", "preserve_fds", "stdio",
    )

    def __init__(
        self,
        *,
        pid_file: str | None = None,
        console_socket: str | None = None,
        no_pivot: bool = False,
        no_new_keyring: bool = False,
        preserve_fds: int = 0,
        foreground: bool = False,
        detach: bool = False,
        listen_fds: int = 0,
        stdio: list[tuple[int, int]] | None = None,
        pidfd_socket: str | None = None,
    ) -> None:
        check_preserve_fds(preserve_fds)
        self.pid_file = pid_file
        self.console_socket = console_socket
        self.no_pivot = no_pivot
        self.no_new_keyring = no_new_keyring
        self.preserve_fds = preserve_fds
        self.foreground = foreground
        self.detach = detach
        self.listen_fds = listen_fds  # systemd socket activation: fds 3.. before the preserved ones
        self.stdio = stdio  # (fd, 0/1/2) pairs the library caller gives the container, else ours
        self.pidfd_socket = pidfd_socket  # --pidfd-socket: gets a pidfd of the init once it is ready


class Transaction:
    """The undo of every resource taken so far: ``rollback`` undoes them in reverse order,
    ``commit`` keeps them all (handed on to the caller: STYLE.md 7.11)."""

    __slots__ = ("_undo",)

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []

    def add(self, undo: Callable[[], None]) -> None:
        self._undo.append(undo)

    def rollback(self, error: BaseException) -> None:
        """Undoes everything; raises CreateError(error, cleanup errors) when an undo failed."""
        errors = []
        for step in reversed(self._undo):
            try:
                step()
            except Exception as cleanup_error:
                errors.append(cleanup_error)
        self._undo.clear()
        if errors:
            raise CreateError(error, errors) from error

    def commit(self) -> None:
        self._undo.clear()


def create(ctx: Context, container_id: str, bundle: str, opts: CreateOptions | None = None) -> Created:
    """Creates the container (runtime.md "Create")."""
    from ..store import validate_id

    opts = opts or CreateOptions()
    validate_id(container_id)
    bundle = os.path.abspath(bundle)
    spec = _bundle.load(bundle)
    rootfs = validate.rootfs_path(spec, bundle)
    validate.namespace_paths(spec)
    if opts.listen_fds and spec.process is not None:
        spec.process.env = [*spec.process.env, f"LISTEN_FDS={opts.listen_fds}", "LISTEN_PID=1"]
    return Creation(ctx, container_id, bundle, spec, rootfs, opts).run()


class Creation:
    """One create in progress: what it is about, what it has taken (``tx``) and made so far."""

    __slots__ = (
        "bundle", "bus", "cg", "console", "container_id", "created", "ctx", "fifo_fd", "init", "launch", "net_devices",
        "opts", "pidfd", "rdt", "resources", "rootfs", "spec", "st", "stdio", "store", "tx", "unit", "unit_props",
    )

    def __init__(
        self, ctx: Context, container_id: str, bundle: str, spec: Spec, rootfs: str, opts: CreateOptions
    ) -> None:
        self.ctx = ctx
        self.store = Store(ctx.root)
        self.container_id = container_id
        self.bundle = bundle
        self.spec = spec
        self.rootfs = rootfs
        self.opts = opts
        self.tx = Transaction()
        self.console: ConsoleSocket | None = None
        self.stdio: StdioPipes | None = None
        self.fifo_fd: int | None = None
        self.pidfd: PidfdSocket | None = None
        self.created = ""
        self.net_devices: dict[str, str] = {}
        self.rdt: resctrl.Group | None = None
        self.unit: Unit | None = None  # --systemd-cgroup: the container's transient unit
        self.bus: Bus | None = None
        self.unit_props: list[Property] = []
        self.resources = spec.linux.resources

    def run(self) -> Created:
        """The whole transaction: the state dir made and locked, then the four steps under the
        lock; rolled back under the lock, so that no delete sees a half-undone container."""
        tx, opts, spec = self.tx, self.opts, self.spec
        try:
            terminal = spec.process is not None and spec.process.terminal
            self.console = console_for(terminal, opts.console_socket, opts.foreground and not opts.detach)
            if self.console is not None:
                tx.add(self.console.close)
            elif (opts.stdio is None and opts.foreground and not opts.detach
                  and any(os.isatty(fd) for fd in (0, 1, 2))):
                from ..console import StdioPipes  # never the caller's terminal itself in the container

                self.stdio = StdioPipes()
                tx.add(self.stdio.close)
            if opts.pidfd_socket is not None:
                self.pidfd = PidfdSocket(opts.pidfd_socket)
                tx.add(self.pidfd.close)
            lock = self.store.new_locked(self.container_id)  # made and locked at once
        except BaseException as e:
            tx.rollback(e)
            raise
        tx.add(lambda: self.store.remove(self.container_id))
        if spec.linux.namespace("mount") is None:  # its mounts are made in ours: undone on failure too
            from ..mountinfo import unmount_under

            rootfs = self.rootfs
            tx.add(lambda: unmount_under(rootfs))
        with lock:
            try:
                self.prepare()
                self.spawn()
                self.answer()
                return self.commit()
            except BaseException as e:
                tx.rollback(e)
                raise

    def prepare(self) -> None:
        """The plan, the cgroups the container is to have, the exec fifo, and cleanup.json."""
        ctx, store, container_id, bundle, spec, rootfs, opts = (
            self.ctx, self.store, self.container_id, self.bundle, self.spec, self.rootfs, self.opts
        )
        console = self.console
        foreground, preserve_fds = opts.foreground, opts.listen_fds + opts.preserve_fds
        log = ctx.log
        if log.debugging:
            log.debug(f"create {container_id}: bundle `{bundle}`, rootfs `{rootfs}`"
                      + (" (run: no exec fifo)" if foreground else ""))
        hierarchies = cgroups.hierarchies()
        if ctx.systemd_cgroup:
            cg = self.cg = self._systemd_unit()
        else:
            cg = self.cg = cgroups.Manager.for_container(spec.linux.cgroups_path, container_id)
        euid, egid = os.geteuid(), os.getegid()
        if ctx.rootless:
            if euid != 0:  # (root in a user namespace, as under rootless podman, needs none of its own)
                validate.rootless(spec)
            cg.paths = cgroups.rootless_paths(cg.paths, spec.linux.resources)
        if euid != 0 and spec.linux.namespace("user") is not None:
            from .. import idmap

            idmap.check(spec, euid, egid)
        cg.check_unused()  # an existing cgroup: not frozen, nobody in it (runc); it stays as it is
        if spec.linux.net_devices:
            from .. import network

            network.check_host(spec.linux.net_devices)
            self.net_devices = network.targets(spec.linux.net_devices)
        if spec.linux.intel_rdt is not None:
            from .. import resctrl

            self.rdt = resctrl.plan(spec.linux.intel_rdt, container_id, resctrl.find_mount())
        host = hostfacts.gather(spec.process, rootfs=rootfs, seccomp=spec.linux.seccomp,
                                mount_label=spec.linux.mount_label, cache_root=ctx.root,
                                memory_policy=spec.linux.memory_policy,
                                userns=spec.linux.namespace("user") is not None)
        if euid != 0:
            from ..idmap import denies_setgroups

            host.setgroups_denied = denies_setgroups(spec, euid, egid)
        launch = plan.build(
            spec,
            host=host,
            rootfs=rootfs,
            bundle=bundle,
            fifo=not foreground,
            no_pivot=opts.no_pivot,
            preserve_fds=preserve_fds,
            cgroup_hierarchies=hierarchies,
            cgroup_paths=cg.paths,
            container_id=container_id,
            new_keyring=not opts.no_new_keyring,
            own_console=console is not None and console.parent_fd >= 0,
        )
        self.launch = launch
        for warning in launch.warnings:
            ctx.log.log_note(warning)
        if log.debugging:
            log.debug(f"create {container_id}: cgroups {cg.paths}")
            debug_plan(log, launch)
        if not foreground:
            fifo = store.fifo_path(container_id)
            try:
                os.mkfifo(fifo, 0o600)
                # The init stage holds it open read-write: opening it never blocks, and `start`
                # can open its write end without blocking only while the init is alive.
                self.fifo_fd = os.open(fifo, os.O_RDWR | os.O_CLOEXEC)
            except OSError as e:
                raise SyscallError.from_oserror("mkfifo", e, fifo) from None
            self.tx.add(self._close_fifo)

        # Before any cgroup exists: where they will be, so that a delete after a crash of this create,
        # or with an unreadable state.json, finds the container's processes (ocirun.store "Recovery").
        self.created = rfc3339_now()
        store.save_cleanup(container_id, Cleanup(cg.to_json(), rootfs, spec.linux.namespace("mount") is not None,
                                                 bundle, self.created, self.net_devices,
                                                 self.rdt.made if self.rdt is not None else None))
        crash_point("create:recorded")

    def _systemd_unit(self) -> cgroups.Manager:
        """--systemd-cgroup: the unit to be, its properties, and the connection to systemd; refused
        before anything is made when it exists already (its cgroup is not ours to undo)."""
        from ..cgroups import systemd

        if os.geteuid() != 0 or self.ctx.rootless:
            raise OciRunError("--systemd-cgroup: rootless containers (the user's systemd) are not supported")
        unit = self.unit = systemd.parse(self.spec.linux.cgroups_path, self.container_id)
        from ..spec.resources import Resources

        given = self.spec.linux.resources
        self.unit_props, written = systemd.properties(given.raw if given else None, self.ctx.log.warning)
        self.unit_props += systemd.annotation_properties(self.spec.annotations)
        self.resources = Resources.from_json(written)
        systemd.check_host()
        bus = self.bus = systemd.Bus()
        self.tx.add(bus.close)
        if bus.unit_exists(unit.name):
            bus.reset_failed(unit.name)  # a failed leftover goes (runc)
            if bus.unit_exists(unit.name):
                raise InvalidSpec(systemd.WHERE, f"the systemd unit {unit.name} already exists")
        return cgroups.Manager({cgroups.UNIFIED: unit.path})

    def _start_unit(self) -> None:
        """The transient unit, with the init's pid in it, started (the job done) before the init
        goes past its cgroup sync point; undone by killing what is in it and stopping it."""
        from ..cgroups.systemd import unit_properties

        unit, bus, cg, init = self.unit, self.bus, self.cg, self.init
        assert unit is not None and bus is not None
        props = unit_properties(unit, init.pid, f"ocirun container {self.container_id}") + self.unit_props
        bus.start_transient_unit(unit, props)

        def stop() -> None:
            cg.signal_all(9)
            bus.stop_unit(unit.name)

        self.tx.add(cg.destroy)
        self.tx.add(stop)

    def _close_fifo(self) -> None:
        if self.fifo_fd is not None:
            os.close(self.fifo_fd)
            self.fifo_fd = None

    def spawn(self) -> None:
        """The init, born in its cgroup v2; its pid saved at once: should this create be killed
        after the init is ready, the init lives on."""
        ctx, spec, opts, cg, console, tx = self.ctx, self.spec, self.opts, self.cg, self.console, self.tx
        container_id = self.container_id
        # The init is born in its cgroup v2 (clone3 CLONE_INTO_CGROUP), made first, and moves itself
        # into its v1 ones at its cgroup sync point (InitProcess.join_at_sync), made while it sets up
        # the rootfs: nobody waits for the global migration lock's RCU grace period (protocol.py).
        unified = cg.paths.get(cgroups.UNIFIED)
        if self.unit is not None:
            unified = None  # born in ours: systemd moves it into the unit (Creation._start_unit)
        else:
            tx.add(cg.destroy)
        if unified is not None:
            cg.create([cgroups.UNIFIED])
        fifo_fd = self.fifo_fd
        try:
            init = spawn.start(
                self.launch,
                fifo_fd=fifo_fd,
                console_fd=console.child_fd if console is not None else None,
                preserve_fds=opts.listen_fds + opts.preserve_fds,
                cgroup_dir=unified,
                stdio=self.stdio.child if self.stdio is not None else opts.stdio,
            )
        finally:
            if self.stdio is not None:
                self.stdio.close_child()
            self._close_fifo()  # the init stage has its own copy
            if console is not None:
                console.close_child()
        self.init = init
        tx.add(init.close)
        tx.add(init.kill)
        if ctx.log.debugging:
            ctx.log.debug(f"create {container_id}: init started, pid {init.pid}; making and joining its cgroups")
        crash_point("create:spawned")
        self.st = State(
            id=container_id,
            pid=init.pid,
            pid_start=init.start_time,
            bundle=self.bundle,
            rootfs=self.rootfs,
            created=self.created,
            annotations=spec.annotations,
            cgroup_paths=cg.to_json(),
            namespaces={ns.type: ns.path or "" for ns in spec.linux.namespaces},
            config={**saved_config(spec, opts, self.unit), CREATING: True},
        )
        self.store.save(self.st)

    def answer(self) -> None:
        """The init's sync points (ocirun.protocol), in order, until it is ready."""
        ctx, spec, cg, init, launch = self.ctx, self.spec, self.cg, self.init, self.launch
        container_id, bundle, annotations, log = self.container_id, self.bundle, spec.annotations, ctx.log
        if launch.new_timens:
            init.expect_sync(SYNC_UNSHARED)
            _write_time_offsets(init.pid, spec)
        if launch.new_userns:
            from .. import idmap

            idmap.write(init.pid, spec, os.geteuid(), os.getegid())
        if launch.new_userns or launch.new_timens:
            init.ack()  # sync 1: maps and offsets are written; the child may exec the init stage
        if self.unit is not None:
            self._start_unit()
        cg.create([key for key in cg.paths if key != cgroups.UNIFIED])
        # device rules even without resources; none where ocirun may not write them (rootless)
        cg.apply(self.resources, warn=ctx.log.warning, devices=not ctx.rootless)
        cg.delegate(cgroups.delegate_uid(spec))  # its user owns it where it may manage it (v2)
        init.join_at_sync(cg.paths)
        if self.rdt is not None:
            self._join_resctrl(self.rdt, init.pid)
        if self.net_devices:
            self._move_net_devices(init.pid)

        def on_sync(point: int) -> int | None:
            if point == SYNC_CGROUPS:
                return init.pid  # for the startContainer hooks' state
            if point == SYNC_HOOKS:
                from ..hooks import run_create_hooks, state_json  # (no import without hooks)

                if log.debugging:
                    log.debug(f"create {container_id}: the rootfs is ready; running the create hooks")
                run_create_hooks(spec.hooks, state_json(container_id, CREATED, init.pid, bundle, annotations), log)
            return None

        def on_seccomp(fd: int) -> None:
            from ..hooks import state_json
            from ..seccomp import send_listener

            assert launch.seccomp is not None
            send_listener(launch.seccomp, init.pid, fd, state_json(container_id, CREATING, init.pid, bundle,
                                                                   annotations))

        try:
            init.run_until_ready(on_sync, on_seccomp)
        except ContainerInitError as e:
            _blame_memory_limit(spec, cg)
            _blame_realtime_budget(spec, cg, e)
            raise
        crash_point("create:ready")

    def _join_resctrl(self, group: resctrl.Group, pid: int) -> None:
        from .. import resctrl

        made = group.made
        self.tx.add(lambda: resctrl.remove(made))
        resctrl.apply(group, pid)

    def _move_net_devices(self, pid: int) -> None:
        """linux.netDevices: the container's network namespace held (so that the devices can be
        given back at delete, whatever happens to its processes), then the devices moved in."""
        from .. import network

        hold = f"{self.store.dir(self.container_id)}/{network.HOLD}"
        devices, log = self.net_devices, self.ctx.log
        network.hold(pid, hold)
        self.tx.add(lambda: network.release(hold))

        def give_back() -> None:
            for problem in network.give_back(hold, devices):
                log.warning(problem)

        self.tx.add(give_back)
        if log.debugging:
            log.debug(f"create {self.container_id}: moving network devices {devices} into its namespace")
        network.move_in(hold, devices)

    def commit(self) -> Created:
        """state.json of a ready init, the pid file; what is handed on is no longer undone."""
        init, st, opts, console, log, tx = self.init, self.st, self.opts, self.console, self.ctx.log, self.tx
        st.pid, st.pid_start = init.pid, init.start_time  # (the same unless a pid namespace's fork)
        st.config = saved_config(self.spec, opts, self.unit)
        self.store.save(st)
        if log.debugging:
            log.debug(f"create {self.container_id}: the init is ready, pid {init.pid}; state saved")
        crash_point("create:saved")
        if opts.pid_file:
            write_pid_file(opts.pid_file, init.pid)
        if self.pidfd is not None:
            self.pidfd.send(init.pid, "standard")
            self.pidfd.close()
        if console is not None and console.parent_fd < 0:
            console.close()  # the caller's --console-socket: the master went there
            console = None
        tx.commit()
        if self.bus is not None:
            self.bus.close()
        return Created(st, init, self.spec, console, self.stdio)


EPERM = 1


def _blame_realtime_budget(spec: Spec, cg: cgroups.Manager, error: ContainerInitError) -> None:
    """SCHED_FIFO or SCHED_RR refused with EPERM where the kernel groups real-time tasks (cgroup v1
    cpu.rt_runtime_us): a new cpu cgroup has no real-time budget (0) unless
    linux.resources.cpu.realtimeRuntime gives it one, and the bare EPERM does not say so."""
    sched = spec.process.scheduler if spec.process is not None else None
    if error.errno != EPERM or sched is None or sched.policy not in ("SCHED_FIFO", "SCHED_RR"):
        return
    if not error.step.startswith("set the scheduler"):
        return
    cpu = next((path for key, path in cg.paths.items() if "cpu" in key.split(",")), None)
    try:
        with open(f"{cpu}/cpu.rt_runtime_us", "rb") as f:
            budget = int(f.read())
    except (OSError, ValueError, TypeError):
        return
    if budget == 0:
        raise InvalidSpec(
            "$.process.scheduler.policy",
            f"{sched.policy}: {error.strerror}: the container's cpu cgroup has no real-time budget "
            f"(cgroup v1 `{cpu}/cpu.rt_runtime_us` is 0); give it one with "
            "$.linux.resources.cpu.realtimeRuntime (and realtimePeriod), within its parent's",
        )


def _blame_memory_limit(spec: Spec, cg: cgroups.Manager) -> None:
    """The init died before it was ready: when the OOM killer took it, the memory limit is too low
    for the container to start (runc: "unable to set memory limit to N (current usage: ...)")."""
    memory = spec.linux.resources.memory if spec.linux.resources else None
    limit = memory.limit if memory else None
    if limit is None or limit <= 0:
        return
    from ..cgroups.resources import oom_kills

    if oom_kills(cg):
        raise InvalidSpec(
            "$.linux.resources.memory.limit",
            f"{limit} is too low: the container's init was killed by the OOM killer before it was ready",
        )


