"""exec: a new process in a running container, and the fds and keyrings of containers.

The exec'd process must be in every namespace and the cgroups of the container's init, visible
to ``ps`` there, with the flags' env, cwd, user, groups, capabilities and no_new_privs; its exit
status is the command's.  Also: --preserve-fds (create, run, exec), LISTEN_FDS socket activation,
the session keyring (new per container, shared by its exec'd processes; --no-new-keyring).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from .support import (
    CGROUP_ROOT,
    DEFAULT_CAPS,
    DEFAULT_PATH,
    PURE_CGROUP_V2,
    SLOWDOWN,
    Bundle,
    Result,
    Runtime,
    expect_error,
    parse_json,
    pid_alive,
    pidfd_listener,
    receive_pidfd,
    wait_for,
    wait_gone,
)

CAP_BITS = {"CAP_KILL": 5, "CAP_NET_BIND_SERVICE": 10, "CAP_SYS_ADMIN": 21, "CAP_AUDIT_WRITE": 29}
DEFAULT_CAP_MASK = sum(1 << CAP_BITS[c] for c in DEFAULT_CAPS)
NS_NAMES = ("cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "user", "uts")


# ---------------------------------------------------------------------------- helpers


def start_sleeper(rt: Runtime, bundle: Bundle, *, extra: Sequence[str] = ()) -> str:
    """create + start a container whose init sleeps; its id."""
    bundle.set_args("/bin/probe", "sleep", "600")
    cid = rt.create(bundle, extra=extra)
    rt.start(cid)
    return cid


@pytest.fixture
def sleeper(runtime: Runtime, bundle: Bundle) -> Iterator[str]:
    """A running container (init: ``probe sleep 600``), force-deleted after the test."""
    cid = start_sleeper(runtime, bundle)
    yield cid
    runtime.delete(cid, force=True, check=False)


def exec_(
    rt: Runtime, cid: str, *cmd: str, flags: Sequence[str] = (), check: bool = True, timeout: float = 30 * SLOWDOWN
) -> Result:
    return rt.run("exec", *flags, cid, *cmd, check=check, timeout=timeout)


def exec_probe(rt: Runtime, cid: str, *args: str, flags: Sequence[str] = ()) -> Any:
    """``exec [flags] cid /bin/probe args...``: the probe's report."""
    return parse_json(exec_(rt, cid, "/bin/probe", *args, flags=flags).stdout)


def init_pid(rt: Runtime, cid: str) -> int:
    return int(rt.state(cid)["pid"])


def ns_inodes(pid: int | str) -> dict[str, int]:
    out = {}
    for name in NS_NAMES:
        with contextlib.suppress(FileNotFoundError):
            out[name] = os.stat(f"/proc/{pid}/ns/{name}").st_ino
    return out


def cgroup_lines(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cgroup").read_text().splitlines()


def cgroup_procs_files(pid: int) -> list[Path]:
    """The cgroup.procs file of each hierarchy ``pid`` is in (v1 controllers and v2)."""
    mounts: dict[str, Path] = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            fstype, options = fields[sep + 1], fields[sep + 3].split(",")
            if fstype == "cgroup2":
                mounts.setdefault("", Path(fields[4]))
            elif fstype == "cgroup":
                key = ",".join(
                    sorted(
                        o for o in options if o not in ("rw", "ro", "relatime", "nosuid", "nodev", "noexec")
                    )
                )
                mounts.setdefault(key, Path(fields[4]))
    files = []
    for line in cgroup_lines(pid):
        _, controllers, path = line.split(":", 2)
        key = ",".join(sorted(controllers.split(","))) if controllers else ""
        if key in mounts:
            files.append(mounts[key] / path.lstrip("/") / "cgroup.procs")
    return files


def read_pid_file(path: Path, timeout: float = 10.0 * SLOWDOWN) -> int:
    wait_for(path.exists, f"{path}", timeout)
    return int(path.read_text().strip())


# Runs argv[n+2:] with the fds given as argv[2:n+2] moved to 3, 4, ... (the runtime's preserved
# fds must be consecutive from 3); with LISTEN=1 in the environment it also sets LISTEN_PID to its
# own pid, which the exec'd runtime keeps (systemd socket activation).
_FD_WRAPPER = """
import os, sys
n = int(sys.argv[1]); src = [int(x) for x in sys.argv[2:2 + n]]; argv = sys.argv[2 + n:]
tmp = [os.dup(s) for s in src]
for i, t in enumerate(tmp):
    os.dup2(t, 3 + i)
    os.set_inheritable(3 + i, True)
for fd in set(tmp) | set(src):
    if fd >= 3 + n:
        os.close(fd)
if os.environ.pop("LISTEN", None):
    os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(argv[0], argv)
"""


def run_with_fds(
    rt: Runtime,
    args: Sequence[str],
    fds: Sequence[int],
    *,
    env: dict[str, str] | None = None,
    label: str = "fds",
    timeout: float = 30 * SLOWDOWN,
    background: bool = False,
) -> Any:
    """``<runtime> ARGS`` with ``fds`` as its fds 3, 4, ...; stdout/stderr to files (``rt.outputs``
    under ``label``).  A Result, or the Popen with ``background``."""
    out_path, err_path = rt._io_files(label)
    rt.outputs[label] = (out_path, err_path)
    cmd = [sys.executable, "-I", "-S", "-c", _FD_WRAPPER, str(len(fds)), *map(str, fds), *rt.command(*args)]
    full_env = {**os.environ, **(env or {})}
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, pass_fds=tuple(fds), env=full_env
        )
    if background:
        return proc
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError(f"timed out: {cmd}") from None
    return Result(cmd, code, out_path.read_text(errors="replace"), err_path.read_text(errors="replace"))


