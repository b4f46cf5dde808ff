"""run: create and start a container; in the foreground, wait for it and return its exit status.

Foreground: the init execs as soon as it is ready (no fifo), ocirun forwards the signals it gets
to it, and once it has exited deletes the container (unless --keep).  The exit status is the
container's, or 128+N when signal N ended it.  --detach returns once the program runs.
"""

from __future__ import annotations

from .create import CreateOptions, create, hook_state, listen_fds

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..console import ConsoleSocket, StdioPipes
    from ..context import Context

# Signals passed on to the container (SIGCHLD and the unblockable ones are ours).
FORWARDED = ("SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGTERM", "SIGALRM", "SIGCONT",
             "SIGWINCH", "SIGPWR", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGPIPE", "SIGPROF", "SIGVTALRM")


def refuse_console_socket(console_socket: str | None, detach: bool) -> None:
    """runc's rule (checkTerminal) that ``create.console_for`` cannot see: a console socket is for
    a runtime that detaches."""
    if console_socket is not None and not detach:
        from ..errors import InvalidArgument

        raise InvalidArgument("cannot use console socket if ocirun will not detach or allocate tty")


def wait_foreground(
    pid: int, wait: Callable[[], int], console: ConsoleSocket | None, stdio: StdioPipes | None = None
) -> int:
    """Waits for the container's process ``pid`` (``wait`` reaps it), passing on the signals
    ocirun receives; when ocirun holds its terminal (``console``), relaying it meanwhile (the relay
    handles SIGWINCH itself while the caller's stdin is a terminal)."""
    import _signal

    from .. import _os as os

    pidfd = os.pidfd_open(pid)

    def forward(signum: int, _frame: object) -> None:
        try:
            _signal.pidfd_send_signal(pidfd, signum)
        except ProcessLookupError:
            pass

    old = {}
    for name in FORWARDED:
        num = getattr(_signal, name)
        old[num] = _signal.signal(num, forward)
    try:
        if console is not None:
            from ..console import relay

            try:
                master = console.receive_master()
            finally:
                console.close()
            return relay(master, wait)
        if stdio is not None:
            return stdio.relay(wait)
        return wait()
    finally:
        for num, handler in old.items():
            _signal.signal(num, handler)
        os.close(pidfd)


def run(
    ctx: Context,
    container_id: str,
    bundle: str,
    *,
    detach: bool = False,
    keep: bool = False,
    pid_file: str | None = None,
    console_socket: str | None = None,
    no_pivot: bool = False,
    no_new_keyring: bool = False,
    preserve_fds: int = 0,
    stdio: list[tuple[int, int]] | None = None,
) -> int:
    from ..store import Store

    refuse_console_socket(console_socket, detach)
    created = create(
        ctx,
        container_id,
        bundle,
        CreateOptions(
            pid_file=pid_file, console_socket=console_socket, no_pivot=no_pivot, no_new_keyring=no_new_keyring,
            preserve_fds=preserve_fds, foreground=True, detach=detach, listen_fds=listen_fds(), stdio=stdio,
        ),
    )
    init, st = created.init, created.state
    store = Store(ctx.root)
    try:
        init.wait_exec()
    except BaseException:
        from .delete import destroy

        init.kill()
        init.close()
        if created.console is not None:
            created.console.close()
        destroy(ctx, store, st)
        raise
    init.close()
    from .delete import destroy  # imported while the container runs
    poststart = created.spec.hooks.get("poststart")
    if poststart:
        from ..hooks import run_hooks

        run_hooks(poststart, hook_state(st.id, "running", st.pid, st.bundle, st.annotations), "poststart", ctx.log)
    if detach:
        return 0
    status = wait_foreground(init.pid, init.wait, created.console, created.stdio)
    if not keep:
        with store.lock(container_id):
            destroy(ctx, store, st)
    return status


def command(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    return run(
        ctx,
        args[0],
        opts["bundle"],
        detach=opts["detach"],
        keep=opts["keep"],
        pid_file=opts["pid_file"],
        console_socket=opts["console_socket"],
        no_pivot=opts["no_pivot"],
        no_new_keyring=opts["no_new_keyring"],
        preserve_fds=opts["preserve_fds"],
    )
