"""exec: run another process in a container: in all of its namespaces and cgroups, with the
credentials, capabilities, rlimits and seccomp filter its process description asks for.

The process goes through the same init stage as the container's first one (from a sealed memfd,
no Python and no host executable in the container), in join mode: setns into every namespace of
the container's init (the pid namespace around the clone), then the process ops of the plan.
Its description is the container's own process (saved at create) changed by the flags, as runc
does, or the whole ``--process`` file.
"""

from __future__ import annotations

from .. import _os as os
from .. import hostfacts, plan, spawn
from ..errors import InvalidArgument, InvalidSpec, OciRunError, SyscallError
from ..state import PAUSED, STOPPED, check, refuse
from ..store import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..context import Context
    from ..spec.model import Process
    from ..state import State
    from .launching import PidfdSocket


class ExecFailed(OciRunError):
    """runc's exec fails with "exec failed: <why>" and exit status 255 (the command's own statuses
    are 0-255 too, but clients tell them apart by the message in the log)."""

    exit_code = 255

    def __init__(self, cause: OciRunError) -> None:
        self.cause = cause
        super().__init__(f"exec failed: {cause}")


def _env_set(env: list[str], entry: str) -> list[str]:
    """``entry`` replaces the variable of the same name where it is (as runc's Setenv), else is added."""
    name = entry.split("=", 1)[0] + "="
    out: list[str] = []
    replaced = False
    for e in env:
        if not e.startswith(name):
            out.append(e)
        elif not replaced:
            out.append(entry)
            replaced = True
    if not replaced:
        out.append(entry)
    return out


def process_from_flags(base: dict[str, Any], opts: dict[str, Any], args: list[str]) -> dict[str, Any]:
    """The process description of `exec ID CMD...`: the container's, changed by the flags."""
    if not args:
        raise InvalidArgument("process args cannot be empty")
    proc = dict(base)
    proc["args"] = list(args)
    proc["terminal"] = bool(opts["tty"])
    proc.pop("consoleSize", None)
    env = list(proc.get("env") or [])
    for entry in opts["env"]:
        env = _env_set(env, entry)
    proc["env"] = env
    if opts["cwd"]:
        proc["cwd"] = opts["cwd"]
    user = dict(proc.get("user") or {"uid": 0, "gid": 0})
    if opts["user"]:
        uid, _, gid = opts["user"].partition(":")
        try:
            user["uid"] = _id(uid)
            if gid:
                user["gid"] = _id(gid)
        except ValueError as e:
            raise InvalidArgument(f"invalid --user {opts['user']!r}: want <uid>[:<gid>]{e}") from None
    if opts["additional_gids"]:
        try:
            user["additionalGids"] = [_id(g) for g in opts["additional_gids"]]
        except ValueError as e:
            raise InvalidArgument(f"invalid --additional-gids {opts['additional_gids']!r}{e}") from None
    proc["user"] = user
    if opts["cap"]:
        caps = {k: list(v) for k, v in (proc.get("capabilities") or {}).items()}
        for cap in opts["cap"]:  # runc 1.1: not inheritable (CVE-2022-29162), but ambient
            for set_name in ("bounding", "effective", "permitted", "ambient"):
                caps.setdefault(set_name, [])
                if cap not in caps[set_name]:
                    caps[set_name].append(cap)
        proc["capabilities"] = caps
    if opts["no_new_privs"]:
        proc["noNewPrivileges"] = True
    if opts["apparmor"]:
        proc["apparmorProfile"] = opts["apparmor"]
    if opts["process_label"]:
        proc["selinuxLabel"] = opts["process_label"]
    return proc


MAX_ID = (1 << 32) - 2  # uid_t; (uid_t)-1 means "unchanged" to the kernel


def _id(text: str) -> int:
    """A uid or gid of the command line: a decimal number the kernel takes (else ValueError, whose
    text, if any, says why)."""
    value = int(text)
    if not 0 <= value <= MAX_ID:
        raise ValueError(f", each from 0 to {MAX_ID}")
    return value


def load_process_file(path: str) -> dict[str, Any]:
    from .. import _json

    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise SyscallError.from_oserror("open", e, path) from None
    try:
        proc = _json.loads(data)
    except ValueError as e:
        raise InvalidArgument(f"{path}: invalid JSON: {e}") from None
    except RecursionError:
        raise InvalidArgument(f"{path}: invalid JSON: nested too deeply") from None
    if not isinstance(proc, dict):
        raise InvalidArgument(f"{path}: a process must be a JSON object")
    return proc


