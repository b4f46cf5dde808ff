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

from .support import SLOWDOWN, Bundle, find_leaks, parse_json, pid_alive, probe_args
from .support import Runtime as Driver

IDS: list[str] = []  # this test's container ids, for the leak check


@pytest.fixture
def lib(workdir: Path) -> Iterator[ocirun.Runtime]:
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
