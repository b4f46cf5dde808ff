"""start: let a created container's init exec the user's program (runtime.md "Start")."""

from __future__ import annotations

from .. import _os as os
from ..errors import OciRunError, SyscallError
from ..state import STOPPED, check, refuse
from ..store import Store, crash_point

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..context import Context

FIONREAD = 0x541B
ENXIO = 6


def start(ctx: Context, container_id: str) -> None:
    store = Store(ctx.root)
    with store.lock(container_id):
        st = store.load(container_id)
        status = st.status(store.dir(container_id), holding_lock=True)
        check("start", status, container_id)
        if not st.config.get("process"):  # runtime.md Start: "MUST generate an error if process was not set"
            raise OciRunError(f"cannot start container {container_id}: its config.json has no process")
        fifo = store.fifo_path(container_id)
        if ctx.log.debugging:
            ctx.log.debug(f"start {container_id}: init pid {st.pid}; writing to its exec fifo `{fifo}`")
        try:
            # Succeeds only while the init holds the fifo's other end, so never blocks.
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as e:
            if e.errno == ENXIO:
                raise refuse("start", STOPPED, container_id) from None
            raise SyscallError.from_oserror("open", e, fifo) from None
        try:
            os.write(fd, b"0")
            _wait_read(fd, st.alive)
            crash_point("start:written")
        finally:
            os.close(fd)
        os.unlink(fifo)
        if ctx.log.debugging:
            ctx.log.debug(f"start {container_id}: the init took the byte and execs the process")
    if st.config.get("hooks"):  # (start imports launching only for the poststart hooks)
        from .launching import program_started

        program_started(ctx, store, st)


def _wait_read(fd: int, alive: Any) -> None:
    """Waits until the init has taken the byte, so that start returns once it is on its way."""
    import fcntl
    import time

    buf = bytearray(4)
    for i in range(2000):
        fcntl.ioctl(fd, FIONREAD, buf)
        if int.from_bytes(buf, "little") == 0 or not alive():
            return
        time.sleep(0.0002 * min(i + 1, 50))


def command(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    start(ctx, args[0])
    return 0
