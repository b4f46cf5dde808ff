"""The command line (ocirun.cli): Go-style flags, runc's messages, one error line, exit codes.

``main`` is called in this process; its output is written to fds 1 and 2 directly, so it is
captured with ``capfd``.  Commands that need no root (state, list, spec, features) run against
a temporary --root.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ocirun import __version__, cli
from ocirun.cli import COMMANDS, GLOBAL_FLAGS, Flag, main, parse_flags
from ocirun.errors import InvalidArgument
from ocirun.spec import mountopts, schema, validate
from ocirun.spec.model import Spec

FLAGS = (
    Flag("bundle,b", str, "bundle", default="."),
    Flag("detach,d", bool, "detach"),
    Flag("keep", bool, "keep"),
    Flag("preserve-fds", int, "fds", default=0),
    Flag("pid-file", str, "pid file"),
)


def parse(argv: list[str], interspersed: bool = True) -> tuple[dict[str, Any], list[str]]:
    return parse_flags(argv, FLAGS, interspersed)


def run(capfd: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capfd.readouterr()
    return code, out, err


# ---------------------------------------------------------------------------- parse_flags


def test_defaults() -> None:
    opts, args = parse([])
    assert opts == {"bundle": ".", "detach": False, "keep": False, "preserve_fds": 0, "pid_file": None}
    assert args == []


@pytest.mark.parametrize(
    "argv",
    [
        ["-b", "/x"],
        ["--b", "/x"],
        ["-b=/x"],
        ["--b=/x"],
        ["-bundle", "/x"],
        ["--bundle", "/x"],
        ["-bundle=/x"],
        ["--bundle=/x"],
    ],
)
def test_string_flag_spellings(argv: list[str]) -> None:
    opts, args = parse([*argv, "id"])
    assert opts["bundle"] == "/x" and args == ["id"]


def test_value_may_contain_equals_and_start_with_dash() -> None:
    assert parse(["--bundle=a=b"])[0]["bundle"] == "a=b"
    assert parse(["--bundle", "-x"])[0]["bundle"] == "-x"
    assert parse(["--bundle="])[0]["bundle"] == ""


def test_last_value_wins() -> None:
    assert parse(["-b", "/1", "--bundle=/2"])[0]["bundle"] == "/2"


@pytest.mark.parametrize(
    ("argv", "value"),
    [
        (["-d"], True),
        (["--detach"], True),
        (["-d=true"], True),
        (["--detach=false"], False),
        (["-d=1"], True),
        (["-d=0"], False),
        (["-d=t"], True),
        (["-d=F"], False),
        (["-d=TRUE"], True),
        (["-d=False"], False),
        (["-d", "-d=false"], False),
    ],
)
def test_bool_flags(argv: list[str], value: bool) -> None:
    opts, args = parse([*argv, "id"])
    assert opts["detach"] is value
    assert args == ["id"]


def test_bool_flag_does_not_take_the_next_argument() -> None:
    opts, args = parse(["--detach", "false"])
    assert opts["detach"] is True and args == ["false"]


def test_invalid_bool_value() -> None:
    with pytest.raises(InvalidArgument) as info:
        parse(["--detach=maybe"])
    assert (
        "invalid boolean value" in str(info.value)
        and "maybe" in str(info.value)
        and "-detach" in str(info.value)
    )


@pytest.mark.parametrize(("text", "value"), [("3", 3), ("0", 0), ("0x10", 16), ("-1", -1), ("1_000", 1000)])
def test_int_flags(text: str, value: int) -> None:
    assert parse(["--preserve-fds", text])[0]["preserve_fds"] == value
    assert parse([f"--preserve-fds={text}"])[0]["preserve_fds"] == value


@pytest.mark.parametrize("text", ["abc", "", "1.5", "3x"])
def test_int_parse_error(text: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse([f"--preserve-fds={text}"])
    msg = str(info.value)
    assert msg.startswith("invalid value ") and msg.endswith(" for flag -preserve-fds: parse error")
    assert repr(text)[1:-1] in msg


def test_value_errors_use_go_wording() -> None:
    with pytest.raises(InvalidArgument) as info:
        parse(["--preserve-fds=abc"])
    assert str(info.value) == 'invalid value "abc" for flag -preserve-fds: parse error'
    with pytest.raises(InvalidArgument) as info:
        parse(["--detach=maybe"])
    assert str(info.value) == 'invalid boolean value "maybe" for -detach: parse error'


@pytest.mark.parametrize(
    ("argv", "name"), [(["-x"], "x"), (["--nope"], "nope"), (["--nope=1"], "nope"), (["-B"], "B")]
)
def test_unknown_flag(argv: list[str], name: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse(argv)
    assert str(info.value) == f"flag provided but not defined: -{name}"


@pytest.mark.parametrize("argv", [["--bundle"], ["-b"], ["id", "--pid-file"]])
def test_missing_value(argv: list[str]) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse(argv)
    name = argv[-1].lstrip("-")
    assert str(info.value) == f"flag needs an argument: -{name}"


def test_double_dash_ends_flags() -> None:
    opts, args = parse(["-d", "--", "--keep", "-b", "x"])
    assert opts["detach"] is True and opts["keep"] is False and opts["bundle"] == "."
    assert args == ["--keep", "-b", "x"]


def test_single_dash_is_an_argument() -> None:
    assert parse(["-", "-d"])[1] == ["-"]


def test_interspersed_flags_after_arguments() -> None:
    opts, args = parse(["id", "--keep", "extra", "-b", "/b"])
    assert opts["keep"] is True and opts["bundle"] == "/b"
    assert args == ["id", "extra"]


def test_non_interspersed_stops_at_the_first_argument() -> None:
    opts, args = parse(["-d", "id", "--keep", "-b", "/b", "--", "x"], interspersed=False)
    assert opts["detach"] is True and opts["keep"] is False and opts["bundle"] == "."
    assert args == ["id", "--keep", "-b", "/b", "--", "x"]


def test_ps_passes_its_options_on() -> None:
    ps = COMMANDS["ps"]
    assert not ps.interspersed
    opts, args = parse_flags(["-f", "json", "c1", "-ef", "--format", "x"], ps.flags, ps.interspersed)
    assert opts["format"] == "json"
    assert args == ["c1", "-ef", "--format", "x"]


def test_repeatable_flags() -> None:
    flags = (Flag("env,e", list, "env"), Flag("tty,t", bool, "tty"))
    opts, args = parse_flags(["-e", "A=1", "--env=B=2", "-t", "c1", "-e", "C=3"], flags, True)
    assert opts == {"env": ["A=1", "B=2", "C=3"], "tty": True} and args == ["c1"]
    assert parse_flags([], flags, True)[0]["env"] == []
    # the default list is not shared between parses
    parse_flags(["-e", "X=1"], flags, True)
    assert parse_flags([], flags, True)[0]["env"] == []


def test_global_flags_stop_at_the_command() -> None:
    opts, args = parse_flags(["--root", "/r", "--debug", "kill", "--all", "c1"], GLOBAL_FLAGS, False)
    assert opts["root"] == "/r" and opts["debug"] is True
    assert args == ["kill", "--all", "c1"]


def test_flag_definitions_are_consistent() -> None:
    for name, cmd in COMMANDS.items():
        seen: set[str] = set()
        for flag in cmd.flags:
            assert not seen & set(flag.names), f"{name}: a flag name is used twice"
            seen |= set(flag.names)
            assert flag.kind in (bool, str, int, list)
        assert "help" not in seen and "h" not in seen, f"{name}: -h is the help flag"


# ---------------------------------------------------------------------------- help, version


def test_version(capfd: pytest.CaptureFixture[str]) -> None:
    for flag in ("--version", "-v"):
        code, out, err = run(capfd, flag)
        assert code == 0 and err == ""
        lines = out.splitlines()
        assert lines[0] == f"ocirun version {__version__}"
        fields = dict(line.split(": ", 1) for line in lines[1:])
        assert list(fields) == ["commit", "spec", "python", "libseccomp"]  # runc's order, go: python
        assert fields["spec"] == cli.SPEC_VERSION and fields["commit"]


def test_version_commit_is_the_builds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "libexec").mkdir()
    (tmp_path / "libexec" / "commit").write_text("abc123-dirty\n")
    monkeypatch.setattr(cli, "__file__", str(tmp_path / "cli.py"))
    assert cli.build_commit() == "abc123-dirty"
    (tmp_path / "libexec" / "commit").unlink()
    assert cli.build_commit() == "unknown"


def test_log_file_is_created_at_start(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    log = tmp_path / "ocirun.log"
    code, out, err = run(capfd, "--root", str(tmp_path / "root"), "--log", str(log), "list", "-q")
    assert code == 0 and out == "" and err == ""
    assert log.read_text() == ""


def test_log_file_that_cannot_be_opened(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    log = tmp_path / "no" / "such" / "dir.log"
    code, out, err = run(capfd, "--log", str(log), "list")
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1 and f"open log file `{log}`: No such file or directory" in err


@pytest.mark.parametrize("argv", [[], ["--help"], ["-h"], ["help"]])
def test_help(capfd: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = run(capfd, *argv)
    assert code == 0 and err == ""
    assert out.startswith("NAME:\n   ocirun - ")
    assert "USAGE:" in out and "GLOBAL OPTIONS:" in out
    for name in COMMANDS:
        assert f"\n     {name} " in out
    for flag in ("--root value", "--log value", "--log-format value", "--debug", "--systemd-cgroup"):
        assert flag in out


@pytest.mark.parametrize("argv", [["help", "create"], ["create", "--help"], ["create", "-h"]])
def test_command_help(capfd: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = run(capfd, *argv)
    assert code == 0 and err == ""
    assert out.startswith("NAME:\n   ocirun create - create a container\n")
    assert "ocirun create [command options] <container-id>" in out
    assert "--bundle, -b value" in out and '(default: ".")' in out
    assert "--pid-file value" in out and "--no-pivot" in out and "--preserve-fds value" in out


def test_help_of_each_command(capfd: pytest.CaptureFixture[str]) -> None:
    for name, cmd in COMMANDS.items():
        code, out, _err = run(capfd, "help", name)
        assert code == 0
        assert out.startswith(f"NAME:\n   ocirun {name} - {cmd.summary}\n")
        for flag in cmd.flags:
            assert "--" + flag.names[0] in out


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["state"], 'ocirun: "state" requires exactly 1 argument(s)'),
        (["state", "a", "b"], 'ocirun: "state" requires exactly 1 argument(s)'),
        (["start"], 'ocirun: "start" requires exactly 1 argument(s)'),
        (["kill"], 'ocirun: "kill" requires a minimum of 1 argument(s)'),
        (["kill", "a", "b", "c"], 'ocirun: "kill" requires a maximum of 2 argument(s)'),
        (["list", "x"], 'ocirun: "list" requires exactly 0 argument(s)'),
        (["ps"], 'ocirun: "ps" requires a minimum of 1 argument(s)'),
        (["--bogus", "state", "x"], "flag provided but not defined: -bogus"),
        (["state", "--bogus", "x"], "flag provided but not defined: -bogus"),
        (["--root"], "flag needs an argument: -root"),
        (["create", "--preserve-fds", "x", "c1"], "invalid value * for flag -preserve-fds: parse error"),
        (["frobnicate"], "ocirun: no such command: frobnicate"),
        (["--log-format", "xml", "state", "x"], "unknown log-format *"),
        (["state", "nosuch"], "container does not exist"),
        (["state", "../x"], "invalid container ID format: ../x"),
    ],
)
def test_errors_are_one_line_and_exit_status_1(
    capfd: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    code, out, err = run(capfd, "--root", str(tmp_path), *argv)
    assert code == 1
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    # logrus's text format, as runc writes it on stderr without --log
    line = lines[0]
    assert line.startswith('time="') and " level=error msg=" in line
    logged = json.loads(line.split(" msg=", 1)[1])
    if "*" in message:  # our own wording around a quoted value
        head, tail = message.split("*")
        assert logged.startswith(head) and logged.endswith(tail), logged
    else:
        assert logged == message


def test_error_with_log_file_in_json(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    log = tmp_path / "log.json"
    code, out, err = run(
        capfd, "--root", str(tmp_path / "root"), "--log", str(log), "--log-format", "json", "state", "nosuch"
    )
    assert code == 1 and out == ""
    assert err == "container does not exist\n"  # like runc's fatal(): the plain message, once
    records = [json.loads(line) for line in log.read_text().splitlines()]
    errors = [r for r in records if r["level"] == "error"]
    assert len(errors) == 1
    assert errors[0]["msg"] == "container does not exist"
    assert set(errors[0]) == {"level", "msg", "time"}
    assert records[-1] == errors[0]


def test_error_with_log_file_in_text(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    log.write_text("earlier line\n")
    code, _out, err = run(capfd, "--root", str(tmp_path), "--log", str(log), "state", "nosuch")
    assert code == 1
    assert err == "container does not exist\n"
    lines = log.read_text().splitlines()
    assert lines[0] == "earlier line"  # appended
    assert lines[1].startswith('time="') and lines[1].endswith(' level=error msg="container does not exist"')


def test_internal_errors_are_one_line_too(
    capfd: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ocirun.lifecycle.state as state_cmd

    def boom(*args: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(state_cmd, "command", boom)
    code, out, err = run(capfd, "--root", str(tmp_path), "state", "c1")
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1
    assert "internal error: RuntimeError: boom" in err
    # with --debug the traceback goes to the log as well
    code, _out, err = run(capfd, "--root", str(tmp_path), "--debug", "state", "c1")
    assert code == 1
    assert "Traceback" in err and err.splitlines()[-1].endswith('msg="internal error: RuntimeError: boom"')


# ---------------------------------------------------------------------------- commands without root


def test_state_of_a_missing_container(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capfd, "--root", str(tmp_path), "state", "nosuch")
    assert code == 1 and out == ""
    assert "container does not exist" in err


def test_state_of_a_stopped_container(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from ocirun.state import State
    from ocirun.store import Store

    s = Store(str(tmp_path))
    s.new_dir("c1")
    s.save(State("c1", 0, 0, "/b", "/b/rootfs", "2026-01-01T00:00:00Z", annotations={"k": "v"}))
    code, out, err = run(capfd, "--root", str(tmp_path), "state", "c1")
    assert code == 0 and err == ""
    obj = json.loads(out)
    assert obj["id"] == "c1" and obj["status"] == "stopped" and obj["pid"] == 0
    assert obj["annotations"] == {"k": "v"}
    assert out == json.dumps(obj, indent=2) + "\n"  # runc's 2-space indent


def test_relative_root_is_made_absolute(
    capfd: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _err = run(capfd, "--root", "rel", "list", "-q")
    assert code == 0 and out == ""


def test_list_of_an_empty_root(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capfd, "--root", str(tmp_path), "list")
    assert code == 0 and err == ""
    assert out.split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    assert out.startswith("ID          PID         STATUS      ")  # tabwriter: width 12, padding 3
    for argv in (["list", "-q"], ["list", "--quiet"]):
        code, out, _err = run(capfd, "--root", str(tmp_path), *argv)
        assert code == 0 and out == ""
    code, out, _err = run(capfd, "--root", str(tmp_path), "list", "--format", "json")
    assert code == 0 and json.loads(out) in ([], None)


def test_list_of_a_missing_root(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _err = run(capfd, "--root", str(tmp_path / "none"), "list", "-q")
    assert code == 0 and out == ""


def test_list_with_containers(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from ocirun.state import State
    from ocirun.store import Store

    s = Store(str(tmp_path))
    for cid in ("b", "a"):
        s.new_dir(cid)
        s.save(State(cid, 0, 0, f"/bundles/{cid}", "/r", "2026-01-01T00:00:00Z", owner="someone"))
    s.new_dir("half")  # no state.json: listed as unknown, with a warning (runc warns)
    code, out, err = run(capfd, "--root", str(tmp_path), "list", "-q")
    assert code == 0 and out == "a\nb\nhalf\n"
    assert err == "load container half: container does not exist\n"
    code, out, _err = run(capfd, "--root", str(tmp_path), "list", "-f", "json")
    rows = json.loads(out)
    assert [r["id"] for r in rows] == ["a", "b", "half"]
    assert all(r["status"] == "stopped" and r["pid"] == 0 and r["owner"] == "someone" for r in rows[:2])
    assert rows[2]["status"] == "unknown" and rows[2]["pid"] == 0
    code, out, _err = run(capfd, "--root", str(tmp_path), "list")
    lines = out.splitlines()
    assert [line.split()[:3] for line in lines[1:]] == [
        ["a", "0", "stopped"], ["b", "0", "stopped"], ["half", "0", "unknown"]
    ]


def test_list_with_a_bad_format(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capfd, "--root", str(tmp_path), "list", "--format", "yaml")
    assert code == 1 and out == "" and len(err.splitlines()) == 1


@pytest.mark.parametrize("rootless", [False, True])
def test_spec_writes_a_valid_config(
    capfd: pytest.CaptureFixture[str], tmp_path: Path, rootless: bool
) -> None:
    argv = ["--root", str(tmp_path / "root"), "spec", "--bundle", str(tmp_path)]
    if rootless:
        argv.append("--rootless")
    code, out, err = run(capfd, *argv)
    assert code == 0 and out == "" and err == ""
    text = (tmp_path / "config.json").read_text()
    doc = json.loads(text)
    assert text == json.dumps(doc, indent="\t") + "\n"  # runc writes tabs
    schema.check(doc)
    spec = Spec.from_json(doc)
    (tmp_path / "rootfs").mkdir()
    validate.check_for_create(spec)
    assert validate.rootfs_path(spec, str(tmp_path)) == str(tmp_path / "rootfs")
    assert spec.process is not None and spec.process.args == ["sh"]
    if rootless:
        assert spec.linux.namespace("user") is not None and spec.linux.uid_mappings
        assert spec.linux.namespace("network") is None and "resources" not in doc["linux"]
    assert "seccomp" not in doc["linux"]  # runc spec writes none


@pytest.mark.parametrize("rootless", [False, True])
def test_default_spec_cgroup_namespace_and_seccomp_options(rootless: bool) -> None:
    """A cgroup namespace only where runc adds one (pure cgroup v2), before the user namespace;
    ocirun's seccomp profile only with --seccomp-default."""
    from ocirun.lifecycle.spec_ import default_spec

    types = [ns["type"] for ns in default_spec(rootless)["linux"]["namespaces"]]
    assert "cgroup" not in types
    v2 = [ns["type"] for ns in default_spec(rootless, cgroup_ns=True)["linux"]["namespaces"]]
    assert v2 == (["pid", "ipc", "uts", "mount", "cgroup", "user"] if rootless
                  else ["pid", "network", "ipc", "uts", "mount", "cgroup"])
    linux = default_spec(rootless, seccomp=True)["linux"]
    assert linux["seccomp"]["defaultAction"] and list(linux).index("seccomp") < list(linux).index("maskedPaths")


