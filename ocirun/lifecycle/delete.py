"""delete: remove a stopped container's resources (runtime.md "Delete"); --force kills it first.

A created container is killed and deleted without --force too, as runc does it.

The teardown itself (also ``run``'s once its container has exited) is in ocirun.lifecycle.teardown.
Works on half-created state and from any state file (ocirun.store "Recovery"): a directory
without state.json is a create or a delete that died (the lock is ours, so none is under way),
cleaned up from cleanup.json; one whose state.json is unreadable is cleaned up the same way by
``delete --force``, and refused without it.  `delete --force` of an unknown id succeeds, as
containerd's double delete expects of runc.
"""

from __future__ import annotations

from .. import _os as os
from ..errors import ContainerNotFound
from ..state import PAUSED, STOPPED, check
from ..store import StateUnreadable, Store, crash_point

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..context import Context


def delete(ctx: Context, container_id: str, force: bool = False) -> None:
    store = Store(ctx.root)
    while not _delete(ctx, store, container_id, force):
        pass  # a create had the directory locked meanwhile: look again


def _delete(ctx: Context, store: Store, container_id: str, force: bool) -> bool:
    """One look at the container; False when it must be looked at again."""
    with store.lock(container_id, missing_ok=force) as lock:
        try:
            st = store.load(container_id)
        except ContainerNotFound:
            if os.path.isdir(store.dir(container_id)):
                lock.__exit__()  # (a create between its mkdir and its flock wants it)
                return _remove_stateless(ctx, store, container_id)
            if force:
                return True
            raise
        except StateUnreadable:
            if not force:
                raise
            from .teardown import recover

            recover(ctx, store, container_id)
            return True
        status = st.status(store.dir(container_id), holding_lock=True)
        if status != STOPPED:
            # A created container is deleted without --force, as runc does: containerd deletes
            # created tasks that way (the spec would want an error here).
            if not force:
                check("delete", status, container_id)
            from .teardown import kill_all

            kill_all(st, paused=status == PAUSED)
            crash_point("delete:killed")
        from .teardown import destroy

        destroy(ctx, store, st)
    return True


def _remove_stateless(ctx: Context, store: Store, container_id: str) -> bool:
    """A directory without state.json: a create or a delete that died, unless a create has just
    made it and is about to lock it (Store.new_locked); False when a create holds it."""
    from ..store import Lock

    lock = Lock(store.dir(container_id), container_id, missing_ok=True)
    with store.settled():
        if not lock.try_enter():
            return not os.path.isdir(lock.path)  # gone: done; else a create holds it
    try:
        if os.path.exists(store.state_path(container_id)):
            return False  # that create got further meanwhile
        from .teardown import recover

        recover(ctx, store, container_id)
    finally:
        lock.__exit__()
    return True


def command(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    delete(ctx, args[0], force=opts["force"])
    return 0
