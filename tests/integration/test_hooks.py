"""Lifecycle hooks (config.md "POSIX-platform Hooks"): when each kind runs, where, with which state
on stdin, and what a failing hook does."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from .support import Bundle, Runtime, expect_error, pid_alive, probe_args


def host_hook(out: Path, kind: str, extra: str = "", timeout: int | None = None) -> dict[str, Any]:
    """A hook run by the runtime on the host: saves its stdin to ``out/kind``."""
    hook: dict[str, Any] = {"path": "/bin/sh", "args": ["sh", "-c", f"cat > {out}/{kind}{extra}"]}
    if timeout is not None:
        hook["timeout"] = timeout
    return hook


def read_state(out: Path, kind: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / kind).read_text())
    return data


@pytest.fixture
def out(tmp_path: Path) -> Path:
    d = tmp_path / "hooks-out"
    d.mkdir()
    return d


def test_create_hooks_get_the_state(runtime: Runtime, bundle: Bundle, out: Path) -> None:
    """prestart and createRuntime run in the runtime namespace during create, with the state
    (id, host pid, bundle, annotations) on stdin."""
    assert bundle.config is not None
    bundle.config["hooks"] = {kind: [host_hook(out, kind)] for kind in ("prestart", "createRuntime")}
    bundle.config["annotations"] = {"org.example.k": "v"}
    bundle.set_args(*probe_args("sleep", "300"))
    cid = runtime.create(bundle)
    pid = runtime.state(cid)["pid"]
    for kind in ("prestart", "createRuntime"):
        st = read_state(out, kind)
        assert (st["id"], st["pid"], st["bundle"]) == (cid, pid, str(bundle.path)), kind
        assert st["annotations"] == {"org.example.k": "v"}
    runtime.delete(cid, force=True)


def test_create_container_hook_runs_in_the_containers_mount_namespace(
        runtime: Runtime, bundle: Bundle, out: Path) -> None:
    """config.md: createContainer hooks run in the container namespace; runc runs them in its mount
    namespace before pivot_root (the rootfs mounted, the runtime's paths still there)."""
    assert bundle.config is not None
    bundle.mount("/mnt/t", "tmpfs", "tmpfs", ["size=1m"])
    rootfs = bundle.rootfs
    bundle.config["hooks"] = {"createContainer": [{"path": "/bin/sh", "args": [
        "sh", "-c", f"readlink /proc/self/ns/mnt > {out}/mntns; touch {rootfs}/mnt/t/from-hook"]}]}
    bundle.set_args(*probe_args("sleep", "30"))
    cid = runtime.create(bundle)
    try:
        pid = runtime.state(cid)["pid"]
        assert (out / "mntns").read_text().strip() == os.readlink(f"/proc/{pid}/ns/mnt")
        assert os.readlink(f"/proc/{pid}/ns/mnt") != os.readlink("/proc/self/ns/mnt")
        assert not (rootfs / "mnt" / "t" / "from-hook").exists(), "the hook wrote under the tmpfs on the host"
        res = runtime.run("exec", cid, "/bin/probe", "stat", "/mnt/t/from-hook")
        assert json.loads(res.stdout)[0]["exists"], res.stdout
    finally:
        runtime.delete(cid, force=True)


@pytest.mark.xfail_runtime("runc", "runc 1.1.5 gives createContainer the pid as seen inside the container (1)")
def test_create_container_hook_gets_the_host_pid(runtime: Runtime, bundle: Bundle, out: Path) -> None:
    assert bundle.config is not None
    bundle.config["hooks"] = {"createContainer": [host_hook(out, "createContainer")]}
    bundle.set_args(*probe_args("sleep", "300"))
    cid = runtime.create(bundle)
    assert read_state(out, "createContainer")["pid"] == runtime.state(cid)["pid"]
    runtime.delete(cid, force=True)


@pytest.mark.xfail_runtime("runc", "runc 1.1.5 runs poststart hooks during create, not start")
def test_poststart_runs_at_start(runtime: Runtime, bundle: Bundle, out: Path) -> None:
    assert bundle.config is not None
    bundle.config["hooks"] = {"poststart": [host_hook(out, "poststart")]}
    bundle.set_args(*probe_args("sleep", "300"))
    cid = runtime.create(bundle)
    assert not (out / "poststart").exists(), "poststart ran before start"
    runtime.start(cid)
    st = read_state(out, "poststart")
    assert (st["status"], st["pid"]) == ("running", runtime.state(cid)["pid"])
    runtime.delete(cid, force=True)


def test_poststop_runs_at_delete(runtime: Runtime, bundle: Bundle, out: Path) -> None:
    assert bundle.config is not None
    bundle.config["hooks"] = {"poststop": [host_hook(out, "poststop")]}
    bundle.set_args(*probe_args("exit", "0"))
    cid = runtime.create(bundle)
    runtime.start(cid)
    runtime.wait_status(cid, "stopped")
    assert not (out / "poststop").exists()
    runtime.delete(cid)
    st = read_state(out, "poststop")
    assert st["id"] == cid and st["status"]


@pytest.mark.xfail_runtime("runc", "runc 1.1.5 passes status 'creating' to prestart (runtime-tools hooks_stdin)")
def test_prestart_sees_created(runtime: Runtime, bundle: Bundle, out: Path) -> None:
    assert bundle.config is not None
    bundle.config["hooks"] = {"prestart": [host_hook(out, "prestart")]}
    status, _, err = runtime.run_container(bundle)
    assert status == 0, err
    assert read_state(out, "prestart")["status"] == "created"


@pytest.mark.xfail_runtime("runc", "runc 1.1.5 gives startContainer the pid as seen inside the container (1)")
def test_start_container_runs_inside_before_the_program(runtime: Runtime, bundle: Bundle) -> None:
    """startContainer: after start, in the container (its path and its files), before the
    user's program, with the state on stdin."""
    assert bundle.config is not None
    bundle.config["root"]["readonly"] = False
    bundle.config["hooks"] = {
        "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "cat > /hook-state; echo hook-ran > /order"]}]
    }
    bundle.set_args("/bin/sh", "-c", "echo program-ran >> /order; sleep 30")
    cid = runtime.create(bundle)
    pid = runtime.state(cid)["pid"]
    assert not (bundle.rootfs / "hook-state").exists(), "startContainer must wait for start"
    runtime.start(cid)
    order = bundle.rootfs / "order"
    for _ in range(250):
        if order.exists() and "program-ran" in order.read_text():
            break
        time.sleep(0.02)
    assert order.read_text().split() == ["hook-ran", "program-ran"]
    st = json.loads((bundle.rootfs / "hook-state").read_text())
    assert (st["id"], st["pid"]) == (cid, pid)
    runtime.delete(cid, force=True)


def test_failing_prestart_fails_create_and_leaves_nothing(runtime: Runtime, bundle: Bundle, out: Path) -> None:
    assert bundle.config is not None
    bundle.config["hooks"] = {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]}
    res = runtime.try_create(bundle)
    assert res.returncode == 1
    assert runtime.ids_in_root() == []


