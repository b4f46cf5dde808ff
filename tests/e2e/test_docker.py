"""Docker (Debian's docker.io 20.10: dockerd over containerd 1.6 and its runc v2 shim) on ocirun,
and on runc (Docker's built-in ``runc`` runtime) as the oracle.

The module starts a dockerd of its own: a private daemon.json naming ocirun in "runtimes" (as the
README tells users to), data root, exec root, pid file, key file and socket in a temporary
directory, a containerd of its own (``--containerd``, as Debian's docker.service does), no bridge,
no iptables, no IP forwarding, overlay2 storage and a cgroup parent of its own.  The image is a
``docker import`` of the busybox rootfs tarball, and every run has ``--pull never``: no registry,
no network.  Containers run with ``--network none``, with which Docker still sets its
``net.ipv4.ip_unprivileged_port_start`` sysctl and lists /proc/sys in readonlyPaths (issue 11).
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import images
from .ptyrun import PtyProcess
from .support import (
    LOOP,
    ContainerdDaemon,
    EngineRuntime,
    Result,
    engine_dir,
    existing,
    mounts_under,
    processes_mentioning,
    remove_cgroups,
    remove_new_host_paths,
    require,
    run,
    runtime_binary,
    stop_daemon,
    unmount_all,
    wait_until,
)

# /usr/local/bin/docker may be another client: Debian's, by path.
DOCKERD = "/usr/sbin/dockerd"
DOCKER = "/usr/bin/docker"
require(DOCKERD, DOCKER, "containerd", "ctr", "containerd-shim-runc-v2")

IMAGE = "ocirun-e2e-busybox:latest"
MiB = 1024 * 1024


class Docker:
    """A dockerd of the test's own over ``containerd``, everything of it under ``base``."""

    # What dockerd 20.10 makes outside its data and exec roots, found by running it: /run/docker
    # (its plugin socket directory, always).  The key file would be /etc/docker/key.json, but
    # daemon.json moves it; the defaults of the rest are here for the check afterwards.
    HOST_PATHS = (
        "/run/docker/plugins",
        "/run/docker",
        "/etc/docker/key.json",
        "/var/lib/docker",
        "/run/docker.sock",
        "/run/docker.pid",
    )

    def __init__(self, base: Path, containerd: ContainerdDaemon, ocirun: str) -> None:
        self.base = base
        self.socket = base / "docker.sock"
        self.data_root = base / "data"
        self.cgroup_parent = f"ocirun-e2e-docker-{uuid.uuid4().hex[:8]}"
        (base / "daemon.json").write_text(
            json.dumps({"runtimes": {"ocirun": {"path": ocirun}}, "deprecated-key-path": str(base / "key.json")})
        )
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")},
            "DOCKER_HOST": f"unix://{self.socket}",
            "DOCKER_CONFIG": str(base / "client"),
        }
        self.log = base / "dockerd.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [
                    DOCKERD,
                    "--config-file",
                    str(base / "daemon.json"),
                    "--containerd",
                    str(containerd.socket),
                    "--data-root",
                    str(self.data_root),
                    "--exec-root",
                    str(base / "exec"),
                    "--pidfile",
                    str(base / "docker.pid"),
                    "-H",
                    f"unix://{self.socket}",
                    "--storage-driver",
                    "overlay2",
                    "--cgroup-parent",
                    f"/{self.cgroup_parent}",
                    "--bridge=none",
                    "--iptables=false",
                    "--ip6tables=false",
                    "--ip-masq=false",
                    "--ip-forward=false",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=self.env,
                start_new_session=True,
            )
        try:
            wait_until(
                lambda: self.proc.poll() is not None or self("version", check=False, timeout=10).returncode == 0,
                "dockerd to answer",
                timeout=60,
                interval=0.2,
            )
        except AssertionError:
            self.stop()
            raise
        if self.proc.poll() is not None:
            raise AssertionError(f"dockerd exited {self.proc.returncode}: {self.log.read_text()[-3000:]}")

    def command(self, *args: str) -> list[str]:
        return [DOCKER, *map(str, args)]

    def __call__(self, *args: str, check: bool = True, timeout: float = 60, input: str | None = None) -> Result:
        return run(self.command(*args), env=self.env, check=check, timeout=timeout, input=input)

    def ids(self) -> list[str]:
        return self("ps", "-a", "-q", "--no-trunc").stdout.split()

    def inspect(self, name: str) -> dict[str, Any]:
        data: list[dict[str, Any]] = json.loads(self("inspect", name).stdout)
        return data[0]

    def state(self, name: str) -> dict[str, Any]:
        state: dict[str, Any] = self.inspect(name)["State"]
        return state

    def container_cgroups(self) -> list[str]:
        """The cgroups under the daemon's cgroup parent, in every hierarchy (v1 or v2)."""
        return sorted(glob.glob(f"/sys/fs/cgroup/*/{self.cgroup_parent}/*/")
                      + glob.glob(f"/sys/fs/cgroup/{self.cgroup_parent}/*/"))

    def stop(self) -> None:
        stop_daemon(self.proc, timeout=30)


