"""run: create and start a container; in the foreground, wait for it and return its exit status.

Foreground: the init execs as soon as it is ready (no fifo), ocirun forwards the signals it gets
to it, and once it has exited deletes the container (unless --keep).  The exit status is the
container's, or 128+N when signal N ended it.  --detach returns once the program runs.

In the foreground the ``run`` command is a child subreaper (as runc, unless --no-subreaper; a
library caller's process is left as it is): the container's
processes that lose their parent (without a pid namespace of its own) are adopted by ocirun and
reaped, instead of going to the host's init.
"""

from __future__ import annotations

from .creating import CreateOptions, create
from .launching import listen_fds, program_started, refuse_console_socket, wait_foreground

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..context import Context


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
    subreaper: bool = False,
    pidfd_socket: str | None = None,
) -> int:
    from ..store import Store

    refuse_console_socket(console_socket, detach)
    if subreaper and not detach:
        from ..shim import set_child_subreaper

        set_child_subreaper()
    created = create(
        ctx,
        container_id,
        bundle,
        CreateOptions(
            pid_file=pid_file, console_socket=console_socket, no_pivot=no_pivot, no_new_keyring=no_new_keyring,
            preserve_fds=preserve_fds, foreground=True, detach=detach, listen_fds=listen_fds(), stdio=stdio,
            pidfd_socket=pidfd_socket,
        ),
    )
    init, st = created.init, created.state
    store = Store(ctx.root)
    try:
        init.wait_exec()
    except BaseException:
        from .teardown import destroy

        init.kill()
        init.close()
        if created.console is not None:
            created.console.close()
        destroy(ctx, store, st)
        raise
    init.close()
    from .teardown import destroy  # imported while the container runs

    def stopped() -> None:  # a failing poststart hook: the container was stopped
        init.kill()  # (reaped)
        if created.console is not None:
            created.console.close()
        if created.stdio is not None:
            created.stdio.close()

    program_started(ctx, store, st, keep=keep, on_failure=stopped)
    if detach:
        return 0
    status = wait_foreground(init.pid, init.wait_adopting if subreaper else init.wait, created.console,
                             created.stdio)
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
        subreaper=not opts["no_subreaper"],
        pidfd_socket=opts["pidfd_socket"],
    )
