"""Log lines as runc writes them, so that containerd and podman can read ocirun's.

    text: time="2026-11-30T09:43:00Z" level=error msg="container does not exist"
    json: {"level":"error","msg":"container does not exist","time":"2026-11-30T09:43:00Z"}

Lines go to the --log file (appended) or, without one, to stderr.  containerd's runc shim shows its
users the msg of the last "level":"error" line, so errors are always logged.  No ``logging``: it
costs milliseconds to import.
"""

from __future__ import annotations

import time

from . import _os as os
from ._json import dumps

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Logger:
    __slots__ = ("fd", "json", "level", "path")

    def __init__(self, path: str | None = None, fmt: str = "text", debug: bool = False) -> None:
        self.path = path
        self.json = fmt == "json"
        self.level = LEVELS["debug" if debug else "warning"]
        self.fd = -1

    @property
    def to_stderr(self) -> bool:
        return not self.path

    def open(self) -> None:
        """Creates the --log file now (runc creates it at start, even with nothing to write);
        raises OSError."""
        self._fd()

    def _fd(self) -> int:
        if self.fd < 0:
            if self.path:
                self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
            else:
                self.fd = 2
        return self.fd

    def format(self, level: str, msg: str) -> str:
        if self.json:
            return dumps({"level": level, "msg": msg, "time": _now()})
        return f"time={dumps(_now())} level={level} msg={dumps(msg)}"

    def log(self, level: str, msg: str) -> None:
        if LEVELS[level] < self.level:
            return
        line = (self.format(level, msg) + "\n").encode()
        try:
            os.write(self._fd(), line)
        except OSError:
            pass

    @property
    def debugging(self) -> bool:
        """--debug: worth formatting debug lines."""
        return self.level <= LEVELS["debug"]

    def debug(self, msg: str) -> None:
        self.log("debug", msg)

    def info(self, msg: str) -> None:
        self.log("info", msg)

    def warning(self, msg: str) -> None:
        self.log("warning", msg)

    def log_note(self, note: str) -> None:
        """A note of the planner: "debug: ..." at debug level, anything else as a warning (runc 1.1
        raises ambient capabilities silently, so that note is a debug line)."""
        if note.startswith("debug: "):
            self.debug(note[7:])
        else:
            self.warning(note)

    def error(self, msg: str) -> None:
        self.log("error", msg)

    def close(self) -> None:
        if self.fd > 2:
            os.close(self.fd)
        self.fd = -1
