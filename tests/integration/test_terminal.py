"""Terminals: process.terminal with --console-socket (the pty master arrives over the socket with
SCM_RIGHTS), consoleSize, /dev/console, the controlling terminal, exec -t, and a foreground run or
exec attached to the caller's own terminal (a pty of the test's)."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.ptyrun import PtyProcess

from .support import SLOWDOWN, Bundle, Runtime, expect_error, parse_json

PTS_MAJOR = 136  # the first of the Unix98 pty slave majors (136-143)


class ConsoleListener:
    """The --console-socket: an AF_UNIX listener of ours; ``receive`` accepts one connection and
    returns the pty master sent over it (SCM_RIGHTS), as conmon and containerd's shim do."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(4)
        self.masters: list[int] = []
        self.names: list[bytes] = []

    def receive(self, timeout: float = 10.0 * SLOWDOWN) -> int:
        self.sock.settimeout(timeout)
        conn, _ = self.sock.accept()
        with conn:
            conn.settimeout(timeout)
            msg, fds, _flags, _addr = socket.recv_fds(conn, 4096, 4)
        for fd in fds[1:]:
            os.close(fd)
        assert len(fds) == 1, f"expected one fd over the console socket, got {len(fds)}"
        self.masters.append(fds[0])
        self.names.append(msg)
        return fds[0]

    def close(self) -> None:
        for fd in self.masters:
            os.close(fd)
        self.masters.clear()
        self.sock.close()


@pytest.fixture
def console(runtime: Runtime) -> Iterator[ConsoleListener]:
    listener = ConsoleListener(runtime.workdir / "console.sock")
    yield listener
    listener.close()


def read_until(fd: int, want: bytes, timeout: float = 10.0 * SLOWDOWN, count: int = 1) -> bytes:
    """Reads the pty master until ``want`` appeared ``count`` times (or EOF); what was read."""
    data = b""
    deadline = time.monotonic() + timeout
    while data.count(want) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{want!r} did not appear (x{count}) on the terminal: {data!r}")
        if not select.select([fd], [], [], min(left, 0.2))[0]:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: no slave open any more
            chunk = b""
        if not chunk:
            raise AssertionError(f"EOF before {want!r} (x{count}) on the terminal: {data!r}")
        data += chunk
    return data


def read_to_eof(fd: int, timeout: float = 10.0 * SLOWDOWN) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"the terminal was not closed: {data!r}")
        if not select.select([fd], [], [], min(left, 0.2))[0]:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return data
        if not chunk:
            return data
        data += chunk


def json_lines(data: bytes) -> list[Any]:
    out = []
    for line in data.decode(errors="replace").replace("\r", "").splitlines():
        line = line.strip()
        if line.startswith(("{", "[")):
            out.append(json.loads(line))
    return out


def terminal_bundle(bundle: Bundle, *args: str, size: tuple[int, int] | None = None) -> Bundle:
    bundle.process["terminal"] = True
    if size is not None:
        bundle.process["consoleSize"] = {"height": size[0], "width": size[1]}
    bundle.set_args(*args)
    return bundle


def create_with_console(rt: Runtime, bundle: Bundle, console: ConsoleListener) -> tuple[str, int]:
    cid = rt.create(bundle, extra=["--console-socket", str(console.path)])
    return cid, console.receive()


def start_sleeper(rt: Runtime, bundle: Bundle) -> str:
    bundle.set_args("/bin/probe", "sleep", "600")
    cid = rt.create(bundle)
    rt.start(cid)
    return cid


# ---------------------------------------------------------------------------- create --console-socket


def test_console_socket_io(runtime: Runtime, bundle: Bundle, console: ConsoleListener) -> None:
    terminal_bundle(bundle, "/bin/probe", "cat")
    cid, master = create_with_console(runtime, bundle, console)
    assert os.isatty(master)
    runtime.start(cid)
    os.write(master, b"ping\n")
    # the pty echoes the line, then cat writes it back
    read_until(master, b"ping", count=2)
    os.write(master, b"\x04")  # end of file for cat
    runtime.wait_status(cid, "stopped")
    read_to_eof(master)
    out, _err = runtime.output(cid)
    assert out == "", "the container's stdout is the terminal, not the runtime's"
    runtime.delete(cid)


