"""Terminals: the console socket, and the relay between the caller's terminal and a container's pty.

With ``process.terminal`` the container's init stage opens a pty of the container's devpts (after
pivot_root) and sends its master over the console socket (OP_CONSOLE).  The socket is:

- the one named by ``--console-socket`` (podman's conmon, containerd's shim listen on it), or
- for a foreground ``run`` or ``exec -t`` without one, a socketpair of ours: ocirun then receives
  the master and relays between its own stdin/stdout and the pty, with the caller's terminal in
  raw mode and window-size changes passed on, until the container's process exits.
"""

from __future__ import annotations

from . import _os as os
from . import shim

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

TIOCGWINSZ = 0x5413
TIOCSWINSZ = 0x5414


class ConsoleSocket:
    """The socket the init stage sends the pty master on: ``child_fd`` goes to the init stage."""

    __slots__ = ("child_fd", "parent_fd")

    def __init__(self, child_fd: int, parent_fd: int = -1) -> None:
        self.child_fd = child_fd
        self.parent_fd = parent_fd

    @classmethod
    def connect(cls, path: str) -> ConsoleSocket:
        """To the caller's --console-socket."""
        return cls(shim.connect_unix(path))

    @classmethod
    def own(cls) -> ConsoleSocket:
        """A socketpair: ocirun itself takes the master (receive_master)."""
        parent, child = shim.socketpair()
        return cls(child, parent)

    def receive_master(self) -> int:
        return shim.recv_fd(self.parent_fd)

    def close_child(self) -> None:
        if self.child_fd >= 0:
            os.close(self.child_fd)
            self.child_fd = -1

    def close(self) -> None:
        self.close_child()
        if self.parent_fd >= 0:
            os.close(self.parent_fd)
            self.parent_fd = -1


def _copy_winsize(src: int, dst: int) -> None:
    import fcntl

    buf = bytearray(8)
    try:
        fcntl.ioctl(src, TIOCGWINSZ, buf)
        fcntl.ioctl(dst, TIOCSWINSZ, buf)
    except OSError:
        pass


def relay(master: int, wait: Callable[[], int]) -> int:
    """Copies stdin to the pty and the pty to stdout until the container's process has exited;
    returns ``wait()``'s exit status.  The caller's terminal is raw meanwhile (but for output
    processing)."""
    import _signal
    import select

    stdin_tty = os.isatty(0)
    saved = None
    if stdin_tty:
        import termios
        import tty

        saved = termios.tcgetattr(0)
        tty.setraw(0)
        # ... but with output processing, as runc's (containerd/console SetRaw): the container's
        # pty has no ONLCR (plan._console), so this terminal turns its "\n" into "\r\n" once.
        raw = termios.tcgetattr(0)
        raw[1] |= termios.OPOST
        termios.tcsetattr(0, termios.TCSANOW, raw)
        _copy_winsize(0, master)
        old_winch = _signal.signal(_signal.SIGWINCH, lambda *_: _copy_winsize(0, master))
    try:
        poller = select.poll()
        poller.register(master, select.POLLIN)
        stdin_open = True
        poller.register(0, select.POLLIN)
        while True:
            for fd, events in poller.poll():
                if fd == master:
                    try:
                        data = os.read(master, 65536)
                    except OSError:  # EIO: every slave fd is closed, the process is gone
                        data = b""
                    if not data:
                        return wait()
                    _write_all(1, data)
                elif stdin_open:
                    data = os.read(0, 65536) if events & (select.POLLIN | select.POLLHUP) else b""
                    if not data:
                        stdin_open = False
                        poller.unregister(0)
                        _write_all(master, b"\x04")  # EOF to the terminal's reader
                    else:
                        _write_all(master, data)
    finally:
        if saved is not None:
            import termios

            termios.tcsetattr(0, termios.TCSADRAIN, saved)
            _signal.signal(_signal.SIGWINCH, old_winch)
        os.close(master)


class StdioPipes:
    """The container's stdin, stdout and stderr as pipes that ocirun relays to its own (runc's
    foreground mode without a terminal), used when ocirun's stdio is a terminal: the container must
    not get the caller's terminal itself (TIOCSTI could type into it)."""

    __slots__ = ("child", "parent")

    def __init__(self) -> None:
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        self.child = [(in_r, 0), (out_w, 1), (err_w, 2)]  # (fd, stdio number in the container)
        self.parent = [in_w, out_r, err_r]

    @staticmethod
    def wanted() -> bool:
        return any(os.isatty(fd) for fd in (0, 1, 2))

    def close_child(self) -> None:
        for fd, _ in self.child:
            os.close(fd)
        self.child = []

    def close(self) -> None:
        self.close_child()
        for fd in self.parent:
            if fd >= 0:
                os.close(fd)
        self.parent = []

    def relay(self, wait: Callable[[], int]) -> int:
        """Copies until the container's stdout and stderr are closed; then ``wait()``."""
        import select

        in_w, out_r, err_r = self.parent
        poller = select.poll()
        targets = {out_r: 1, err_r: 2}
        for fd in targets:
            poller.register(fd, select.POLLIN)
        stdin_open = True
        poller.register(0, select.POLLIN)
        try:
            while targets:
                for fd, _events in poller.poll():
                    if fd == 0:
                        data = os.read(0, 65536) if stdin_open else b""
                        if data:
                            try:
                                _write_all(in_w, data)
                                continue
                            except BrokenPipeError:
                                pass
                        stdin_open = False
                        poller.unregister(0)
                        os.close(in_w)
                        self.parent[0] = -1
                    else:
                        data = os.read(fd, 65536)
                        if data:
                            _write_all(targets[fd], data)
                        else:
                            poller.unregister(fd)
                            del targets[fd]
            return wait()
        finally:
            self.close()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
