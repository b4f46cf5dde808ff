"""podman (with conmon) on ocirun, and on runc as the oracle: the everyday workflows.

podman runs with a private configuration (a temporary containers.conf and storage.conf, overlay
storage under a temporary graphroot, the cgroupfs manager, the file events logger, no network
but a container's own loopback) and an image imported from a busybox rootfs tarball: no registry.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomllib

from . import images
from . import podman_cases as cases
from .podman_cases import name_for, start_loop
from .support import (
    LOOP,
    EngineRuntime,
    Result,
    cgroups_named,
    engine_dir,
    engine_runtimes,
    mounts_under,
    processes_mentioning,
    remove_cgroups,
    require,
    run,
    unmount_all,
    wait_until,
)

require("podman", "conmon")

IMAGE = images.PODMAN_IMAGE
# root here lacks CAP_SYS_RESOURCE and the open-files hard limit is lower than podman's default
# (nofile 1048576, nproc 1048576 for root): containers get these instead.
ULIMITS = ["nofile=1024:1024", "nproc=4096:4096"]


# podman's stock configuration as Debian ships it; the module's configuration keeps its sysctls
STOCK_CONTAINERS_CONF = Path("/usr/share/containers/containers.conf")


def stock_default_sysctls() -> list[str]:
    """The ``default_sysctls`` of podman's stock containers.conf (net.ipv4.ping_group_range=0 0)."""
    if not STOCK_CONTAINERS_CONF.exists():
        return ["net.ipv4.ping_group_range=0 0"]
    stock = tomllib.loads(STOCK_CONTAINERS_CONF.read_text())
    return list(stock.get("containers", {}).get("default_sysctls", []))


def toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


class Podman:
    """podman with a configuration and storage of its own under ``base``."""

    prefix = "e2e"

    def __init__(self, base: Path, runtimes: dict[str, str], cgroup_manager: str = "cgroupfs") -> None:
        self.base = base
        for d in ("tmp", "libpod-tmp", "cni", "volumes"):
            (base / d).mkdir()
        (base / "containers.conf").write_text(f"""\
[containers]
default_ulimits = {toml_list(ULIMITS)}
default_sysctls = {toml_list(stock_default_sysctls())}
netns = "none"
log_driver = "k8s-file"

[engine]
runtime = "ocirun"
cgroup_manager = "{cgroup_manager}"
events_logger = "file"
events_logfile_path = "{base}/events.log"
tmp_dir = "{base}/libpod-tmp"
volume_path = "{base}/volumes"
image_copy_tmp_dir = "{base}/tmp"
# podman passes --log-format=json only to the runtimes named here
runtime_supports_json = {toml_list(sorted(runtimes))}

[engine.runtimes]
{chr(10).join(f"{name} = [{json.dumps(path)}]" for name, path in runtimes.items())}

[network]
network_backend = "cni"
network_config_dir = "{base}/cni"
""")
        (base / "storage.conf").write_text(f"""\
[storage]
driver = "overlay"
runroot = "{base}/run"
graphroot = "{base}/graph"
""")
        (base / "registries.conf").write_text("unqualified-search-registries = []\n")
        self.env = {
            **os.environ,
            "CONTAINERS_CONF": str(base / "containers.conf"),
            "CONTAINERS_STORAGE_CONF": str(base / "storage.conf"),
            "CONTAINERS_REGISTRIES_CONF": str(base / "registries.conf"),
            "TMPDIR": str(base / "tmp"),
        }

    def command(self, *args: str, runtime: EngineRuntime | None = None) -> list[str]:
        return ["podman", *(["--runtime", runtime.name] if runtime else []), *map(str, args)]

    def __call__(
        self,
        *args: str,
        runtime: EngineRuntime | None = None,
        check: bool = True,
        timeout: float = 60,
        input: str | None = None,
    ) -> Result:
        return run(
            self.command(*args, runtime=runtime), env=self.env, check=check, timeout=timeout, input=input
        )

    def names(self) -> list[str]:
        return self("ps", "-a", "--format", "{{.Names}}").stdout.split()

    def inspect(self, name: str) -> dict[str, Any]:
        data: list[dict[str, Any]] = json.loads(self("inspect", name).stdout)
        return data[0]

    def status(self, name: str) -> str:
        return str(self.inspect(name)["State"]["Status"])