def test_console_socket_message(runtime: Runtime, bundle: Bundle, console: ConsoleListener) -> None:
    """What runc sends along with the fd (consumers such as conmon ignore it, but read it)."""
    terminal_bundle(bundle, "/bin/probe", "exit", "0")
    cid, _ = create_with_console(runtime, bundle, console)
    assert console.names == [b"/dev/ptmx"]
    runtime.delete(cid, force=True)


def test_console_size(runtime: Runtime, bundle: Bundle, console: ConsoleListener) -> None:
    terminal_bundle(bundle, "/bin/busybox", "stty", "size", size=(33, 101))
    cid, master = create_with_console(runtime, bundle, console)
    runtime.start(cid)
    assert b"33 101" in read_to_eof(master)
    runtime.wait_status(cid, "stopped")
    runtime.delete(cid)


SCRIPT = (
    "/bin/probe stat /dev/console /dev/pts/0; /bin/probe pid; /bin/probe tty; /bin/busybox tty; "
    "/bin/busybox cat /proc/self/stat; echo; echo ctty-ok > /dev/tty"
)


def test_console_and_controlling_terminal(runtime: Runtime, bundle: Bundle, console: ConsoleListener) -> None:
    terminal_bundle(bundle, "/bin/sh", "-c", SCRIPT)
    cid, master = create_with_console(runtime, bundle, console)
    runtime.start(cid)
    data = read_to_eof(master)
    runtime.wait_status(cid, "stopped")
    runtime.delete(cid)
    text = data.decode(errors="replace").replace("\r", "")
    stats, pids, ttys = json_lines(data)[:3]
    console_st, pts0 = stats
    assert console_st["exists"] and console_st["type"] == "char", console_st
    assert (console_st["major"], console_st["minor"]) == (pts0["major"], pts0["minor"]) == (PTS_MAJOR, 0)
    assert pids["sid"] == 1, "the container's init leads the session"
    assert ttys == {"stdin": True, "stdout": True, "stderr": True}
    assert "/dev/pts/0\n" in text
    stat_line = next(line for line in text.splitlines() if re.match(r"^\d+ \((busybox|cat)\) ", line))
    tty_nr = int(stat_line.rsplit(")", 1)[1].split()[4])
    assert os.major(tty_nr) == PTS_MAJOR, f"no controlling terminal: tty_nr {tty_nr} in {stat_line!r}"
    assert "ctty-ok" in text, "/dev/tty (the controlling terminal) could not be opened"


def test_terminal_belongs_to_the_process_user(
    runtime: Runtime, bundle: Bundle, console: ConsoleListener
) -> None:
    terminal_bundle(bundle, "/bin/probe", "stat", "/dev/pts/0")
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    cid, master = create_with_console(runtime, bundle, console)
    runtime.start(cid)
    [st] = json_lines(read_to_eof(master))[0]
    runtime.wait_status(cid, "stopped")
    runtime.delete(cid)
    assert st["uid"] == 1000, st
    assert st["gid"] == 5, "the group is devpts's gid=5 (tty)"
    assert st["mode"] & 0o777 == 0o620, st


def test_run_detach_with_console_socket(runtime: Runtime, bundle: Bundle, console: ConsoleListener) -> None:
    terminal_bundle(bundle, "/bin/probe", "cat")
    cid = runtime.new_id()
    bundle.write_config(cid)
    runtime.run("run", "-d", "--console-socket", str(console.path), "--bundle", str(bundle.path), cid)
    master = console.receive()
    os.write(master, b"detached\n")
    read_until(master, b"detached", count=2)
    assert runtime.status(cid) == "running"
    os.write(master, b"\x04")
    runtime.wait_status(cid, "stopped")
    runtime.delete(cid)


def test_create_terminal_without_console_socket_errors(runtime: Runtime, bundle: Bundle) -> None:
    terminal_bundle(bundle, "/bin/probe", "exit", "0")
    res = runtime.try_create(bundle)
    expect_error(
        runtime, res, both=r"(^|: )cannot allocate tty if \w+ will detach without setting console socket$"
    )
    cid = runtime.new_id()
    bundle.write_config(cid)
    res = runtime.run("run", "-d", "--bundle", str(bundle.path), cid, check=False)
    expect_error(
        runtime, res, both=r"(^|: )cannot allocate tty if \w+ will detach without setting console socket$"
    )
    assert runtime.ids_in_root() == []
    assert runtime.leaks() == []


