"""resume: thaw a paused container."""

from __future__ import annotations

from ..state import check
from ..store import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..context import Context


def resume(ctx: Context, container_id: str) -> None:
    """As runc: only a paused container can be resumed ("container not paused")."""
    from ..cgroups import Manager

    store = Store(ctx.root)
    with store.lock(container_id):
        st = store.load(container_id)
        check("resume", st.status(store.dir(container_id)), container_id)
        Manager.from_json(st.cgroup_paths).thaw()


def command(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    resume(ctx, args[0])
    return 0
