"""containerd (1.6, its runc v2 shim, ctr) on ocirun, and on runc as the oracle.

The test starts its own containerd with a private root, state and socket (no CRI plugin), imports
an OCI image archive it built from busybox, and drives ``ctr run --runc-binary <runtime>``: run,
run -t, run -d, task exec (+ -t), ps, pause/resume, metrics, update, kill, kill --all, delete.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import images
from .ptyrun import exec_shell, interactive_shell
from .support import (
    LOOP,
    ContainerdDaemon,
    EngineRuntime,
    Result,
    cgroups_named,
    engine_dir,
    existing,
    mounts_under,
    processes_mentioning,
    remove_cgroups,
    remove_new_host_paths,
    require,
    run,
    unmount_all,
    wait_until,
)

require("containerd", "ctr", "containerd-shim-runc-v2")

IMAGE = images.CONTAINERD_IMAGE


class Containerd(ContainerdDaemon):
    """The test's containerd, driven with ctr in a namespace of the module's own."""

    def __init__(self, base: Path) -> None:
        self.namespace = f"ocirun-e2e-{uuid.uuid4().hex[:8]}"
        self.fifo_dir = base / "fifo"
        self.runc_root = base / "runc-root"
        for d in (self.fifo_dir, self.runc_root):
            d.mkdir()
        super().__init__(base)

    def ctr_command(self, *args: str) -> list[str]:
        return ["ctr", "--address", str(self.socket), "--namespace", self.namespace, *map(str, args)]

    def __call__(self, *args: str, check: bool = True, timeout: float = 60) -> Result:
        return run(self.ctr_command(*args), check=check, timeout=timeout)

    def run_args(self, runtime: EngineRuntime, *flags: str) -> list[str]:
        """`run` with the runtime and the private runc root and fifo dir."""
        return [
            "run",
            "--runc-binary",
            runtime.binary,
            "--runc-root",
            str(self.runc_root),
            "--fifo-dir",
            str(self.fifo_dir),
            *flags,
        ]

    def tasks(self) -> dict[str, str]:
        """{task id: status}"""
        lines = self("task", "ls").stdout.splitlines()[1:]
        return {f[0]: f[2] for f in (line.split() for line in lines) if len(f) >= 3}

    def status(self, cid: str) -> str:
        return self.tasks().get(cid, "(none)")

    def containers(self) -> list[str]:
        return self("container", "ls", "-q").stdout.split()

    def remove(self, cid: str) -> None:
        """Kill and delete the task, delete the container (whatever of them exists)."""
        if cid in self.tasks():
            self("task", "kill", "--all", "--signal", "SIGKILL", cid, check=False)
            wait_until(lambda: self.status(cid) in ("STOPPED", "(none)"), f"{cid} to stop", timeout=20)
            self("task", "delete", cid, check=False)
        if cid in self.containers():
            self("container", "delete", cid, check=False)

    def clear(self, image: str) -> None:
        """At the end of a module: its containers and ``image`` removed, the daemon stopped."""
        for cid in self.containers():
            self.remove(cid)
        self("image", "rm", image, check=False)
        self.stop()


@pytest.fixture(scope="module")
def containerd(image_dir: Path) -> Iterator[Containerd]:
    """One containerd per module (shared by both runtimes), the image imported; everything
    it made is removed afterwards and the daemon stopped by its pid."""
    base = engine_dir("containerd-")
    host_paths = existing(Containerd.HOST_PATHS)
    cd = Containerd(base)
    try:
        cd("image", "import", str(image_dir / "oci.tar"))
        yield cd
    finally:
        cd.clear(IMAGE)
        unmount_all(base)
        left_cgroups = remove_cgroups(cgroups_named([cd.namespace]))
        left_procs = processes_mentioning([str(base), cd.namespace])
        shutil.rmtree(base, ignore_errors=True)
        # the shims' socket directory, as far as it is empty (another containerd may use it)
        remove_new_host_paths(Containerd.HOST_PATHS, host_paths)
        assert not left_procs, f"processes left: {left_procs}"
        assert not left_cgroups, f"cgroups left: {left_cgroups}"


@pytest.fixture
def ctr(containerd: Containerd, runtime: EngineRuntime) -> Iterator[Containerd]:
    """The module's containerd; after the test no container or task may be left (they are removed,
    and the test fails), nor a mount or a process of one."""
    yield containerd
    left = containerd.containers()
    for cid in left:
        containerd.remove(cid)
    problems = [f"containers left (removed now): {left}"] if left else []
    problems += [f"mount left: {m}" for m in mounts_under(containerd.base / "state")]
    procs = processes_mentioning(left) if left else {}
    problems += [f"process left: {p}" for p in procs]
    if problems:
        pytest.fail("leftovers after the test:\n  " + "\n  ".join(problems), pytrace=False)


def new_id(runtime: EngineRuntime, tag: str) -> str:
    return f"e2e-{tag}-{runtime.name}-{uuid.uuid4().hex[:6]}"


def start_detached(ctr: Containerd, runtime: EngineRuntime, tag: str, script: str = LOOP) -> str:
    cid = new_id(runtime, tag)
    try:
        ctr(*ctr.run_args(runtime, "-d"), IMAGE, cid, "sh", "-c", script)
        wait_until(lambda: ctr.status(cid) in ("RUNNING", "STOPPED"), f"{cid} to start")
    except BaseException:
        ctr.remove(cid)
        raise
    return cid


def exec_(ctr: Containerd, cid: str, *cmd: str, check: bool = True) -> Result:
    return ctr(
        "task",
        "exec",
        "--fifo-dir",
        str(ctr.fifo_dir),
        "--exec-id",
        f"x{uuid.uuid4().hex[:8]}",
        cid,
        *cmd,
        check=check,
    )


# ---------------------------------------------------------------------------- run


def test_run_rm(ctr: Containerd, runtime: EngineRuntime) -> None:
    cid = new_id(runtime, "rm")
    res = ctr(*ctr.run_args(runtime, "--rm"), IMAGE, cid, "echo", "hello from", runtime.name)
    assert res.stdout == f"hello from {runtime.name}\n"
    assert cid not in ctr.containers()


def test_run_exit_status(ctr: Containerd, runtime: EngineRuntime) -> None:
    cid = new_id(runtime, "exit")
    res = ctr(
        *ctr.run_args(runtime, "--rm"), IMAGE, cid, "sh", "-c", "echo out; echo err >&2; exit 3", check=False
    )
    assert (res.returncode, res.stdout, res.stderr) == (3, "out\n", "err\n"), res


def test_run_process_settings(ctr: Containerd, runtime: EngineRuntime) -> None:
    cid = new_id(runtime, "settings")
    res = ctr(
        *ctr.run_args(runtime, "--rm", "--cwd", "/tmp", "--env", "FOO=bar"),
        IMAGE,
        cid,
        "sh",
        "-c",
        'echo "$(id -u) $(pwd) $FOO $(ulimit -n)"',
    )
    assert res.stdout == "0 /tmp bar 1024\n", res.stdout


def test_run_memory_limit(ctr: Containerd, runtime: EngineRuntime) -> None:
    """--memory-limit becomes the cgroup's limit (read back through task metrics)."""
    cid = new_id(runtime, "memory")
    ctr(*ctr.run_args(runtime, "-d", "--memory-limit", str(64 * 1024 * 1024)), IMAGE, cid, "sleep", "600")
    try:
        res = ctr("task", "metrics", cid)
        limits = [
            line.split()[1]
            for line in res.stdout.splitlines()
            if line.split()[:1] in (["memory.limit_in_bytes"], ["memory.usage_limit"])
        ]
        assert limits == [str(64 * 1024 * 1024)], res.stdout
    finally:
        ctr.remove(cid)


