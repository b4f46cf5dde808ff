"""What create, run and exec share to launch a process and wait for it: console sockets and
terminals, --preserve-fds, socket activation, the pid file, --debug's plan listing, and the
foreground wait that passes signals on (no verb imports another: runc's utils_linux.go)."""

from __future__ import annotations

from .. import _os as os
from ..errors import InvalidArgument, SyscallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from ..console import ConsoleSocket, StdioPipes
    from ..context import Context
    from ..log import Logger
    from ..plan import Launch
    from ..state import State
    from ..store import Store

# Signals passed on to the container (SIGCHLD and the unblockable ones are ours).
FORWARDED = ("SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGTERM", "SIGALRM", "SIGCONT",
             "SIGWINCH", "SIGPWR", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGPIPE", "SIGPROF", "SIGVTALRM")


def debug_plan(log: Logger, launch: Launch) -> None:
    """--debug: the steps the init stage is to take, in order (runc logs its nsexec steps), each
    decoded with its named fields: ``init step   4 mount flags=... target='/proc'  # mount proc``.
    The decoder (ocirun.plandecode) is loaded only here, off the hot path."""
    for line in launch.plan.listing().splitlines():
        log.debug(f"init step {line}")


def write_pid_file(path: str, pid: int) -> None:
    """Atomically (clients read it the moment the command returns)."""
    path = os.path.abspath(path)
    tmp = f"{os.path.dirname(path)}/.{os.path.basename(path)}.{os.getpid()}"
    try:
        os.write_atomic(path, str(pid).encode(), 0o644, tmp)
    except OSError as e:
        raise SyscallError.from_oserror("write pid file", e, path) from None


def console_for(terminal: bool, console_socket: str | None, foreground: bool) -> ConsoleSocket | None:
    """The console socket a process with ``terminal`` gets (runc's rules and messages)."""
    if not terminal:
        if console_socket is not None:
            raise InvalidArgument("cannot use console socket if ocirun will not detach or allocate tty")
        return None
    from ..console import ConsoleSocket

    if console_socket is not None:
        return ConsoleSocket.connect(console_socket)
    if not foreground:
        raise InvalidArgument("cannot allocate tty if ocirun will detach without setting console socket")
    return ConsoleSocket.own()


class PidfdSocket:
    """--pidfd-socket PATH (runc 1.2): a connection to the caller's AF_UNIX socket, made before the
    process is, on which a pidfd of the process goes once it is ready, with SCM_RIGHTS and the
    bytes ``standard`` (the container's init: create, run) or ``setns`` (exec), as runc sends it."""

    __slots__ = ("fd",)

    def __init__(self, path: str) -> None:
        from .. import shim

        self.fd = shim.connect_unix(path, "the pidfd socket")

    def send(self, pid: int, kind: str) -> None:
        from .. import shim

        try:
            pidfd = os.pidfd_open(pid)
        except OSError as e:
            raise SyscallError.from_oserror("pidfd_open", e, str(pid)) from None
        try:
            shim.send_with_fds(self.fd, kind.encode(), [pidfd])
        finally:
            os.close(pidfd)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def refuse_console_socket(console_socket: str | None, detach: bool) -> None:
    """runc's rule (checkTerminal) that ``console_for`` cannot see: a console socket is for
    a runtime that detaches."""
    if console_socket is not None and not detach:
        raise InvalidArgument("cannot use console socket if ocirun will not detach or allocate tty")


def check_preserve_fds(count: int) -> None:
    """--preserve-fds: fds 3 to 3+N-1 of this process, so at most as many as it may have open."""
    if count < 0:
        raise InvalidArgument("--preserve-fds must not be negative")
    import resource

    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if 3 + count > limit:
        raise InvalidArgument(f"--preserve-fds {count}: more fds than this process may have open "
                              f"(RLIMIT_NOFILE {limit})")


def listen_fds() -> int:
    """systemd socket activation (sd_listen_fds): LISTEN_FDS fds from 3 on, when LISTEN_PID is
    ours.  runc passes them to the container, which then reads LISTEN_FDS=N and LISTEN_PID=1."""
    env = os.environ
    count, pid = env.get(b"LISTEN_FDS"), env.get(b"LISTEN_PID")
    if not count or pid != str(os.getpid()).encode() or not count.isdigit():
        return 0
    return int(count)


def wait_foreground(
    pid: int, wait: Callable[[], int], console: ConsoleSocket | None, stdio: StdioPipes | None = None
) -> int:
    """Waits for the container's process ``pid`` (``wait`` reaps it), passing on the signals
    ocirun receives; when ocirun holds its terminal (``console``), relaying it meanwhile (the relay
    handles SIGWINCH itself while the caller's stdin is a terminal)."""
    import _signal

    pidfd = os.pidfd_open(pid)

    def forward(signum: int, _frame: object) -> None:
        try:
            _signal.pidfd_send_signal(pidfd, signum)
        except ProcessLookupError:
            pass

    old = {}
    for name in FORWARDED:
        num = getattr(_signal, name)
        old[num] = _signal.signal(num, forward)
    try:
        if console is not None:
            from ..console import relay

            try:
                master = console.receive_master()
            finally:
                console.close()
            return relay(master, wait)
        if stdio is not None:
            return stdio.relay(wait)
        return wait()
    finally:
        for num, handler in old.items():
            _signal.signal(num, handler)
        os.close(pidfd)


def program_started(ctx: Context, store: Store, st: State, *, keep: bool = False,
                    on_failure: Callable[[], None] | None = None) -> None:
    """What follows once the container's program runs, for start and run alike (the one call
    site of the poststart hooks): runtime.md lifecycle step 9 makes a failing one an error, the
    container is stopped (``on_failure`` then closes what the caller holds) and destroyed, but
    for ``run --keep``."""
    if not st.config.get("hooks"):
        return
    from ..errors import HookError
    from ..hooks import run_poststart

    try:
        run_poststart(st, ctx.log)
    except HookError:
        from .teardown import destroy, kill_all

        kill_all(st)
        if on_failure is not None:
            on_failure()
        if not keep:
            with store.lock(st.id):
                destroy(ctx, store, st)
        raise
