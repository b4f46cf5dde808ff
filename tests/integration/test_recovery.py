"""Recovery from any state (issue 12 item 2): a damaged state.json, and ocirun killed in each of
its crash windows.  Afterwards `state` and `list` tell the truth and `delete --force` leaves
nothing behind (the leak check runs after every test).

The crash tests use ocirun's test-only switch OCIRUN_TEST_CRASH_AT=<step> (ocirun.store.crash_point:
ocirun SIGKILLs itself at that step), so they run on ocirun only.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable

import pytest

from .support import (
    SLOWDOWN,
    Bundle,
    Runtime,
    expect_error,
    leaked_cgroups,
    leaked_processes,
    probe_args,
    remove_leaks,
    wait_for,
)

DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda text: b"",
    "truncated": lambda text: text[: len(text) // 2],
    "garbage": lambda text: b"\x00\xff\xfe not json",
    "not-a-state": lambda text: b'{"id": 1, "pid": "x"}',
    "deeply-nested": lambda text: b"[" * 100_000,
}


@pytest.mark.xfail_runtime("runc", "runc 1.1.5: `list` leaves a container with an unreadable state.json out "
                                   "(with a warning) and `delete --force` fails on it, leaving its processes")
@pytest.mark.parametrize("started", [False, True], ids=["created", "running"])
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_delete_force_with_a_damaged_state_file(runtime: Runtime, bundle: Bundle, damage: str, started: bool) -> None:
    """state.json empty, truncated, not JSON or not a state: `state` fails naming the file, `list`
    shows the container (status unknown, with runc's warning), `delete` without --force refuses,
    `delete --force` kills its processes and removes its cgroups and state."""
    bundle.set_args("sh", "-c", "sleep 61 & exec sleep 62")
    bundle.linux["namespaces"] = [ns for ns in bundle.linux["namespaces"] if ns["type"] != "pid"]  # via cgroups
    cid = runtime.create(bundle)
    if started:
        runtime.start(cid)
        wait_for(lambda: len(leaked_processes(runtime.workdir, [cid])) == 2, "the container's two sleeps")
    assert leaked_processes(runtime.workdir, [cid])
    state_file = runtime.root / cid / "state.json"
    state_file.write_bytes(DAMAGE[damage](state_file.read_bytes()))

    expect_error(runtime, runtime.run("state", cid, check=False), ocirun=rf"^read state `{state_file}`: \S")
    res = runtime.run("list", "--format", "json")
    rows = json.loads(res.stdout) or []
    assert [(r["id"], r["status"], r["pid"]) for r in rows] == [(cid, "unknown", 0)]
    assert rows[0]["bundle"] == str(bundle.path)
    assert res.stderr.startswith(f"load container {cid}: read state"), res.stderr
    res = runtime.run("list", "-q")
    assert res.stdout.split() == [cid]
    expect_error(runtime, runtime.delete(cid, check=False), ocirun=r"^read state `")

    runtime.delete(cid, force=True)
    assert runtime.ids_in_root() == []
    assert leaked_processes(runtime.workdir, [cid]) == {}
    assert leaked_cgroups([cid]) == []
    assert runtime.leaks() == []


def test_delete_force_without_any_state_file(runtime: Runtime, bundle: Bundle) -> None:
    """Both state.json and cleanup.json unreadable: `delete --force` still removes the state
    directory.  Where the cgroups are cannot be known then and ocirun guesses none (ocirun.store
    "Recovery"): the test removes them itself."""
    bundle.set_args(*probe_args("exit", "0"))
    cid = runtime.create(bundle)
    runtime.start(cid)
    runtime.wait_status(cid, "stopped")
    for name in os.listdir(runtime.root / cid):
        if name.endswith(".json"):
            (runtime.root / cid / name).write_bytes(b"")
    res = runtime.delete(cid, force=True, check=False)
    if runtime.name == "runc":
        assert res.returncode != 0  # runc 1.1.5 fails; remove the directory for the leak check
        (runtime.root / cid / "state.json").unlink()
        runtime.delete(cid, force=True)
    assert runtime.ids_in_root() == []
    remove_leaks(runtime.workdir, [cid])
    assert runtime.leaks() == []


# ------------------------------------------------------------------------------------- crashes

MISSING = "missing"  # no state.json: `state` says the container does not exist, `list` "unknown"

# (command, step, the status `state` reports afterwards)
CRASHES = [
    ("create", "create:mkdir", MISSING),
    ("create", "create:recorded", MISSING),
    ("create", "create:spawned", MISSING),
    ("create", "create:ready", "created"),  # the init is ready: its pid was saved before
    ("create", "create:saved", "created"),
    ("run", "create:ready", "running"),  # run's init execs at once
    ("start", "start:written", "running"),  # exec.fifo left behind
    ("delete", "delete:killed", "stopped"),
    ("delete", "delete:destroyed", "stopped"),
]


def _crash(runtime: Runtime, step: str, *args: str) -> None:
    env = {**os.environ, "OCIRUN_TEST_CRASH_AT": step}
    proc = subprocess.run(runtime.command(*args), env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30 * SLOWDOWN)
    assert proc.returncode == -9, f"ocirun {args[0]} was to kill itself at {step}: exit {proc.returncode}"


@pytest.mark.parametrize(("command", "step", "status"), CRASHES, ids=[f"{c}-{s}" for c, s, _ in CRASHES])
def test_killed_at_step(runtime: Runtime, bundle: Bundle, command: str, step: str, status: str) -> None:
    """ocirun SIGKILLed at each step of create, run, start and delete: `state` and `list` report
    what is true (a live init always with its pid; a running one as running), `delete --force`
    removes it all, and the id can be used again."""
    if runtime.name != "ocirun":
        pytest.skip("OCIRUN_TEST_CRASH_AT is ocirun's test-only switch")
    bundle.set_args(*probe_args("sleep", "600"))
    cid = runtime.new_id()
    bundle.write_config(cid)
    create = ("create", "--bundle", str(bundle.path), cid)
    if command == "create":
        _crash(runtime, step, *create)
    elif command == "run":
        _crash(runtime, step, "run", "--detach", "--bundle", str(bundle.path), cid)
    else:
        runtime.run(*create)
        if command == "start":
            _crash(runtime, step, "start", cid)
        else:
            runtime.start(cid)
            _crash(runtime, step, "delete", "--force", cid)

    res = runtime.run("state", cid, check=False)
    rows = json.loads(runtime.run("list", "--format", "json").stdout) or []
    assert [r["id"] for r in rows] == [cid]
    if status == MISSING:
        expect_error(runtime, res, both="container does not exist")
        assert (rows[0]["status"], rows[0]["pid"]) == ("unknown", 0)
    else:
        assert res.returncode == 0, res.stderr
        st = json.loads(res.stdout)
        assert st["status"] == status and rows[0]["status"] == status
        if status == "stopped":
            assert st["pid"] == 0
        else:
            assert st["pid"] > 0 and st["pid"] == rows[0]["pid"]
            assert leaked_processes(runtime.workdir, [cid]), "the init is alive"
    if status in ("created", "running"):  # the container works: start is refused or done
        res = runtime.start(cid, check=False)
        if status == "created":
            assert res.returncode == 0, res.stderr
        else:
            expect_error(runtime, res, ocirun="cannot start an already running container")
        assert runtime.status(cid) == "running"
    runtime.delete(cid, force=True)
    assert runtime.ids_in_root() == []
    assert runtime.leaks() == []
    runtime.create(bundle, cid)  # the id is free again
    runtime.delete(cid, force=True)


def test_state_is_running_when_start_died_before_removing_the_fifo(runtime: Runtime, bundle: Bundle) -> None:
    """`start` killed after the init took its byte, before it removed exec.fifo: the program runs,
    so the container is running (not created) and a second start is refused."""
    if runtime.name != "ocirun":
        pytest.skip("OCIRUN_TEST_CRASH_AT is ocirun's test-only switch")
    bundle.set_args(*probe_args("signals"))
    cid = runtime.create(bundle)
    _crash(runtime, "start:written", "start", cid)
    assert (runtime.root / cid / "exec.fifo").exists()
    runtime.wait_output(cid, "ready")
    assert runtime.status(cid) == "running"
    runtime.kill(cid, "TERM")
    runtime.wait_status(cid, "stopped")
    runtime.delete(cid)
    assert runtime.leaks() == []