def test_console_socket_without_terminal_errors(
    runtime: Runtime, bundle: Bundle, console: ConsoleListener
) -> None:
    bundle.set_args("/bin/probe", "exit", "0")
    res = runtime.try_create(bundle, extra=["--console-socket", str(console.path)])
    expect_error(
        runtime, res, both=r"(^|: )cannot use console socket if \w+ will not detach or allocate tty$"
    )
    assert runtime.ids_in_root() == []


def test_foreground_run_with_console_socket_errors(
    runtime: Runtime, bundle: Bundle, console: ConsoleListener
) -> None:
    """runc: a console socket is for a runtime that detaches; run in the foreground refuses it."""
    terminal_bundle(bundle, "/bin/probe", "exit", "0")
    status, _, err = runtime.run_container(bundle, extra=["--console-socket", str(console.path)])
    assert status == 1, err
    assert "cannot use console socket if" in err and "will not detach or allocate tty" in err
    assert runtime.ids_in_root() == []
    assert runtime.leaks() == []


def test_missing_console_socket_errors(runtime: Runtime, bundle: Bundle) -> None:
    terminal_bundle(bundle, "/bin/probe", "exit", "0")
    res = runtime.try_create(bundle, extra=["--console-socket", str(runtime.workdir / "nonexistent.sock")])
    assert res.returncode == 1
    assert "no such file or directory" in res.stderr.lower(), res.stderr
    assert runtime.ids_in_root() == []
    assert runtime.leaks() == []


# ---------------------------------------------------------------------------- exec -t


def test_exec_tty_with_console_socket(runtime: Runtime, bundle: Bundle, console: ConsoleListener) -> None:
    """What containerd's shim and conmon run: exec -d -t --console-socket S --pid-file F."""
    cid = start_sleeper(runtime, bundle)
    try:
        pid_file = runtime.workdir / "exec.pid"
        runtime.run(
            "exec",
            "-d",
            "-t",
            "--console-socket",
            str(console.path),
            "--pid-file",
            str(pid_file),
            cid,
            "/bin/sh",
            "-c",
            "/bin/busybox tty; read x; echo got:$x; exit 3",
        )
        master = console.receive()
        pid = int(pid_file.read_text())
        data = read_until(master, b"/dev/pts/")
        os.write(master, b"hello\n")
        data += read_until(master, b"got:hello")
        assert b"/dev/pts/0" in data, data
        read_to_eof(master)
        deadline = time.monotonic() + 10 * SLOWDOWN
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert runtime.status(cid) == "running"
    finally:
        runtime.delete(cid, force=True)


def test_exec_process_file_console_size(runtime: Runtime, bundle: Bundle, console: ConsoleListener) -> None:
    """containerd passes the terminal's size as process.consoleSize of the exec'd process."""
    cid = start_sleeper(runtime, bundle)
    try:
        process = {
            "terminal": True,
            "consoleSize": {"height": 20, "width": 70},
            "user": {"uid": 0, "gid": 0},
            "args": ["/bin/busybox", "stty", "size"],
            "cwd": "/",
            "env": ["PATH=/bin"],
        }
        path = runtime.workdir / "process.json"
        path.write_text(json.dumps(process))
        runtime.run("exec", "-d", "--console-socket", str(console.path), "--process", str(path), cid)
        assert b"20 70" in read_to_eof(console.receive())
    finally:
        runtime.delete(cid, force=True)


def test_exec_tty_errors(runtime: Runtime, bundle: Bundle, console: ConsoleListener) -> None:
    cid = start_sleeper(runtime, bundle)
    try:
        res = runtime.run("exec", "-d", "-t", cid, "/bin/probe", "pid", check=False)
        expect_error(
            runtime,
            res,
            exit_code=255,
            both=r"^exec failed: cannot allocate tty if \w+ will detach without setting console socket$",
        )
        res = runtime.run(
            "exec", "-t", "--console-socket", str(console.path), cid, "/bin/probe", "pid", check=False
        )
        expect_error(
            runtime,
            res,
            exit_code=255,
            both=r"^exec failed: cannot use console socket if \w+ will not detach or allocate tty$",
        )
        res = runtime.run(
            "exec", "-d", "--console-socket", str(console.path), cid, "/bin/probe", "pid", check=False
        )
        expect_error(
            runtime,
            res,
            exit_code=255,
            both=r"^exec failed: cannot use console socket if \w+ will not detach or allocate tty$",
        )
        assert runtime.status(cid) == "running"
    finally:
        runtime.delete(cid, force=True)