def _check_process(raw: dict[str, Any]) -> Process:
    """Schema and model of a process description (errors name $.process...)."""
    from ..spec import SPEC_VERSION, schema, validate
    from ..spec.model import Process

    schema.check({"ociVersion": SPEC_VERSION, "root": {"path": "/"}, "process": raw})
    proc = Process.from_json(raw)
    if not proc.cwd.startswith("/"):
        raise InvalidSpec("$.process.cwd", f"{proc.cwd!r} is not an absolute path")
    validate.check_exec_process(proc)
    return proc


def exec_process(
    ctx: Context,
    container_id: str,
    raw_process: dict[str, Any],
    *,
    detach: bool = False,
    console_socket: str | None = None,
    pid_file: str | None = None,
    preserve_fds: int = 0,
    cgroups: list[str] | None = None,
    ignore_paused: bool = False,
    pidfd_socket: str | None = None,
    stdio: list[tuple[int, int]] | None = None,
    started: Callable[[int, int], None] | None = None,
    take_console: bool = False,
) -> int:
    """Runs the process; in the foreground returns its exit status (128+N for signal N).

    For the library: ``stdio`` the process's (fd, 0/1/2) instead of this one's; ``started(pid,
    master)`` once it runs, with the pty master when ``take_console`` asks for the terminal's (a
    detached process with process.terminal, without a console socket), else -1."""
    store = Store(ctx.root)
    st = store.load(container_id)
    status = st.status(store.dir(container_id))
    if not (status == PAUSED and ignore_paused):
        check("exec", status, container_id)
    proc = _check_process(raw_process)
    from .launching import PidfdSocket, check_preserve_fds, refuse_console_socket

    check_preserve_fds(preserve_fds)
    refuse_console_socket(console_socket, detach)
    pidfd = PidfdSocket(pidfd_socket) if pidfd_socket is not None else None
    try:
        return _exec(ctx, container_id, st, status, proc, pidfd, detach=detach, console_socket=console_socket,
                     pid_file=pid_file, preserve_fds=preserve_fds, cgroups=cgroups, stdio=stdio,
                     started=started, take_console=take_console)
    finally:
        if pidfd is not None:
            pidfd.close()


def _exec(
    ctx: Context,
    container_id: str,
    st: State,
    status: str,
    proc: Process,
    pidfd: PidfdSocket | None,
    *,
    detach: bool,
    console_socket: str | None,
    pid_file: str | None,
    preserve_fds: int,
    cgroups: list[str] | None,
    stdio: list[tuple[int, int]] | None,
    started: Callable[[int, int], None] | None,
    take_console: bool,
) -> int:
    from .launching import console_for, write_pid_file

    if take_console and proc.terminal and console_socket is None:
        from ..console import ConsoleSocket

        console: ConsoleSocket | None = ConsoleSocket.own()
    else:
        console = console_for(proc.terminal, console_socket, not detach)
    relay = None
    if console is None and not detach and stdio is None:
        from ..console import StdioPipes

        if StdioPipes.wanted():  # never the caller's terminal itself in the container
            relay = StdioPipes()
    try:
        linux = st.config.get("linux") or {}
        from ..spec.model import MemoryPolicy, Seccomp  # the container's, as create checked them

        profile = Seccomp.from_json(linux["seccomp"]) if linux.get("seccomp") else None
        mempolicy = MemoryPolicy.from_json(linux["memoryPolicy"]) if linux.get("memoryPolicy") else None
        host = hostfacts.gather(proc, rootfs=st.rootfs, seccomp=profile, cache_root=ctx.root,
                                memory_policy=mempolicy, userns="user" in st.namespaces)
        launch = plan.build_exec(
            proc,
            pid=st.pid,
            rootfs=st.rootfs,
            namespaces=st.namespaces,
            host=host,
            preserve_fds=preserve_fds,
            new_keyring=not st.config.get("noNewKeyring"),
            container_id=container_id,
            own_console=console is not None and console.parent_fd >= 0,
            memory_policy=mempolicy,
        )
        for warning in launch.warnings:
            ctx.log.log_note(warning)
        if ctx.log.debugging:
            from .launching import debug_plan

            ctx.log.debug(f"exec {container_id}: {proc.args} joining the namespaces of init pid {st.pid}")
            debug_plan(ctx.log, launch)
        if not st.alive():  # the namespaces above are the init's: it must still be the same process
            raise refuse("exec", STOPPED, container_id)
        joined = _cgroup_paths(st.cgroup_paths, cgroups or [])
        try:
            init = spawn.start(
                launch,
                console_fd=console.child_fd if console is not None else None,
                preserve_fds=preserve_fds,
                cgroup_dir=joined.get(""),  # ocirun.cgroups.UNIFIED
                stdio=relay.child if relay is not None else stdio,
                may_freeze=status == PAUSED,
            )
        finally:
            if console is not None:
                console.close_child()
            if relay is not None:
                relay.close_child()
        try:
            init.join_at_sync(joined)
            rdt = (st.config.get("linux") or {}).get("intelRdt")
            if rdt is not None:  # the container's resctrl group, as its init's
                from .. import resctrl

                resctrl.join(rdt, container_id, init.pid, resctrl.find_mount())

            def on_seccomp(fd: int) -> None:  # NOTIFY: the listener to the agent at listenerPath
                from ..hooks import state_json
                from ..seccomp import send_listener

                assert launch.seccomp is not None
                send_listener(launch.seccomp, init.pid, fd,
                              state_json(container_id, "running", st.pid, st.bundle, st.annotations))

            init.run_until_ready(lambda point: init.pid, on_seccomp)
            if pid_file:
                write_pid_file(pid_file, init.pid)
            if pidfd is not None:
                pidfd.send(init.pid, "setns")
            init.wait_exec()
            if ctx.log.debugging:
                ctx.log.debug(f"exec {container_id}: process started, pid {init.pid}")
            if started is not None:
                master = -1
                if take_console and console is not None and console.parent_fd >= 0:
                    master = console.receive_master()
                    console.close()
                    console = None
                started(init.pid, master)
        except BaseException:
            init.kill()
            raise
        finally:
            init.close()
        if console is not None and console.parent_fd < 0:
            console.close()
            console = None
        if detach:
            return 0
        from .launching import wait_foreground

        waiting, console = console, None
        relaying, relay = relay, None
        return wait_foreground(init.pid, init.wait, waiting, relaying)
    finally:
        if console is not None:
            console.close()
        if relay is not None:
            relay.close()