def read_available(fd: int, want: bytes, timeout: float = 10.0 * SLOWDOWN) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while want not in data and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.1)[0]:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
    return data


# ---------------------------------------------------------------------------- namespaces, cgroups, ps


@pytest.mark.parametrize("userns", [False, True], ids=["", "userns"])
@pytest.mark.v2lane
def test_exec_joins_every_namespace(runtime: Runtime, bundle: Bundle, userns: bool) -> None:
    if userns:
        bundle.linux["namespaces"].append({"type": "user"})
        bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
        bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
        # sysfs and a cgroup mount need more than a user namespace's root may have here
        assert bundle.config is not None
        bundle.config["mounts"] = [m for m in bundle.config["mounts"] if m["type"] not in ("sysfs", "cgroup")]
        os.chmod(runtime.workdir, 0o711)  # the mapped root must reach the rootfs
    cid = start_sleeper(runtime, bundle)
    try:
        init = ns_inodes(init_pid(runtime, cid))
        inside = exec_probe(runtime, cid, "ns")
        host = ns_inodes("self")
        for name, inode in init.items():
            assert inside.get(name) == inode, f"{name}: exec'd {inside.get(name)}, init {inode}"
        for name in ("ipc", "mnt", "net", "pid", "uts", "cgroup") + (("user",) if userns else ()):
            assert init[name] != host[name], f"the container has no {name} namespace of its own"
        if userns:
            ids = exec_probe(runtime, cid, "ids")
            assert (ids["uid"], ids["gid"]) == (0, 0)
            status = Path(f"/proc/{init_pid(runtime, cid)}/status").read_text()
            assert "200000" in status.split("Uid:")[1].splitlines()[0]
    finally:
        runtime.delete(cid, force=True)


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 knows no time namespace (added in runc 1.2)")
def test_exec_joins_the_time_namespace(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["namespaces"].append({"type": "time"})
    bundle.linux["timeOffsets"] = {"boottime": {"secs": 86400 * 365, "nanosecs": 0}}
    cid = start_sleeper(runtime, bundle)
    try:
        init = os.stat(f"/proc/{init_pid(runtime, cid)}/ns/time").st_ino
        assert init != os.stat("/proc/self/ns/time").st_ino
        assert exec_probe(runtime, cid, "ns")["time"] == init
        uptime = float(exec_(runtime, cid, "cat", "/proc/uptime").stdout.split()[0])
        assert uptime > 86400 * 365, "the exec'd process sees the container's clocks"
    finally:
        runtime.delete(cid, force=True)


def test_exec_is_not_pid_1_and_sees_the_init(runtime: Runtime, sleeper: str) -> None:
    pids = exec_probe(runtime, sleeper, "pid")
    assert pids["pid"] > 1
    assert pids["ppid"] == 0, "the exec'd process's parent is outside the container's pid namespace"
    out = exec_(runtime, sleeper, "ps", "-o", "pid,args").stdout
    assert any(line.split(None, 1) == ["1", "/bin/probe sleep 600"] for line in out.splitlines()), out


def test_exec_process_has_a_session_of_its_own(runtime: Runtime, sleeper: str) -> None:
    """runc makes every container process a session leader: the caller's terminal and process
    group signals do not reach it directly."""
    pids = exec_probe(runtime, sleeper, "pid")
    assert pids["sid"] == pids["pid"] == pids["pgid"], pids


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 has no --pidfd-socket (runc 1.2 has)")
def test_exec_pidfd_socket_gets_a_pidfd_of_the_process(runtime: Runtime, sleeper: str) -> None:
    """``exec --pidfd-socket PATH``: a pidfd of the exec'd process (not the init), with the bytes
    ``setns``; it signals that process."""
    path = runtime.workdir / "pidfd.sock"
    pid_file = runtime.workdir / "exec.pid"
    with pidfd_listener(path) as listener:
        exec_(runtime, sleeper, "/bin/probe", "sleep", "60",
              flags=["--detach", "--pid-file", str(pid_file), "--pidfd-socket", str(path)])
        pid = read_pid_file(pid_file)
        try:
            data, got = receive_pidfd(listener)
            assert data == b"setns"
            assert got == pid != init_pid(runtime, sleeper)
        finally:
            os.kill(pid, signal.SIGKILL)
    wait_gone(pid)


@pytest.mark.v2lane
def test_exec_joins_the_cgroups(runtime: Runtime, sleeper: str) -> None:
    # Inside the container's cgroup namespace, the init's cgroups are its root.
    assert exec_probe(runtime, sleeper, "cgroup") == [
        line.rsplit(":", 1)[0] + ":/" for line in cgroup_lines(init_pid(runtime, sleeper))
    ]
    # From the host: the same cgroups as the init's, and listed in their cgroup.procs.
    pid_file = runtime.workdir / "exec.pid"
    exec_(runtime, sleeper, "/bin/probe", "sleep", "600", flags=["--detach", "--pid-file", str(pid_file)])
    pid = read_pid_file(pid_file)
    try:
        init = init_pid(runtime, sleeper)
        assert cgroup_lines(pid) == cgroup_lines(init)
        files = cgroup_procs_files(pid)
        assert files, cgroup_lines(pid)
        for procs in files:
            listed = procs.read_text().split()
            assert str(pid) in listed and str(init) in listed, (procs, listed)
    finally:
        os.kill(pid, signal.SIGKILL)
    wait_gone(pid)


@pytest.mark.v2lane
def test_exec_process_is_listed_by_ps(runtime: Runtime, sleeper: str) -> None:
    pid_file = runtime.workdir / "exec.pid"
    exec_(runtime, sleeper, "/bin/probe", "sleep", "601", flags=["-d", "--pid-file", str(pid_file)])
    pid = read_pid_file(pid_file)
    try:
        out = exec_(runtime, sleeper, "ps", "-o", "pid,args").stdout
        assert "/bin/probe sleep 601" in out, out
        res = runtime.run("ps", "--format", "json", sleeper)
        assert set(json.loads(res.stdout)) >= {pid, init_pid(runtime, sleeper)}, res.stdout
    finally:
        os.kill(pid, signal.SIGKILL)
    wait_gone(pid)


@pytest.mark.v2lane
def test_exec_into_sub_cgroup(runtime: Runtime, sleeper: str) -> None:
    """--cgroup [<controller>:]<path>: a sub-cgroup (made by the caller) of the container's: of its
    v1 pids hierarchy (`pids:sub`), or of its one cgroup on pure v2 (`sub`)."""
    hierarchy, flag = ("", "sub") if PURE_CGROUP_V2 else ("pids", "pids:sub")
    line = next((ln for ln in cgroup_lines(init_pid(runtime, sleeper)) if ln.split(":")[1] == hierarchy), None)
    if line is None:
        pytest.skip("no cgroup v1 pids hierarchy here")
    sub = CGROUP_ROOT / hierarchy / line.split(":", 2)[2].lstrip("/") / "sub"
    sub.mkdir()
    try:
        lines = exec_probe(runtime, sleeper, "cgroup", flags=["--cgroup", flag])
        assert any(ln.endswith(f":{hierarchy}:/sub") for ln in lines), lines
        assert [ln for ln in lines if ln.split(":")[1] != hierarchy] == [
            ln.rsplit(":", 1)[0] + ":/"
            for ln in cgroup_lines(init_pid(runtime, sleeper))
            if ln.split(":")[1] != hierarchy
        ]
    finally:
        wait_for(lambda: not (sub / "cgroup.procs").read_text().strip(), "the sub-cgroup to empty")
        sub.rmdir()


def _cgroup_dirs(pid: int) -> list[Path]:
    """The directory of each hierarchy's cgroup of ``pid`` (cgroup.procs files' directories)."""
    return [procs.parent for procs in cgroup_procs_files(pid)]


def test_exec_into_sub_cgroup_of_every_hierarchy(runtime: Runtime, sleeper: str) -> None:
    """--cgroup <path> alone: that sub-cgroup in every hierarchy (v1 ones and the v2 one)."""
    dirs = _cgroup_dirs(init_pid(runtime, sleeper))
    subs = [d / "sub" for d in dirs]
    for sub in subs:
        sub.mkdir()
        for name in ("cpuset.cpus", "cpuset.mems"):  # a new v1 cpuset has none: nobody may join
            if (sub / name).exists() and not (sub / name).read_text().strip():
                (sub / name).write_text((sub.parent / name).read_text())
    pid_file = runtime.workdir / "exec.pid"
    try:
        exec_(runtime, sleeper, "/bin/probe", "sleep", "60",
              flags=["--detach", "--pid-file", str(pid_file), "--cgroup", "sub"])
        pid = read_pid_file(pid_file)
        try:
            assert sorted(_cgroup_dirs(pid)) == sorted(subs), cgroup_lines(pid)
        finally:
            os.kill(pid, signal.SIGKILL)
        wait_gone(pid)
    finally:
        for sub in subs:
            wait_for(lambda sub=sub: not (sub / "cgroup.procs").read_text().strip(), "the sub-cgroup to empty")
            sub.rmdir()


@pytest.mark.parametrize("given", ["..", "pids:..", "/../..", "sub/../../.."])
def test_exec_cgroup_escaping_the_container_is_refused(runtime: Runtime, sleeper: str, given: str) -> None:
    """--cgroup names a sub-cgroup of the container's: a path out of it is refused, and nothing
    runs."""
    res = exec_(runtime, sleeper, "/bin/probe", "cgroup", flags=["--cgroup", given], check=False)
    expect_error(runtime, res, exit_code=255, ocirun=r"exec failed: --cgroup .*: `\.\.` is not allowed",
                 runc=r"not a sub cgroup path")
    assert res.stdout == ""


# ---------------------------------------------------------------------------- exit status


@pytest.mark.parametrize(
    "cmd, status",
    [
        (["/bin/probe", "exit", "0"], 0),
        (["/bin/probe", "exit", "3"], 3),
        (["/bin/probe", "exit", "255"], 255),
        (["sh", "-c", "kill -TERM $$"], 128 + signal.SIGTERM),
        (["sh", "-c", "kill -KILL $$"], 128 + signal.SIGKILL),
    ],
    ids=["0", "3", "255", "SIGTERM", "SIGKILL"],
)
def test_exec_exit_status(runtime: Runtime, sleeper: str, cmd: list[str], status: int) -> None:
    res = exec_(runtime, sleeper, *cmd, check=False)
    assert res.returncode == status, res.stderr
    assert runtime.status(sleeper) == "running", "the container goes on after its exec'd process ended"


def test_exec_stdio(runtime: Runtime, sleeper: str) -> None:
    res = runtime.run("exec", sleeper, "sh", "-c", "cat; echo to-stderr >&2", input="from stdin\n")
    assert res.stdout == "from stdin\n"
    assert "to-stderr" in res.stderr


def test_exec_signal_is_forwarded(runtime: Runtime, sleeper: str) -> None:
    """Foreground exec passes the signals it gets on to the process.  (A shell's trap, not the
    probe's first signal: runc also passes on the SIGURGs of Go's scheduler.)"""
    out_path, err_path = runtime._io_files("exec-signals")
    script = "trap 'echo got-usr1; exit 9' USR1; echo ready; while :; do sleep 0.05; done"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(
            runtime.command("exec", sleeper, "sh", "-c", script),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
    try:
        wait_for(lambda: "ready" in out_path.read_text(), "the shell to be ready")
        proc.send_signal(signal.SIGUSR1)
        assert proc.wait(timeout=10 * SLOWDOWN) == 9, err_path.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "got-usr1" in out_path.read_text()


# ---------------------------------------------------------------------------- the process's attributes


def test_exec_inherits_the_container_process(runtime: Runtime, sleeper: str) -> None:
    """Without flags the exec'd process gets config.json's env, cwd, user, caps and rlimits."""
    report = exec_probe(runtime, sleeper, "all")
    assert report["env"][:2] == [DEFAULT_PATH, "TERM=xterm"]
    assert report["cwd"] == {"cwd": "/"}
    assert (report["ids"]["uid"], report["ids"]["gid"]) == (0, 0)
    for name in ("bounding", "effective", "permitted"):
        assert int(report["caps"][name], 16) == DEFAULT_CAP_MASK, name
    assert report["caps"]["no_new_privs"] == "1"
    assert report["rlimits"]["RLIMIT_NOFILE"] == {"soft": 1024, "hard": 1024}
    assert report["tty"] == {"stdin": False, "stdout": False, "stderr": False}


def test_exec_env(runtime: Runtime, sleeper: str) -> None:
    env = exec_probe(runtime, sleeper, "env", flags=["-e", "FOO=bar", "-e", "TERM=dumb", "-e", "EQ=a=b"])
    as_dict = dict(e.split("=", 1) for e in env)
    assert as_dict["FOO"] == "bar" and as_dict["EQ"] == "a=b"
    assert as_dict["TERM"] == "dumb", "-e overrides the config's value"
    assert as_dict["PATH"] == DEFAULT_PATH.split("=", 1)[1]
    names = [e.split("=", 1)[0] for e in env]
    assert len(names) == len(set(names)), f"duplicate variables: {env}"


def test_exec_cwd(runtime: Runtime, sleeper: str) -> None:
    assert exec_probe(runtime, sleeper, "cwd", flags=["--cwd", "/tmp"]) == {"cwd": "/tmp"}


def test_exec_cwd_missing_fails(runtime: Runtime, sleeper: str) -> None:
    res = exec_(runtime, sleeper, "/bin/probe", "cwd", flags=["--cwd", "/no/such/dir"], check=False)
    expect_error(runtime, res, both=r"(?i)no such file or directory", exit_code=255)


@pytest.mark.parametrize(
    "user, ids",
    [("1000:100", (1000, 100)), ("1000", (1000, 0)), ("4242:4343", (4242, 4343))],
)
def test_exec_user(runtime: Runtime, sleeper: str, user: str, ids: tuple[int, int]) -> None:
    report = exec_probe(runtime, sleeper, "ids", flags=["--user", user])
    assert (report["uid"], report["euid"], report["suid"]) == (ids[0],) * 3
    assert (report["gid"], report["egid"], report["sgid"]) == (ids[1],) * 3
    assert report["groups"] == []


@pytest.mark.parametrize("how", ["container's cwd", "--cwd"])
def test_exec_user_into_a_cwd_only_root_can_enter(runtime: Runtime, bundle: Bundle, how: str) -> None:
    """exec --user in a container whose cwd is /root (0700): the cwd is entered before the user
    change, as for the container's own process (runc's finalizeNamespace)."""
    os.chmod(bundle.rootfs / "root", 0o700)
    flags = ["--user", "1000:1000"]
    if how == "--cwd":
        flags += ["--cwd", "/root"]
    else:
        bundle.process["cwd"] = "/root"
    cid = start_sleeper(runtime, bundle)
    try:
        res = exec_(runtime, cid, "/bin/sh", "-c", "/bin/probe cwd; /bin/probe ids", flags=flags)
        cwd, ids = (parse_json(line) for line in res.stdout.splitlines())
        assert cwd == {"cwd": "/root"}
        assert (ids["uid"], ids["gid"]) == (1000, 1000)
    finally:
        runtime.delete(cid, force=True, check=False)


def test_exec_user_home(runtime: Runtime, sleeper: str) -> None:
    """HOME comes from the container's /etc/passwd for the exec'd user."""
    env = exec_probe(runtime, sleeper, "env", flags=["-u", "1000"])
    assert "HOME=/home/tester" in env


def test_exec_additional_gids(runtime: Runtime, sleeper: str) -> None:
    report = exec_probe(runtime, sleeper, "ids", flags=["-u", "1000:1000", "-g", "10", "-g", "100"])
    assert sorted(report["groups"]) == [10, 100]
    assert report["gid"] == 1000


def test_exec_cap(runtime: Runtime, sleeper: str) -> None:
    caps = exec_probe(runtime, sleeper, "caps", flags=["--cap", "CAP_SYS_ADMIN"])
    want = DEFAULT_CAP_MASK | (1 << CAP_BITS["CAP_SYS_ADMIN"])
    for name in ("bounding", "effective", "permitted"):
        assert int(caps[name], 16) == want, (name, caps[name])
    # without the flag, the container's set
    caps = exec_probe(runtime, sleeper, "caps")
    assert int(caps["effective"], 16) == DEFAULT_CAP_MASK


def test_exec_no_new_privs(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["noNewPrivileges"] = False
    cid = start_sleeper(runtime, bundle)
    try:
        assert exec_probe(runtime, cid, "caps")["no_new_privs"] == "0"
        assert exec_probe(runtime, cid, "caps", flags=["--no-new-privs"])["no_new_privs"] == "1"
    finally:
        runtime.delete(cid, force=True)


def test_exec_gets_the_containers_seccomp_filter(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"],
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}],
    }
    cid = start_sleeper(runtime, bundle)
    try:
        assert exec_probe(runtime, cid, "caps")["seccomp"] == "2"
        res = exec_(runtime, cid, "sh", "-c", "mkdir /tmp/denied || echo refused", check=False)
        assert "refused" in res.stdout, res
        assert "not implemented" in res.stderr.lower(), res.stderr  # ENOSYS, as errnoRet says
        assert not (bundle.rootfs / "tmp" / "denied").exists()
    finally:
        runtime.delete(cid, force=True)


def test_exec_process_file(runtime: Runtime, sleeper: str) -> None:
    process = {
        "terminal": False,
        "user": {"uid": 1000, "gid": 1000, "additionalGids": [100]},
        "args": ["/bin/probe", "all"],
        "env": ["PATH=/bin", "ONLY=this"],
        "cwd": "/tmp",
        "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]},
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 512, "soft": 256}],
        "noNewPrivileges": True,
    }
    path = runtime.workdir / "process.json"
    path.write_text(json.dumps(process))
    report = parse_json(runtime.run("exec", "--process", str(path), sleeper).stdout)
    assert report["env"] == ["PATH=/bin", "ONLY=this", "HOME=/home/tester"]
    assert report["cwd"] == {"cwd": "/tmp"}
    ids = report["ids"]
    assert (ids["uid"], ids["gid"], ids["groups"]) == (1000, 1000, [100])
    assert int(report["caps"]["bounding"], 16) == 1 << CAP_BITS["CAP_KILL"]
    wanted = [{"soft": 256, "hard": 512}]
    if runtime.name == "runc":  # once in a while runc 1.1.5's exec loses the soft limit to Go's own
        wanted.append({"soft": 512, "hard": 512})  # raise of it (opencontainers/runc#4195, a race)
    assert report["rlimits"]["RLIMIT_NOFILE"] in wanted
    assert report["caps"]["no_new_privs"] == "1"


