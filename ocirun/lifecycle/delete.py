"""delete: remove a stopped container's resources (runtime.md "Delete"); --force kills it first.

A created container is killed and deleted without --force too, as runc does it.

Also the teardown used by ``run`` once its container has exited.  Works on half-created state and
from any state file (ocirun.store "Recovery"): a directory without state.json is a create or a
delete that died (the lock is ours, so none is under way), cleaned up from cleanup.json; one whose
state.json is unreadable is cleaned up the same way by ``delete --force``, and refused without
it.  `delete --force` of an unknown id succeeds, as containerd's double delete expects of runc.
"""

from __future__ import annotations

from .. import _os as os
from ..errors import CgroupError, ContainerNotFound, InvalidState
from ..state import CREATED, PAUSED, STOPPED
from ..store import StateUnreadable, Store, crash_point

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from ..context import Context
    from ..state import State


def _wait_gone(st: State, timeout: float = 10.0) -> None:
    """Waits until the init has exited (it is not our child: poll its pidfd)."""
    if st.pid <= 0:
        return
    try:
        pidfd = os.pidfd_open(st.pid)
    except ProcessLookupError:
        return
    try:
        if st.alive():
            os.wait_pidfd(pidfd, timeout)
    finally:
        os.close(pidfd)


def kill_all(st: State, paused: bool = False) -> None:
    """SIGKILL every process of the container and wait for its init.

    With a pid namespace of its own, not paused, SIGKILL to its init is enough: the kernel kills
    every other process of that namespace with it (runc relies on that too).  Otherwise every
    process in its cgroups is killed, the cgroups frozen meanwhile and a paused one thawed."""
    from .kill import signal_init

    if st.cgroup_paths and (paused or st.namespaces.get("pid") != ""):
        from ..cgroups import Manager

        cg = Manager.from_json(st.cgroup_paths)
        cg.signal_all(9)  # frozen meanwhile, so that nothing forks past it
        if cg.frozen():
            cg.thaw()  # a paused container's processes die once thawed
    if st.alive():
        try:
            signal_init(st, 9)
        except InvalidState:
            pass
    _wait_gone(st)


def _rmdir_all(paths: Iterable[str]) -> bool:
    """Removes a stopped container's empty cgroups, one rmdir each, without importing the cgroups
    package (a third of delete's own time); False when one is busy (Manager.destroy takes over)."""
    for path in paths:
        try:
            os.rmdir(path)
        except FileNotFoundError:
            pass
        except OSError:
            return False
    return True


def destroy(ctx: Context, store: Store, st: State) -> None:
    """Removes what a stopped container still holds: its mounts on the host (when it had no mount
    namespace), cgroups, then state; runs poststop hooks."""
    if ctx.log.debugging:
        ctx.log.debug(f"delete {st.id}: removing its cgroups {list(st.cgroup_paths.values())} and state")
    errors = []
    if "mount" not in st.namespaces and st.rootfs:
        from ..mountinfo import unmount_under

        unmount_under(st.rootfs)
    if st.cgroup_paths and not _rmdir_all(st.cgroup_paths.values()):
        from ..cgroups import Manager  # what is left: processes, or cgroups the container made

        try:
            Manager.from_json(st.cgroup_paths).destroy()
        except CgroupError as e:
            errors.append(e)
    hooks = (st.config.get("hooks") or {}).get("poststop")
    if hooks:
        from ..hooks import run_hooks
        from ..spec.model import Hook
        from .create import hook_state

        state = hook_state(st.id, STOPPED, 0, st.bundle, st.annotations)
        run_hooks([Hook.from_json(h) for h in hooks], state, "poststop", log=ctx.log)
    crash_point("delete:destroyed")
    store.remove(st.id)
    if errors:
        raise errors[0]


def recover(store: Store, container_id: str) -> None:
    """Removes a container whose state.json is missing or unreadable, from its cleanup.json:
    kills what is in its cgroups, removes them, unmounts its rootfs if its mounts are ours, then
    its directory (ocirun.store "Recovery")."""
    cleanup = store.load_cleanup(container_id)
    if cleanup is not None:
        if cleanup.cgroup_paths:
            from ..cgroups import Manager

            cg = Manager.from_json(cleanup.cgroup_paths)
            cg.signal_all(9)
            if cg.frozen():
                cg.thaw()
            cg.destroy()  # waits for the killed ones to leave
        if not cleanup.own_mount_ns and cleanup.rootfs:
            from ..mountinfo import unmount_under

            unmount_under(cleanup.rootfs)
    store.remove(container_id)


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
                return _remove_stateless(store, container_id)
            if force:
                return True
            raise
        except StateUnreadable:
            if not force:
                raise
            recover(store, container_id)
            return True
        status = st.status(store.dir(container_id), holding_lock=True)
        if status != STOPPED:
            # A created container is deleted without --force, as runc does: containerd deletes
            # created tasks that way (the spec would want an error here).
            if not force and status != CREATED:
                raise InvalidState(f"cannot delete container {container_id} that is not stopped: {status}")
            kill_all(st, paused=status == PAUSED)
            crash_point("delete:killed")
        destroy(ctx, store, st)
    return True


def _remove_stateless(store: Store, container_id: str) -> bool:
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
        recover(store, container_id)
    finally:
        lock.__exit__()
    return True


def command(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    delete(ctx, args[0], force=opts["force"])
    return 0
