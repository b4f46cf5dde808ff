"""Rootless podman on ocirun, and on runc as the oracle (issue 17): run, run -it, exec, stop, rm,
logs, and a slirp4netns network, as a user that is not root.

The module makes a user of its own (``useradd``, removed with ``userdel`` at the end) with a
subordinate id range in /etc/subuid and /etc/subgid (both files are put back byte for byte),
and gives it a directory under /tmp: HOME, XDG_RUNTIME_DIR (mode 0700), XDG_CONFIG_HOME ($HOME/.config) with
``containers/containers.conf`` (the cgroupfs manager, the file events logger, ``netns = "none"``,
both runtimes in ``[engine.runtimes]``) and ``containers/storage.conf`` (overlay, else vfs, under
the directory).  podman runs as the user through setpriv; it starts its own user namespace
(newuidmap/newgidmap, Debian's uidmap) and calls the runtime as root in it.  The image is
imported from the rootfs tarball of images.py: no registry.  Afterwards ``podman system reset``,
the user's processes (its pause process) are gone, its directory is removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..integration.support import User, throwaway_user
from . import images
from . import podman_cases as cases
from .podman_cases import name_for, start_loop
from .support import (
    EngineRuntime,
    Result,
    engine_dir,
    engine_runtimes,
    require,
    run,
    unmount_all,
    wait_until,
)

require("podman", "conmon", "newuidmap", "newgidmap", "useradd", "userdel", "setpriv")

IMAGE = images.PODMAN_IMAGE
SUB_START = 3_300_000  # the user's subordinate ids: SUB_START .. SUB_START+SUB_COUNT-1
SUB_COUNT = 65536
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def user_pids(uid: int) -> dict[int, str]:
    """The live processes (not zombies: this machine's pid 1 may not reap) whose real uid is
    ``uid``: their names and command lines ("podman pause: podman")."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("Uid", "").split()[:1] == [str(uid)] and not fields.get("State", "").strip().startswith("Z"):
            args = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()
            found[int(entry)] = f"{fields.get('Name', '').strip()}: {args}"
    return found


class RootlessPodman:
    """podman run by ``user`` with its home, runtime directory, configuration and storage under
    ``base``."""

    prefix = "rl"

    def __init__(self, base: Path, user: User, runtimes: dict[str, str]) -> None:
        self.base, self.user = base, user
        # the configuration in $HOME/.config as well as XDG_CONFIG_HOME: conmon passes HOME, not
        # XDG_CONFIG_HOME, to podman's exit command (container cleanup), which must find it too
        self.home, self.run_dir = base / "home", base / "run"
        self.config = self.home / ".config"
        for d in (self.home, self.run_dir, self.config / "containers", base / "tmp"):
            d.mkdir(parents=True, mode=0o700)
        (self.config / "containers" / "containers.conf").write_text(f"""\
[containers]
netns = "none"
log_driver = "k8s-file"

[engine]
runtime = "ocirun"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{base}/events.log"
runtime_supports_json = [{", ".join(json.dumps(n) for n in sorted(runtimes))}]

[engine.runtimes]
{chr(10).join(f"{name} = [{json.dumps(path)}]" for name, path in runtimes.items())}
""")
        (self.config / "containers" / "registries.conf").write_text("unqualified-search-registries = []\n")
        self.write_storage_conf("overlay")
        subprocess.run(["chown", "-R", f"{user.uid}:{user.gid}", str(base)], check=True)
        self.env = {"PATH": PATH, "HOME": str(self.home), "USER": user.name, "XDG_RUNTIME_DIR": str(self.run_dir),
                    "XDG_CONFIG_HOME": str(self.config), "TMPDIR": str(base / "tmp")}

    def write_storage_conf(self, driver: str) -> None:
        (self.config / "containers" / "storage.conf").write_text(f"""\
[storage]
driver = "{driver}"
runroot = "{self.run_dir}/s"
graphroot = "{self.base}/graph"
""")
        os.chown(self.config / "containers" / "storage.conf", self.user.uid, self.user.gid)

    def command(self, *args: str, runtime: EngineRuntime | None = None) -> list[str]:
        return ["setpriv", f"--reuid={self.user.uid}", f"--regid={self.user.gid}", "--init-groups", "--",
                "env", "-i", *(f"{k}={v}" for k, v in self.env.items()),
                "podman", *(["--runtime", runtime.name] if runtime else []), *map(str, args)]

    def __call__(self, *args: str, runtime: EngineRuntime | None = None, check: bool = True, timeout: float = 60,
                 input: str | None = None) -> Result:
        return run(self.command(*args, runtime=runtime), check=check, timeout=timeout, input=input)

    def names(self) -> list[str]:
        return self("ps", "-a", "--format", "{{.Names}}").stdout.split()

    def inspect(self, name: str) -> dict[str, Any]:
        data: list[dict[str, Any]] = json.loads(self("inspect", name).stdout)
        return data[0]


@pytest.fixture(scope="module")
def rootless(image_dir: Path, request: pytest.FixtureRequest) -> Iterator[RootlessPodman]:
    """The module's user and its podman (both runtimes configured), the image imported."""
    runtimes = engine_runtimes(request.config)
    # short: podman's exit command (container cleanup) refuses a runroot longer than 50 characters,
    # and then nothing marks the container exited (an attached run waits out a 20 s timeout)
    base = engine_dir("prl-")
    assert len(f"{base}/run/s") <= 50, f"{base}: too long for podman's runroot (OCIRUN_E2E_TMP)"
    os.chmod(base, 0o755)
    shutil.copy(image_dir / "rootfs.tar", base / "rootfs.tar")
    left: dict[int, str] = {}
    with throwaway_user("ocirp", 24100, SUB_START, SUB_COUNT) as user:
        pm = RootlessPodman(base, user, runtimes)
        try:
            if pm("info", check=False).returncode != 0:  # no rootless overlay on this kernel: vfs
                pm.write_storage_conf("vfs")
            pm("import", "--change", "CMD=/bin/sh", str(base / "rootfs.tar"), IMAGE, timeout=120)
            yield pm
        finally:
            pm("rm", "--all", "--force", "--time", "0", check=False)
            pm("system", "reset", "--force", check=False, timeout=120)
            with contextlib.suppress(AssertionError):
                wait_until(lambda: not user_pids(user.uid), "the user's processes to end", timeout=10)
            left = user_pids(user.uid)
            unmount_all(base)
            shutil.rmtree(base, ignore_errors=True)
    assert not left, f"processes of the rootless user left: {left}"


@pytest.fixture
def pm(rootless: RootlessPodman, runtime: EngineRuntime) -> Iterator[RootlessPodman]:
    """The module's podman; after the test no container may be left (they are removed, and the
    test fails), nor a process of the user but podman's pause process, nor the runtime's state."""
    yield rootless
    problems = cases.remove_left(rootless)
    def others() -> dict[int, str]:  # podman's pause process stays for the module
        return {p: c for p, c in user_pids(rootless.user.uid).items() if not c.startswith("podman pause:")}

    with contextlib.suppress(AssertionError):  # conmon ends after `rm` returns (late under load)
        wait_until(lambda: not others(), "the container's conmon to end", timeout=10)
    procs = others()
    problems += [f"process left: {p} {c!r}" for p, c in procs.items()]
    state = rootless.run_dir / ("runc" if runtime.name == "runc" else "ocirun")
    problems += [f"runtime state left: {p}" for p in (state.iterdir() if state.is_dir() else ())
                 if not p.name.startswith(".")]
    cases.fail_on(problems)


# ---------------------------------------------------------------------------- run


def test_run_rm(pm: RootlessPodman, runtime: EngineRuntime) -> None:
    """The container's root is the user, its other ids the user's subordinate range; its /dev
    works (the host's nodes, bound: no mknod in a user namespace); the exit status comes back."""
    script = "id -u; cat /proc/self/uid_map /proc/self/gid_map; echo x > /dev/null && cat /dev/null; " \
             "head -c 4 /dev/zero | wc -c; echo err >&2; exit 3"
    res = pm("run", "--rm", IMAGE, "sh", "-c", script, runtime=runtime, check=False)
    assert (res.returncode, res.stderr) == (3, "err\n"), res
    lines = [" ".join(line.split()) for line in res.stdout.splitlines()]
    u = pm.user
    assert lines == ["0", f"0 {u.uid} 1", f"1 {SUB_START} {SUB_COUNT}", f"0 {u.gid} 1",
                     f"1 {SUB_START} {SUB_COUNT}", "4"], res
    assert pm.names() == []


def test_run_as_a_user_with_stdin(pm: RootlessPodman, runtime: EngineRuntime) -> None:
    """--user maps into the subordinate range (1000 in the container is SUB_START+999 on the host)."""
    res = pm("run", "--rm", "-i", "--user", "1000:1000", "--workdir", "/tmp", IMAGE, "sh", "-c",
             'echo "$(id -u):$(id -g) $(pwd)"; tr a-z A-Z; grep ^Uid: /proc/self/status', runtime=runtime,
             input="piped in\n")
    lines = res.stdout.splitlines()
    assert lines[:2] == ["1000:1000 /tmp", "PIPED IN"], res
    assert lines[2].split()[1:] == ["1000"] * 4


# ---------------------------------------------------------------------------- detached: logs, exec, stop, rm


def test_run_detached_and_logs(pm: RootlessPodman, runtime: EngineRuntime) -> None:
    name = name_for(pm, runtime, "logs")
    try:
        state = cases.detached_logs(pm, runtime, name)
        # the container's root is the user on the host
        status = Path(f"/proc/{state['Pid']}/status").read_text()
        assert re.search(rf"^Uid:\s+{pm.user.uid}\s", status, re.M), status
    finally:
        pm("rm", "-f", "-t", "0", name)


def test_exec(pm: RootlessPodman, runtime: EngineRuntime) -> None:
    name = start_loop(pm, runtime, "exec")
    try:
        res = pm("exec", name, "sh", "-c", "echo in-exec; exit 3", check=False)
        assert (res.returncode, res.stdout) == (3, "in-exec\n"), res
        res = pm("exec", "--user", "1000", "-e", "FOO=bar", name, "sh", "-c", 'echo "$(id -u) $FOO"')
        assert res.stdout == "1000 bar\n"
        res = pm("exec", "-i", name, "cat", input="through stdin\n")
        assert res.stdout == "through stdin\n"
        ps = pm("exec", name, "ps", "-o", "pid,args").stdout
        assert re.search(r"^\s*1\s+sh -c echo started", ps, re.M), ps
        assert pm("exec", name, "no-such-command", check=False).returncode == 127
    finally:
        pm("rm", "-f", "-t", "0", name)


def test_rm(pm: RootlessPodman, runtime: EngineRuntime) -> None:
    """rm of an exited container, rm -f of a running one (its process gone), rm of a running one
    without -f refused."""
    name = name_for(pm, runtime, "rm")
    pm("run", "--name", name, IMAGE, "true", runtime=runtime)
    pm("rm", name)
    name = start_loop(pm, runtime, "rmf")
    pid = pm.inspect(name)["State"]["Pid"]
    try:
        assert pm("rm", name, check=False).returncode != 0
    finally:
        pm("rm", "-f", "-t", "0", name)
    assert not os.path.exists(f"/proc/{pid}") or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    assert pm.names() == []


# ---------------------------------------------------------------------------- network


class _Listener:
    """A TCP server on the host's loopback that answers each connection with one line."""

    def __init__(self, line: bytes) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.line = line
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.sock.accept()
                with conn:
                    conn.sendall(self.line)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


def test_network_slirp4netns(pm: RootlessPodman, runtime: EngineRuntime) -> None:
    """--network slirp4netns: the container's tap0 with slirp's address and default route, and a
    connection to a listener on the host's loopback (allow_host_loopback: 10.0.2.2; no outside
    network is used).  podman 4.3 has no pasta network yet (4.4)."""
    if shutil.which("slirp4netns") is None:
        pytest.skip("slirp4netns is not installed (.ci/run installs it)")
    server = _Listener(b"hello-from-host\n")
    try:
        res = pm("run", "--rm", "--network", "slirp4netns:allow_host_loopback=true", IMAGE, "sh", "-c",
                 f"ip -4 addr show tap0 | grep -o 'inet [0-9./]*'; ip route | grep ^default; "
                 f"nc 10.0.2.2 {server.port} < /dev/null", runtime=runtime)
    finally:
        server.close()
    lines = res.stdout.splitlines()
    assert lines[0] == "inet 10.0.2.100/24", res
    assert lines[1].startswith("default via 10.0.2.2 dev tap0"), res
    assert lines[2] == "hello-from-host", res


@pytest.mark.parametrize("case", [cases.run_it_through_a_pty, cases.exec_it_through_a_pty, cases.stop],
                         ids=lambda case: case.__name__)
def test_shared_case(pm: RootlessPodman, runtime: EngineRuntime, case: cases.Case) -> None:
    """What podman as root and rootless podman are both checked for (podman_cases.py)."""
    case(pm, runtime)