@pytest.fixture(scope="module")
def docker(image_dir: Path, request: pytest.FixtureRequest) -> Iterator[Docker]:
    """One dockerd (and its containerd) per module, shared by both runtimes, the image imported;
    afterwards both are stopped by pid and everything they made is removed."""
    ocirun = runtime_binary("ocirun", request.config)
    base = engine_dir("docker-")
    host_paths = existing([*Docker.HOST_PATHS, *ContainerdDaemon.HOST_PATHS])
    (base / "containerd").mkdir()
    containerd = ContainerdDaemon(base / "containerd")
    dk: Docker | None = None
    try:
        dk = Docker(base, containerd, ocirun)
        dk("import", "--change", 'CMD ["/bin/sh"]', str(image_dir / "rootfs.tar"), IMAGE)
        yield dk
    finally:
        if dk is not None:
            if dk.proc.poll() is None:
                ids = dk.ids()
                if ids:
                    dk("rm", "--force", *ids, check=False)
                dk("rmi", "--force", IMAGE, check=False)
            dk.stop()
        containerd.stop()
        unmount_all(base)
        left_cgroups = remove_cgroups(glob.glob(f"/sys/fs/cgroup/*/{dk.cgroup_parent}")) if dk else []
        left_procs = processes_mentioning([str(base)])
        shutil.rmtree(base, ignore_errors=True)
        left_paths = remove_new_host_paths(Docker.HOST_PATHS, host_paths)
        # the shims' socket directory, as far as it is empty (another containerd may use it)
        remove_new_host_paths(ContainerdDaemon.HOST_PATHS, host_paths)
        assert not left_procs, f"processes left: {left_procs}"
        assert not left_cgroups, f"cgroups left: {left_cgroups}"
        assert not left_paths, f"host paths left by dockerd: {left_paths}"


@pytest.fixture
def dk(docker: Docker, runtime: EngineRuntime) -> Iterator[Docker]:
    """The module's dockerd; after the test no container may be left (they are removed, and the
    test fails), nor a mount, a process or a cgroup of one."""
    yield docker
    ids = docker.ids()
    if ids:
        docker("rm", "--force", *ids, check=False)
    problems = [f"containers left (removed now): {ids}"] if ids else []
    problems += [f"mount left: {m}" for m in mounts_under(docker.data_root / "overlay2")]
    problems += [f"mount left: {m}" for m in mounts_under(docker.base / "containerd" / "state")]
    cgroups = docker.container_cgroups()
    if cgroups:
        remove_cgroups(cgroups)
        problems.append(f"cgroups left (removed now): {cgroups}")
    problems += [f"process left: {p} {d!r}" for p, d in (processes_mentioning(ids) if ids else {}).items()]
    if problems:
        pytest.fail("leftovers after the test:\n  " + "\n  ".join(problems), pytrace=False)


def name_for(runtime: EngineRuntime, tag: str) -> str:
    return f"e2e-{tag}-{runtime.name}-{uuid.uuid4().hex[:6]}"