@pytest.mark.xfail_runtime("runc", "runc 1.1.5 runs poststart hooks during create and fails it")
def test_failing_poststart_fails_start_and_destroys_the_container(
        runtime: Runtime, bundle: Bundle, out: Path) -> None:
    """runtime.md lifecycle step 9 (spec 1.3): a failing poststart hook is an error; the container
    is stopped and destroyed (its poststop hooks run)."""
    assert bundle.config is not None
    bundle.config["hooks"] = {"poststart": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}],
                              "poststop": [host_hook(out, "poststop")]}
    bundle.set_args(*probe_args("sleep", "300"))
    cid = runtime.create(bundle)
    pid = runtime.state(cid)["pid"]
    res = runtime.start(cid, check=False)
    expect_error(runtime, res, ocirun=r"^error running poststart hook #0 `/bin/sh`: exit status 3")
    assert not pid_alive(pid)
    assert runtime.ids_in_root() == []
    assert (out / "poststop").exists()
    assert runtime.leaks() == []


def test_failing_poststart_fails_run_and_destroys_the_container(
        runtime: Runtime, bundle: Bundle, out: Path) -> None:
    assert bundle.config is not None
    bundle.config["hooks"] = {"poststart": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]}
    bundle.set_args("/bin/sh", "-c", f"sleep 1; touch {out}/ran-on")
    status, _, err = runtime.run_container(bundle)
    assert status == 1, err
    assert re.search(r"hook #0.*exit status 3", err), err
    assert runtime.ids_in_root() == []
    assert runtime.leaks() == []


