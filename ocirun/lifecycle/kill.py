"""kill: send a signal to the container's init, or with --all to all its processes."""

from __future__ import annotations

from ..errors import InvalidArgument
from ..state import TRANSITIONS, check
from ..store import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..context import Context


def parse_signal(value: str | int) -> int:
    """SIGTERM, TERM, term, 15, RTMIN+3 ... -> the signal number; 0 checks that the container
    runs, as kill(1) and runc (``kill ID 0`` says "container not running" once it stopped)."""
    import _signal

    if isinstance(value, int) or value.isdigit():
        num = int(value)
        if not 0 <= num < _signal.NSIG:
            raise InvalidArgument(f"invalid signal: {value}")
        return num
    name = value.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    for base in ("SIGRTMIN", "SIGRTMAX"):
        if name.startswith(base + "+") or name.startswith(base + "-"):
            offset = name[len(base) :]
            if offset[1:].isdigit():
                num = getattr(_signal, base) + int(offset)
                if _signal.SIGRTMIN <= num <= _signal.SIGRTMAX:
                    return int(num)
    found = getattr(_signal, name, None)
    if not isinstance(found, int) or name.startswith("SIG_"):
        raise InvalidArgument(f'unknown signal "{value}"')
    return found


def kill(ctx: Context, container_id: str, signal: str | int = "SIGTERM", all: bool = False) -> None:
    sig = parse_signal(signal)
    store = Store(ctx.root)
    st = store.load(container_id)
    if ctx.log.debugging:
        ctx.log.debug(f"kill {container_id}: signal {sig} to " + ("every process" if all else f"init pid {st.pid}"))
    if not all:
        check("kill", st.status(store.dir(container_id)), container_id)
    if all:
        from ..cgroups import Manager

        # frozen meanwhile, so that nothing forks past the signal
        pids = Manager.from_json(st.cgroup_paths).signal_all(sig) if st.cgroup_paths else []
        if pids or st.status(store.dir(container_id)) not in TRANSITIONS["kill"][0]:
            return
    st.signal(sig)


def command(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    kill(ctx, args[0], args[1] if len(args) > 1 else "SIGTERM", all=opts["all"])
    return 0