def run_args(runtime: EngineRuntime, *flags: str) -> list[str]:
    """`docker run` on ``runtime``, the image never pulled, no network but the loopback."""
    return ["run", "--runtime", runtime.name, "--pull", "never", "--network", "none", *flags]


def start_loop(dk: Docker, runtime: EngineRuntime, tag: str, *flags: str, script: str = LOOP) -> str:
    """A detached container running ``script`` (it prints "started"), once it has."""
    name = name_for(runtime, tag)
    try:
        dk(*run_args(runtime, "-d", "--name", name, *flags), IMAGE, "sh", "-c", script)
        wait_until(lambda: "started" in dk("logs", name).stdout, f"{name} to start")
    except BaseException:
        dk("rm", "-f", name, check=False)
        raise
    return name


# ---------------------------------------------------------------------------- run


def test_run_with_docker_stock_settings(dk: Docker, runtime: EngineRuntime) -> None:
    """Issue 11: Docker sets net.ipv4.ip_unprivileged_port_start=0 for every container not on the
    host network and makes /proc/sys read-only; the sysctl is written before that."""
    res = dk("run", "--runtime", runtime.name, "--rm", "--network", "none", IMAGE, "echo", "hi")
    assert (res.returncode, res.stdout) == (0, "hi\n"), res
    res = dk(
        *run_args(runtime, "--rm"),
        IMAGE,
        "sh",
        "-c",
        "cat /proc/sys/net/ipv4/ip_unprivileged_port_start; grep ' /proc/sys ' /proc/self/mountinfo; "
        "echo 1024 2>/dev/null > /proc/sys/net/ipv4/ip_unprivileged_port_start || echo refused",
    )
    value, mount, refused = res.stdout.splitlines()
    assert value == "0", res
    assert mount.split()[5].split(",")[0] == "ro", mount
    assert refused == "refused", res
    assert dk.ids() == []


def test_run_sysctls(dk: Docker, runtime: EngineRuntime) -> None:
    """--sysctl for a net.* and a kernel.* (IPC) key, read back inside."""
    res = dk(
        *run_args(runtime, "--rm", "--sysctl", "net.core.somaxconn=1000", "--sysctl", "kernel.msgmax=65536"),
        IMAGE,
        "cat",
        "/proc/sys/net/core/somaxconn",
        "/proc/sys/kernel/msgmax",
    )
    assert res.stdout.split() == ["1000", "65536"], res


def test_run_exit_codes(dk: Docker, runtime: EngineRuntime) -> None:
    """The command's status; 127 for a command not found and 126 for one not executable (Docker
    maps the runtime's error message)."""
    res = dk(*run_args(runtime, "--rm"), IMAGE, "sh", "-c", "echo out; echo err >&2; exit 3", check=False)
    assert (res.returncode, res.stdout, res.stderr) == (3, "out\n", "err\n"), res
    res = dk(*run_args(runtime, "--rm"), IMAGE, "no-such-command", check=False)
    assert res.returncode == 127, res
    assert '"no-such-command": executable file not found in $PATH' in res.stderr, res.stderr
    res = dk(*run_args(runtime, "--rm"), IMAGE, "/no/such/path", check=False)
    assert res.returncode == 127, res
    res = dk(*run_args(runtime, "--rm"), IMAGE, images.NOT_EXECUTABLE, check=False)
    assert res.returncode == 126, res
    assert "permission denied" in res.stderr, res.stderr
    wait_until(lambda: dk.ids() == [], "the failed containers to be removed")