@pytest.mark.xfail_runtime(
    "runc", reason="runc 1.1.5 gives exec'd processes the container's umask, not their process.user.umask"
)
def test_exec_process_file_umask(runtime: Runtime, sleeper: str) -> None:
    process = {"user": {"uid": 0, "gid": 0, "umask": 0o077}, "args": ["/bin/probe", "ids"], "cwd": "/"}
    path = runtime.workdir / "process.json"
    path.write_text(json.dumps(process))
    assert parse_json(runtime.run("exec", "--process", str(path), sleeper).stdout)["umask"] == 0o077


def test_exec_process_file_invalid(runtime: Runtime, sleeper: str) -> None:
    path = runtime.workdir / "process.json"
    path.write_text(json.dumps({"cwd": "/", "user": {"uid": 0, "gid": 0}}))  # no args
    res = runtime.run("exec", "--process", str(path), sleeper, check=False)
    assert res.returncode != 0
    assert res.error_lines, "an error message"
    assert runtime.status(sleeper) == "running"


# ---------------------------------------------------------------------------- detach, pid file


def test_exec_detach_pid_file(runtime: Runtime, sleeper: str) -> None:
    pid_file = runtime.workdir / "pids" / "exec.pid"
    pid_file.parent.mkdir()
    started = time.monotonic()
    exec_(runtime, sleeper, "/bin/probe", "sleep", "600", flags=["--detach", "--pid-file", str(pid_file)])
    assert time.monotonic() - started < 10 * SLOWDOWN, "exec --detach returns without waiting for the process"
    text = pid_file.read_text()
    pid = int(text)
    assert text == str(pid), f"the pid file holds the pid alone: {text!r}"
    assert os.listdir(pid_file.parent) == ["exec.pid"], "no temporary file is left next to the pid file"
    try:
        assert pid_alive(pid)
        assert ns_inodes(pid) == ns_inodes(init_pid(runtime, sleeper))
        # the pid file may come before the exec (runc writes it once the process is there)
        wait_for(lambda: os.readlink(f"/proc/{pid}/exe").endswith("/bin/probe"), "the process to exec the probe")
    finally:
        os.kill(pid, signal.SIGKILL)
    wait_gone(pid)
    assert runtime.status(sleeper) == "running"