def test_hook_without_env_gets_the_runtimes_environment(runtime: Runtime, bundle: Bundle, out: Path) -> None:
    """A hook without ``env`` runs with the runtime's environment (runc and crun: theirs); one
    with ``env`` gets exactly that."""
    assert bundle.config is not None
    bundle.config["hooks"] = {"createRuntime": [
        {"path": "/bin/sh", "args": ["sh", "-c", f"echo \"$HOOK_PROBE_VAR\" > {out}/without"]},
        {"path": "/bin/sh", "args": ["sh", "-c", f"echo \"$HOOK_PROBE_VAR\" > {out}/with"], "env": ["A=1"]},
    ]}
    os.environ["HOOK_PROBE_VAR"] = "from-the-runtime"
    try:
        status, _, err = runtime.run_container(bundle)
    finally:
        del os.environ["HOOK_PROBE_VAR"]
    assert status == 0, err
    assert (out / "without").read_text().strip() == "from-the-runtime"
    assert (out / "with").read_text().strip() == ""


def test_failing_poststop_does_not_fail_delete(runtime: Runtime, bundle: Bundle) -> None:
    assert bundle.config is not None
    bundle.config["hooks"] = {"poststop": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]}
    bundle.set_args(*probe_args("exit", "0"))
    cid = runtime.create(bundle)
    runtime.start(cid)
    runtime.wait_status(cid, "stopped")
    runtime.delete(cid)
    assert runtime.ids_in_root() == []


def test_hook_timeout(runtime: Runtime, bundle: Bundle) -> None:
    assert bundle.config is not None
    hook = {"path": "/bin/sh", "args": ["sh", "-c", "exec sleep 30"], "timeout": 1}
    bundle.config["hooks"] = {"createRuntime": [hook]}
    res = runtime.try_create(bundle)
    assert res.returncode == 1
    assert runtime.ids_in_root() == []


def test_hook_args_and_env(runtime: Runtime, bundle: Bundle, out: Path) -> None:
    assert bundle.config is not None
    bundle.config["hooks"] = {
        "createRuntime": [{
            "path": "/bin/sh",
            "args": ["sh", "-c", f'echo "$0 $1 $HOOKVAR" > {out}/args', "first", "second"],
            "env": ["HOOKVAR=hello"],
        }]
    }
    status, _, err = runtime.run_container(bundle)
    assert status == 0, err
    assert (out / "args").read_text().split() == ["first", "second", "hello"]


# ---------------------------------------------------------------------------- what a failure says

FAILING = "echo out-text; echo err-text >&2; exit 3"
# runc writes the hook's output as it is (its error spans lines), ocirun escapes newlines
SAYS_HOW = r"hook #1\b.*exit status 3, stdout: out-text(\n|\\n), stderr: err-text"


@pytest.mark.parametrize("kind", ["prestart", "createRuntime", "createContainer"])
def test_failing_hook_error_names_it_with_status_and_output(runtime: Runtime, bundle: Bundle, kind: str) -> None:
    """The error of a failing hook says which one (its index among its kind's hooks), its exit
    status, its stdout and its stderr, as runc's "error running hook #1: ... exit status 3,
    stdout: out-text\\n, stderr: err-text\\n"; one line, nothing left behind."""

    assert bundle.config is not None
    bundle.config["hooks"] = {kind: [{"path": "/bin/true"}, {"path": "/bin/sh", "args": ["sh", "-c", FAILING]}]}
    res = runtime.try_create(bundle)
    assert res.returncode == 1
    assert re.search(SAYS_HOW, res.stderr, re.S), res.stderr
    if runtime.name == "ocirun":
        expect_error(runtime, res, both=rf"^error running {kind} hook #1 `/bin/sh`: exit status 3, "
                                        r"stdout: out-text\\n, stderr: err-text\\n$")
    assert runtime.ids_in_root() == []