def test_run_process_settings(dk: Docker, runtime: EngineRuntime) -> None:
    """--user, --workdir, -e, --hostname, -i, --cap-drop/--cap-add (CAP_KILL is bit 5)."""
    res = dk(
        *run_args(runtime, "--rm", "--user", "1000:100", "--workdir", "/tmp", "-e", "FOO=bar"),
        *("--hostname", "e2e-host", IMAGE, "sh", "-c"),
        'echo "$(id -u):$(id -g) $(pwd) $FOO $(hostname)"',
    )
    assert res.stdout == "1000:100 /tmp bar e2e-host\n", res
    res = dk(*run_args(runtime, "--rm", "-i"), IMAGE, "tr", "a-z", "A-Z", input="piped in\n")
    assert res.stdout == "PIPED IN\n", res
    res = dk(
        *run_args(runtime, "--rm", "--cap-drop", "ALL", "--cap-add", "KILL"),
        *(IMAGE, "grep", "^CapEff", "/proc/self/status"),
    )
    assert res.stdout.split() == ["CapEff:", "0000000000000020"], res


def test_run_read_only(dk: Docker, runtime: EngineRuntime) -> None:
    res = dk(
        *run_args(runtime, "--rm", "--read-only", "--tmpfs", "/scratch"),
        IMAGE,
        "sh",
        "-c",
        "touch /etc/x 2>/dev/null && echo wrote-etc; touch /scratch/y && echo wrote-scratch",
    )
    assert res.stdout == "wrote-scratch\n", res


