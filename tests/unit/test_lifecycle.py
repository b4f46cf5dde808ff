"""The lifecycle's shape (issue 14): one status table with runc's refusals, the hooks' kinds and
their one state builder, create's transaction, and no verb importing another."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from ocirun import hooks
from ocirun import state as st
from ocirun.errors import CreateError, HookError, InvalidState
from ocirun.lifecycle.creating import Transaction
from ocirun.spec.model import Hook

LIFECYCLE = Path(__file__).resolve().parents[2] / "ocirun" / "lifecycle"
# the modules several verbs share (no verb of their own)
SHARED = {"creating", "launching", "teardown", "__init__"}
STATUSES = (st.CREATING, st.CREATED, st.RUNNING, st.PAUSED, st.STOPPED)

# ---------------------------------------------------------------------------- status table

# verb, status -> runc's sentence (None: allowed); containerd and podman match some of them
REFUSALS = {
    ("start", st.CREATED): None,
    ("start", st.RUNNING): "cannot start an already running container",
    ("start", st.PAUSED): "cannot start an already paused container",
    ("start", st.STOPPED): "cannot start a container that has stopped",
    ("kill", st.RUNNING): None,
    ("kill", st.PAUSED): None,
    ("kill", st.STOPPED): "container not running",
    ("delete", st.STOPPED): None,
    ("delete", st.CREATED): None,  # runc kills and deletes a created container without --force
    ("delete", st.RUNNING): "cannot delete container c1 that is not stopped: running",
    ("delete", st.PAUSED): "cannot delete container c1 that is not stopped: paused",
    ("exec", st.RUNNING): None,
    ("exec", st.STOPPED): "cannot exec in a stopped container",
    ("exec", st.PAUSED): "cannot exec in a paused container (use --ignore-paused to override)",
    ("pause", st.RUNNING): None,
    ("pause", st.CREATED): None,
    ("pause", st.PAUSED): "container not running",
    ("pause", st.STOPPED): "container not running",
    ("resume", st.PAUSED): None,
    ("resume", st.RUNNING): "container not paused",
    ("update", st.PAUSED): None,
    ("update", st.STOPPED): "container not running",
    ("events", st.RUNNING): None,
    ("events", st.STOPPED): "container with id c1 is not running",
}


@pytest.mark.parametrize(("verb", "status"), sorted(REFUSALS))
def test_status_table_allows_and_refuses_in_runcs_words(verb: str, status: str) -> None:
    expected = REFUSALS[verb, status]
    if expected is None:
        st.check(verb, status, "c1")
        return
    with pytest.raises(InvalidState) as err:
        st.check(verb, status, "c1")
    assert str(err.value) == expected


def test_status_table_covers_every_status_of_every_verb() -> None:
    for verb, (allowed, refusals) in st.TRANSITIONS.items():
        assert set(allowed) <= set(STATUSES), verb
        assert "*" in refusals, verb
        for status in STATUSES:
            if status not in allowed:
                assert str(st.refuse(verb, status, "x")), (verb, status)


def test_invalid_state_is_raised_only_by_the_table() -> None:
    """Every refusal by status goes through ocirun.state's table: no module words its own."""
    root = LIFECYCLE.parent
    for path in sorted(root.rglob("*.py")):
        if path.name in ("state.py", "errors.py"):
            continue
        assert "InvalidState(" not in path.read_text(), path.relative_to(root)


# ---------------------------------------------------------------------------- no verb imports a verb


