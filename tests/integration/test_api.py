"""The library: ``import ocirun`` drives real containers without running the ocirun command.

ocirun only (runc has no Python API).  The containers are children of the pytest process here,
so these tests also check that the library reaps them and leaves no zombie behind.
"""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import ocirun
from ocirun import errors

from .support import CGROUP_PARENT, DEFAULT_OCIRUN, SLOWDOWN, Bundle, find_leaks, parse_json, pid_alive, probe_args
from .support import Runtime as Driver

IDS: list[str] = []  # this test's container ids, for the leak check


@pytest.fixture
def lib(request: pytest.FixtureRequest, workdir: Path) -> Iterator[ocirun.Runtime]:
    if "ocirun" not in (request.config.getoption("--runtime") or ["ocirun"]):
        pytest.skip("the library is ocirun's: --runtime does not select ocirun")
    # The command-line driver only for its leak checks (same --root, same ids).
    driver = Driver("ocirun", "/bin/false", workdir)
    rt = ocirun.Runtime(root=str(driver.root), log_file=str(driver.log))
    IDS.clear()
    yield rt
    left = [c.id for c in rt.list()]
    for cid in left:
        rt.get(cid).delete(force=True)
    driver.ids[:] = IDS
    problems = find_leaks(driver, workdir)
    assert not left and not problems, f"left behind: containers {left}, {problems}"


def new_id() -> str:
    cid = f"oct-api-{uuid.uuid4().hex[:10]}"
    IDS.append(cid)
    return cid


def write(bundle: Bundle, cid: str, *args: str) -> str:
    bundle.set_args(*args)
    bundle.write_config(cid)
    return str(bundle.path)


