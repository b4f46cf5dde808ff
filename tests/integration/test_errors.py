"""Create-time errors: each exits 1 with one line on stderr and leaves nothing behind.

runc's messages are matched loosely (they carry Go's wording); ocirun's precisely where
the wording is ours: the JSON path or the file, and the reason.  Where ocirun must read
exactly like runc (an unknown executable: podman parses it) both are matched the same.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from .support import Bundle, Runtime, expect_error, probe_args


def create_fails(runtime: Runtime, bundle: Bundle, *, runc: str | None = None, ocirun: str | None = None,
                 both: str | None = None) -> str:
    """create must fail with one error line matching the pattern(s) and leave nothing."""
    res = runtime.try_create(bundle)
    line = expect_error(runtime, res, runc=runc, ocirun=ocirun, both=both)
    assert runtime.leaks() == []
    return line


def test_missing_bundle(runtime: Runtime, bundle: Bundle) -> None:
    missing = bundle.path.parent / "no-such-bundle"
    cid = runtime.new_id()
    res = runtime.run("create", "--bundle", missing, cid, check=False)
    expect_error(runtime, res, runc=re.escape(str(missing)) + ".*no such file or directory",
                 ocirun=re.escape(str(missing)) + ".*No such file or directory")
    assert runtime.leaks() == []


def test_missing_config(runtime: Runtime, bundle: Bundle) -> None:
    bundle.config = None
    create_fails(runtime, bundle, runc=r"config\.json not found",
                 ocirun=r"config\.json.*(not found|No such file or directory)")


@pytest.mark.parametrize("text", ["{not json", "", "[1, 2]", '{"ociVersion": "1.0.2",'],
                         ids=["garbage", "empty", "array", "truncated"])
def test_invalid_json(runtime: Runtime, bundle: Bundle, text: str) -> None:
    bundle.raw_config = text
    create_fails(runtime, bundle, ocirun=r"config\.json")


def _set(path: str, value: object) -> Callable[[Bundle], None]:
    def mutate(b: Bundle) -> None:
        node = b.config
        keys = path.split(".")
        for k in keys[:-1]:
            node = node[int(k)] if isinstance(node, list) else node[k]  # type: ignore[index]
        node[keys[-1]] = value  # type: ignore[index]

    return mutate


@pytest.mark.parametrize(
    "mutate, runc, ocirun",
    [
        (_set("process.args", "sh"), r"process\.args", r"\$\.process\.args: "),
        (_set("process.args", []), r"args must not be empty", r"\$\.process\.args: "),
        (_set("process.user.uid", "0"), r"process\.user\.uid", r"\$\.process\.user\.uid: "),
        (_set("process.cwd", "relative"), r"[Cc]wd must be an absolute path", r"\$\.process\.cwd: "),
        (_set("process.rlimits", [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]), r"RLIMIT_BOGUS",
         r"\$\.process\.rlimits\[0\]\.type: .*RLIMIT_BOGUS"),
    ],
    ids=["args-not-array", "args-empty", "uid-not-int", "cwd-relative", "rlimit-unknown"],
)
def test_schema_violation(runtime: Runtime, bundle: Bundle, mutate: Callable[[Bundle], None], runc: str,
                          ocirun: str) -> None:
    mutate(bundle)
    create_fails(runtime, bundle, runc=runc, ocirun=ocirun)


@pytest.mark.xfail_runtime("runc", "runc 1.1.5 refuses a config without process at create "
                                   "(\"process property must not be empty\"); runtime-tools' start test wants "
                                   "create to succeed and start to end the container")
def test_no_process(runtime: Runtime, bundle: Bundle) -> None:
    assert bundle.config is not None
    del bundle.config["process"]
    cid = runtime.create(bundle)
    assert runtime.status(cid) == "created"
    runtime.start(cid)
    runtime.wait_status(cid, "stopped")
    runtime.delete(cid)


def test_relative_root_missing(runtime: Runtime, bundle: Bundle) -> None:
    assert bundle.config is not None
    bundle.config["root"]["path"] = "no-such-rootfs"
    resolved = re.escape(str(bundle.path / "no-such-rootfs"))
    create_fails(runtime, bundle, runc=rf"invalid rootfs: stat {resolved}: no such file or directory",
                 ocirun=rf"{resolved}.*No such file or directory")


def test_absolute_root_missing(runtime: Runtime, bundle: Bundle) -> None:
    assert bundle.config is not None
    bundle.config["root"]["path"] = "/no/such/rootfs"
    create_fails(runtime, bundle, runc=r"invalid rootfs: stat /no/such/rootfs",
                 ocirun=r"/no/such/rootfs.*No such file or directory")


@pytest.mark.parametrize("bad_id", ["../x", "a/b", "..", ".", "a b", "x" * 1024],
                         ids=["dotdot-slash", "slash", "dotdot", "dot", "space", "too-long"])
def test_bad_id(runtime: Runtime, bundle: Bundle, bad_id: str) -> None:
    bundle.write_config(runtime.new_id())
    res = runtime.run("create", "--bundle", bundle.path, bad_id, check=False)
    expect_error(runtime, res)
    assert runtime.ids_in_root() == []
    assert not (bundle.path.parent / "x").exists()
    assert runtime.leaks() == []


def test_empty_id(runtime: Runtime, bundle: Bundle) -> None:
    bundle.write_config(runtime.new_id())
    res = runtime.run("create", "--bundle", bundle.path, "", check=False)
    expect_error(runtime, res, both=r"container id cannot be empty")
    assert runtime.leaks() == []


@pytest.mark.parametrize("bad_id", ["../x", "a/b", ".."])
def test_bad_id_message(runtime: Runtime, bundle: Bundle, bad_id: str) -> None:
    bundle.write_config(runtime.new_id())
    res = runtime.run("create", "--bundle", bundle.path, bad_id, check=False)
    expect_error(runtime, res, both=r"invalid container ID format")


def test_duplicate_id(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args(*probe_args("sleep", "60"))
    cid = runtime.create(bundle)
    before = runtime.state(cid)
    res = runtime.try_create(bundle, cid)
    expect_error(runtime, res, both=r"container with given ID already exists")
    assert runtime.state(cid) == before
    runtime.delete(cid, force=True)


def test_unknown_namespace(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["namespaces"].append({"type": "bogus"})
    index = len(bundle.linux["namespaces"]) - 1
    create_fails(runtime, bundle, runc=r'namespace \{"bogus" ""\} does not exist',
                 ocirun=rf"\$\.linux\.namespaces\[{index}\]\.type: .*bogus")


def test_duplicate_namespace(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["namespaces"].append({"type": "pid"})
    create_fails(runtime, bundle, runc=r'duplicated ns \{"pid" ""\}', ocirun=r"\$\.linux\.namespaces.*pid")


def test_namespace_path_missing(runtime: Runtime, bundle: Bundle) -> None:
    ns = bundle.namespace("network")
    assert ns is not None
    ns["path"] = "/no/such/netns"
    create_fails(runtime, bundle, runc=r"/no/such/netns: no such file or directory",
                 ocirun=r"/no/such/netns.*No such file or directory")


EXEC_NOT_FOUND = r'exec: "nosuch": executable file not found in \$PATH'


def test_executable_not_found_fails_at_create(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("nosuch")
    line = create_fails(runtime, bundle, both=EXEC_NOT_FOUND)
    assert line.endswith('exec: "nosuch": executable file not found in $PATH')


def test_executable_not_found_in_run(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("nosuch")
    status, _, err = runtime.run_container(bundle)
    assert status == 1
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and re.search(EXEC_NOT_FOUND, lines[0]), lines
    assert runtime.leaks() == []


def test_absolute_executable_missing(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("/bin/nosuch")
    create_fails(runtime, bundle, both=r'exec: "/bin/nosuch": stat /bin/nosuch: no such file or directory')


def test_executable_not_executable(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("/etc/passwd")
    create_fails(runtime, bundle, both=r'exec: "/etc/passwd": permission denied')


def test_unknown_mount_type(runtime: Runtime, bundle: Bundle) -> None:
    bundle.mount("/mnt/x", "nosuchfs", "none")
    create_fails(runtime, bundle, runc=r'error mounting "none" to rootfs at "/mnt/x".*no such device',
                 ocirun=r"/mnt/x.*No such device")


def test_errors_go_to_log_file_too(runtime: Runtime, bundle: Bundle) -> None:
    """With --log the error also lands in the log file (where containerd looks for it)."""
    bundle.config = None
    create_fails(runtime, bundle)
    assert "config.json" in runtime.log.read_text()


def test_error_without_log_is_one_line(runtime: Runtime, workdir: Path) -> None:
    res = runtime.run("state", "oct-nosuch", check=False, log=False)
    expect_error(runtime, res, both=r"container does not exist")


def test_json_log_format(runtime: Runtime) -> None:
    res = runtime.run("--log-format", "json", "state", "oct-nosuch", check=False)
    assert res.returncode == 1
    entries = [json.loads(line) for line in runtime.log.read_text().splitlines() if line.strip()]
    assert entries[-1]["level"] == "error"
    assert entries[-1]["msg"] == "container does not exist"
    assert "time" in entries[-1]


def test_unknown_properties_are_ignored(runtime: Runtime, bundle: Bundle) -> None:
    """The spec: unknown properties and annotation keys must not cause an error."""
    assert bundle.config is not None
    bundle.config["org.example.unknown"] = {"a": 1}
    bundle.process["org.example.unknown"] = True
    bundle.linux["org.example.unknown"] = []
    bundle.config["annotations"] = {"org.example.unknown.annotation": "1"}
    bundle.set_args(*probe_args("exit", "0"))
    status, _, err = runtime.run_container(bundle)
    assert status == 0, err
