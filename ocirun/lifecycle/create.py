"""create: set a container up and leave its init waiting for ``start`` (runtime.md "Create").

Transactional: every resource taken (state dir, fifo, cgroups, the init process) is undone in
reverse order if a later step fails, so a failed create leaves nothing behind.
"""

from __future__ import annotations

import time

from .. import _os as os
from .. import cgroups, hostfacts, plan, spawn
from ..errors import ContainerInitError, CreateError, InvalidArgument, InvalidSpec, OciRunError, SyscallError
from ..protocol import SYNC_CGROUPS, SYNC_HOOKS, SYNC_UNSHARED
from ..spec import bundle as _bundle
from ..spec import validate
from ..state import CREATED, State
from ..store import Cleanup, Store, crash_point

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..console import ConsoleSocket, StdioPipes
    from ..context import Context
    from ..log import Logger
    from ..plan import Launch
    from ..spawn import InitProcess
    from ..spec.model import Spec


def debug_plan(log: Logger, launch: Launch) -> None:
    """--debug: the steps the init stage is to take, in order (runc logs its nsexec steps), each
    decoded with its named fields: ``init step   4 mount flags=... target='/proc'  # mount proc``.
    The decoder (ocirun.plandecode) is loaded only here, off the hot path."""
    for line in launch.plan.listing().splitlines():
        log.debug(f"init step {line}")


def rfc3339_now() -> str:
    ns = time.time_ns()
    secs, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:09d}Z"


def write_pid_file(path: str, pid: int) -> None:
    """Atomically (clients read it the moment the command returns)."""
    path = os.path.abspath(path)
    tmp = f"{os.path.dirname(path)}/.{os.path.basename(path)}.{os.getpid()}"
    try:
        os.write_atomic(path, str(pid).encode(), 0o644, tmp)
    except OSError as e:
        raise SyscallError.from_oserror("write pid file", e, path) from None


def hook_state(container_id: str, status: str, pid: int, bundle: str, annotations: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"ociVersion": "1.3.0", "id": container_id, "status": status, "pid": pid, "bundle": bundle}
    if annotations:
        out["annotations"] = annotations
    return out


def saved_config(spec: Spec, opts: CreateOptions | None = None) -> dict[str, Any]:
    """What later commands need of config.json (they never read it again), and of the flags."""
    raw = spec.raw
    out: dict[str, Any] = {}
    if opts is not None and opts.no_new_keyring:
        out["noNewKeyring"] = True  # exec keeps the session keyring too
    if raw.get("hooks"):
        out["hooks"] = raw["hooks"]
    if raw.get("process"):
        out["process"] = raw["process"]
    linux = raw.get("linux") or {}
    keep = {k: linux[k] for k in ("seccomp", "namespaces") if linux.get(k)}
    if keep:
        out["linux"] = keep
    return out


def console_for(terminal: bool, console_socket: str | None, foreground: bool) -> ConsoleSocket | None:
    """The console socket a process with ``terminal`` gets (runc's rules and messages)."""
    if not terminal:
        if console_socket is not None:
            raise InvalidArgument("cannot use console socket if ocirun will not detach or allocate tty")
        return None
    from ..console import ConsoleSocket

    if console_socket is not None:
        return ConsoleSocket.connect(console_socket)
    if not foreground:
        raise InvalidArgument("cannot allocate tty if ocirun will detach without setting console socket")
    return ConsoleSocket.own()


def _write_time_offsets(pid: int, spec: Spec) -> None:
    """linux.timeOffsets, before any process is in the new time namespace (config-linux.md)."""
    lines = []
    for clock in ("monotonic", "boottime"):
        off = spec.linux.time_offsets.get(clock)
        if off:
            lines.append(f"{clock} {off.get('secs', 0)} {off.get('nanosecs', 0)}\n")
    if not lines:
        return
    path = f"/proc/{pid}/timens_offsets"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, "".join(lines).encode())
        finally:
            os.close(fd)
    except OSError as e:
        raise SyscallError.from_oserror("write", e, path) from None


def _write_id_maps(pid: int, spec: Spec) -> None:
    for name, maps in (("uid_map", spec.linux.uid_mappings), ("gid_map", spec.linux.gid_mappings)):
        path = f"/proc/{pid}/{name}"
        data = "".join(f"{m.container_id} {m.host_id} {m.size}\n" for m in maps).encode()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
        except OSError as e:
            raise SyscallError.from_oserror("write", e, path) from None


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


def check_preserve_fds(count: int) -> None:
    """--preserve-fds: fds 3 to 3+N-1 of this process, so at most as many as it may have open."""
    if count < 0:
        raise InvalidArgument("--preserve-fds must not be negative")
    import resource

    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if 3 + count > limit:
        raise InvalidArgument(f"--preserve-fds {count}: more fds than this process may have open "
                              f"(RLIMIT_NOFILE {limit})")