def test_run_command_not_found(ctr: Containerd, runtime: EngineRuntime) -> None:
    """The runtime's error (from its --log-format json log) is what ctr shows."""
    cid = new_id(runtime, "notfound")
    res = ctr(*ctr.run_args(runtime, "--rm"), IMAGE, cid, "no-such-command", check=False)
    assert res.returncode != 0
    assert 'exec: "no-such-command": executable file not found in $PATH' in res.stderr, res.stderr
    if cid in ctr.containers():
        ctr("container", "delete", cid)


def test_run_tty(ctr: Containerd, runtime: EngineRuntime) -> None:
    cid = new_id(runtime, "tty")
    interactive_shell(ctr.ctr_command(*ctr.run_args(runtime, "-t", "--rm"), IMAGE, cid, "sh"))
    assert cid not in ctr.containers()


def test_run_with_network_namespace(ctr: Containerd, runtime: EngineRuntime) -> None:
    """--with-ns network:<path>: the runtime joins a namespace made beforehand.  No traffic."""
    netns = f"ocirun-e2e-{uuid.uuid4().hex[:8]}"
    run(["ip", "netns", "add", netns])
    try:
        cid = new_id(runtime, "netns")
        res = ctr(
            *ctr.run_args(runtime, "--rm", "--with-ns", f"network:/run/netns/{netns}"),
            IMAGE,
            cid,
            "readlink",
            "/proc/self/ns/net",
        )
        assert res.stdout.strip() == f"net:[{os.stat(f'/run/netns/{netns}').st_ino}]"
    finally:
        run(["ip", "netns", "delete", netns], check=False)