def test_no_verb_imports_another_verb() -> None:
    verbs = {p.stem for p in LIFECYCLE.glob("*.py")} - SHARED
    for path in sorted(LIFECYCLE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                assert node.module not in verbs, f"{path.name} imports the verb {node.module}"


# ---------------------------------------------------------------------------- hooks


def test_hook_kinds_say_which_are_fatal() -> None:
    assert set(hooks.KINDS) == {"prestart", "createRuntime", "createContainer", "startContainer", "poststart",
                                "poststop"}
    assert [k for k, fatal in hooks.KINDS.items() if not fatal] == ["poststop"]  # poststart: spec 1.3
    assert hooks.CREATE_KINDS == ("prestart", "createRuntime", "createContainer")


@pytest.mark.parametrize("annotations", [{}, {"a": "b", "pid": "1", '"pid":-1': "x"}])
@pytest.mark.parametrize("cid", ["c1", 'we"ird"pid":-1'])
def test_start_container_state_is_the_one_state_split_at_the_pid(cid: str, annotations: dict[str, str]) -> None:
    before, after = hooks.state_json_parts(cid, "created", "/b", annotations)
    whole = json.loads(before + "4242" + after)
    assert whole == hooks.state_json(cid, "created", 4242, "/b", annotations)
    assert list(whole) == ["ociVersion", "id", "status", "pid", "bundle", *(["annotations"] if annotations else [])]
    assert whole["ociVersion"] == st.OCI_VERSION


class _Log:
    debugging = True

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def debug(self, msg: str) -> None:
        self.lines.append(("debug", msg))

    def warning(self, msg: str) -> None:
        self.lines.append(("warning", msg))


def _failing(tmp_path: Path, name: str, status: int) -> Hook:
    script = tmp_path / name
    script.write_text(f"#!/bin/sh\necho out-{name}\nexit {status}\n")
    script.chmod(0o755)
    return Hook(str(script), [str(script)], [], None)


@pytest.mark.parametrize("kind", ["prestart", "createRuntime", "createContainer", "startContainer", "poststart"])
def test_failure_of_a_fatal_kind_raises_and_stops(tmp_path: Path, kind: str) -> None:
    log = _Log()
    first, second = _failing(tmp_path, "one", 3), _failing(tmp_path, "two", 0)
    with pytest.raises(HookError) as err:
        hooks.run_hooks([first, second], hooks.state_json("c", "created", 1, "/b", {}), kind, log)  # type: ignore[arg-type]
    assert str(err.value) == (f"error running {kind} hook #0 `{first.path}`: exit status 3, stdout: out-one\\n, "
                              "stderr: ")
    assert [m for _, m in log.lines if "running" in m] == [f"running {kind} hook #0: `{first.path}` {first.args}"]


@pytest.mark.parametrize("kind", ["poststop"])
def test_failure_of_another_kind_warns_and_the_rest_run(tmp_path: Path, kind: str) -> None:
    log = _Log()
    first, second = _failing(tmp_path, "one", 3), _failing(tmp_path, "two", 4)
    hooks.run_hooks([first, second], hooks.state_json("c", "stopped", 0, "/b", {}), kind, log)  # type: ignore[arg-type]
    warnings = [m for level, m in log.lines if level == "warning"]
    assert [w.split(":")[0] for w in warnings] == [f"error running {kind} hook #0 `{first.path}`",
                                                  f"error running {kind} hook #1 `{second.path}`"]


# ---------------------------------------------------------------------------- create's transaction


def test_transaction_rolls_back_in_reverse_and_reports_cleanup_errors() -> None:
    done: list[int] = []
    tx = Transaction()
    tx.add(lambda: done.append(1))

    def broken() -> None:
        done.append(2)
        raise OSError(5, "cleanup failed")

    tx.add(broken)
    tx.add(lambda: done.append(3))
    primary = RuntimeError("the step")
    with pytest.raises(CreateError) as err:
        tx.rollback(primary)
    assert done == [3, 2, 1]
    assert err.value.primary is primary
    tx.rollback(primary)  # nothing left to undo: no error
    assert done == [3, 2, 1]


def test_transaction_commit_undoes_nothing() -> None:
    done: list[str] = []
    tx = Transaction()
    tx.add(lambda: done.append("dir"))
    tx.commit()
    tx.rollback(RuntimeError("y"))
    assert done == []


# ---------------------------------------------------------------------------- exec --cgroup


@pytest.fixture
def container_cgroups(tmp_path: Path) -> dict[str, str]:
    """A hybrid host's cgroups of one container (hierarchy key -> directory), each with ``sub``."""
    paths = {}
    for key, mount in (("", "unified"), ("cpu,cpuacct", "cpu,cpuacct"), ("pids", "pids"),
                       ("name=systemd", "systemd")):
        path = tmp_path / mount / "ctr"
        (path / "sub" / "deeper").mkdir(parents=True)
        paths[key] = str(path)
    return paths


def test_exec_cgroup_plain_path_in_every_hierarchy(container_cgroups: dict[str, str]) -> None:
    from ocirun.lifecycle.exec_ import _cgroup_paths

    for given in ("sub", "/sub", "sub/", "./sub"):
        assert _cgroup_paths(container_cgroups, [given]) == {k: v + "/sub" for k, v in container_cgroups.items()}
    assert _cgroup_paths(container_cgroups, []) == container_cgroups


def test_exec_cgroup_per_controller(container_cgroups: dict[str, str]) -> None:
    from ocirun.lifecycle.exec_ import _cgroup_paths

    got = _cgroup_paths(container_cgroups, ["cpu:sub", "pids:sub/deeper"])
    assert got == {**container_cgroups, "cpu,cpuacct": container_cgroups["cpu,cpuacct"] + "/sub",
                   "pids": container_cgroups["pids"] + "/sub/deeper"}
    got = _cgroup_paths(container_cgroups, ["cpuacct,name=systemd:sub"])
    assert got == {**container_cgroups, "cpu,cpuacct": container_cgroups["cpu,cpuacct"] + "/sub",
                   "name=systemd": container_cgroups["name=systemd"] + "/sub"}


@pytest.mark.parametrize("items, message", [
    (["../other"], r"--cgroup \.\./other: `\.\.` is not allowed"),
    (["/../../.."], r"`\.\.` is not allowed"),
    (["sub/../../x"], r"`\.\.` is not allowed"),
    (["pids:.."], r"--cgroup pids:\.\.: `\.\.` is not allowed"),
    (["missing"], r"--cgroup missing: no cgroup `.*/ctr/missing`"),
    (["memory:sub"], r"the container has no cgroup of controller memory"),
    ([":sub"], r"empty <controller>"),
    (["pids:sub", "pids:sub/deeper"], r"controller pids is given twice"),
    (["sub", "pids:sub"], r"must be the only --cgroup"),
])
def test_exec_cgroup_refused(container_cgroups: dict[str, str], items: list[str], message: str) -> None:
    from ocirun.errors import InvalidArgument
    from ocirun.lifecycle.exec_ import _cgroup_paths

    with pytest.raises(InvalidArgument, match=message):
        _cgroup_paths(container_cgroups, items)