@contextlib.contextmanager
def podman_in(base: Path, runtimes: dict[str, str], image_dir: Path, *, cgroup_manager: str = "cgroupfs",
              timeout: float = 60) -> Iterator[Podman]:
    """podman set up in ``base`` with the image imported; afterwards its containers and images
    are removed, its mounts unmounted and ``base`` deleted."""
    pm = Podman(base, runtimes, cgroup_manager)
    try:
        pm("import", "--change", "CMD=/bin/sh", str(image_dir / "rootfs.tar"), IMAGE, timeout=timeout)
        yield pm
    finally:
        pm("rm", "--all", "--force", "--time", "0", check=False)
        pm("rmi", "--all", "--force", check=False)
        unmount_all(base)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def podman(image_dir: Path, request: pytest.FixtureRequest) -> Iterator[Podman]:
    """One podman setup per module (both runtimes are configured in it), the image imported."""
    base = engine_dir("podman-")
    shm_lock_existed = os.path.exists("/dev/shm/libpod_lock")
    cache_existed = os.path.exists("/var/lib/containers")
    try:
        with podman_in(base, engine_runtimes(request.config), image_dir) as pm:
            yield pm
    finally:
        if not shm_lock_existed:
            with_suppress_unlink("/dev/shm/libpod_lock")
        if not cache_existed:  # containers/image's blob info cache of the import
            shutil.rmtree("/var/lib/containers", ignore_errors=True)
        remove_cgroups(cgroups_named(["libpod_parent"]))
        left = processes_mentioning([str(base)])
        assert not left, f"processes left by podman: {left}"


def with_suppress_unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


@pytest.fixture
def pm(podman: Podman, runtime: EngineRuntime) -> Iterator[Podman]:
    """The module's podman; after the test no container may be left (they are removed, and the
    test fails), nor a mount of one, nor a process of one."""
    yield podman
    ids = podman("ps", "-a", "-q", "--no-trunc").stdout.split()
    problems = cases.remove_left(podman)
    problems += [
        f"mount left: {m}"
        for m in mounts_under(podman.base / "graph" / "overlay")
        if m != str(podman.base / "graph" / "overlay")
    ]
    leftover_procs = processes_mentioning(ids) if ids else {}
    problems += [f"process left: {p} {d!r}" for p, d in leftover_procs.items()]
    cases.fail_on(problems)


# ---------------------------------------------------------------------------- run


def test_run_rm(pm: Podman, runtime: EngineRuntime) -> None:
    res = pm("run", "--rm", IMAGE, "echo", "hello from", runtime.name, runtime=runtime)
    assert res.stdout == f"hello from {runtime.name}\n"
    assert pm.names() == []


def test_run_with_the_stock_default_sysctls(pm: Podman, runtime: EngineRuntime) -> None:
    """podman's stock default_sysctls are set while /proc/sys is read-only (its readonlyPaths)."""
    assert stock_default_sysctls(), "podman's stock configuration sets no sysctl"
    script = "; ".join(
        f"cat /proc/sys/{key.replace('.', '/')}; (echo 1 > /proc/sys/{key.replace('.', '/')}) 2>/dev/null || echo ro"
        for key in (entry.partition("=")[0] for entry in stock_default_sysctls())
    )
    res = pm("run", "--rm", IMAGE, "sh", "-c", script, runtime=runtime)
    expected = "".join("\t".join(entry.partition("=")[2].split()) + "\nro\n" for entry in stock_default_sysctls())
    assert res.stdout == expected


def test_run_explicit_sysctls(pm: Podman, runtime: EngineRuntime) -> None:
    """--sysctl with a net.* and a kernel.* (ipc) key, read back inside."""
    res = pm("run", "--rm", "--sysctl", "net.ipv4.ip_unprivileged_port_start=0",
             "--sysctl", "kernel.msgmax=65536", IMAGE, "cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start",
             "/proc/sys/kernel/msgmax", runtime=runtime)
    assert res.stdout == "0\n65536\n"


def test_run_exit_status(pm: Podman, runtime: EngineRuntime) -> None:
    res = pm("run", "--rm", IMAGE, "sh", "-c", "echo out; echo err >&2; exit 3", runtime=runtime, check=False)
    assert (res.returncode, res.stdout, res.stderr) == (3, "out\n", "err\n")


