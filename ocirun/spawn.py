"""Starting the container's init stage and running the parent's side of the protocol.

The one place that turns messages of the init stage into exceptions: op i failing with errno e
becomes ContainerInitError(plan.describe(i), e), e.g. "mount `proc` to `/proc`: Operation not
permitted".  See ocirun.protocol for the sequence.
"""

from __future__ import annotations

from . import _os as os
from . import protocol as P
from . import shim
from .errors import ContainerInitError, SyscallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from .plan import Launch

ENOENT, EPIPE, ECONNRESET = 2, 32, 104


def reap(pid: int) -> int | None:
    """Waits for our child ``pid``: its exit status, or 128+N when signal N ended it; None when it
    is not our child (any more)."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return None
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


class InitProcess:
    """The container's first process, seen from the parent, until it execs the user's program."""

    __slots__ = ("_joins", "_returncode", "launch", "pid", "sock", "start_time")

    def __init__(self, pid: int, sock: int, launch: Launch) -> None:
        from .state import proc_start_time

        self.pid = pid
        self.sock = sock
        self.launch = launch
        self._returncode: int | None = None
        self._joins: tuple[list[int], int] = ([], 0)  # `tasks` fds for its cgroup sync point
        # Now, while it cannot have exited (it waits for us at a sync point before the exec): a
        # `run` of a quick program may be a zombie by the time it is READY.
        self.start_time = proc_start_time(pid) or 0

    # -- messages ---------------------------------------------------------------------------------

    def ack(self, value: int = 0) -> None:
        self._answer(P.MSG.pack(P.MSG_ACK, -1, 0, 0, value, b""))

    def join_at_sync(self, cgroups: dict[str, str]) -> None:
        """Has the init move itself into the cgroup v1 hierarchies of ``cgroups`` (key ->
        directory) at its cgroup sync point: their `tasks` files go with the ACK there
        (init.c wait_ack), so that the parent can make them while the init sets up the rootfs."""
        joins = _open_tasks(cgroups)
        self._close_joins()
        self._joins = joins

    def _close_joins(self) -> None:
        for fd in self._joins[0]:
            os.close(fd)
        self._joins = ([], 0)

    def receive(self) -> tuple[int, int, int, int, str] | None:
        """(kind, step, errno, value, detail) of the next message, or None at EOF."""
        try:
            data = os.read(self.sock, P.MSG.size)
        except ConnectionResetError:  # it died with our last message unread (the OOM killer, say)
            return None
        if not data:
            return None
        kind, step, err, _pad, value, detail = P.MSG.unpack(data.ljust(P.MSG.size, b"\0"))
        assert isinstance(detail, bytes)
        text = detail.split(b"\0", 1)[0].decode(errors="replace")
        return int(kind), int(step), int(err), int(value), text

    def error(self, step: int, err: int, detail: str) -> ContainerInitError:
        plan = self.launch.plan
        if step < 0:
            return ContainerInitError(f"start the container's init ({detail})", err)
        what = plan.describe(step)
        codes = plan.codes()
        if codes[step] == P.OP_EXEC_LOOKUP:
            # runc's words, which podman turns into exit statuses 127 and 126
            arg0 = self.launch.arg0
            if err != ENOENT:
                return ContainerInitError(f"{what}: {os.strerror(err).lower()}", 0)
            if "/" in arg0:
                return ContainerInitError(f"{what}: stat {arg0}: no such file or directory", 0)
            return ContainerInitError(f"{what}: executable file not found in $PATH", 0)
        if codes[step] == P.OP_HOOK and detail and not err:  # how the hook failed: "exit status 3, ..."
            return ContainerInitError(f"{what}: {detail}", 0)
        if detail and detail not in what:
            return ContainerInitError(what, err, detail)
        return ContainerInitError(what, err)

    def run_until_ready(
        self, on_sync: Callable[[int], int | None], on_seccomp: Callable[[int], None] | None = None
    ) -> None:
        """Answers the init stage's sync points until it reports READY; raises what it reports.
        ``on_sync(point)`` does the parent's part; what it returns goes back in the ACK.
        ``on_seccomp(fd)`` passes on the seccomp listener, fd ``fd`` of the init (MSG_SECCOMP)."""
        while True:
            msg = self.receive()
            if msg is None:
                raise self._died("before it was ready")
            kind, step, err, value, detail = msg
            if kind == P.MSG_READY:
                return
            if kind == P.MSG_ERROR:
                raise self.error(step, err, detail)
            if kind == P.MSG_SYNC:
                reply = on_sync(value) or 0
                fds, required = self._joins
                if value == P.SYNC_CGROUPS and fds:
                    try:
                        self._answer(P.MSG.pack(P.MSG_ACK, -1, required, 0, reply, b""), fds)
                    finally:
                        self._close_joins()
                else:
                    self.ack(reply)
            elif kind == P.MSG_SECCOMP:
                if on_seccomp is None:
                    raise self.error(step, 0, "no seccomp agent for this process")
                on_seccomp(value)
                self.ack()

    def _answer(self, message: bytes, fds: list[int] | None = None) -> None:
        """An ACK (with ``fds``).  When the init has died meanwhile (the OOM killer, say), the send
        fails (EPIPE, ECONNRESET) and is let be: the next receive says how it died."""
        try:
            if fds:
                shim.send_with_fds(self.sock, message, fds)
            else:
                os.write(self.sock, message)
        except OSError as e:
            if e.errno not in (EPIPE, ECONNRESET):
                raise

    def expect_sync(self, point: int) -> None:
        """Waits for sync point ``point`` (no ACK: the caller sends it when it has done its part)."""
        msg = self.receive()
        if msg is None:
            raise self._died("before it was set up")
        kind, step, err, value, detail = msg
        if kind == P.MSG_ERROR:
            raise self.error(step, err, detail)
        if kind != P.MSG_SYNC or value != point:
            raise ContainerInitError(f"unexpected message {kind}/{value} from the container's init", 0)

    def follow_fork(self) -> None:
        """After OP_PIDNS_FORK: the init stage's child in the pid namespace goes on, its parent
        exits; from now on the child is the one (ours, as we are its subreaper)."""
        try:
            msg = self.receive()
            if msg is None:
                raise self._died("before it joined the pid namespace")
            kind, step, err, value, detail = msg
            if kind == P.MSG_ERROR:
                raise self.error(step, err, detail)
            if kind != P.MSG_PID:
                raise ContainerInitError(f"unexpected message {kind} from the container's init", 0)
        except BaseException:
            self.kill()
            raise
        self.wait()
        from .state import proc_start_time

        self.pid = value
        self._returncode = None
        self.start_time = proc_start_time(value) or 0

    def wait_exec(self) -> None:
        """After READY without a fifo (run): EOF means execve succeeded, MSG_ERROR that it failed."""
        msg = self.receive()
        if msg is not None and msg[0] == P.MSG_ERROR:
            raise self.error(msg[1], msg[2], msg[4])

    def _died(self, when: str) -> ContainerInitError:
        status = self.wait()
        how = f"exit status {status}" if status < 128 else f"signal {status - 128}"
        return ContainerInitError(f"container init exited {when} ({how})", 0)

    # -- process ----------------------------------------------------------------------------------

    def wait(self) -> int:
        """Reaps the process; its exit status, or 128+N when a signal N ended it."""
        if self._returncode is None:
            code = reap(self.pid)
            self._returncode = 0 if code is None else code
        return self._returncode

    def wait_adopting(self) -> int:
        """As ``wait``, reaping meanwhile every other child that exits: the container's orphans,
        which a subreaper (``run``) adopts."""
        while self._returncode is None:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                self._returncode = 0
                break
            if pid == self.pid:
                code = os.waitstatus_to_exitcode(status)
                self._returncode = 128 - code if code < 0 else code
        return self._returncode

    def kill(self) -> None:
        """SIGKILL and reap (rollback of a failed create)."""
        if self._returncode is None:
            try:
                os.kill(self.pid, 9)
            except ProcessLookupError:
                pass
            self.wait()

    def close(self) -> None:
        self._close_joins()
        if self.sock >= 0:
            os.close(self.sock)
            self.sock = -1


def _memfd_with(name: str, data: bytes) -> int:
    fd = os.memfd_create(name, os.MFD_CLOEXEC)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    return fd


def _open_tasks(cgroups: dict[str, str]) -> tuple[list[int], int]:
    """The `tasks` files of the cgroup v1 directories of ``cgroups`` (hierarchy key -> directory;
    the cgroup2 one, key "", is left out), opened for writing: those that must be joined first,
    then those of named hierarchies (name=...), joined on a best-effort basis as runc does; and
    how many must."""
    required: list[int] = []
    optional: list[int] = []
    try:
        for key, path in cgroups.items():
            if key == "":  # ocirun.cgroups.UNIFIED: the process is born there
                continue
            best_effort = key.startswith("name=")
            try:
                fd = os.open(path + "/tasks", os.O_WRONLY | os.O_CLOEXEC)
            except OSError as e:
                if best_effort:
                    continue
                raise SyscallError.from_oserror("open", e, path + "/tasks") from None
            (optional if best_effort else required).append(fd)
    except BaseException:
        for fd in required + optional:
            os.close(fd)
        raise
    return required + optional, len(required)


def start(
    launch: Launch,
    *,
    fifo_fd: int | None = None,
    console_fd: int | None = None,
    preserve_fds: int = 0,
    cgroup_dir: str | None = None,
    stdio: list[tuple[int, int]] | None = None,
    may_freeze: bool = False,
) -> InitProcess:
    """Clones the container's first process for ``launch``, born in the cgroup v2 directory
    ``cgroup_dir`` (clone3 CLONE_INTO_CGROUP; its v1 cgroups it joins itself at its cgroup sync
    point: InitProcess.join_at_sync).  ``may_freeze``: that cgroup may be frozen (exec into a
    paused container), so the clone must not leave ocirun waiting for the child's exec."""
    from .plan import CLONE_NEWTIME  # loaded already: it made ``launch``

    opened: list[int] = []
    was_subreaper = True  # (nothing to undo unless start makes us one)
    try:
        plan_fd = _memfd_with("ocirun-plan", launch.plan.encode())
        opened.append(plan_fd)
        exec_fd = shim.sealed_init()
        opened.append(exec_fd)
        parent_sock, child_sock = shim.socketpair()
        opened.append(child_sock)
        joins = []
        for path, flag in launch.joins:
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError as e:
                raise SyscallError.from_oserror("open namespace", e, path) from None
            opened.append(fd)
            joins.append((fd, flag))
        pidns = None
        if launch.pidns_path is not None:
            try:
                pidns = os.open(launch.pidns_path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError as e:
                raise SyscallError.from_oserror("open namespace", e, launch.pidns_path) from None
            opened.append(pidns)
        if pidns is not None or launch.pidns_unshare:
            # The process that goes on is a grandchild (OP_PIDNS_FORK): ours once its parent
            # exits, if we are a subreaper until then (only until then: a library caller must not
            # stay one, or every orphan of its other children would wait on it as a zombie).
            was_subreaper = shim.set_child_subreaper()
        cgroup_fd = -1
        if cgroup_dir is not None:
            try:
                cgroup_fd = os.open(cgroup_dir, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            except OSError as e:
                raise SyscallError.from_oserror("open", e, cgroup_dir) from None
            opened.append(cgroup_fd)
        fds = list(stdio or [])  # (fd, 0/1/2): the container's stdio, if not ours
        fds += [(fd, fd) for fd in range(3, 3 + preserve_fds)]
        fds += [(child_sock, launch.sync_fd), (plan_fd, launch.plan_fd)]
        if fifo_fd is not None:
            fds.append((fifo_fd, launch.fifo_fd))
        if console_fd is not None:
            fds.append((console_fd, launch.console_fd))
        if pidns is not None:
            fds.append((pidns, launch.pidns_fd))
        for i, (source, recursive, idmap) in enumerate(launch.trees):  # before the user namespace (MNT_SRC_FD)
            tree = shim.open_tree(source, recursive)
            opened.append(tree)
            if idmap is not None:
                from .idmap import idmap_tree

                idmap_tree(tree, source, *idmap)
            fds.append((tree, launch.tree_fd(i)))
        try:
            pid = shim.spawn(
                argv=["ocirun-init", str(launch.sync_fd), str(launch.plan_fd)],
                clone_flags=launch.clone_flags,
                sync_fd=child_sock,
                exec_fd=exec_fd,
                fds=fds,
                joins=joins,
                unshare_flags=launch.unshare_flags | (CLONE_NEWTIME if launch.new_timens else 0),
                wait_go=launch.new_userns or launch.new_timens,
                become_root=launch.become_root,
                cgroup_fd=cgroup_fd,
                may_freeze=may_freeze,
            )
        except BaseException:
            os.close(parent_sock)
            raise
        init = InitProcess(pid, parent_sock, launch)
        if launch.unshare_flags and not launch.new_timens:
            try:
                init.expect_sync(P.SYNC_UNSHARED)  # (with a time namespace: creating.answer waits for it)
            except BaseException:
                init.kill()
                raise
        if pidns is not None or launch.pidns_unshare:
            init.follow_fork()
        return init
    finally:
        for fd in opened:
            os.close(fd)
        if not was_subreaper:
            shim.set_child_subreaper(False)
