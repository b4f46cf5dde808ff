"""Runs a command on a pseudo-terminal of its own, as a person at a terminal would: the command's
stdin, stdout and stderr are the pty's slave, which is also its controlling terminal (util-linux
``setsid --ctty``); the test writes keystrokes to the master and reads the screen output back."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Sequence


class PtyProcess:
    def __init__(
        self,
        argv: Sequence[str],
        *,
        rows: int = 24,
        cols: int = 80,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        self.master, slave = pty.openpty()
        try:
            self.set_size(rows, cols, fd=slave)
            self.initial_termios = termios.tcgetattr(slave)
            self.proc = subprocess.Popen(
                ["setsid", "--wait", "--ctty", *argv],
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=env,
                cwd=cwd,
                close_fds=True,
            )
        finally:
            os.close(slave)
        self.output = b""
        self.argv = list(argv)

    def set_size(self, rows: int, cols: int, fd: int | None = None) -> None:
        fcntl.ioctl(
            self.master if fd is None else fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0)
        )

    def termios(self) -> list[object]:
        """The terminal's current attributes (tcgetattr on a pty master reports its slave's)."""
        return termios.tcgetattr(self.master)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def write(self, data: str | bytes) -> None:
        os.write(self.master, data.encode() if isinstance(data, str) else data)

    def _read_some(self, timeout: float) -> bool:
        """Reads what is there within ``timeout``; False at EOF (every slave fd closed)."""
        ready, _, _ = select.select([self.master], [], [], max(timeout, 0))
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the slave side is closed
            return False
        if not data:
            return False
        self.output += data
        return True

    def expect(self, text: str | bytes, timeout: float = 15.0) -> bytes:
        """Reads until ``text`` has appeared in the output (since the start); the output so far."""
        want = text.encode() if isinstance(text, str) else text
        deadline = time.monotonic() + timeout
        while want not in self.output:
            left = deadline - time.monotonic()
            if left <= 0 or not self._read_some(min(left, 0.2)):
                if want in self.output:
                    break
                raise AssertionError(
                    f"{want!r} did not appear on the terminal of {self.argv}; output so far: {self.output!r}"
                )
        return self.output

    def resize(self, rows: int, cols: int, command: str, timeout: float = 15.0) -> bytes:
        """Changes the window size and types ``command`` (one that prints "ROWS COLS") until the
        new size shows.  The change reaches the container asynchronously, through a client that
        may not handle SIGWINCH yet when the first one comes (ctr installs its handler once the
        task has started): the size is changed again, by way of rows-1, before each try."""
        deadline = time.monotonic() + timeout
        want = f"{rows} {cols}".encode()
        while True:
            start = len(self.output)
            self.set_size(rows - 1, cols)
            self.set_size(rows, cols)
            time.sleep(0.05)
            self.write(command)
            until = min(time.monotonic() + 1.0, deadline)
            while want not in self.output[start:] and time.monotonic() < until:
                if not self._read_some(0.1):
                    break
            if want in self.output[start:]:
                return self.output
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"the size {want!r} did not show after typing {command!r} on the terminal "
                    f"of {self.argv}; output so far: {self.output!r}"
                )

    def wait(self, timeout: float = 30.0) -> int:
        """Reads to EOF and reaps the command; its exit status."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read_some(0.1)
        while self._read_some(0.05) and time.monotonic() < deadline + 1:
            if self.proc.poll() is not None and not select.select([self.master], [], [], 0.05)[0]:
                break
        try:
            return self.proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.argv} did not exit; terminal output: {self.output!r}") from None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        if self.master >= 0:
            os.close(self.master)
            self.master = -1

    def __enter__(self) -> PtyProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def interactive_shell(command: Sequence[str], env: dict[str, str] | None = None) -> None:
    """``command`` runs a container's ``sh`` on a terminal (run -it, run -t): used through a pty
    as a person would, it is on /dev/pts/0 of the size asked (33x101), follows a resize, and its
    exit status (5) is the command's."""
    with PtyProcess(command, rows=33, cols=101, env=env) as term:
        term.expect("# ")
        term.write("echo $((6*7)); tty; stty size\r")
        term.expect("33 101")
        out = term.output.decode(errors="replace")
        assert "42" in out and "/dev/pts/0" in out, out
        term.resize(40, 120, "stty size\r")
        term.write("exit 5\r")
        assert term.wait() == 5, term.output


def exec_shell(command: Sequence[str], env: dict[str, str] | None = None) -> None:
    """``command`` execs ``sh`` on a terminal into a running container (exec -it, task exec -t):
    it is on a pty of the size asked (20x70), and its exit status (6) is the command's."""
    with PtyProcess(command, rows=20, cols=70, env=env) as term:
        term.expect("# ")
        term.write("tty; stty size; exit 6\r")
        term.expect("20 70")
        assert term.wait() == 6, term.output
    assert b"/dev/pts/" in term.output