def test_hook_that_cannot_start_names_it(runtime: Runtime, bundle: Bundle) -> None:
    assert bundle.config is not None
    bundle.config["hooks"] = {"createRuntime": [{"path": "/no/such/hook"}]}
    res = runtime.try_create(bundle)
    expect_error(runtime, res, both=r"hook #0\b.*/no/such/hook.*(?i:no such file or directory)")
    assert runtime.ids_in_root() == []


@pytest.mark.xfail_runtime("runc", "runc 1.1.5 says only \"hook ran past specified timeout of 1.0s\": "
                                   "no output")
def test_hook_timeout_error_names_it_with_output(runtime: Runtime, bundle: Bundle) -> None:
    assert bundle.config is not None
    hook = {"path": "/bin/sh", "args": ["sh", "-c", "echo waiting >&2; exec sleep 30"], "timeout": 1}
    bundle.config["hooks"] = {"createRuntime": [hook]}
    res = runtime.try_create(bundle)
    assert re.search(r"hook #0\b.*(timeout|timed out).*stderr: waiting(\n|\\n)", res.stderr, re.S), res.stderr
    assert runtime.ids_in_root() == []


START_HOOKS = [{"path": "/bin/true"}, {"path": "/bin/sh", "args": ["sh", "-c", FAILING]}]


def test_failing_start_container_hook_fails_run_saying_how(runtime: Runtime, bundle: Bundle) -> None:
    """A startContainer hook runs in the container; when it fails, run fails with its index, exit
    status, stdout and stderr, as runc's."""
    assert bundle.config is not None
    bundle.config["hooks"] = {"startContainer": START_HOOKS}
    bundle.set_args(*probe_args("echo", "program-ran"))
    status, out, err = runtime.run_container(bundle)
    assert status != 0 and "program-ran" not in out
    assert re.search(SAYS_HOW, err, re.S), err
    assert runtime.ids_in_root() == []


def test_failing_start_container_hook_after_start_says_how(runtime: Runtime, bundle: Bundle) -> None:
    """After ``start`` nobody waits for the init: it says how the hook failed on the container's
    stderr (as runc), and the container stops without running its program."""
    assert bundle.config is not None
    bundle.config["hooks"] = {"startContainer": START_HOOKS}
    bundle.set_args(*probe_args("echo", "program-ran"))
    cid = runtime.create(bundle)
    runtime.start(cid)
    runtime.wait_status(cid, "stopped")
    out, err = runtime.output(cid)
    assert "program-ran" not in out
    assert re.search(SAYS_HOW, err, re.S), err
    runtime.delete(cid)


def test_failing_start_container_hook_under_a_terminal_says_how(runtime: Runtime, bundle: Bundle) -> None:
    """With process.terminal in a foreground run, the hook's stderr is not lost on a pty nobody
    reads yet: the error, on the caller's terminal, carries it."""
    from tests.e2e.ptyrun import PtyProcess

    assert bundle.config is not None
    bundle.config["hooks"] = {"startContainer": START_HOOKS}
    bundle.process["terminal"] = True
    bundle.set_args(*probe_args("echo", "program-ran"))
    cid = runtime.new_id()
    bundle.write_config(cid)
    with PtyProcess(runtime.command("run", "--bundle", str(bundle.path), cid)) as term:
        assert term.wait() != 0
    text = term.output.decode(errors="replace").replace("\r\n", "\n")
    assert "program-ran" not in text
    assert re.search(SAYS_HOW, text, re.S), text
    assert runtime.ids_in_root() == []
