"""restore: a container back from a checkpoint's images, under any id, from any bundle (runc restore).

As runc does it (libcontainer's Restore): the container's state directory and cgroups are made
from the bundle's config.json as for create, and the resources applied; ``criu swrk`` is moved into
those cgroups before it is asked anything, so that what it restores is born in them.  criu gets a
mount point for its root (the rootfs bound to ``<state dir>/criu-root``: criu wants a mount point
whose parent is not overmounted), the sources of the external mounts the dump named (bind mounts
by destination, the masked files' "/dev/null", the devices), the namespaces joined by path
(inherit_fd), and our stdio for the pipes the init had as stdio (descriptors.json).  Its
notifications: ``orphan-pts-master`` brings the restored pty's master (sent on to
--console-socket, or relayed by a foreground restore), ``post-restore`` the init's pid (state.json
and --pid-file are written then).  A failure undoes all of it.

Without --detach, restore waits for the container like run and removes it afterwards.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from .. import cgroups, criu
from ..errors import InvalidArgument, SyscallError
from ..spec import bundle as _bundle
from ..spec import validate
from ..state import State, proc_start_time
from ..store import Cleanup, Store, validate_id
from .creating import Transaction, rfc3339_now, saved_config
from .launching import write_pid_file

if TYPE_CHECKING:
    from ..context import Context
    from ..spec.model import Spec

MS_BIND = 0x1000
MS_REC = 0x4000
MNT_DETACH = 2


def _libc() -> Any:
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _bind(source: str, target: str) -> None:
    import ctypes

    if _libc().mount(source.encode(), target.encode(), None, MS_BIND | MS_REC, None) != 0:
        raise SyscallError("mount", ctypes.get_errno(), source, target)


def _detach(target: str) -> None:
    _libc().umount2(target.encode(), MNT_DETACH)


def _make_mountpoint(rootfs: str, dest: str, is_file: bool) -> None:
    """rootfs/dest as a directory (or an empty file), one component at a time, never following a
    symlink of the rootfs (then the mount point is left alone: criu names what is missing)."""
    parts = [p for p in dest.split("/") if p and p != "."]
    if not parts or ".." in parts:
        return
    fd = os.open(rootfs, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for i, name in enumerate(parts):
            last = i == len(parts) - 1
            if last and is_file:
                try:
                    os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=fd))
                except FileExistsError:
                    pass
                return
            try:
                os.mkdir(name, 0o755, dir_fd=fd)
            except FileExistsError:
                pass
            try:
                nfd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except OSError:
                return
            os.close(fd)
            fd = nfd
    except OSError:
        return
    finally:
        os.close(fd)


def _mount_source(spec: Spec, bundle: str, m: dict[str, Any]) -> str:
    source = m.get("source") or ""
    return source if source.startswith("/") else os.path.join(bundle, source)


def restore_mounts(spec: Spec, bundle: str, rootfs: str) -> list[tuple[str, str]]:
    """The ext_mnt pairs for criu (the dump's keys to their sources here), after making the
    mount points that are not inside a tmpfs of the container (criu restores those whole)."""
    mounts = [m for m in spec.raw.get("mounts") or [] if isinstance(m, dict) and isinstance(m.get("destination"), str)]
    tmpfs = [m["destination"].rstrip("/") + "/" for m in mounts if m.get("type") == "tmpfs"]
    pairs = []
    for m in mounts:
        dest = m["destination"]
        bind = criu.is_bind(m)
        source = _mount_source(spec, bundle, m) if bind else ""
        if not any(dest.startswith(t) for t in tmpfs):
            _make_mountpoint(rootfs, dest, bind and os.path.exists(source) and not os.path.isdir(source))
        if bind:
            pairs.append((dest, source))
    linux = spec.raw.get("linux") or {}
    if linux.get("maskedPaths"):
        pairs.append(("/dev/null", "/dev/null"))
    devices = ("/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/random", "/dev/urandom",
               *(d["path"] for d in linux.get("devices") or [] if isinstance(d, dict)))
    pairs += [(d, d) for d in dict.fromkeys(devices)]
    return pairs


def _read_descriptors(image_path: str) -> list[str]:
    path = os.path.join(image_path, criu.DESCRIPTORS)
    try:
        with open(path, "rb") as f:
            fds = json.loads(f.read())
    except FileNotFoundError:
        raise InvalidArgument(
            f"--image-path `{image_path}`: not a container checkpoint (no {criu.DESCRIPTORS})") from None
    except (OSError, ValueError) as e:
        raise InvalidArgument(f"read `{path}`: {e}") from None
    if not isinstance(fds, list) or not all(isinstance(s, str) for s in fds):
        raise InvalidArgument(f"`{path}`: not a list of strings")
    return fds


class Restoring:
    """One restore in progress (its fds, criu, what it made so far: ``tx``)."""

    def __init__(self, ctx: Context, container_id: str, bundle: str, opts: dict[str, Any]) -> None:
        self.ctx = ctx
        self.id = container_id
        self.bundle = bundle
        self.opts = opts
        self.store = Store(ctx.root)
        self.tx = Transaction()
        self.fds: list[int] = []
        self.st: State | None = None
        self.master: int | None = None  # the pty master, for a foreground restore to relay
        self.console_sock: int | None = None

    def run(self) -> State:
        ctx, opts, container_id = self.ctx, self.opts, self.id
        criu_path = criu.find(getattr(ctx, "criu", None))
        m = criu.rpc()
        validate_id(container_id)
        spec = _bundle.load(self.bundle)
        rootfs = validate.rootfs_path(spec, self.bundle)
        validate.namespace_paths(spec)
        image_path = os.path.abspath(opts.get("image_path") or os.path.join(os.getcwd(), "checkpoint"))
        work_path = os.path.abspath(opts["work_path"]) if opts.get("work_path") else image_path
        terminal = spec.process is not None and spec.process.terminal
        console_socket = opts.get("console_socket")
        if not terminal and console_socket:
            raise InvalidArgument("cannot use console socket if ocirun will not detach or allocate tty")
        if terminal and opts.get("detach") and not console_socket and not opts.get("shell_job"):
            raise InvalidArgument("cannot allocate tty if ocirun will detach without setting console socket")
        if opts.get("lazy_pages"):
            criu.check_lazy_pages(criu_path)
        try:
            images_fd = criu.open_dir(image_path, "--image-path", create=False)
            self.fds.append(images_fd)
            descriptors = _read_descriptors(image_path)
            work_fd = criu.open_dir(work_path, "--work-path", create=True) if work_path != image_path else images_fd
            if work_fd != images_fd:
                self.fds.append(work_fd)
            return self._restore(m, criu_path, spec, rootfs, images_fd, work_fd, work_path, descriptors)
        finally:
            for fd in self.fds:
                os.close(fd)
            if self.console_sock is not None:
                os.close(self.console_sock)

    def _restore(self, m: Any, criu_path: str, spec: Spec, rootfs: str, images_fd: int, work_fd: int,
                 work_path: str, descriptors: list[str]) -> State:
        ctx, opts, store, tx, container_id = self.ctx, self.opts, self.store, self.tx, self.id
        if opts.get("console_socket") and spec.process is not None and spec.process.terminal:
            from .. import shim

            self.console_sock = shim.connect_unix(opts["console_socket"])
        lock = store.new_locked(container_id)
        tx.add(lambda: store.remove(container_id))
        with lock:
            criu_root = os.path.join(store.dir(container_id), "criu-root")
            try:
                cg = cgroups.Manager.for_container(spec.linux.cgroups_path, container_id)
                cg.check_unused()
                created = rfc3339_now()
                own_mntns = spec.linux.namespace("mount") is not None
                store.save_cleanup(container_id, Cleanup(cg.to_json(), rootfs, own_mntns, self.bundle, created))
                tx.add(cg.destroy)
                tx.add(self._kill_restored)
                cg.create()
                cg.apply(spec.linux.resources, warn=ctx.log.warning)
                o = m.criu_opts(images_dir_fd=images_fd, work_dir_fd=work_fd, root=criu_root, evasive_devices=True,
                                rst_sibling=True, log_file="restore.log", **criu.common_opts(m, opts))
                for key in ("lsm_profile", "lsm_mount_context"):
                    if opts.get(key):
                        setattr(o, key, opts[key])
                for key, val in restore_mounts(spec, self.bundle, rootfs):
                    o.ext_mnt.add(key=key, val=val)
                for ns in spec.linux.namespaces:
                    if ns.path and ns.type in criu.EXTERNAL_NS:
                        fd = os.open(ns.path, os.O_RDONLY | os.O_CLOEXEC)
                        self.fds.append(fd)
                        o.inherit_fd.add(key=criu.EXTERNAL_NS[ns.type][1], fd=fd)
                for i, name in enumerate(descriptors[:3]):
                    if "pipe:" in name:
                        o.inherit_fd.add(key=name, fd=i)
                root = cg.paths.get(cgroups.UNIFIED) if cg.v2 else None
                if root is not None and root.startswith(cgroups.ROOT + "/"):
                    # the dump's cgroup is rewritten to this container's: without it criu restores
                    # into the image's path (another id's), re-made without the config's limits
                    o.cg_root.add(path=root[len(cgroups.ROOT):])
                os.mkdir(criu_root, 0o755)
                tx.add(lambda: os.rmdir(criu_root))
                _bind(rootfs, criu_root)
                tx.add(lambda: _detach(criu_root))
                if ctx.log.debugging:
                    ctx.log.debug(f"restore {container_id}: criu restore from `{os.path.dirname(work_path)}`, "
                                  f"cgroups {cg.paths}")
                swrk = criu.Swrk.start(criu_path, pass_fds=self.fds, stdio=(0, 1, 2),
                                       before=lambda pid: _join(cg, pid))
                try:
                    resp = swrk.call(m.criu_req(type=m.RESTORE, opts=o), "restore",
                                     os.path.join(work_path, "restore.log"),
                                     lambda script, pid, fds: self._notify(script, pid, fds, spec, rootfs, cg, created))
                finally:
                    swrk.close()
                if self.st is None:  # criu 3.x always notifies post-restore; else its response has the pid
                    self._post_restore(resp.restore.pid, spec, rootfs, cg, created)
                _detach(criu_root)
                os.rmdir(criu_root)
            except BaseException as e:
                tx.rollback(e)
                raise
            tx.commit()
        assert self.st is not None
        return self.st

    def _kill_restored(self) -> None:
        if self.st is not None and self.st.alive():
            self.st.signal(9)

    def _notify(self, script: str, pid: int, fds: list[int], spec: Spec, rootfs: str, cg: cgroups.Manager,
                created: str) -> None:
        if script == "post-restore":
            self._post_restore(pid, spec, rootfs, cg, created)
        elif script == "orphan-pts-master" and fds:
            if self.console_sock is not None:
                from .. import shim

                shim.send_with_fds(self.console_sock, b"/dev/ptmx", [fds[0]])
            elif not self.opts.get("detach"):
                self.master = os.dup(fds[0])

    def _post_restore(self, pid: int, spec: Spec, rootfs: str, cg: cgroups.Manager, created: str) -> None:
        start = proc_start_time(pid)
        if start is None:
            raise criu.CriuError(f"restore: the restored init (pid {pid}) is gone")
        self.st = State(
            id=self.id, pid=pid, pid_start=start, bundle=self.bundle, rootfs=rootfs, created=created,
            annotations=spec.annotations, cgroup_paths=cg.to_json(),
            namespaces={ns.type: ns.path or "" for ns in spec.linux.namespaces}, config=saved_config(spec),
        )
        self.store.save(self.st)
        if self.opts.get("pid_file"):
            write_pid_file(self.opts["pid_file"], pid)


def _join(cg: cgroups.Manager, pid: int) -> None:
    """Moves criu into the container's cgroups (runc's criuApplyCgroups)."""
    for path in cg.paths.values():
        try:
            with open(os.path.join(path, "cgroup.procs"), "w") as f:
                f.write(str(pid))
        except OSError as e:
            raise SyscallError.from_oserror("write", e, os.path.join(path, "cgroup.procs")) from None


def _wait(pid: int) -> int:
    while True:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            return 0
        except InterruptedError:
            continue
        if os.WIFSIGNALED(status):
            return 128 + os.WTERMSIG(status)
        if os.WIFEXITED(status):
            return os.WEXITSTATUS(status)


def restore(ctx: Context, container_id: str, opts: dict[str, Any]) -> int:
    bundle = os.path.abspath(opts.get("bundle") or ".")
    r = Restoring(ctx, container_id, bundle, opts)
    st = r.run()
    if opts.get("detach"):
        if r.master is not None:
            os.close(r.master)
        return 0
    from .launching import wait_foreground
    from .teardown import destroy

    if r.master is not None:
        from ..console import relay

        status = relay(r.master, lambda: _wait(st.pid))
    else:
        status = wait_foreground(st.pid, lambda: _wait(st.pid), None)
    with r.store.lock(container_id):
        destroy(ctx, r.store, st)
    return status


def command(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    return restore(ctx, args[0], opts)
