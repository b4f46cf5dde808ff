"""Lifecycle hooks (config.md "POSIX-platform Hooks"): the six kinds, when and where each runs,
the state JSON they read, and running them.

A hook gets the container's state as JSON on stdin (``state_json``, the one builder: the
startContainer hooks get it split where the pid goes, ``state_json_parts``), its own args and
env, and at most ``timeout`` seconds.  Whether a failure fails the operation is said by each
kind's ``fatal`` in ``KINDS``, never implied by how the runner is called.

    kind             when                                          where (namespaces)  fatal  run by
    prestart         create: rootfs mounted, before pivot_root     runtime's           yes    ocirun (SYNC_HOOKS)
    createRuntime    create: the same point, after prestart        runtime's           yes    ocirun (SYNC_HOOKS)
    createContainer  create: the same point, after createRuntime   container's mount   yes    ocirun (SYNC_HOOKS)
    startContainer   start (or run): before the program's execve   the container's     yes    the init stage (plan.py)
    poststart        start (or run): once the program runs         runtime's           yes(+) ``run_poststart``
    poststop         delete (or run's teardown): once it is gone   runtime's           no     ``run_poststop``

createContainer hooks are forked into the init's mount namespace (before pivot_root, so the
runtime's paths still resolve there, as in runc); their state carries the host pid.
(+) runtime.md lifecycle step 9 (spec 1.3): a failing poststart hook is an error, the container is
stopped and destroyed (start and run do that, then raise the HookError).

A hook without ``env`` runs with ocirun's environment (runc and crun pass theirs); startContainer
hooks, which run in the container, get an empty one then.
"""

from __future__ import annotations

from . import _json
from . import _os as os
from .errors import HookError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from .log import Logger
    from .spec.model import Hook, Hooks
    from .state import State


OUTPUT_LIMIT = 1024  # bytes of each of a failed hook's stdout and stderr kept for its error

PRESTART = "prestart"
CREATE_RUNTIME = "createRuntime"
CREATE_CONTAINER = "createContainer"
START_CONTAINER = "startContainer"
POSTSTART = "poststart"
POSTSTOP = "poststop"

# kind -> whether its failure fails the operation (the table above; config.md says which)
KINDS = {
    PRESTART: True,
    CREATE_RUNTIME: True,
    CREATE_CONTAINER: True,
    START_CONTAINER: True,
    POSTSTART: True,
    POSTSTOP: False,
}
CREATE_KINDS = (PRESTART, CREATE_RUNTIME, CREATE_CONTAINER)  # in this order, at SYNC_HOOKS


def state_json(
    container_id: str, status: str, pid: int, bundle: str, annotations: dict[str, str] | None
) -> dict[str, Any]:
    """The state a hook (or a seccomp listener's agent) reads: runtime.md "State"."""
    from .state import OCI_VERSION

    out: dict[str, Any] = {"ociVersion": OCI_VERSION, "id": container_id, "status": status, "pid": pid,
                           "bundle": bundle}
    if annotations:
        out["annotations"] = annotations
    return out


def state_json_parts(
    container_id: str, status: str, bundle: str, annotations: dict[str, str] | None
) -> tuple[str, str]:
    """``state_json`` serialized and split where the pid goes, for the startContainer hooks run
    by the init stage (it learns the pid from the parent's ACK at SYNC_CGROUPS)."""
    key = '"pid":'
    text = _json.dumps(state_json(container_id, status, -1, bundle, annotations))
    at = text.index(key + "-1") + len(key)  # (inside a JSON string, that '"' would be escaped)
    return text[:at], text[at + 2 :]


def _spawn_in_mount_ns(hook: Hook, env: Any, stdio: tuple[int, int, int], mntns: int) -> int:
    """fork, join the mount namespace ``mntns`` (an fd), exec the hook; its pid.  An error before
    the exec comes back on a close-on-exec pipe as OSError (CPython's subprocess does the same)."""
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: only this thread, no return
        try:
            from .shim import setns

            for i, fd in enumerate(stdio):
                os.dup2(fd, i)
            setns(mntns, CLONE_NEWNS)
            os.chdir("/")
            os.execve(hook.path, hook.args, env)
        except OSError as e:
            os.write(err_w, str(e.errno or 0).encode())
        finally:
            os._exit(127)
    os.close(err_w)
    try:
        report = os.read(err_r, 32)
    finally:
        os.close(err_r)
    if report:
        os.waitpid(pid, 0)
        code = int(report)
        raise OSError(code, os.strerror(code))
    return pid


CLONE_NEWNS = 0x00020000