def is_zombie_of_ours(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return fields[0] == "Z" and int(fields[1]) == os.getpid()


def test_lifecycle(lib: ocirun.Runtime, bundle: Bundle, workdir: Path) -> None:
    cid = new_id()
    out = workdir / "out"
    with open(out, "wb") as f:
        c = lib.create(cid, write(bundle, cid, *probe_args("signals")), stdout=f)

    st = c.state()
    assert isinstance(st, ocirun.ContainerState)
    assert (st.id, st.status, st.bundle) == (cid, "created", str(bundle.path))
    assert st.pid > 0 and pid_alive(st.pid)
    assert st.to_json() == json.loads(
        json.dumps({"ociVersion": st.oci_version, "id": cid, "pid": st.pid, "status": "created",
                    "bundle": str(bundle.path), "rootfs": str(bundle.rootfs), "created": st.created,
                    "owner": st.owner})
    )
    assert out.read_text() == "", "nothing of the program runs before start"
    assert [s.id for s in lib.list()] == [cid]
    assert lib.get(cid).status == "created"

    c.start()
    assert c.status == "running"
    deadline = time.monotonic() + 10 * SLOWDOWN
    while "ready" not in out.read_text() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "ready" in out.read_text()

    c.kill("SIGTERM")
    assert c.wait(timeout=10 * SLOWDOWN) == 128 + signal.SIGTERM  # the probe reports the signal and exits so
    assert parse_json(out.read_text().split("ready", 1)[1]) == {"signal": signal.SIGTERM}
    assert c.status == "stopped"
    assert not is_zombie_of_ours(st.pid), "wait() reaps the container's init"
    c.delete()
    with pytest.raises(errors.ContainerNotFound):
        c.state()


def test_exit_status_and_stdio(lib: ocirun.Runtime, bundle: Bundle, workdir: Path) -> None:
    cid = new_id()
    out, err = workdir / "out", workdir / "err"
    with open(out, "wb") as o, open(err, "wb") as e:
        status = lib.run(cid, write(bundle, cid, "/bin/sh", "-c", "echo to-out; echo to-err >&2; exit 7"),
                         stdout=o, stderr=e.fileno())
    assert status == 7
    assert (out.read_text(), err.read_text()) == ("to-out\n", "to-err\n")
    assert lib.list() == [], "run without keep deletes the container"


def test_detached_run_wait_and_delete_reaps(lib: ocirun.Runtime, bundle: Bundle) -> None:
    cid = new_id()
    assert lib.run(cid, write(bundle, cid, "/bin/sh", "-c", "exit 3"), detach=True) == 0
    c = lib.get(cid)
    assert c.wait(timeout=10 * SLOWDOWN) == 3
    c.delete()

    cid = new_id()
    assert lib.run(cid, write(bundle, cid, "/bin/sleep", "1000"), detach=True) == 0
    c = lib.get(cid)
    c.kill(signal.SIGKILL)
    assert c.wait(timeout=10 * SLOWDOWN) == 128 + signal.SIGKILL
    c.delete()

    # delete --force of a running one: no zombie is left in this process
    cid = new_id()
    c = lib.create(cid, write(bundle, cid, "/bin/sleep", "1000"))
    c.start()
    pid = c.state().pid
    with pytest.raises(TimeoutError):
        c.wait(timeout=0.05)
    with pytest.raises(errors.OciRunError, match="running"):
        c.delete()
    c.delete(force=True)
    assert not is_zombie_of_ours(pid) and not pid_alive(pid)


def test_wait_keeps_the_exit_status(lib: ocirun.Runtime, bundle: Bundle) -> None:
    # wait() reaps the init once; later waits (sync or async) give the same status, not None,
    # and never wait for the pid again (by then it may be another child of this process).
    import asyncio

    cid = new_id()
    c = lib.create(cid, write(bundle, cid, "/bin/sh", "-c", "exit 3"))
    c.start()
    assert c.wait(timeout=10 * SLOWDOWN) == 3
    assert c.wait(timeout=10 * SLOWDOWN) == 3
    assert asyncio.run(c.wait_async(timeout=10 * SLOWDOWN)) == 3
    assert lib.get(cid).wait() == 3
    c.delete()

    cid = new_id()
    c = lib.create(cid, write(bundle, cid, "/bin/sh", "-c", "exit 4"))
    c.start()
    assert asyncio.run(c.wait_async(timeout=10 * SLOWDOWN)) == 4
    assert c.wait(timeout=10 * SLOWDOWN) == 4 == asyncio.run(c.wait_async())
    c.delete()
    assert lib.list() == []


def test_errors_are_typed(lib: ocirun.Runtime, bundle: Bundle, workdir: Path) -> None:
    with pytest.raises(errors.ContainerNotFound) as nf:
        lib.get("oct-api-missing")
    assert isinstance(nf.value, LookupError)

    cid = new_id()
    bundle.set_args()  # process.args: [] violates the schema
    bundle.write_config(cid)
    with pytest.raises(errors.InvalidSpec, match=r"\$\.process\.args") as bad:
        lib.create(cid, str(bundle.path))
    assert isinstance(bad.value, ValueError)
    assert lib.list() == []

    cid = new_id()
    c = lib.create(cid, write(bundle, cid, "/bin/true"))
    with pytest.raises(errors.ContainerExists):
        lib.create(cid, str(bundle.path))
    c.delete(force=True)


# -- every other verb, next to the command line doing the same ----------------------------------------


@pytest.fixture
def cli(workdir: Path, lib: ocirun.Runtime) -> Driver:
    """The ocirun command on the library's --root: what the library does, the CLI must see."""
    binary = os.environ.get("OCIRUN_BIN") or str(DEFAULT_OCIRUN)
    (workdir / "cli").mkdir()
    driver = Driver("ocirun", binary, workdir / "cli")
    driver.root = Path(lib.context.root)
    return driver


def is_child_subreaper() -> bool:
    """prctl(PR_GET_CHILD_SUBREAPER) of this process: a library caller that stays one collects,
    as zombies it never reaps, the orphans of all its other children (runc's double forks...)."""
    import ctypes

    flag = ctypes.c_int(0)
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(37, ctypes.byref(flag), 0, 0, 0) == 0  # PR_GET_CHILD_SUBREAPER
    return bool(flag.value)


def running(lib: ocirun.Runtime, bundle: Bundle) -> ocirun.Container:
    cid = new_id()
    c = lib.create(cid, write(bundle, cid, "/bin/sleep", "1000"))
    c.start()
    return c


def test_exec_returns_a_process_handle(lib: ocirun.Runtime, cli: Driver, bundle: Bundle, workdir: Path) -> None:
    c = running(lib, bundle)
    out = workdir / "exec.out"
    with open(out, "wb") as f:
        p = c.exec(["/bin/sh", "-c", 'echo "$FOO $(pwd) $(id -u):$(id -g)"; exit 5'], env=["FOO=bar"],
                   cwd="/tmp", user=(1000, 1000), stdout=f)
    assert isinstance(p, ocirun.Process) and p.pid > 0 and p.master == -1
    assert not is_child_subreaper(), "exec (joining the pid namespace) must not leave the caller a subreaper"
    assert p.wait(timeout=10 * SLOWDOWN) == 5 == p.returncode
    assert not is_zombie_of_ours(p.pid), "wait() reaps the process"
    assert out.read_text() == "bar /tmp 1000:1000\n"
    cli_out = cli.run("exec", "--env", "FOO=bar", "--cwd", "/tmp", "--user", "1000:1000", c.id,
                      "/bin/sh", "-c", 'echo "$FOO $(pwd) $(id -u):$(id -g)"', check=False)
    assert cli_out.stdout == out.read_text()

    # detach=False: returns once it has ended; a whole process object works too
    proc = dict(bundle.process, args=["/bin/sh", "-c", "exit 3"], cwd="/")
    assert c.exec(proc, detach=False).returncode == 3
    c.delete(force=True)


def test_exec_with_a_terminal_gives_the_master(lib: ocirun.Runtime, bundle: Bundle) -> None:
    c = running(lib, bundle)
    p = c.exec(["/bin/sh", "-c", "tty; echo done"], terminal=True)
    assert p.master >= 0
    text = b""
    deadline = time.monotonic() + 10
    # Read until the process has ended: closing the master before would hang the pty up, and the
    # shell would end by SIGHUP (129) instead of exiting 0.
    while time.monotonic() < deadline:
        try:
            chunk = os.read(p.master, 4096)
        except OSError:  # EIO: the last holder of the pty's other end is gone
            break
        if not chunk:
            break
        text += chunk
    os.close(p.master)
    assert p.wait(timeout=10 * SLOWDOWN) == 0
    assert b"/dev/pts/" in text and b"done" in text, text
    c.delete(force=True)


def test_pause_resume_ps_update_and_stats(lib: ocirun.Runtime, cli: Driver, bundle: Bundle) -> None:
    c = running(lib, bundle)
    c.pause()
    assert c.status == "paused" == cli.status(c.id)
    c.resume()
    assert c.status == "running" == cli.status(c.id)

    pids = c.ps()
    assert pids == [c.state().pid]
    assert pids == json.loads(cli.run("ps", "--format", "json", c.id).stdout)

    c.update(pids_limit=40)
    assert (cgroup_dir(c, "pids") / "pids.max").read_text().strip() == "40"
    from ocirun.spec.resources import Resources

    c.update(Resources.from_json({"pids": {"limit": 41}}))
    assert (cgroup_dir(c, "pids") / "pids.max").read_text().strip() == "41"
    c.update({"pids": {"limit": 42}})
    assert (cgroup_dir(c, "pids") / "pids.max").read_text().strip() == "42"
    with pytest.raises(errors.InvalidArgument, match="swappiness"):
        c.update({"memory": {"swappiness": 101}})

    stats = c.stats()
    cli_stats = json.loads(cli.run("events", "--stats", c.id).stdout)
    assert cli_stats["type"] == "stats" and set(stats) == set(cli_stats["data"])
    assert stats["pids"]["current"] == 1
    c.delete(force=True)


def cgroup_dir(c: ocirun.Container, controller: str) -> Path:
    """The container's cgroup of ``controller`` as its init's /proc/PID/cgroup names it."""
    for line in Path(f"/proc/{c.state().pid}/cgroup").read_text().splitlines():
        _, names, path = line.split(":", 2)
        if controller in names.split(","):
            return Path("/sys/fs/cgroup", controller) / path.lstrip("/")
        if names == "" and Path("/sys/fs/cgroup/cgroup.controllers").exists():  # pure v2
            return Path("/sys/fs/cgroup") / path.lstrip("/")
    raise AssertionError(f"no {controller} cgroup")


def test_events_iterate_statistics(lib: ocirun.Runtime, cli: Driver, bundle: Bundle) -> None:
    c = running(lib, bundle)
    got = []
    for event in c.events(interval=0.1):
        got.append(event)
        if len(got) == 3:
            break
    assert [e.kind for e in got] == ["stats"] * 3
    assert got[0].data is not None and got[0].data["pids"]["current"] == 1
    cli_event = json.loads(cli.run("events", "--stats", c.id).stdout)
    assert set(got[0].to_json()) == set(cli_event) and set(got[0].data) == set(cli_event["data"])
    c.delete(force=True)


def test_asyncio_waits_without_threads(lib: ocirun.Runtime, bundle: Bundle) -> None:
    import asyncio
    import threading

    c = running(lib, bundle)
    cid = new_id()
    short = lib.create(cid, write(bundle, cid, "/bin/sh", "-c", "sleep 0.3; exit 4"))
    short.start()

    async def main() -> tuple[ocirun.Event, int | None, int | None]:
        events = c.events_async(interval=0.1)
        first = await events.__anext__()
        await events.aclose()
        p = c.exec(["/bin/sh", "-c", "sleep 0.2; exit 6"])
        status, exec_status = await asyncio.gather(short.wait_async(timeout=10 * SLOWDOWN),
                                                   p.wait_async(timeout=10 * SLOWDOWN))
        return first, status, exec_status

    threads = threading.active_count()
    first, status, exec_status = asyncio.run(main())
    assert threading.active_count() == threads
    assert first.kind == "stats" and first.to_json()["id"] == c.id
    assert (status, exec_status) == (4, 6)
    short.delete()
    c.delete(force=True)


def test_spec_gives_an_editable_config(lib: ocirun.Runtime, bundle: Bundle, workdir: Path) -> None:
    cfg = lib.spec()
    assert isinstance(cfg, ocirun.Config) and cfg.args == ["sh"] and cfg.terminal
    assert "mount" in cfg.namespaces
    cfg.args = ["/bin/sh", "-c", "echo $GREETING from $(hostname)"]
    cfg.env = [*cfg.env, "GREETING=hello"]
    cfg.terminal = False
    cfg.hostname = "lib"
    cfg.root_path = str(bundle.rootfs)
    cid = new_id()
    cfg.cgroups_path = f"/{CGROUP_PARENT}/{cid}"
    cfg.resources["pids"] = {"limit": 20}
    cfg.check()
    path = cfg.write(str(workdir))
    assert json.loads(Path(path).read_text())["hostname"] == "lib"
    out = workdir / "out"
    with open(out, "wb") as f:
        assert lib.run(cid, str(workdir), stdout=f) == 0
    assert out.read_text() == "hello from lib\n"
    cfg.args = []
    with pytest.raises(errors.InvalidSpec, match=r"\$\.process\.args"):
        cfg.check()
