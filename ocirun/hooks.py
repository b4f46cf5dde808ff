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


def run_hook(hook: Hook, state: dict[str, Any], kind: str) -> None:
    """Runs one hook to completion; raises HookError when it fails or times out."""
    import select
    import time

    data = _json.dumps(state).encode()
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        # posix_spawn: no fork of the interpreter, no subprocess import
        fa = [
            (os.POSIX_SPAWN_DUP2, in_r, 0),
            (os.POSIX_SPAWN_DUP2, out_w, 1),
            (os.POSIX_SPAWN_DUP2, out_w, 2),
        ]
        try:
            pid = os.posix_spawn(hook.path, hook.args, _env(hook.env), file_actions=fa)
        except OSError as e:
            raise HookError(f"{kind} hook `{hook.path}`: {e.strerror}") from None
    finally:
        os.close(in_r)
        os.close(out_w)
    try:
        try:
            os.write(in_w, data)
        except BrokenPipeError:
            pass
        os.close(in_w)
        in_w = -1
        output = b""
        deadline = None if hook.timeout is None else time.monotonic() + hook.timeout
        poller = select.poll()
        poller.register(out_r, select.POLLIN)
        while True:
            wait = None if deadline is None else max(0, deadline - time.monotonic()) * 1000
            if not poller.poll(wait):
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                raise HookError(f"{kind} hook `{hook.path}` timed out after {hook.timeout}s")
            chunk = os.read(out_r, 65536)
            if not chunk:
                break
            output = (output + chunk)[-4096:]
        _, status = os.waitpid(pid, 0)
    finally:
        if in_w >= 0:
            os.close(in_w)
        os.close(out_r)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        how = f"exit status {code}" if code > 0 else f"signal {-code}"
        text = output.decode(errors="replace").strip()
        raise HookError(f"{kind} hook `{hook.path}` failed: {how}" + (f": {text}" if text else ""))


def _env(env: list[str]) -> dict[str, str]:
    out = {}
    for entry in env:
        k, _, v = entry.partition("=")
        out[k] = v
    return out


def run_hooks(hooks: list[Hook], state: dict[str, Any], kind: str, log: Logger | None = None) -> None:
    """Runs hooks in order.  With ``log`` given, failures are logged as warnings and the rest run."""
    for hook in hooks:
        try:
            run_hook(hook, state, kind)
        except HookError as e:
            if log is None:
                raise
            log.warning(str(e))