def cgroup_of(pid: int, controller: str) -> str:
    """The process's cgroup path in the v1 hierarchy of ``controller``, or its cgroup v2 path on a
    pure cgroup v2 host."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(",") or (controllers == "" and PURE_V2):
            return path
    raise AssertionError(f"no {controller} cgroup for {pid}")


PURE_V2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")


def memory_file(path: str, v1: str, v2: str) -> Path:
    """A memory file of the cgroup ``path``: ``v1`` in the v1 memory hierarchy, else ``v2``."""
    return Path(f"/sys/fs/cgroup{path}/{v2}") if PURE_V2 else Path(f"/sys/fs/cgroup/memory{path}/{v1}")


def test_memory_limit_and_update(dk: Docker, runtime: EngineRuntime) -> None:
    """-m 64m is the limit of the container's cgroup (below the daemon's cgroup parent): in the v1
    memory hierarchy, or memory.max on pure cgroup v2; docker update changes it (the runtime's
    update), and the container sees the new limit."""
    if not PURE_V2 and not os.path.isdir("/sys/fs/cgroup/memory"):
        pytest.skip("no cgroup v1 memory hierarchy and not pure cgroup v2")
    name = start_loop(dk, runtime, "memory", "-m", "64m")
    try:
        info = dk.inspect(name)
        path = cgroup_of(info["State"]["Pid"], "memory")
        assert path == f"/{dk.cgroup_parent}/{info['Id']}", path
        limit = memory_file(path, "memory.limit_in_bytes", "memory.max")
        assert int(limit.read_text()) == 64 * MiB
        dk("update", "--memory", "128m", "--memory-swap", "256m", name)
        assert int(limit.read_text()) == 128 * MiB
        inside = "/sys/fs/cgroup/memory.max" if PURE_V2 else "/sys/fs/cgroup/memory/memory.limit_in_bytes"
        res = dk("exec", name, "cat", inside)
        assert int(res.stdout) == 128 * MiB, res
    finally:
        dk("rm", "-f", name)


def test_memory_limit_is_enforced(dk: Docker, runtime: EngineRuntime) -> None:
    """A container that touches 64 MiB under -m 16m is OOM-killed: exit status 137 and Docker's
    State.OOMKilled (from the OOM event the shim reads in the cgroup the runtime made)."""
    if any(line.split()[2] != "0" for line in Path("/proc/swaps").read_text().splitlines()[1:]):
        pytest.skip("the host has swap: the hog would swap instead of being killed")
    name = name_for(runtime, "oom")
    try:
        # dd reads 64 MiB of zeros into one buffer: every page of it is touched
        res = dk(*run_args(runtime, "--name", name, "-m", "16m"), IMAGE,
                 "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1", check=False)
        state = dk.state(name)
        assert (res.returncode, state["ExitCode"], state["OOMKilled"]) == (137, 137, True), (res, state)
    finally:
        dk("rm", name, check=False)


# Docker 20.10 puts no consoleSize in the spec: its client sets the terminal's size once the
# container has started (docker/cli#3554, moby#43593 for 23.0), so a command typed at once may
# still see 0x0 on any runtime.  The size is checked with retries (PtyProcess.resize).


def test_run_it_through_a_pty(dk: Docker, runtime: EngineRuntime) -> None:
    with PtyProcess(dk.command(*run_args(runtime, "-it", "--rm"), IMAGE, "sh"), rows=33, cols=101, env=dk.env) as term:
        term.expect("# ")
        term.write("echo $((6*7)); tty\r")
        term.expect("/dev/pts/0")
        assert "42" in term.output.decode(errors="replace"), term.output
        term.resize(33, 101, "stty size\r")
        term.resize(40, 120, "stty size\r")
        term.write("exit 5\r")
        assert term.wait() == 5, term.output
    wait_until(lambda: dk.ids() == [], "the container to be removed")


# ---------------------------------------------------------------------------- detached containers


def test_run_detached_and_logs(dk: Docker, runtime: EngineRuntime) -> None:
    name = name_for(runtime, "logs")
    try:
        dk(*run_args(runtime, "-d", "--name", name), IMAGE, "sh", "-c", "echo one; echo two >&2; sleep 600")
        wait_until(lambda: "two" in dk("logs", name).stderr, "the logs")
        logs = dk("logs", name)
        assert (logs.stdout, logs.stderr) == ("one\n", "two\n"), logs
        info = dk.inspect(name)
        assert info["State"]["Running"] and os.path.exists(f"/proc/{info['State']['Pid']}"), info["State"]
        assert info["HostConfig"]["Runtime"] == runtime.name
        # ... and that runtime made it: its own state file (Docker 20.10 gives every runtime the
        # root <exec-root>/runtime-runc)
        state = json.loads((dk.base / "exec" / "runtime-runc" / "moby" / info["Id"] / "state.json").read_text())
        assert ("pid_start" if runtime.name == "ocirun" else "init_process_start") in state, sorted(state)
    finally:
        dk("rm", "-f", name, check=False)


def test_exec(dk: Docker, runtime: EngineRuntime) -> None:
    name = start_loop(dk, runtime, "exec")
    try:
        res = dk("exec", name, "sh", "-c", "echo in-exec; exit 3", check=False)
        assert (res.returncode, res.stdout) == (3, "in-exec\n"), res
        res = dk(
            *("exec", "--user", "1000", "--workdir", "/tmp", "-e", "FOO=bar", name),
            *("sh", "-c", 'echo "$(id -u) $(pwd) $FOO"'),
        )
        assert res.stdout == "1000 /tmp bar\n", res
        res = dk("exec", "-i", name, "cat", input="through stdin\n")
        assert res.stdout == "through stdin\n", res
        ps = dk("exec", name, "ps", "-o", "pid,args").stdout
        assert re.search(r"^\s*1\s+sh -c echo started", ps, re.M), ps
        # Docker 20.10 says so on stdout, with 126 (not 127 as for run)
        res = dk("exec", name, "no-such-command", check=False)
        assert res.returncode == 126, res
        assert '"no-such-command": executable file not found in $PATH' in res.stdout + res.stderr, res
        assert dk.state(name)["Running"]
    finally:
        dk("rm", "-f", name)


def test_exec_it_through_a_pty(dk: Docker, runtime: EngineRuntime) -> None:
    name = start_loop(dk, runtime, "execit")
    try:
        with PtyProcess(dk.command("exec", "-it", name, "sh"), rows=20, cols=70, env=dk.env) as term:
            term.expect("# ")
            term.write("tty\r")
            term.expect("/dev/pts/")
            term.resize(20, 70, "stty size\r")
            term.write("exit 6\r")
            assert term.wait() == 6, term.output
    finally:
        dk("rm", "-f", name)


def test_stop(dk: Docker, runtime: EngineRuntime) -> None:
    """stop: SIGTERM (the container's trap exits 7), and for one that ignores it, SIGKILL after -t."""
    name = start_loop(dk, runtime, "stop", script=f"trap 'echo got-term; exit 7' TERM; {LOOP}")
    try:
        started = time.monotonic()
        dk("stop", "-t", "20", name)
        assert time.monotonic() - started < 10
        state = dk.state(name)
        assert (state["Status"], state["ExitCode"]) == ("exited", 7), state
        assert "got-term" in dk("logs", name).stdout
    finally:
        dk("rm", "-f", name)
    name = start_loop(dk, runtime, "stopkill", script=f"trap '' TERM; {LOOP}")
    try:
        started = time.monotonic()
        dk("stop", "-t", "1", name)
        assert time.monotonic() - started >= 1
        state = dk.state(name)
        assert (state["Status"], state["ExitCode"]) == ("exited", 137), state
    finally:
        dk("rm", "-f", name)


def test_kill(dk: Docker, runtime: EngineRuntime) -> None:
    name = start_loop(dk, runtime, "kill", script=f"trap 'echo got-usr1' USR1; {LOOP}")
    try:
        dk("kill", "--signal", "USR1", name)
        wait_until(lambda: "got-usr1" in dk("logs", name).stdout, "the trap of USR1")
        assert dk.state(name)["Running"]
        dk("kill", name)
        wait_until(lambda: dk.state(name)["Status"] == "exited", "the container to exit")
        assert dk.state(name)["ExitCode"] == 137
    finally:
        dk("rm", "-f", name)


def test_rm_force_running(dk: Docker, runtime: EngineRuntime) -> None:
    name = start_loop(dk, runtime, "rmf")
    pid = dk.state(name)["Pid"]
    dk("rm", "-f", name)
    assert dk.ids() == []
    wait_until(lambda: not os.path.exists(f"/proc/{pid}"), "the container's process to go")


def test_rm_exited(dk: Docker, runtime: EngineRuntime) -> None:
    """rm of an exited container (the runtime's delete of a stopped one); rm of a running one
    without -f is refused and leaves it running."""
    name = name_for(runtime, "rm")
    dk(*run_args(runtime, "--name", name), IMAGE, "sh", "-c", "echo done")
    assert dk.state(name)["Status"] == "exited"
    dk("rm", name)
    assert dk.ids() == []
    name = start_loop(dk, runtime, "rmrunning")
    try:
        res = dk("rm", name, check=False)
        assert res.returncode != 0 and "running" in res.stderr, res
        assert dk.state(name)["Running"]
    finally:
        dk("rm", "-f", name)


def test_pause_unpause(dk: Docker, runtime: EngineRuntime) -> None:
    count = "echo started; i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done"
    name = start_loop(dk, runtime, "pause", script=count)

    def counter() -> int:
        return int(dk("logs", name).stdout.split()[-1])

    try:
        wait_until(lambda: counter() > 0, "the loop to run")
        dk("pause", name)
        assert dk.state(name)["Status"] == "paused"
        before = counter()
        time.sleep(0.5)
        assert counter() == before, "a paused container does not run"
        res = dk("exec", name, "true", check=False)
        assert res.returncode != 0 and "paused" in res.stderr, res
        dk("unpause", name)
        assert dk.state(name)["Status"] == "running"
        wait_until(lambda: counter() > before + 2, "the container to run again")
    finally:
        dk("rm", "-f", name)


def test_top_and_stats(dk: Docker, runtime: EngineRuntime) -> None:
    """top (the runtime's ps) and stats (the shim reads the container's cgroups)."""
    name = start_loop(dk, runtime, "top")
    try:
        dk("exec", "-d", name, "sleep", "600")
        wait_until(lambda: "sleep 600" in dk("top", name).stdout, "the detached exec in top")
        top = dk("top", name, "-o", "pid,args").stdout
        assert "sh -c echo started" in top, top
        assert str(dk.state(name)["Pid"]) in top.split(), top
        res = dk("stats", "--no-stream", "--format", "{{json .}}", name)
        stats = json.loads(res.stdout)
        assert stats["Name"] == name
        assert int(stats["PIDs"]) >= 2, stats
        assert not stats["MemUsage"].startswith("0B"), stats
    finally:
        dk("rm", "-f", name)