def test_exec_relative_pid_file(runtime: Runtime, sleeper: str) -> None:
    """A relative --pid-file is relative to the runtime's working directory."""
    runtime.run(
        "exec", "-d", "--pid-file", "rel.pid", sleeper, "/bin/probe", "sleep", "600", cwd=runtime.workdir
    )
    pid = read_pid_file(runtime.workdir / "rel.pid")
    os.kill(pid, signal.SIGKILL)
    wait_gone(pid)


def test_exec_detached_output_goes_to_the_callers_stdio(runtime: Runtime, sleeper: str) -> None:
    io = runtime._io_files("exec-detached")
    runtime.run("exec", "-d", sleeper, "sh", "-c", "echo detached-out; echo detached-err >&2", io=io)
    wait_for(
        lambda: "detached-out" in io[0].read_text() and "detached-err" in io[1].read_text(),
        "the detached process's output",
    )


# ---------------------------------------------------------------------------- states


def test_exec_into_stopped_container_errors(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("/bin/probe", "exit", "0")
    cid = runtime.create(bundle)
    runtime.start(cid)
    runtime.wait_status(cid, "stopped")
    res = exec_(runtime, cid, "/bin/probe", "pid", check=False)
    expect_error(runtime, res, both=r"^exec failed: cannot exec in a stopped container$", exit_code=255)
    runtime.delete(cid)
    assert runtime.leaks() == []


def test_exec_into_missing_container_errors(runtime: Runtime) -> None:
    res = exec_(runtime, "oct-no-such-container", "/bin/probe", "pid", check=False)
    expect_error(runtime, res, both=r"container does not exist", exit_code=255)


def test_exec_missing_command_errors(runtime: Runtime, sleeper: str) -> None:
    """podman maps these messages to its 127 and 126: they must read like runc's."""
    res = exec_(runtime, sleeper, "no-such-command", check=False)
    expect_error(
        runtime, res, both=r'exec: "no-such-command": executable file not found in \$PATH', exit_code=255
    )
    res = exec_(runtime, sleeper, "/etc/passwd", check=False)
    expect_error(runtime, res, both=r"(?i)permission denied", exit_code=255)
    assert runtime.status(sleeper) == "running"


@pytest.mark.v2lane
def test_exec_into_created_container(runtime: Runtime, bundle: Bundle) -> None:
    """A created container's init waits for start; exec works in its namespaces meanwhile."""
    bundle.set_args("/bin/probe", "sleep", "600")
    cid = runtime.create(bundle)
    try:
        inside = exec_probe(runtime, cid, "ns")
        init = ns_inodes(init_pid(runtime, cid))
        assert inside["pid"] == init["pid"] and inside["mnt"] == init["mnt"]
        assert runtime.status(cid) == "created"
    finally:
        runtime.delete(cid, force=True)


def _pause_works(rt: Runtime) -> str | None:
    res = rt.run("pause", "--help", check=False)
    if res.returncode != 0:
        return f"{rt.name} pause --help exited {res.returncode}: {res.stderr.strip()}"
    return None


@pytest.mark.v2lane
def test_exec_into_paused_container(runtime: Runtime, sleeper: str) -> None:
    why = _pause_works(runtime)
    if why:
        print(f"skipping: pause does not work: {why}")
        pytest.skip(f"pause does not work: {why}")
    runtime.run("pause", sleeper)
    proc = None
    try:
        assert runtime.status(sleeper) == "paused"
        res = exec_(runtime, sleeper, "/bin/probe", "pid", check=False)
        expect_error(
            runtime,
            res,
            both=r"^exec failed: cannot exec in a paused container \(use --ignore-paused to override\)$",
            exit_code=255,
        )
        # --ignore-paused: the process starts in the frozen cgroup and runs once resumed
        out_path, err_path = runtime._io_files("exec-paused")
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(
                runtime.command("exec", "--ignore-paused", sleeper, "/bin/probe", "echo", "thawed"),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        time.sleep(0.5)
        assert proc.poll() is None, f"exited {proc.returncode} in a frozen cgroup: {err_path.read_text()}"
        assert out_path.read_text() == ""
        runtime.run("resume", sleeper)
        assert proc.wait(timeout=15 * SLOWDOWN) == 0, err_path.read_text()
        assert parse_json(out_path.read_text()) == ["thawed"]
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if runtime.status(sleeper) == "paused":
            runtime.run("resume", sleeper, check=False)


# ---------------------------------------------------------------------------- preserved fds


@pytest.fixture
def pipes() -> Iterator[list[tuple[int, int]]]:
    """Three pipes (read end, write end)."""
    made = [os.pipe() for _ in range(3)]
    yield made
    for r, w in made:
        for fd in (r, w):
            with contextlib.suppress(OSError):
                os.close(fd)


def _check_preserved(report: dict[str, str], pipes: list[tuple[int, int]]) -> None:
    r0, w1 = pipes[0][0], pipes[1][1]
    assert report.get("3") == f"pipe:[{os.fstat(r0).st_ino}]", report
    assert report.get("4") == f"pipe:[{os.fstat(w1).st_ino}]", report
    assert "5" not in report, f"fd 5 was not to be preserved: {report}"
    assert set(report) <= {"0", "1", "2", "3", "4"}, report


FD_SCRIPT = "/bin/probe fds; read line <&3; echo got:$line >&4"


@pytest.mark.parametrize("mode", ["create", "run", "exec"])
def test_preserve_fds(runtime: Runtime, bundle: Bundle, pipes: list[tuple[int, int]], mode: str) -> None:
    """--preserve-fds 2 with fds 3, 4, 5 open: the process gets 3 and 4 (and not 5)."""
    passed = [pipes[0][0], pipes[1][1], pipes[2][0]]
    os.write(pipes[0][1], b"hello\n")
    cid = runtime.new_id()
    label = f"{mode}-{cid}"
    if mode == "exec":
        cid = start_sleeper(runtime, bundle)
        res = run_with_fds(
            runtime, ["exec", "--preserve-fds", "2", cid, "sh", "-c", FD_SCRIPT], passed, label=label
        )
    else:
        bundle.set_args("sh", "-c", FD_SCRIPT)
        bundle.write_config(cid)
        if mode == "create":
            res = run_with_fds(
                runtime,
                ["create", "--preserve-fds", "2", "--bundle", str(bundle.path), cid],
                passed,
                label=label,
            )
            assert res.returncode == 0, res.stderr
            runtime.start(cid)
            runtime.wait_status(cid, "stopped")
        else:
            res = run_with_fds(
                runtime,
                ["run", "--preserve-fds", "2", "--bundle", str(bundle.path), cid],
                passed,
                label=label,
            )
    try:
        assert res.returncode == 0, f"{res.stderr}\n{runtime.log_tail()}"
        out = runtime.output(label)[0]
        _check_preserved(parse_json(out.splitlines()[0]), pipes)
        assert read_available(pipes[1][0], b"got:hello\n") == b"got:hello\n"
    finally:
        runtime.delete(cid, force=True, check=False)


def test_preserve_fds_missing_fd_errors(runtime: Runtime, bundle: Bundle) -> None:
    """--preserve-fds 50 with only fd 3 passed (the runtime's own fds may follow it) fails and
    leaves nothing behind."""
    r, w = os.pipe()
    try:
        bundle.set_args("/bin/probe", "fds")
        cid = runtime.new_id()
        bundle.write_config(cid)
        res = run_with_fds(runtime, ["run", "--preserve-fds", "50", "--bundle", str(bundle.path), cid], [r])
        assert res.returncode != 0
        assert runtime.ids_in_root() == []
        assert runtime.leaks() == []
    finally:
        os.close(r)
        os.close(w)


def _listener(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.listen(4)
    return sock


def _socket_inode(sock: socket.socket) -> int:
    return os.fstat(sock.fileno()).st_ino


def test_listen_fds_with_preserve_fds(runtime: Runtime, bundle: Bundle) -> None:
    """Socket activation as podman does it: LISTEN_FDS=1 in the env, the socket as fd 3 kept by
    --preserve-fds 1; the container accepts a connection on it."""
    sock = _listener(runtime.workdir / "activation.sock")
    try:
        bundle.process["env"] = [DEFAULT_PATH, "LISTEN_FDS=1", "LISTEN_PID=1"]
        bundle.set_args("sh", "-c", "/bin/probe fds; /bin/probe env")
        cid = runtime.new_id()
        bundle.write_config(cid)
        res = run_with_fds(
            runtime,
            ["run", "--preserve-fds", "1", "--bundle", str(bundle.path), cid],
            [sock.fileno()],
            label=cid,
        )
        assert res.returncode == 0, res.stderr
        fds_line, env_line = runtime.output(cid)[0].splitlines()[:2]
        fds, env = json.loads(fds_line), json.loads(env_line)
        assert fds.get("3") == f"socket:[{_socket_inode(sock)}]", fds
        assert "LISTEN_FDS=1" in env and "LISTEN_PID=1" in env
    finally:
        sock.close()


def test_systemd_socket_activation(runtime: Runtime, bundle: Bundle) -> None:
    """runc under systemd: LISTEN_FDS=1 and LISTEN_PID=<the runtime's pid> in the runtime's own
    environment hand fd 3 to the container, with LISTEN_FDS=1 LISTEN_PID=1 added to its env."""
    sock = _listener(runtime.workdir / "activation.sock")
    try:
        bundle.set_args("sh", "-c", "/bin/probe fds; /bin/probe env")
        cid = runtime.new_id()
        bundle.write_config(cid)
        res = run_with_fds(
            runtime,
            ["run", "--bundle", str(bundle.path), cid],
            [sock.fileno()],
            env={"LISTEN_FDS": "1", "LISTEN": "1"},
            label=cid,
        )
        assert res.returncode == 0, res.stderr
        fds_line, env_line = runtime.output(cid)[0].splitlines()[:2]
        fds, env = json.loads(fds_line), json.loads(env_line)
        assert fds.get("3") == f"socket:[{_socket_inode(sock)}]", fds
        assert "LISTEN_FDS=1" in env and "LISTEN_PID=1" in env, env
    finally:
        sock.close()


# ---------------------------------------------------------------------------- session keyring

KEYRING_C = r"""
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
/* keyring: the serial and description of this process's session keyring, as JSON. */
int main(void)
{
	long id = syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* SESSION */, 0);
	char desc[512] = "";
	if (id > 0 && syscall(SYS_keyctl, 6 /* DESCRIBE */, id, desc, sizeof desc - 1) < 0)
		desc[0] = 0;
	for (char *p = desc; *p; p++)
		if (*p == '"' || *p == '\\')
			*p = '_';
	printf("{\"serial\": %ld, \"describe\": \"%s\"}\n", id, desc);
	return 0;
}
"""


@pytest.fixture(scope="module")
def keyring_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("keyring")
    (d / "keyring.c").write_text(KEYRING_C)
    out = d / "keyring"
    proc = subprocess.run(
        ["gcc", "-static", "-O2", "-o", str(out), str(d / "keyring.c")], capture_output=True, text=True
    )
    if proc.returncode != 0:
        pytest.fail(f"building the keyring helper failed: {proc.stderr}", pytrace=False)
    return out


def own_session_keyring() -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return int(libc.syscall(250 if os.uname().machine == "x86_64" else 219, 0, -3, 0))


@pytest.fixture
def keyring_bundle(bundle: Bundle, keyring_binary: Path) -> Bundle:
    import shutil

    shutil.copy2(keyring_binary, bundle.rootfs / "bin" / "keyring")
    bundle.set_args("/bin/keyring")
    return bundle


def _keyring_of(rt: Runtime, cid: str) -> dict[str, Any]:
    report: dict[str, Any] = parse_json(rt.wait_output(cid, "serial"))
    return report


def test_new_session_keyring(runtime: Runtime, keyring_bundle: Bundle) -> None:
    cid = runtime.new_id()
    status, out, err = runtime.run_container(keyring_bundle, cid)
    assert status == 0, err
    ring = parse_json(out)
    assert ring["serial"] > 0
    assert ring["serial"] != own_session_keyring(), "the container has a session keyring of its own"
    kind, uid, gid, perm, name = ring["describe"].split(";", 4)
    assert (kind, uid, gid) == ("keyring", "0", "0")
    assert name == f"_ses.{cid}"
    assert int(perm, 16) & 0x3F000000 == 0x3F000000, "the possessor (the container) may do anything"


def test_exec_joins_the_containers_session_keyring(runtime: Runtime, keyring_bundle: Bundle) -> None:
    keyring_bundle.set_args("sh", "-c", "/bin/keyring; exec /bin/probe sleep 600")
    cid = runtime.create(keyring_bundle)
    try:
        runtime.start(cid)
        init_ring = _keyring_of(runtime, cid)
        exec_ring = parse_json(exec_(runtime, cid, "/bin/keyring").stdout)
        assert exec_ring["serial"] == init_ring["serial"], (exec_ring, init_ring)
    finally:
        runtime.delete(cid, force=True)


def test_no_new_keyring(runtime: Runtime, keyring_bundle: Bundle) -> None:
    status, out, err = runtime.run_container(keyring_bundle, extra=["--no-new-keyring"])
    assert status == 0, err
    assert parse_json(out)["serial"] == own_session_keyring(), "the caller's session keyring is kept"


def test_exec_in_no_new_keyring_container_keeps_the_callers(runtime: Runtime, keyring_bundle: Bundle) -> None:
    keyring_bundle.set_args("/bin/probe", "sleep", "600")
    cid = runtime.create(keyring_bundle, extra=["--no-new-keyring"])
    try:
        runtime.start(cid)
        ring = parse_json(exec_(runtime, cid, "/bin/keyring").stdout)
        assert ring["serial"] == own_session_keyring()
    finally:
        runtime.delete(cid, force=True)


def test_exec_cap_raises_it_in_the_ambient_set(runtime: Runtime, bundle: Bundle) -> None:
    """runc 1.1 (after CVE-2022-29162) adds an ``exec --cap`` capability to the bounding,
    effective, permitted and ambient sets, never to the inheritable one: where the container's
    inheritable set has it, the kernel raises it in the ambient set, so that it survives the
    exec of a program run by a non-root user; where it has not, it is not ambient (and is lost
    at that exec)."""
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["capabilities"]["bounding"].append("CAP_NET_RAW")  # inheritable needs it there
    bundle.process["capabilities"]["inheritable"] = ["CAP_NET_RAW"]
    cid = start_sleeper(runtime, bundle)
    try:
        flags = ["--cap", "CAP_NET_RAW", "--cap", "CAP_SYS_ADMIN"]
        caps = {k: int(v, 16) for k, v in exec_probe(runtime, cid, "caps", flags=flags).items()
                if k in ("bounding", "effective", "permitted", "inheritable", "ambient")}
        raw, admin = 1 << 13, 1 << CAP_BITS["CAP_SYS_ADMIN"]  # CAP_NET_RAW is 13
        assert caps["inheritable"] == raw, hex(caps["inheritable"])
        assert caps["bounding"] & (raw | admin) == raw | admin, hex(caps["bounding"])
        # a non-root user keeps across its exec only what is ambient
        for name in ("ambient", "permitted", "effective"):
            assert caps[name] & (raw | admin) == raw, (name, hex(caps[name]))
    finally:
        runtime.delete(cid, force=True)
