"""Spawning and timing runtime commands for bench.py (standard library only).

A Spawner runs one command (``timed``), a list of commands one after another (``sequential``) or
all at once (``parallel``), and measures them with time.perf_counter around posix_spawn + wait4,
so that the peak RSS of each command comes from the kernel (wait4's ru_maxrss, in KiB: the
maximum over the process and the descendants it waited for).  stdin and stdout are /dev/null;
stderr goes to a scratch file so that a failing command's message can be recorded.

RemoteSpawner does the same in a helper process (this file run as a script, ``serve``), which
can first move itself into a private mount namespace without the cgroup2 mount at
/sys/fs/cgroup/unified.  crun 1.8.1 refuses to create a container on a hybrid cgroup layout
whose cgroup2 hierarchy has controllers (even with --cgroup-manager=disabled); in that namespace
it sees a legacy (v1 only) layout.  Timing happens inside the helper, so the pipe between the two
processes is not part of any measurement.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

_DEVNULL = None


def _devnull() -> int:
    global _DEVNULL
    if _DEVNULL is None:
        _DEVNULL = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
    return _DEVNULL


def _first_line(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line[:300]
    return ""


class _ErrFile:
    """A scratch file a child writes its stderr to (one per concurrently running child)."""

    def __init__(self) -> None:
        self.f = tempfile.TemporaryFile(prefix="ocirun-bench-err-")

    def reset(self) -> None:
        self.f.seek(0)
        self.f.truncate()

    def message(self) -> str:
        self.f.seek(0)
        return _first_line(self.f.read(8192))

    def close(self) -> None:
        self.f.close()


def _spawn(argv: list[str], errfd: int) -> int:
    dn = _devnull()
    actions = [
        (os.POSIX_SPAWN_DUP2, dn, 0),
        (os.POSIX_SPAWN_DUP2, dn, 1),
        (os.POSIX_SPAWN_DUP2, errfd, 2),
    ]
    return os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)


def _result(status: int, ru, err: _ErrFile, elapsed: float | None) -> dict:
    rc = os.waitstatus_to_exitcode(status)
    out = {"rc": rc, "maxrss": int(ru.ru_maxrss)}
    if elapsed is not None:
        out["t"] = elapsed
    if rc != 0:
        msg = err.message()
        out["err"] = f"exit {rc}" + (f": {msg}" if msg else "") if rc > 0 else f"killed by signal {-rc}"
    return out


class Spawner:
    """Runs commands here, in this process's namespaces."""

    def __init__(self) -> None:
        self._err = _ErrFile()

    def timed(self, argv: list[str]) -> dict:
        """One command: {"t": seconds, "rc", "maxrss": KiB, "err" when rc != 0}."""
        err = self._err
        err.reset()
        try:
            t0 = time.perf_counter()
            pid = _spawn(argv, err.f.fileno())
            _, status, ru = os.wait4(pid, 0)
            t1 = time.perf_counter()
        except OSError as e:
            return {"rc": -1000, "maxrss": 0, "t": 0.0, "err": f"spawn {argv[0]}: {e}"}
        return _result(status, ru, err, t1 - t0)

    def sequential(self, argvs: list[list[str]]) -> dict:
        """The commands one after another: {"t": total seconds, "items": [per command, timed]}."""
        err = self._err
        items = []
        t0 = time.perf_counter()
        for argv in argvs:
            err.reset()
            try:
                s0 = time.perf_counter()
                pid = _spawn(argv, err.f.fileno())
                _, status, ru = os.wait4(pid, 0)
                s1 = time.perf_counter()
            except OSError as e:
                items.append({"rc": -1000, "maxrss": 0, "t": 0.0, "err": f"spawn {argv[0]}: {e}"})
                continue
            items.append(_result(status, ru, err, s1 - s0))
        t1 = time.perf_counter()
        return {"t": t1 - t0, "items": items}

    def parallel(self, argvs: list[list[str]]) -> dict:
        """All the commands started at once: {"t": first spawn to last exit, "items": [...]}."""
        errs = [_ErrFile() for _ in argvs]
        pids: list[int | None] = []
        spawn_errors: dict[int, str] = {}
        try:
            t0 = time.perf_counter()
            for i, argv in enumerate(argvs):
                try:
                    pids.append(_spawn(argv, errs[i].f.fileno()))
                except OSError as e:
                    pids.append(None)
                    spawn_errors[i] = f"spawn {argv[0]}: {e}"
            waited = []
            for pid in pids:
                waited.append(os.wait4(pid, 0) if pid is not None else None)
            t1 = time.perf_counter()
            items = []
            for i, w in enumerate(waited):
                if w is None:
                    items.append({"rc": -1000, "maxrss": 0, "err": spawn_errors[i]})
                else:
                    items.append(_result(w[1], w[2], errs[i], None))
        finally:
            for e in errs:
                e.close()
        return {"t": t1 - t0, "items": items}

    def capture(self, argv: list[str], timeout: float = 60.0) -> dict:
        """Not timed: {"rc", "out", "err"} (stdout as text)."""
        try:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            return {"rc": -1000, "out": "", "err": str(e)}
        return {"rc": p.returncode, "out": p.stdout.decode("utf-8", "replace"), "err": _first_line(p.stderr)}

    def close(self) -> None:
        self._err.close()