def test_spec_refuses_to_overwrite(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("mine")
    code, out, err = run(capfd, "spec", "--bundle", str(tmp_path))
    assert code == 1 and out == ""
    assert "File config.json exists. Remove it first" in err
    assert len(err.splitlines()) == 1
    assert (tmp_path / "config.json").read_text() == "mine"


def test_spec_in_the_current_directory(
    capfd: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _out, _err = run(capfd, "spec")
    assert code == 0 and (tmp_path / "config.json").is_file()


def test_spec_into_a_missing_bundle(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capfd, "spec", "--bundle", str(tmp_path / "none"))
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1 and "No such file or directory" in err


def test_features(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capfd, "--root", str(tmp_path), "features")
    assert code == 0 and err == ""
    obj = json.loads(out)
    assert obj["ociVersionMin"] == "1.0.0"
    assert obj["ociVersionMax"] == cli.SPEC_VERSION
    assert sorted(obj["mountOptions"]) == sorted(mountopts.SUPPORTED)
    assert len(obj["mountOptions"]) == len(set(mountopts.SUPPORTED))
    assert {"idmap", "ridmap"} <= set(obj["mountOptions"])
    assert obj["linux"]["mountExtensions"]["idmap"]["enabled"] is True
    assert "tmpcopyup" in obj["mountOptions"]
    assert "CAP_SYS_ADMIN" in obj["linux"]["capabilities"]
    assert out == json.dumps(obj, indent=2) + "\n"


def test_an_error_is_one_line_whatever_it_quotes(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A config.json key with a line break in it (found by tests/integration/test_fuzz.py) ends up
    in the JSON path of the message: still one line."""
    (tmp_path / "config.json").write_text(json.dumps({"ociVersion": {"\r\n\u2028": "\ud800"}}))
    code, out, err = run(capfd, "--root", str(tmp_path / "root"), "--log", str(tmp_path / "log"), "create",
                         "--bundle", str(tmp_path), "c1")
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1 and err.endswith("\n") and "\r" not in err, repr(err)
    assert err == "config.json: $.ociVersion.\\r\\n\\u2028: contains a lone surrogate \\ud800 (not valid Unicode)\n"
