"""Create-time errors: each exits 1 with one line on stderr and leaves nothing behind.

runc's messages are matched loosely (they carry Go's wording); ocirun's precisely where
the wording is ours: the JSON path or the file, and the reason.  Where ocirun must read
exactly like runc (an unknown executable: podman parses it) both are matched the same.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
                                   "(\"process property must not be empty\")")
def test_no_process(runtime: Runtime, bundle: Bundle) -> None:
    """A config without process can be created (config.md: process is OPTIONAL for create), but
    start MUST generate an error (runtime.md Start); the container stays as it was."""
    assert bundle.config is not None
    del bundle.config["process"]
    cid = runtime.create(bundle)
    assert runtime.status(cid) == "created"
    res = runtime.start(cid, check=False)
    assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1, res
    assert "no process" in res.stderr
    assert runtime.status(cid) == "created"
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
    bundle.set_args(*probe_args("sleep", "600"))
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


# ---------------------------------------------------------------- bad input never an internal error


def test_deeply_nested_json(runtime: Runtime, bundle: Bundle) -> None:
    """100,000 nested arrays: one line, not a RecursionError."""
    bundle.raw_config = "[" * 100_000
    create_fails(runtime, bundle, ocirun=r"^config\.json: invalid JSON: nested too deeply$")


def _raw_with(bundle: Bundle, mutate: Callable[[dict[str, Any]], None]) -> None:
    """config.json as JSON text with the change (json.dumps writes \\ud800 and \\u0000 escapes)."""
    assert bundle.config is not None
    config = json.loads(json.dumps(bundle.config))
    mutate(config)
    bundle.raw_config = json.dumps(config)


def _mount_destination(value: str) -> Callable[[dict[str, Any]], None]:
    return lambda c: c["mounts"].append({"destination": value, "type": "tmpfs", "source": "tmpfs"})


BAD_STRINGS: list[tuple[str, str, Callable[[str], Callable[[dict[str, Any]], None]]]] = [
    ("hostname", "$.hostname", lambda v: lambda c: c.__setitem__("hostname", "h" + v)),
    ("args", "$.process.args[1]", lambda v: lambda c: c["process"].__setitem__("args", ["/bin/probe", "x" + v])),
    ("root-path", "$.root.path", lambda v: lambda c: c["root"].__setitem__("path", "rootfs" + v)),
    ("cgroups-path", "$.linux.cgroupsPath", lambda v: lambda c: c["linux"].__setitem__("cgroupsPath", "/x" + v)),
    ("mount-destination", "$.mounts[-1].destination", lambda v: _mount_destination("/mnt" + v)),
    ("cwd", "$.process.cwd", lambda v: lambda c: c["process"].__setitem__("cwd", "/tmp" + v)),
]


@pytest.mark.parametrize(("char", "problem"), [("\ud800", r"contains a lone surrogate \\ud800"),
                                              ("\0", "contains a NUL character$")], ids=["surrogate", "nul"])
@pytest.mark.parametrize(("field", "path", "make"), BAD_STRINGS, ids=[b[0] for b in BAD_STRINGS])
def test_no_text_for_a_system_call(runtime: Runtime, bundle: Bundle, field: str, path: str,
                                   make: Callable[[str], Callable[[dict[str, Any]], None]],
                                   char: str, problem: str) -> None:
    """A lone surrogate ("\\ud800") is no text any system call takes, and a NUL character ends a
    path or argument short ("embedded null byte"): each is named by its JSON path.
    (runc's Go decoder turns a surrogate into U+FFFD and goes on: for runc only the one line is checked.)"""
    _raw_with(bundle, make(char))
    where = re.escape(path).replace(r"\[\-1\]", r"\[\d+\]")
    res = runtime.try_create(bundle)
    if runtime.name == "runc":
        if res.returncode == 0:
            runtime.delete(res.args[-1], force=True)
        else:
            expect_error(runtime, res)
        assert runtime.leaks() == []
        return
    expect_error(runtime, res, ocirun=rf"^config\.json: {where}: {problem}")
    assert runtime.leaks() == []


def test_annotations_may_hold_any_string(runtime: Runtime, bundle: Bundle) -> None:
    """Annotations are opaque to the runtime: a NUL or a lone surrogate there is kept, not refused."""
    _raw_with(bundle, lambda c: c.__setitem__("annotations", {"org.example.a": "x\0y", "org.example.b": "\ud800"}))
    bundle.set_args(*probe_args("sleep", "10"))
    cid = runtime.new_id()
    res = runtime.try_create(bundle, cid)
    assert res.returncode == 0, res.stderr
    if runtime.name == "ocirun":
        assert runtime.state(cid)["annotations"] == {"org.example.a": "x\0y", "org.example.b": "\ud800"}
    runtime.delete(cid, force=True)


def test_root_path_a_symlink_to_the_host_root(runtime: Runtime, bundle: Bundle) -> None:
    """root.path a symlink (to /): an invalid rootfs, as runc says, never the host's / as root."""
    (bundle.path / "rootlink").symlink_to("/")
    assert bundle.config is not None
    bundle.config["root"]["path"] = "rootlink"
    create_fails(runtime, bundle, runc=r"invalid rootfs: not an absolute path, or a symlink",
                 ocirun=r"^config\.json: \$\.root\.path: invalid rootfs `.*/rootlink`: .* is a symlink \(to `/`\)$")


def test_namespace_path_not_a_namespace_file(runtime: Runtime, bundle: Bundle) -> None:
    """A namespace path that is a plain file: the path and what is wrong, not setns's EINVAL."""
    plain = bundle.path / "not-a-namespace"
    plain.write_text("x")
    ns = bundle.namespace("network")
    assert ns is not None
    ns["path"] = str(plain)
    create_fails(runtime, bundle,  # runc 1.1.5: "can't get final child's PID from pipe: EOF"
                 ocirun=rf"^config\.json: \$\.linux\.namespaces\[\d+\]\.path: `{re.escape(str(plain))}` "
                        r"is not a namespace file$")


def test_namespace_path_of_another_type(runtime: Runtime, bundle: Bundle) -> None:
    ns = bundle.namespace("network")
    assert ns is not None
    ns["path"] = "/proc/self/ns/uts"  # the runtime's own
    create_fails(runtime, bundle,
                 ocirun=r"^config\.json: \$\.linux\.namespaces\[\d+\]\.path: `/proc/self/ns/uts` is a uts "
                        r"namespace, not a network one$")


def test_memory_limit_too_low(runtime: Runtime, bundle: Bundle) -> None:
    """4096 bytes: the init cannot even start.  runc: "unable to set memory limit to 4096 (current
    usage: ...)" (v1), "container init was OOM-killed (memory limit too low?)" (v2); ocirun names
    the field, not "init exited before it was ready (signal 9)" (nor, on v2, "internal error:
    ConnectionResetError": the init died with a message unread)."""
    bundle.linux["resources"] = {"memory": {"limit": 4096}}
    create_fails(runtime, bundle, runc=r"unable to set memory limit to 4096|OOM-killed \(memory limit too low\?\)",
                 ocirun=r"^config\.json: \$\.linux\.resources\.memory\.limit: 4096 is too low: the container's "
                        r"init was killed by the OOM killer before it was ready$")


def test_full_state_root(runtime: Runtime, bundle: Bundle) -> None:
    """--root on a full file system (a tiny tmpfs): the error says which file, nothing is left."""
    import subprocess

    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "ocirun-test-full", str(runtime.root)], check=True)
    try:
        filler = runtime.root / ".filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(fd, b"x" * 4096):
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        res = runtime.try_create(bundle)
        expect_error(runtime, res,  # runc 1.1.5: "unable to store init state: %!w(<nil>)"
                     ocirun=rf"^write state `{re.escape(str(runtime.root))}/[^`]+`: No space left on device$")
        assert runtime.ids_in_root() == []
        filler.unlink()
    finally:
        subprocess.run(["umount", "-l", str(runtime.root)], check=True)
    assert runtime.leaks() == []


def test_update_memory_out_of_range(runtime: Runtime, bundle: Bundle) -> None:
    """2**64 + 64 MiB is no int64: refused as `update -r` refuses it, never set as 64 MiB."""
    bundle.set_args(*probe_args("sleep", "300"))
    cid = runtime.create(bundle)
    res = runtime.run("update", "--memory", "18446744073776660480", cid, check=False)
    expect_error(runtime, res, ocirun=r"^invalid value for --memory: 18446744073776660480 is greater than the "
                                     r"maximum of 9223372036854775807$")
    runtime.delete(cid, force=True)


@pytest.mark.xfail_runtime("runc", "runc 1.1.5 cuts the uid to 32 bits and runs the process as uid 1215752191")
def test_exec_user_out_of_range_blames_the_flag(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args(*probe_args("sleep", "300"))
    cid = runtime.create(bundle)
    runtime.start(cid)
    res = runtime.run("exec", "-u", "99999999999", cid, "/bin/probe", "ids", check=False)
    expect_error(runtime, res, exit_code=255,  # exec's failures exit 255, as runc's
                 ocirun=r"^exec failed: invalid --user '99999999999': want <uid>\[:<gid>\], each from 0 to "
                        r"4294967294$")
    runtime.delete(cid, force=True)