def run_hook(hook: Hook, state: dict[str, Any], kind: str, index: int = 0, mntns: int | None = None) -> None:
    """Runs one hook to completion; raises HookError when it fails or times out, naming the hook
    (kind, index, path) with its exit status, stdout and stderr, as runc's "error running hook #0:
    ... exit status 1, stdout: ..., stderr: ..." (the last OUTPUT_LIMIT bytes of each).
    ``mntns``: an fd of the mount namespace it runs in (createContainer), else ocirun's."""
    import select
    import time

    name = f"error running {kind} hook #{index} `{hook.path}`"
    data = _json.dumps(state).encode()
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        # posix_spawn: no fork of the interpreter, no subprocess import
        fa = [
            (os.POSIX_SPAWN_DUP2, in_r, 0),
            (os.POSIX_SPAWN_DUP2, out_w, 1),
            (os.POSIX_SPAWN_DUP2, err_w, 2),
        ]
        try:
            if mntns is not None:
                pid = _spawn_in_mount_ns(hook, _env(hook.env), (in_r, out_w, err_w), mntns)
            else:
                pid = os.posix_spawn(hook.path, hook.args, _env(hook.env), file_actions=fa)
        except OSError as e:
            os.close(out_r)
            os.close(err_r)
            os.close(in_w)
            raise HookError(f"{name}: {e.strerror}") from None
    finally:
        os.close(in_r)
        os.close(out_w)
        os.close(err_w)
    outputs = {out_r: b"", err_r: b""}
    try:
        try:
            os.write(in_w, data)
        except BrokenPipeError:
            pass
        os.close(in_w)
        in_w = -1
        deadline = None if hook.timeout is None else time.monotonic() + hook.timeout
        poller = select.poll()
        for fd in outputs:
            poller.register(fd, select.POLLIN)
        open_fds = len(outputs)
        while open_fds:
            wait = None if deadline is None else max(0, deadline - time.monotonic()) * 1000
            ready = poller.poll(wait)
            if not ready:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                raise HookError(f"{name}: timed out after {hook.timeout}s, {_output(outputs, out_r, err_r)}")
            for fd, _events in ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    poller.unregister(fd)
                    open_fds -= 1
                else:
                    outputs[fd] = (outputs[fd] + chunk)[-OUTPUT_LIMIT - 1 :]
        _, status = os.waitpid(pid, 0)
    finally:
        if in_w >= 0:
            os.close(in_w)
        os.close(out_r)
        os.close(err_r)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        how = f"exit status {code}" if code > 0 else f"signal: {_signal_name(-code)}"
        raise HookError(f"{name}: {how}, {_output(outputs, out_r, err_r)}")


def _signal_name(num: int) -> str:
    import _signal

    for name in ("SIGKILL", "SIGTERM", "SIGSEGV", "SIGABRT", "SIGINT", "SIGHUP", "SIGPIPE", "SIGBUS"):
        if getattr(_signal, name) == num:
            return name.lower()[3:]
    return str(num)


def _output(outputs: dict[int, bytes], out_r: int, err_r: int) -> str:
    """ "stdout: ..., stderr: ..." on one line (newlines as \\n, as runc's log shows them)."""

    def show(data: bytes) -> str:
        cut = len(data) > OUTPUT_LIMIT
        text = data[-OUTPUT_LIMIT:].decode(errors="replace")
        text = text.replace("\n", "\\n").replace("\r", "\\r")
        return ("..." if cut else "") + text

    return f"stdout: {show(outputs[out_r])}, stderr: {show(outputs[err_r])}"


def _env(env: list[str] | None) -> Mapping[bytes, bytes] | dict[str, str]:
    """The hook's ``env``; without one, ocirun's own environment (as runc and crun)."""
    if env is None:
        return os.environ
    out = {}
    for entry in env:
        k, _, v = entry.partition("=")
        out[k] = v
    return out


def run_hooks(
    hooks: list[Hook], state: dict[str, Any], kind: str, log: Logger, mntns: int | None = None
) -> None:
    """Runs the hooks of ``kind`` in order, each with a debug line (in the mount namespace of fd
    ``mntns`` if given).  A failure of a fatal kind (``KINDS``) raises HookError and the rest do
    not run; of another, it is logged as a warning and the rest run."""
    fatal = KINDS[kind]
    for i, hook in enumerate(hooks):
        if log.debugging:
            log.debug(f"running {kind} hook #{i}: `{hook.path}` {hook.args}")
        try:
            run_hook(hook, state, kind, i, mntns)
        except HookError as e:
            if fatal:
                raise
            log.warning(str(e))


def run_create_hooks(hooks: Hooks, state: dict[str, Any], log: Logger) -> None:
    """prestart, createRuntime then createContainer, at the init's SYNC_HOOKS: all fatal.  The
    createContainer hooks run in the container's mount namespace (that of the init, whose pid the
    state has), its rootfs mounted and not yet pivoted into (as runc)."""
    run_hooks(hooks.get(PRESTART), state, PRESTART, log)
    run_hooks(hooks.get(CREATE_RUNTIME), state, CREATE_RUNTIME, log)
    container = hooks.get(CREATE_CONTAINER)
    if not container:
        return
    path = f"/proc/{state['pid']}/ns/mnt"
    try:
        mntns = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise HookError(f"error running createContainer hooks: open `{path}`: {e.strerror}") from None
    try:
        own = os.stat("/proc/self/ns/mnt").st_ino == os.fstat(mntns).st_ino
        run_hooks(container, state, CREATE_CONTAINER, log, None if own else mntns)
    finally:
        os.close(mntns)


def _saved(st: State, kind: str) -> list[Hook]:
    """The hooks of ``kind`` create saved in state.json (later verbs never read config.json)."""
    raw = (st.config.get("hooks") or {}).get(kind)
    if not raw:
        return []
    from .spec.model import Hook

    return [Hook.from_json(h) for h in raw]


def run_poststart(st: State, log: Logger) -> None:
    """The poststart hooks, once the container's program runs (start, and run): a failure raises
    HookError (the caller stops and destroys the container)."""
    hooks = _saved(st, POSTSTART)
    if hooks:
        from .state import RUNNING

        run_hooks(hooks, state_json(st.id, RUNNING, st.pid, st.bundle, st.annotations), POSTSTART, log)


def run_poststop(st: State, log: Logger) -> None:
    """The poststop hooks, once the container is gone (delete, and run's teardown): not fatal."""
    hooks = _saved(st, POSTSTOP)
    if hooks:
        from .state import STOPPED

        run_hooks(hooks, state_json(st.id, STOPPED, 0, st.bundle, st.annotations), POSTSTOP, log)
