"""pause: freeze every process of a running (or created) container (v1 freezer, v2 cgroup.freeze)."""

from __future__ import annotations

from ..state import check
from ..store import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..context import Context


def pause(ctx: Context, container_id: str) -> None:
    """As runc: only a running or created container can be paused ("container not running")."""
    from ..cgroups import Manager

    store = Store(ctx.root)
    with store.lock(container_id):
        st = store.load(container_id)
        check("pause", st.status(store.dir(container_id)), container_id)
        Manager.from_json(st.cgroup_paths).freeze()


def command(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    pause(ctx, args[0])
    return 0
