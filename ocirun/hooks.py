"""Running lifecycle hooks (config.md "POSIX-platform Hooks").

A hook gets the container's state as JSON on stdin, its own args and env, and at most ``timeout``
seconds.  A failing prestart, createRuntime, createContainer or startContainer hook fails the
operation; poststart and poststop failures are only logged, as the spec says.
"""

from __future__ import annotations

from . import _json
from . import _os as os
from .errors import HookError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .log import Logger
    from .spec.model import Hook


OUTPUT_LIMIT = 1024  # bytes of each of a failed hook's stdout and stderr kept for its error


def run_hook(hook: Hook, state: dict[str, Any], kind: str, index: int = 0) -> None:
    """Runs one hook to completion; raises HookError when it fails or times out, naming the hook
    (kind, index, path) with its exit status, stdout and stderr, as runc's "error running hook #0:
    ... exit status 1, stdout: ..., stderr: ..." (the last OUTPUT_LIMIT bytes of each)."""
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


def _env(env: list[str]) -> dict[str, str]:
    out = {}
    for entry in env:
        k, _, v = entry.partition("=")
        out[k] = v
    return out


def run_hooks(
    hooks: list[Hook], state: dict[str, Any], kind: str, log: Logger | None = None, debug: Logger | None = None
) -> None:
    """Runs hooks in order.  With ``log`` given, failures are logged as warnings and the rest run;
    ``debug`` (else ``log``) gets a debug line for each hook."""
    debug = debug or log
    for i, hook in enumerate(hooks):
        if debug is not None and debug.debugging:
            debug.debug(f"running {kind} hook #{i}: `{hook.path}` {hook.args}")
        try:
            run_hook(hook, state, kind, i)
        except HookError as e:
            if log is None:
                raise
            log.warning(str(e))
