"""What delete and run share to end a container: killing every process, and removing what a
stopped container still holds (its mounts on the host, cgroups, state) with its poststop hooks;
also the recovery from cleanup.json (ocirun.store "Recovery")."""

from __future__ import annotations

from .. import _os as os
from ..errors import CgroupError, InvalidState
from ..store import crash_point

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..cgroups import Manager
    from ..context import Context
    from ..state import State
    from ..store import Cleanup, Store


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


def _kill_in(cgroup_paths: dict[str, str]) -> Manager:
    """SIGKILL every process in these cgroups (frozen meanwhile, so that nothing forks past it),
    and thaw them if they were frozen (a paused container's processes die once thawed)."""
    from ..cgroups import Manager

    cg = Manager.from_json(cgroup_paths)
    cg.signal_all(9)
    if cg.frozen():
        cg.thaw()
    return cg


def kill_all(st: State, paused: bool = False) -> None:
    """SIGKILL every process of the container and wait for its init.

    With a pid namespace of its own, not paused, SIGKILL to its init is enough: the kernel kills
    every other process of that namespace with it (runc relies on that too).  Otherwise every
    process in its cgroups is killed, the cgroups frozen meanwhile and a paused one thawed."""
    if st.cgroup_paths and (paused or st.namespaces.get("pid") != ""):
        _kill_in(st.cgroup_paths)
    if st.alive():
        try:
            st.signal(9)
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


def give_back(ctx: Context, store: Store, container_id: str, cleanup: Cleanup | None) -> list[Exception]:
    """What a container was lent or made outside its cgroups, from its cleanup.json: its network
    devices go back to the host (from its held network namespace, which then dies), its resctrl
    directories are removed.  Returns the errors (the teardown goes on)."""
    errors: list[Exception] = []
    if cleanup is None:
        return errors
    from .. import network

    hold = f"{store.dir(container_id)}/{network.HOLD}"
    if cleanup.net_devices:
        if ctx.log.debugging:
            ctx.log.debug(f"delete {container_id}: giving its network devices back: {cleanup.net_devices}")
        try:
            for problem in network.give_back(hold, cleanup.net_devices):
                ctx.log.warning(problem)
        except Exception as e:
            errors.append(e)
    try:
        network.release(hold)
    except OSError as e:
        errors.append(e)
    if cleanup.resctrl_dirs:
        from .. import resctrl

        try:
            resctrl.remove(cleanup.resctrl_dirs)
        except Exception as e:
            errors.append(e)
    return errors


def destroy(ctx: Context, store: Store, st: State) -> None:
    """Removes what a stopped container still holds: its mounts on the host (when it had no mount
    namespace), network devices and resctrl group, cgroups, then state; runs poststop hooks."""
    if ctx.log.debugging:
        ctx.log.debug(f"delete {st.id}: removing its cgroups {list(st.cgroup_paths.values())} and state")
    errors: list[Exception] = []
    linux = st.config.get("linux") or {}
    if linux.get("netDevices") or linux.get("intelRdt") is not None:
        errors += give_back(ctx, store, st.id, store.load_cleanup(st.id))
    if "mount" not in st.namespaces and st.rootfs:
        from ..mountinfo import unmount_under

        unmount_under(st.rootfs)
    unit = st.config.get("systemdUnit")
    if unit:  # --systemd-cgroup: its processes are gone; systemd removes the unit's cgroup
        from ..cgroups.systemd import stop

        try:
            stop(unit)
        except CgroupError as e:
            errors.append(e)
    if st.cgroup_paths and not _rmdir_all(st.cgroup_paths.values()):
        from ..cgroups import Manager  # what is left: processes, or cgroups the container made

        try:
            Manager.from_json(st.cgroup_paths).destroy()
        except CgroupError as e:
            errors.append(e)
    if st.config.get("hooks"):
        from ..hooks import run_poststop

        run_poststop(st, ctx.log)
    crash_point("delete:destroyed")
    store.remove(st.id)
    if errors:
        raise errors[0]


def recover(ctx: Context, store: Store, container_id: str) -> None:
    """Removes a container whose state.json is missing or unreadable, from its cleanup.json:
    kills what is in its cgroups, removes them, unmounts its rootfs if its mounts are ours, then
    its directory (ocirun.store "Recovery")."""
    cleanup = store.load_cleanup(container_id)
    if cleanup is not None:
        if cleanup.cgroup_paths:
            _kill_in(cleanup.cgroup_paths).destroy()  # waits for the killed ones to leave
        if not cleanup.own_mount_ns and cleanup.rootfs:
            from ..mountinfo import unmount_under

            unmount_under(cleanup.rootfs)
        if cleanup.net_devices or cleanup.resctrl_dirs:
            for error in give_back(ctx, store, container_id, cleanup):
                ctx.log.warning(str(error))
    from .. import network

    network.release(f"{store.dir(container_id)}/{network.HOLD}")  # (both files unreadable: no devices known)
    store.remove(container_id)