def test_run_stdin(pm: Podman, runtime: EngineRuntime) -> None:
    res = pm("run", "--rm", "-i", IMAGE, "sh", "-c", "tr a-z A-Z", runtime=runtime, input="piped in\n")
    assert res.stdout == "PIPED IN\n"


def test_run_command_not_found_is_127(pm: Podman, runtime: EngineRuntime) -> None:
    """podman turns the runtime's "executable file not found" / "no such file" into 127."""
    res = pm("run", "--rm", IMAGE, "no-such-command", runtime=runtime, check=False)
    assert res.returncode == 127, res
    assert "no-such-command" in res.stderr and "not found" in res.stderr, res.stderr
    res = pm("run", "--rm", IMAGE, "/no/such/path", runtime=runtime, check=False)
    assert res.returncode == 127, res
    assert pm.names() == []


def test_run_not_executable_is_126(pm: Podman, runtime: EngineRuntime) -> None:
    """... and "permission denied" into 126."""
    res = pm("run", "--rm", IMAGE, images.NOT_EXECUTABLE, runtime=runtime, check=False)
    assert res.returncode == 126, res
    assert "permission denied" in res.stderr.lower(), res.stderr
    assert pm.names() == []


def test_run_runtime_error_message_reaches_the_user(pm: Podman, runtime: EngineRuntime) -> None:
    """With --log-format=json the runtime's own message is what podman shows: an rlimit above the
    hard limit only the runtime finds out about (root lacks CAP_SYS_RESOURCE here)."""
    res = pm("run", "--rm", "--ulimit", "nofile=900000:900000", IMAGE, "true", runtime=runtime, check=False)
    assert res.returncode == 126, res
    assert runtime.name in res.stderr and "rlimit" in res.stderr.lower(), res.stderr
    assert "operation not permitted" in res.stderr.lower(), res.stderr


def test_run_process_settings(pm: Podman, runtime: EngineRuntime) -> None:
    res = pm(
        "run",
        "--rm",
        "--user",
        "1000:100",
        "--workdir",
        "/tmp",
        "-e",
        "FOO=bar",
        "--hostname",
        "e2e-host",
        IMAGE,
        "sh",
        "-c",
        'echo "$(id -u):$(id -g) $(pwd) $FOO $(hostname) $(ulimit -n)"',
        runtime=runtime,
    )
    assert res.stdout == "1000:100 /tmp bar e2e-host 1024\n"


CGROUP_LIMITS = (
    "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; "
    "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max"
)


def test_run_resource_limits(pm: Podman, runtime: EngineRuntime) -> None:
    """--memory and --pids-limit become the container's cgroup limits (seen from inside)."""
    res = pm(
        "run",
        "--rm",
        "--memory",
        "64m",
        "--pids-limit",
        "50",
        IMAGE,
        "sh",
        "-c",
        CGROUP_LIMITS,
        runtime=runtime,
    )
    assert res.stdout.split() == [str(64 * 1024 * 1024), "50"], res


def test_update(pm: Podman, runtime: EngineRuntime) -> None:
    """podman update: the runtime's `update --resources`."""
    name = start_loop(pm, runtime, "update", "--memory", "64m")
    try:
        pm("update", "--memory", "128m", "--cpu-shares", "512", name)
        res = pm("exec", name, "sh", "-c", CGROUP_LIMITS)
        assert res.stdout.split()[0] == str(128 * 1024 * 1024), res
    finally:
        pm("rm", "-f", "-t", "0", name)


def test_run_read_only_and_tmpfs(pm: Podman, runtime: EngineRuntime) -> None:
    res = pm(
        "run",
        "--rm",
        "--read-only",
        "--tmpfs",
        "/scratch",
        IMAGE,
        "sh",
        "-c",
        "touch /etc/x 2>/dev/null && echo wrote-etc; touch /scratch/y && echo wrote-scratch",
        runtime=runtime,
    )
    assert res.stdout == "wrote-scratch\n"