def _cgroup_paths(paths: dict[str, str], items: list[str]) -> dict[str, str]:
    """The container's cgroups (hierarchy key -> directory), with the sub-cgroups --cgroup names
    (runc 1.2): ``PATH`` alone (the only one) in every hierarchy, the cgroup v2 one too; or
    ``CONTROLLER[,CONTROLLER..]:PATH`` each, in the v1 hierarchies of those controllers.  A PATH
    is below the container's cgroup (a leading ``/`` too); ``..`` is refused, and so is a
    directory that is not there (the caller makes it); a cgroup file system has no symlinks."""
    subs: dict[str, str] = {}  # controller ("" for all) -> path
    for item in items:
        controllers, colon, path = item.partition(":")
        if not colon:
            if len(items) != 1:
                raise InvalidArgument(f"--cgroup {item}: a path without <controller>: must be the only --cgroup")
            subs[""] = item
            continue
        for name in controllers.split(","):
            if not name:
                raise InvalidArgument(f"--cgroup {item}: empty <controller>")
            if name in subs:
                raise InvalidArgument(f"--cgroup {item}: controller {name} is given twice")
            subs[name] = path
    chosen = dict(paths)
    for name, path in subs.items():
        parts = [p for p in path.split("/") if p not in ("", ".")]
        if ".." in parts:
            raise InvalidArgument(f"--cgroup {name + ':' if name else ''}{path}: `..` is not allowed: "
                                  "the path is a sub-cgroup of the container's")
        keys = [k for k in paths if not name or name in (k.split(",") if k else ())]
        if not keys:
            raise InvalidArgument(f"--cgroup {name}:{path}: the container has no cgroup of controller {name}")
        for key in keys:
            base = paths[key].rstrip("/")
            target = "/".join([base, *parts])
            if not _is_plain_dir(target):
                raise InvalidArgument(f"--cgroup {name + ':' if name else ''}{path}: no cgroup `{target}`")
            chosen[key] = target
    return chosen


def _is_plain_dir(path: str) -> bool:
    try:
        return os.lstat(path).st_mode & 0o170000 == 0o040000
    except OSError:
        return False


def command(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    try:
        return _command(ctx, opts, args)
    except OciRunError as e:
        raise ExecFailed(e) from e


def _command(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    container_id = args[0]
    if opts["process"]:
        raw = load_process_file(opts["process"])
    else:
        st = Store(ctx.root).load(container_id)
        raw = process_from_flags(st.config.get("process") or {"cwd": "/"}, opts, args[1:])
    return exec_process(
        ctx,
        container_id,
        raw,
        detach=opts["detach"],
        console_socket=opts["console_socket"],
        pid_file=opts["pid_file"],
        preserve_fds=opts["preserve_fds"],
        cgroups=opts["cgroup"],
        ignore_paused=opts["ignore_paused"],
        pidfd_socket=opts["pidfd_socket"],
    )
