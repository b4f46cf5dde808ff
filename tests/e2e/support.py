"""Helpers of the e2e tests: the runtimes, running client commands, waiting, and leftovers."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..integration.support import leaked_cgroups as cgroups_named  # noqa: F401 (for the e2e tests)
from ..integration.support import other_processes

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OCIRUN = REPO / ".venv" / "bin" / "ocirun"
DEFAULT_RUNC = "/usr/bin/runc"
WORK_BASE = Path(os.environ.get("OCIRUN_E2E_TMP", "/tmp/ocirun-e2e"))
COMMAND_TIMEOUT = 60.0


@dataclass(frozen=True)
class EngineRuntime:
    """The OCI runtime a client is told to use."""

    name: str
    binary: str


def runtime_binary(name: str, config: pytest.Config) -> str:
    """As tests/conftest.py: a missing ocirun fails (never a green skip), a missing runc skips."""
    if name == "ocirun":
        path = os.environ.get("OCIRUN_BIN") or str(DEFAULT_OCIRUN)
        if not os.access(path, os.X_OK):
            pytest.fail(f"ocirun binary not found or not executable at {path}", pytrace=False)
        return path
    runc = DEFAULT_RUNC if os.access(DEFAULT_RUNC, os.X_OK) else shutil.which("runc")
    if not runc:
        if config.getoption("--runtime") is not None:
            pytest.fail("runc is not installed", pytrace=False)
        pytest.skip("runc is not installed")
    return runc


def engine_runtimes(config: pytest.Config) -> dict[str, str]:
    """The runtimes an engine's setup names ({name: binary}): ocirun, and runc unless it skips."""
    runtimes = {}
    for name in ("ocirun", "runc"):
        with contextlib.suppress(pytest.skip.Exception):
            runtimes[name] = runtime_binary(name, config)
    return runtimes


def engine_dir(prefix: str) -> Path:
    """A new directory under WORK_BASE for an engine's configuration, storage and state."""
    WORK_BASE.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=os.path.realpath(WORK_BASE)))


def require(*programs: str) -> None:
    """Skips (the module, at import) unless every program is installed."""
    missing = [p for p in programs if shutil.which(p) is None and not os.access(p, os.X_OK)]
    if missing:
        pytest.skip(
            f"not installed: {', '.join(missing)} (.ci/run installs them: apt-get install podman "
            f"conmon containerd docker.io)",
            allow_module_level=True,
        )


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"{' '.join(self.args)} exited {self.returncode}\nstdout: {self.stdout}\nstderr: {self.stderr}"


class CommandFailed(AssertionError):
    pass


def run(
    args: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    check: bool = True,
    timeout: float = COMMAND_TIMEOUT,
    input: str | None = None,
) -> Result:
    """Runs a client command; stdout and stderr go to files (a detached container may inherit
    them: a pipe would keep us waiting)."""
    args = [str(a) for a in args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.run(
                args,
                stdin=subprocess.DEVNULL if input is None else None,
                input=input.encode() if input is not None else None,
                stdout=out,
                stderr=err,
                env=env,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise CommandFailed(f"timed out after {timeout}s: {' '.join(args)}") from None
        out.seek(0)
        err.seek(0)
        res = Result(
            args, proc.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace")
        )
    if check and res.returncode != 0:
        raise CommandFailed(str(res))
    return res


# A container program that says it has started, then waits (sh loops: no image needs sleep infinity)
LOOP = "echo started; while :; do sleep 0.1; done"


def wait_until(
    predicate: Callable[[], object], what: str, timeout: float = 20.0, interval: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# ---------------------------------------------------------------------------- leftovers


def mounts_under(path: Path | str) -> list[str]:
    prefix = os.path.realpath(str(path))
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4].encode().decode("unicode_escape")
            if point == prefix or point.startswith(prefix + "/"):
                found.append(point)
    return found


def unmount_all(path: Path | str) -> None:
    for point in reversed(mounts_under(path)):
        subprocess.run(["umount", "-l", point], capture_output=True)


def processes_mentioning(words: Sequence[str]) -> dict[int, str]:
    """Processes whose cwd, root, exe, cmdline or cgroup path mentions one of ``words``: their
    command lines."""
    return {
        p.pid: p.cmdline
        for p in other_processes()
        if any(w in t for t in (*p.links, p.cmdline, p.cgroup) for w in words)
    }


def remove_cgroups(paths: Sequence[str]) -> list[str]:
    """rmdir each (deepest first); the ones that could not be removed."""
    left = []
    for path in sorted(paths, key=len, reverse=True):
        for dirpath, _, _ in sorted(os.walk(path), key=lambda w: len(w[0]), reverse=True):
            try:
                os.rmdir(dirpath)
            except FileNotFoundError:
                pass
            except OSError:
                left.append(dirpath)
    return left


def stop_daemon(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """SIGTERM, then SIGKILL: our own daemon, by its pid."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def remove_new_host_paths(paths: Sequence[str], existed: set[str]) -> list[str]:
    """Removes those of ``paths`` (host paths a daemon makes outside its private directories, in
    /run, /etc, ...) that did not exist before (``existed``): a file is unlinked, a directory
    removed only as far as it is empty (deepest first: nothing of anyone else is touched).  The
    ones still there."""
    left = []
    for path in sorted(set(paths) - existed, key=len, reverse=True):
        if os.path.isdir(path) and not os.path.islink(path):
            for dirpath, _, _ in sorted(os.walk(path), key=lambda w: len(w[0]), reverse=True):
                with contextlib.suppress(OSError):
                    os.rmdir(dirpath)
        elif os.path.lexists(path):
            os.unlink(path)
        if os.path.lexists(path):
            left.append(path)
    return left


def existing(paths: Sequence[str]) -> set[str]:
    return {p for p in paths if os.path.lexists(p)}


class ContainerdDaemon:
    """A containerd of the test's own: root, state, sockets and the opt plugin's directory under
    ``base``, no CRI plugin; stopped by its pid.  Its shims' sockets are in /run/containerd/s
    (containerd 1.6 has them there whatever its state directory)."""

    HOST_PATHS = ("/run/containerd/s", "/run/containerd")
    START_TIMEOUT = 30.0  # seconds for it to answer (more in an emulated guest)

    def __init__(self, base: Path) -> None:
        self.base = base
        self.socket = base / "containerd.sock"
        self.config = base / "config.toml"
        self.config.write_text(f"""\
version = 2
root = "{base}/root"
state = "{base}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "{self.socket}"

[ttrpc]
  address = "{self.socket}.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{base}/opt"
""")
        self.log = base / "containerd.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                ["containerd", "--config", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        version = ["ctr", "--address", str(self.socket), "version"]
        try:
            wait_until(
                lambda: self.proc.poll() is not None
                or run(version, check=False, timeout=self.START_TIMEOUT / 3).returncode == 0,
                "containerd to answer",
                timeout=self.START_TIMEOUT,
                interval=0.1,
            )
        except AssertionError:
            self.stop()
            raise
        if self.proc.poll() is not None:
            raise AssertionError(f"containerd exited {self.proc.returncode}: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        stop_daemon(self.proc)