def test_exec_tty_leaves_dev_console_alone(
    runtime: Runtime, bundle: Bundle, console: ConsoleListener
) -> None:
    """/dev/console is the init's terminal; an exec'd process's terminal does not replace it."""
    terminal_bundle(bundle, "/bin/probe", "sleep", "600")
    cid, master = create_with_console(runtime, bundle, console)
    try:
        runtime.start(cid)
        runtime.run("exec", "-d", "-t", "--console-socket", str(console.path), cid, "/bin/busybox", "tty")
        assert b"/dev/pts/1" in read_to_eof(console.receive())
        [st] = parse_json(runtime.run("exec", cid, "/bin/probe", "stat", "/dev/console").stdout)
        assert (st["major"], st["minor"]) == (PTS_MAJOR, 0), st
        mounts = parse_json(runtime.run("exec", cid, "/bin/probe", "mounts").stdout)
        assert len([m for m in mounts if m["target"] == "/dev/console"]) == 1
    finally:
        runtime.delete(cid, force=True)
    del master


def test_exec_tty_makes_no_dev_console(runtime: Runtime, bundle: Bundle, console: ConsoleListener) -> None:
    cid = start_sleeper(runtime, bundle)
    try:
        runtime.run("exec", "-d", "-t", "--console-socket", str(console.path), cid, "/bin/busybox", "tty")
        read_to_eof(console.receive())
        [st] = parse_json(runtime.run("exec", cid, "/bin/probe", "stat", "/dev/console").stdout)
        assert not st["exists"], st
    finally:
        runtime.delete(cid, force=True)


# ---------------------------------------------------------------------------- the caller's terminal


def test_run_attached_to_the_callers_terminal(runtime: Runtime, bundle: Bundle) -> None:
    """Foreground run with process.terminal and no console socket, in a terminal: keystrokes in,
    output out, the window size and its changes passed on, the exit status, the terminal restored."""
    terminal_bundle(bundle, "/bin/sh")
    cid = runtime.new_id()
    bundle.write_config(cid)
    with PtyProcess(runtime.command("run", "--bundle", str(bundle.path), cid), rows=33, cols=101) as term:
        term.expect("# ")
        term.write("echo $((6*7)); /bin/busybox tty; /bin/busybox stty size\r")
        term.expect("33 101")
        out = term.output.decode(errors="replace")
        assert "42" in out and "/dev/pts/0" in out, out
        term.resize(40, 120, "/bin/busybox stty size\r")
        term.write("exit 5\r")
        assert term.wait() == 5, term.output
        after = term.termios()
    assert after == term.initial_termios, "the caller's terminal settings are put back"
    assert runtime.ids_in_root() == []


def test_run_terminal_newlines(runtime: Runtime, bundle: Bundle) -> None:
    """The runtime clears ONLCR on the container's pty when it relays it: the caller's terminal
    adds the carriage returns once (runc's tty.go)."""
    terminal_bundle(bundle, "/bin/probe", "echo", "x")
    cid = runtime.new_id()
    bundle.write_config(cid)
    with PtyProcess(runtime.command("run", "--bundle", str(bundle.path), cid)) as term:
        assert term.wait() == 0
    assert b'["x"]\r\n' in term.output, term.output
    assert b"\r\r\n" not in term.output, term.output


@pytest.mark.xfail_runtime("runc", strict=False, reason="runc 1.1.5 clears ONLCR in its own process once the "
                           "container's pty reaches it, racing the container's first output (seen under load)")