# ---------------------------------------------------------------------------- tasks


def test_detached_task_lifecycle(ctr: Containerd, runtime: EngineRuntime) -> None:
    """run -d, then kill (SIGTERM: the trap exits 7), task delete reports the status, container delete."""
    cid = start_detached(
        ctr, runtime, "lifecycle", "trap 'exit 7' TERM; echo started; while :; do sleep 0.1; done"
    )
    try:
        pid = int(ctr("task", "ls").stdout.split(cid, 1)[1].split()[0])
        assert os.path.exists(f"/proc/{pid}")
        ctr("task", "kill", cid)
        wait_until(lambda: ctr.status(cid) == "STOPPED", "the task to stop")
        res = ctr("task", "delete", cid)
        assert "exit code 7" in res.stderr, res
        ctr("container", "delete", cid)
        assert cid not in ctr.containers()
        wait_until(lambda: not os.path.exists(f"/proc/{pid}"), "the process to go")
    finally:
        ctr.remove(cid)


def test_task_exec(ctr: Containerd, runtime: EngineRuntime) -> None:
    cid = start_detached(ctr, runtime, "exec")
    try:
        res = exec_(ctr, cid, "sh", "-c", "echo in-exec; exit 4", check=False)
        assert (res.returncode, res.stdout) == (4, "in-exec\n"), res
        res = exec_(ctr, cid, "ps", "-o", "pid,args")
        assert any(line.split(None, 1) == ["1", "sh -c " + LOOP] for line in res.stdout.splitlines()), (
            res.stdout
        )
        res = exec_(ctr, cid, "no-such-command", check=False)
        assert res.returncode != 0
        assert "executable file not found" in res.stderr, res.stderr
        assert ctr.status(cid) == "RUNNING"
    finally:
        ctr.remove(cid)


def test_task_exec_tty(ctr: Containerd, runtime: EngineRuntime) -> None:
    cid = start_detached(ctr, runtime, "exectty")
    try:
        cmd = ctr.ctr_command(
            "task", "exec", "-t", "--fifo-dir", str(ctr.fifo_dir), "--exec-id", "tty1", cid, "sh"
        )
        exec_shell(cmd)
    finally:
        ctr.remove(cid)