class CreateOptions:
    """How to create: runc's create/run flags (``foreground``: run, no fifo, the init execs once
    ready; ``detach``: run -d, nobody stays to hold a terminal)."""

    __slots__ = (
        "console_socket", "detach", "foreground", "listen_fds", "no_new_keyring", "no_pivot", "pid_file",
        "preserve_fds", "stdio",
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


def listen_fds() -> int:
    """systemd socket activation (sd_listen_fds): LISTEN_FDS fds from 3 on, when LISTEN_PID is
    ours.  runc passes them to the container, which then reads LISTEN_FDS=N and LISTEN_PID=1."""
    env = os.environ
    count, pid = env.get(b"LISTEN_FDS"), env.get(b"LISTEN_PID")
    if not count or pid != str(os.getpid()).encode() or not count.isdigit():
        return 0
    return int(count)


class _Request:
    """One create in progress: what it is about and what it has taken (``undo``)."""

    __slots__ = ("bundle", "console", "container_id", "ctx", "opts", "rootfs", "spec", "stdio", "store", "undo")

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
        self.console: ConsoleSocket | None = None
        self.stdio: StdioPipes | None = None
        self.undo: list[Callable[[], None]] = []


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
    req = _Request(ctx, container_id, bundle, spec, rootfs, opts)
    terminal = spec.process is not None and spec.process.terminal
    req.console = console_for(terminal, opts.console_socket, opts.foreground and not opts.detach)
    if req.console is not None:
        req.undo.append(req.console.close)
    elif opts.stdio is None and opts.foreground and not opts.detach and any(os.isatty(fd) for fd in (0, 1, 2)):
        from ..console import StdioPipes  # never the caller's terminal itself in the container

        req.stdio = StdioPipes()
        req.undo.append(req.stdio.close)
    try:
        lock = req.store.new_locked(container_id)  # made and locked at once
    except BaseException:
        for step in reversed(req.undo):
            step()
        raise
    req.undo.append(lambda: req.store.remove(container_id))
    if spec.linux.namespace("mount") is None:  # its mounts are made in ours: undone on failure too
        from ..mountinfo import unmount_under

        req.undo.append(lambda: unmount_under(rootfs))
    with lock:  # rolled back under the lock, so that no delete sees a half-undone container
        try:
            return _create_locked(req)
        except BaseException as e:
            errors = []
            for step in reversed(req.undo):
                try:
                    step()
                except Exception as cleanup_error:
                    errors.append(cleanup_error)
            if errors:
                raise CreateError(e, errors) from e
            raise


def _create_locked(req: _Request) -> Created:
    ctx, store, container_id, bundle, spec, rootfs, opts = (
        req.ctx, req.store, req.container_id, req.bundle, req.spec, req.rootfs, req.opts
    )
    undo, console = req.undo, req.console
    foreground, preserve_fds = opts.foreground, opts.listen_fds + opts.preserve_fds
    log = ctx.log
    if log.debugging:
        log.debug(f"create {container_id}: bundle `{bundle}`, rootfs `{rootfs}`"
                  + (" (run: no exec fifo)" if foreground else ""))
    hierarchies = cgroups.hierarchies()
    if ctx.systemd_cgroup:
        raise OciRunError("--systemd-cgroup: systemd is not running here; use the cgroupfs driver")
    cg = cgroups.Manager.for_container(spec.linux.cgroups_path, container_id)
    cg.check_unused()  # an existing cgroup: not frozen, nobody in it (runc); it stays as it is
    host = hostfacts.gather(spec.process, rootfs=rootfs, seccomp=spec.linux.seccomp,
                            mount_label=spec.linux.mount_label, cache_root=ctx.root)
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
    for warning in launch.warnings:
        ctx.log.log_note(warning)
    if log.debugging:
        log.debug(f"create {container_id}: cgroups {cg.paths}")
        debug_plan(log, launch)
    fifo_fd = None
    if not foreground:
        fifo = store.fifo_path(container_id)
        try:
            os.mkfifo(fifo, 0o600)
            # The init stage holds it open read-write: opening it never blocks, and `start`
            # can open its write end without blocking only while the init is alive.
            fifo_fd = os.open(fifo, os.O_RDWR | os.O_CLOEXEC)
        except OSError as e:
            raise SyscallError.from_oserror("mkfifo", e, fifo) from None

    # Before any cgroup exists: where they will be, so that a delete after a crash of this create,
    # or with an unreadable state.json, finds the container's processes (ocirun.store "Recovery").
    created = rfc3339_now()
    store.save_cleanup(container_id, Cleanup(cg.to_json(), rootfs, spec.linux.namespace("mount") is not None,
                                             bundle, created))
    crash_point("create:recorded")

    # The init is born in its cgroup v2 (clone3 CLONE_INTO_CGROUP), made first, and moves itself
    # into its v1 ones at its cgroup sync point (InitProcess.join_at_sync), made while it sets up
    # the rootfs: nobody waits for the global migration lock's RCU grace period (protocol.py).
    unified = cg.paths.get(cgroups.UNIFIED)
    undo.append(cg.destroy)
    if unified is not None:
        cg.create([cgroups.UNIFIED])
    try:
        init = spawn.start(
            launch,
            fifo_fd=fifo_fd,
            console_fd=console.child_fd if console is not None else None,
            preserve_fds=preserve_fds,
            cgroup_dir=unified,
            stdio=req.stdio.child if req.stdio is not None else opts.stdio,
        )
    finally:
        if req.stdio is not None:
            req.stdio.close_child()
        if fifo_fd is not None:
            os.close(fifo_fd)  # the init stage has its own copy
        if console is not None:
            console.close_child()
    undo.append(init.close)
    undo.append(init.kill)
    if log.debugging:
        log.debug(f"create {container_id}: init started, pid {init.pid}; making and joining its cgroups")
    crash_point("create:spawned")
    # Its pid, at once: should this create be killed after the init is ready, the init lives on.
    st = State(
        id=container_id,
        pid=init.pid,
        pid_start=init.start_time,
        bundle=bundle,
        rootfs=rootfs,
        created=created,
        annotations=spec.annotations,
        cgroup_paths=cg.to_json(),
        namespaces={ns.type: ns.path or "" for ns in spec.linux.namespaces},
        config={**saved_config(spec, opts), "creating": True},
    )
    store.save(st)
    if launch.new_timens:
        init.expect_sync(SYNC_UNSHARED)
        _write_time_offsets(init.pid, spec)
    if launch.new_userns:
        _write_id_maps(init.pid, spec)
    if launch.new_userns or launch.new_timens:
        init.ack()  # sync 1: maps and offsets are written; the child may exec the init stage
    cg.create([key for key in cg.paths if key != cgroups.UNIFIED])
    cg.apply(spec.linux.resources, warn=ctx.log.warning)  # device rules even without resources
    cg.delegate(cgroups.delegate_uid(spec))  # its user owns it where it may manage it (v2)
    init.join_at_sync(cg.paths)

    annotations = spec.annotations

    def on_sync(point: int) -> int | None:
        if point == SYNC_CGROUPS:
            return init.pid  # for the startContainer hooks' state
        if point == SYNC_HOOKS:
            from ..hooks import run_hooks

            state = hook_state(container_id, CREATED, init.pid, bundle, annotations)
            if log.debugging:
                log.debug(f"create {container_id}: the rootfs is ready; running the create hooks")
            for kind in ("prestart", "createRuntime", "createContainer"):
                run_hooks(spec.hooks.get(kind), state, kind, debug=log)
        return None

    def on_seccomp(fd: int) -> None:
        from ..seccomp import send_listener

        assert launch.seccomp is not None
        state = hook_state(container_id, "creating", init.pid, bundle, annotations)
        send_listener(launch.seccomp, init.pid, fd, state)

    try:
        init.run_until_ready(on_sync, on_seccomp)
    except ContainerInitError:
        _blame_memory_limit(spec, cg)
        raise
    crash_point("create:ready")
    st.pid, st.pid_start = init.pid, init.start_time  # (the same unless a pid namespace's fork)
    st.config = saved_config(spec, opts)
    store.save(st)
    if log.debugging:
        log.debug(f"create {container_id}: the init is ready, pid {init.pid}; state saved")
    crash_point("create:saved")
    if opts.pid_file:
        write_pid_file(opts.pid_file, init.pid)
    if console is not None:
        undo.remove(console.close)
        if console.parent_fd < 0:
            console.close()  # the caller's --console-socket: the master went there
            console = None
    if req.stdio is not None:
        undo.remove(req.stdio.close)
    return Created(st, init, spec, console, req.stdio)


def _blame_memory_limit(spec: Spec, cg: cgroups.Manager) -> None:
    """The init died before it was ready: when the OOM killer took it, the memory limit is too low
    for the container to start (runc: "unable to set memory limit to N (current usage: ...)")."""
    limit = ((spec.linux.resources or {}).get("memory") or {}).get("limit")
    if not isinstance(limit, int) or limit <= 0:
        return
    from ..cgroups.resources import oom_kills

    if oom_kills(cg):
        raise InvalidSpec(
            "$.linux.resources.memory.limit",
            f"{limit} is too low: the container's init was killed by the OOM killer before it was ready",
        )


def command(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    created = create(
        ctx,
        args[0],
        opts["bundle"],
        CreateOptions(
            pid_file=opts["pid_file"],
            console_socket=opts["console_socket"],
            no_pivot=opts["no_pivot"],
            no_new_keyring=opts["no_new_keyring"],
            preserve_fds=opts["preserve_fds"],
            listen_fds=listen_fds(),
        ),
    )
    created.init.close()
    return 0