@pytest.mark.parametrize("verb", ["run", "exec"])
def test_terminal_output_to_a_file_has_plain_newlines(runtime: Runtime, bundle: Bundle, tmp_path: Path,
                                                      verb: str) -> None:
    """Foreground run (and exec -t) in a terminal with its stdout redirected to a file: the file
    gets the container's lines ending in "\\n", not "\\r\\n", because the runtime clears ONLCR
    on the container's pty (runc's tty.go), so scripts capturing the output get no carriage
    returns."""
    import shlex

    out = tmp_path / "out"
    cid = None
    if verb == "run":
        terminal_bundle(bundle, "/bin/sh", "-c", "echo one; echo two")
        cid = runtime.new_id()
        bundle.write_config(cid)
        cmd = runtime.command("run", "--bundle", str(bundle.path), cid)
    else:
        cid = start_sleeper(runtime, bundle)
        cmd = runtime.command("exec", "-t", cid, "/bin/sh", "-c", "echo one; echo two")
    try:
        with PtyProcess(["/bin/sh", "-c", f"exec {shlex.join(cmd)} > {shlex.quote(str(out))}"]) as term:
            assert term.wait() == 0, term.output
        assert out.read_bytes() == b"one\ntwo\n"
    finally:
        if verb == "exec":
            runtime.delete(cid, force=True)


TRAP = "trap 'echo got-{sig}; exit 9' {sig}; echo ready; while :; do /bin/busybox sleep 0.1; done"


def test_run_terminal_ctrl_c(runtime: Runtime, bundle: Bundle) -> None:
    """^C typed in the caller's terminal becomes SIGINT for the container's foreground processes."""
    terminal_bundle(bundle, "/bin/sh", "-c", TRAP.format(sig="INT"))
    cid = runtime.new_id()
    bundle.write_config(cid)
    with PtyProcess(runtime.command("run", "--bundle", str(bundle.path), cid)) as term:
        term.expect("ready")
        term.write(b"\x03")
        assert term.wait() == 9, term.output
    assert b"got-INT" in term.output


def test_run_terminal_forwards_signals(runtime: Runtime, bundle: Bundle) -> None:
    """A signal to the runtime is passed on to the container's process."""
    terminal_bundle(bundle, "/bin/sh", "-c", TRAP.format(sig="TERM"))
    cid = runtime.new_id()
    bundle.write_config(cid)
    with PtyProcess(runtime.command("run", "--bundle", str(bundle.path), cid)) as term:
        term.expect("ready")
        os.kill(term.pid, signal.SIGTERM)
        assert term.wait() == 9, term.output
    assert b"got-TERM" in term.output


@pytest.mark.xfail_runtime(
    "runc",
    reason="runc 1.1.5 wants a terminal of its own for this (open /dev/tty: no such device or address)",
)
def test_run_terminal_with_stdin_closed(runtime: Runtime, bundle: Bundle) -> None:
    """Not in a terminal at all (stdin /dev/null, stdout a file): the relay still works."""
    terminal_bundle(bundle, "/bin/sh", "-c", "/bin/busybox tty; exit 7")
    status, out, err = runtime.run_container(bundle)
    assert status == 7, err
    assert "/dev/pts/0" in out


def test_exec_tty_attached_to_the_callers_terminal(runtime: Runtime, bundle: Bundle) -> None:
    cid = start_sleeper(runtime, bundle)
    try:
        with PtyProcess(runtime.command("exec", "-t", cid, "/bin/sh"), rows=25, cols=90) as term:
            term.expect("# ")
            term.write("/bin/busybox tty; /bin/busybox stty size; exit 4\r")
            assert term.wait() == 4, term.output
        out = term.output.decode(errors="replace")
        assert "/dev/pts/0" in out and "25 90" in out, out
        assert runtime.status(cid) == "running"
    finally:
        runtime.delete(cid, force=True)


def test_exec_without_tty_in_a_terminal(runtime: Runtime, bundle: Bundle) -> None:
    """exec without -t from a terminal: runc does not hand the caller's terminal to the process
    (it relays stdio through pipes), so the process cannot act on the host's terminal."""
    cid = start_sleeper(runtime, bundle)
    try:
        with PtyProcess(runtime.command("exec", cid, "/bin/probe", "tty")) as term:
            assert term.wait() == 0, term.output
        assert json_lines(term.output)[-1] == {"stdin": False, "stdout": False, "stderr": False}
    finally:
        runtime.delete(cid, force=True)


def test_process_without_terminal_has_a_session_of_its_own(runtime: Runtime, bundle: Bundle) -> None:
    pids = runtime.run_probe(bundle, "pid")
    assert pids["sid"] == pids["pid"] == pids["pgid"] == 1, pids