# -- the helper process -------------------------------------------------------------------------

CLONE_NEWNS = 0x00020000
MS_REC = 0x4000
MS_SLAVE = 1 << 19
MNT_DETACH = 2


def _hide_cgroup2(path: str) -> None:
    """unshare the mount namespace (host mounts still propagate in) and detach ``path`` in it."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    def check(ret: int, what: str) -> None:
        if ret != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"{what}: {os.strerror(e)}")

    check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    check(libc.mount(b"none", b"/", None, MS_REC | MS_SLAVE, None), "make / rslave")
    check(libc.umount2(path.encode(), MNT_DETACH), f"umount {path}")


def serve(hide: str | None) -> None:
    """Answers one JSON request per line on stdin with one JSON line on stdout."""
    import signal

    # Ctrl-C (or a SIGTERM to the process group) is for bench.py, which then cleans up through us;
    # when bench.py goes away, stdin ends and so do we
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    out = sys.stdout
    ready: dict = {"ok": True}
    if hide:
        try:
            _hide_cgroup2(hide)
        except OSError as e:
            ready = {"ok": False, "err": str(e)}
    out.write(json.dumps(ready) + "\n")
    out.flush()
    if not ready["ok"]:
        return
    sp = Spawner()
    for line in sys.stdin:
        req = json.loads(line)
        op = req["op"]
        if op == "quit":
            break
        if op == "timed":
            res = sp.timed(req["argv"])
        elif op == "sequential":
            res = sp.sequential(req["argvs"])
        elif op == "parallel":
            res = sp.parallel(req["argvs"])
        elif op == "capture":
            res = sp.capture(req["argv"])
        else:
            res = {"rc": -1000, "err": f"unknown op {op}"}
        out.write(json.dumps(res) + "\n")
        out.flush()
    sp.close()


class RemoteSpawner:
    """A Spawner in a helper process (optionally with /sys/fs/cgroup/unified detached there)."""

    def __init__(self, hide: str | None) -> None:
        cmd = [sys.executable, "-I", "-S", os.path.abspath(__file__), "serve"]
        if hide:
            cmd.append(hide)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        first = self.proc.stdout.readline()
        ready = json.loads(first) if first else {"ok": False, "err": "helper exited"}
        if not ready.get("ok"):
            self.close()
            raise OSError(f"bench helper: {ready.get('err')}")

    def _ask(self, req: dict) -> dict:
        try:
            self.proc.stdin.write(json.dumps(req) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except (OSError, ValueError) as e:
            line = ""
            err = str(e)
        else:
            err = "helper process died"
        if not line:
            return {"rc": -1000, "maxrss": 0, "t": 0.0, "err": err, "items": [], "out": ""}
        return json.loads(line)

    def timed(self, argv: list[str]) -> dict:
        return self._ask({"op": "timed", "argv": argv})

    def sequential(self, argvs: list[list[str]]) -> dict:
        return self._ask({"op": "sequential", "argvs": argvs})

    def parallel(self, argvs: list[list[str]]) -> dict:
        return self._ask({"op": "parallel", "argvs": argvs})

    def capture(self, argv: list[str], timeout: float = 60.0) -> dict:
        return self._ask({"op": "capture", "argv": argv})

    def close(self) -> None:
        p = self.proc
        if p.poll() is None:
            try:
                p.stdin.write(json.dumps({"op": "quit"}) + "\n")
                p.stdin.flush()
            except (OSError, ValueError):
                pass
        for f in (p.stdin, p.stdout):
            try:
                f.close()
            except OSError:
                pass
        try:
            p.wait(timeout=10)
        except (subprocess.TimeoutExpired, ChildProcessError):
            pass


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "serve":
        serve(sys.argv[2] if len(sys.argv) > 2 else None)
    else:
        sys.exit("usage: _proc.py serve [PATH-TO-DETACH]")