def test_run_volume(pm: Podman, runtime: EngineRuntime, tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("from the host\n")
    res = pm(
        "run",
        "--rm",
        "-v",
        f"{tmp_path}:/data",
        IMAGE,
        "sh",
        "-c",
        "cat /data/in.txt; echo from the container > /data/out.txt",
        runtime=runtime,
    )
    assert res.stdout == "from the host\n"
    assert (tmp_path / "out.txt").read_text() == "from the container\n"


@pytest.mark.parametrize("mode", ["host", "ns"])
def test_run_network_namespace(pm: Podman, runtime: EngineRuntime, mode: str) -> None:
    """--network host (no namespace of its own) and ns:<path> (a namespace made beforehand,
    joined by path): the runtime joins what podman's config names.  No traffic is sent."""
    if mode == "host":
        want = os.stat("/proc/self/ns/net").st_ino
        res = pm("run", "--rm", "--network", "host", IMAGE, "readlink", "/proc/self/ns/net", runtime=runtime)
        assert res.stdout.strip() == f"net:[{want}]"
        return
    netns = f"ocirun-e2e-{uuid.uuid4().hex[:8]}"
    run(["ip", "netns", "add", netns])
    try:
        want = os.stat(f"/run/netns/{netns}").st_ino
        res = pm(
            "run",
            "--rm",
            "--network",
            f"ns:/run/netns/{netns}",
            IMAGE,
            "readlink",
            "/proc/self/ns/net",
            runtime=runtime,
        )
        assert res.stdout.strip() == f"net:[{want}]"
    finally:
        run(["ip", "netns", "delete", netns], check=False)


# ---------------------------------------------------------------------------- detached containers


def test_run_detached_and_logs(pm: Podman, runtime: EngineRuntime) -> None:
    name = name_for(pm, runtime, "logs")
    try:
        state = cases.detached_logs(pm, runtime, name)
        assert os.path.exists(f"/proc/{state['Pid']}")
    finally:
        pm("rm", "-f", "-t", "0", name)


def test_exec(pm: Podman, runtime: EngineRuntime) -> None:
    name = start_loop(pm, runtime, "exec")
    try:
        res = pm("exec", name, "sh", "-c", "echo in-exec; exit 3", check=False)
        assert (res.returncode, res.stdout) == (3, "in-exec\n")
        res = pm(
            "exec",
            "--user",
            "1000",
            "--workdir",
            "/tmp",
            "-e",
            "FOO=bar",
            name,
            "sh",
            "-c",
            'echo "$(id -u) $(pwd) $FOO"',
        )
        assert res.stdout == "1000 /tmp bar\n"
        res = pm("exec", "-i", name, "cat", input="through stdin\n")
        assert res.stdout == "through stdin\n"
        # exec'd processes share the container's pid namespace
        ps = pm("exec", name, "ps", "-o", "pid,args").stdout
        assert re.search(r"^\s*1\s+sh -c echo started", ps, re.M), ps
    finally:
        pm("rm", "-f", "-t", "0", name)


def test_exec_errors_are_126_127(pm: Podman, runtime: EngineRuntime) -> None:
    name = start_loop(pm, runtime, "execerr")
    try:
        res = pm("exec", name, "no-such-command", check=False)
        assert res.returncode == 127, res
        res = pm("exec", name, images.NOT_EXECUTABLE, check=False)
        assert res.returncode == 126, res
        assert pm.status(name) == "running"
    finally:
        pm("rm", "-f", "-t", "0", name)


def test_exec_detached_and_top(pm: Podman, runtime: EngineRuntime) -> None:
    name = start_loop(pm, runtime, "execd")
    try:
        pm("exec", "-d", name, "sleep", "600")
        wait_until(lambda: "sleep 600" in pm("top", name, "pid", "args").stdout, "the detached exec in top")
        top = pm("top", name).stdout
        assert "sh -c echo started" in top, top
        hpids = pm("top", name, "hpid").stdout.split()[1:]
        state_pid = pm.inspect(name)["State"]["Pid"]
        assert str(state_pid) in hpids, (state_pid, hpids)
    finally:
        pm("rm", "-f", "-t", "0", name)


def test_kill(pm: Podman, runtime: EngineRuntime) -> None:
    name = start_loop(pm, runtime, "kill", script=f"trap 'echo got-usr1' USR1; {LOOP}")
    try:
        pm("kill", "--signal", "USR1", name)
        wait_until(lambda: "got-usr1" in pm("logs", name).stdout, "the trap of USR1")
        assert pm.status(name) == "running"
        pm("kill", name)
        wait_until(lambda: pm.status(name) == "exited", "the container to exit")
        assert pm.inspect(name)["State"]["ExitCode"] == 137
    finally:
        pm("rm", "-f", "-t", "0", name)


def _counter(pm: Podman, name: str) -> int:
    return int(pm("logs", name).stdout.split()[-1])


def test_pause_unpause(pm: Podman, runtime: EngineRuntime) -> None:
    name = name_for(pm, runtime, "pause")
    pm(
        "run",
        "-d",
        "--name",
        name,
        IMAGE,
        "sh",
        "-c",
        "i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done",
        runtime=runtime,
    )
    try:
        wait_until(lambda: pm("logs", name).stdout.strip(), "output")
        pm("pause", name)
        assert pm.status(name) == "paused"
        before = _counter(pm, name)
        time.sleep(0.5)
        assert _counter(pm, name) == before, "a paused container does not run"
        res = pm("exec", name, "true", check=False)
        assert res.returncode != 0, "exec into a paused container is refused"
        pm("unpause", name)
        assert pm.status(name) == "running"
        wait_until(lambda: _counter(pm, name) > before + 2, "the container to run again")
    finally:
        pm("rm", "-f", "-t", "0", name)


def test_restart(pm: Podman, runtime: EngineRuntime) -> None:
    name = start_loop(pm, runtime, "restart")
    try:
        pid = pm.inspect(name)["State"]["Pid"]
        pm("restart", "-t", "0", name)
        state = pm.inspect(name)["State"]
        assert state["Status"] == "running" and state["Pid"] != pid
        wait_until(lambda: pm("logs", name).stdout.count("started") == 2, "the second start in the logs")
    finally:
        pm("rm", "-f", "-t", "0", name)


def test_rm_force_running(pm: Podman, runtime: EngineRuntime) -> None:
    name = start_loop(pm, runtime, "rmf")
    pid = pm.inspect(name)["State"]["Pid"]
    pm("rm", "-f", "-t", "0", name)
    assert name not in pm.names()
    wait_until(lambda: not os.path.exists(f"/proc/{pid}"), "the container's process to go")


def test_create_start_attach(pm: Podman, runtime: EngineRuntime) -> None:
    name = name_for(pm, runtime, "create")
    pm("create", "--name", name, IMAGE, "sh", "-c", "echo created-then-started; exit 4", runtime=runtime)
    try:
        assert pm.status(name) == "created"
        res = pm("start", "--attach", name, check=False)
        assert res.returncode == 4, res
        assert "created-then-started" in res.stdout
    finally:
        pm("rm", "-f", "-t", "0", name)


def test_stats(pm: Podman, runtime: EngineRuntime) -> None:
    name = start_loop(pm, runtime, "stats")
    try:
        res = pm("stats", "--no-stream", "--format", "json", name, check=False)
        assert res.returncode == 0, res
        [stats] = json.loads(res.stdout)
        assert stats["name"] == name
        assert int(stats["pids"]) >= 1, stats
        assert not stats["mem_usage"].startswith("0B"), stats
    finally:
        pm("rm", "-f", "-t", "0", name)


def test_events(pm: Podman, runtime: EngineRuntime) -> None:
    name = name_for(pm, runtime, "events")
    pm("run", "--rm", "--name", name, IMAGE, "true", runtime=runtime)
    res = pm("events", "--stream=false", "--filter", f"container={name}", "--format", "{{.Status}}")
    statuses = res.stdout.split()
    for status in ("create", "init", "start", "died", "remove"):
        assert status in statuses, statuses


def test_no_leftover_runtime_state(pm: Podman, runtime: EngineRuntime) -> None:
    """After removal, the runtime has no state of the container left under podman's runroot."""
    name = name_for(pm, runtime, "state")
    pm("run", "--rm", "--name", name, IMAGE, "true", runtime=runtime)
    root = pm.base / "run" / runtime.name
    left = os.listdir(root) if root.is_dir() else []
    assert left == [], left


@pytest.mark.parametrize("case", [cases.run_it_through_a_pty, cases.exec_it_through_a_pty, cases.stop],
                         ids=lambda case: case.__name__)
def test_shared_case(pm: Podman, runtime: EngineRuntime, case: cases.Case) -> None:
    """What podman as root and rootless podman are both checked for (podman_cases.py)."""
    case(pm, runtime)
