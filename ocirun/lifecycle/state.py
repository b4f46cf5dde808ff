"""state: print a container's state as the runtime-spec defines it (runtime.md "Query State")."""

from __future__ import annotations

from .. import _os as os
from .._json import dumps_pretty
from ..store import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..context import Context
    from ..state import State


def state(ctx: Context, container_id: str) -> tuple[State, str]:
    """The saved state and the status derived now."""
    store = Store(ctx.root)
    st = store.load(container_id)
    return st, st.status(store.dir(container_id))


def command(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    st, status = state(ctx, args[0])
    os.write(1, (dumps_pretty(st.public(status)) + "\n").encode())
    return 0