def test_task_ps(ctr: Containerd, runtime: EngineRuntime) -> None:
    cid = start_detached(ctr, runtime, "ps")
    try:
        ctr("task", "exec", "-d", "--fifo-dir", str(ctr.fifo_dir), "--exec-id", "bg", cid, "sleep", "600")
        pid = int(ctr("task", "ls").stdout.split(cid, 1)[1].split()[0])

        def listed() -> list[int]:
            return [
                int(line.split()[0])
                for line in ctr("task", "ps", cid).stdout.splitlines()[1:]
                if line.split()
            ]

        def exec_pid() -> int | None:
            for p in listed():
                try:
                    if Path(f"/proc/{p}/cmdline").read_bytes() == b"sleep\x00600\x00":
                        return p
                except FileNotFoundError:
                    pass
            return None

        wait_until(exec_pid, "the exec'd process in task ps")
        assert pid in listed()
        assert os.stat(f"/proc/{exec_pid()}/ns/pid").st_ino == os.stat(f"/proc/{pid}/ns/pid").st_ino
    finally:
        ctr.remove(cid)


def test_pause_resume(ctr: Containerd, runtime: EngineRuntime) -> None:
    cid = start_detached(
        ctr, runtime, "pause", "i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done"
    )
    try:

        def counter() -> int:
            pid = int(ctr("task", "ls").stdout.split(cid, 1)[1].split()[0])
            return int(Path(f"/proc/{pid}/root/tmp/n").read_text() or 0)

        wait_until(lambda: counter() > 0, "the loop to run")
        ctr("task", "pause", cid)
        assert ctr.status(cid) == "PAUSED"
        before = counter()
        time.sleep(0.5)
        assert counter() == before, "a paused task does not run"
        ctr("task", "resume", cid)
        assert ctr.status(cid) == "RUNNING"
        wait_until(lambda: counter() > before + 2, "the task to run again")
    finally:
        ctr.remove(cid)


def test_metrics(ctr: Containerd, runtime: EngineRuntime) -> None:
    cid = start_detached(ctr, runtime, "metrics")
    try:
        res = ctr("task", "metrics", "--format", "json", cid)
        data = json.loads(res.stdout)
        text = json.dumps(data)
        assert "pids" in text.lower() or "Pids" in text, text[:500]
        res = ctr("task", "metrics", cid)
        assert "pids.current" in res.stdout or "pids" in res.stdout, res.stdout
    finally:
        ctr.remove(cid)


def test_kill_all(ctr: Containerd, runtime: EngineRuntime) -> None:
    cid = start_detached(ctr, runtime, "killall", "sleep 600 & sleep 600 & echo started; wait")
    try:
        wait_until(
            lambda: len([ln for ln in ctr("task", "ps", cid).stdout.splitlines()[1:] if ln.split()]) >= 3,
            "the children",
        )
        pids = [
            int(line.split()[0]) for line in ctr("task", "ps", cid).stdout.splitlines()[1:] if line.split()
        ]
        ctr("task", "kill", "--all", "--signal", "SIGKILL", cid)
        wait_until(lambda: ctr.status(cid) == "STOPPED", "the task to stop")
        wait_until(lambda: not any(os.path.exists(f"/proc/{p}") for p in pids), "every process to go")
        ctr("task", "delete", cid)
    finally:
        ctr.remove(cid)


def test_kill_after_exit_and_double_delete(ctr: Containerd, runtime: EngineRuntime) -> None:
    """A task that exited: kill says so, and delete works once (containerd's view of the runtime)."""
    cid = start_detached(ctr, runtime, "exited", "exit 0")
    try:
        wait_until(lambda: ctr.status(cid) == "STOPPED", "the task to exit")
        res = ctr("task", "kill", cid, check=False)
        assert res.returncode != 0 and ("not found" in res.stderr or "finished" in res.stderr), res
        ctr("task", "delete", cid)
        res = ctr("task", "delete", cid, check=False)
        assert res.returncode != 0 and "not found" in res.stderr, res
    finally:
        ctr.remove(cid)


def test_task_delete_force_running(ctr: Containerd, runtime: EngineRuntime) -> None:
    cid = start_detached(ctr, runtime, "delforce")
    try:
        pid = int(ctr("task", "ls").stdout.split(cid, 1)[1].split()[0])
        ctr("task", "delete", "--force", cid)
        assert cid not in ctr.tasks()
        wait_until(lambda: not os.path.exists(f"/proc/{pid}"), "the process to go")
    finally:
        ctr.remove(cid)
