"""Bad input gets a clear error, never an internal one (issue 12 item 3): the checks that need no
root.  The integration side is in tests/integration/test_errors.py and test_fuzz.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ocirun.errors import InvalidArgument, InvalidSpec
from ocirun.lifecycle import exec_, update
from ocirun.spec import bundle as _bundle
from ocirun.spec import validate


@pytest.mark.parametrize(
    ("text", "value"),
    [("1024", 1024), ("64m", 64 << 20), ("1.5g", 3 << 29), ("2GiB", 2 << 30), ("1 MB", 1 << 20),
     ("18446744073776660480", 18446744073776660480), ("0.5k", 512)],
)
def test_ram_in_bytes_is_exact(text: str, value: int) -> None:
    assert update.ram_in_bytes(text) == value


def test_update_memory_beyond_int64_is_refused() -> None:
    """2**64 + 64 MiB went through a float and became 64 MiB."""
    opts = {"memory": "18446744073776660480"}
    with pytest.raises(InvalidArgument, match=r"^invalid value for --memory: 18446744073776660480 is greater than the "
                                              r"maximum of 9223372036854775807$"):
        update.resources_from_flags(opts)
    assert update.resources_from_flags({"memory": "9223372036854775807"}) == {
        "memory": {"limit": 9223372036854775807}
    }


@pytest.mark.parametrize("flag", ["cpu_quota", "cpu_rt_runtime"])
def test_update_signed_flags_in_range(flag: str) -> None:
    with pytest.raises(InvalidArgument, match="less than the minimum"):
        update.resources_from_flags({flag: str(-(1 << 63) - 1)})


@pytest.mark.parametrize("user", ["99999999999", "4294967295", "-1", "0:99999999999"])
def test_exec_user_out_of_range_blames_the_flag(user: str) -> None:
    opts = {"user": user, "additional_gids": [], "env": [], "cwd": None, "tty": False, "cap": [],
            "no_new_privs": False, "apparmor": None, "process_label": None}
    with pytest.raises(InvalidArgument, match=r"^invalid --user .*: want <uid>\[:<gid>\], each from 0 to 4294967294$"):
        exec_.process_from_flags({"args": ["sh"], "cwd": "/"}, opts, ["sh"])


def _load(tmp_path: Path, text: str | bytes) -> None:
    (tmp_path / "config.json").write_bytes(text.encode() if isinstance(text, str) else text)
    _bundle.load(str(tmp_path))


def _config() -> dict[str, object]:
    return {"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "process": {"args": ["sh"], "cwd": "/"},
            "linux": {"namespaces": [{"type": "mount"}, {"type": "uts"}]}}


def test_deep_nesting_is_invalid_json(tmp_path: Path) -> None:
    with pytest.raises(InvalidSpec, match=r"^config\.json: invalid JSON: nested too deeply$"):
        _load(tmp_path, "[" * 100_000)


@pytest.mark.parametrize("bad", ["\ud800", "\udfff", "\0"])
@pytest.mark.parametrize(
    ("path", "set_"),
    [
        ("$.hostname", lambda c, v: c.__setitem__("hostname", v)),
        ("$.process.args[0]", lambda c, v: c["process"].__setitem__("args", ["sh" + v])),
        ("$.root.path", lambda c, v: c["root"].__setitem__("path", v)),
        ("$.linux.namespaces[1].type", lambda c, v: c["linux"]["namespaces"][1].__setitem__("type", v)),
    ],
)
def test_strings_no_system_call_takes(tmp_path: Path, bad: str, path: str, set_: object) -> None:
    config = _config()
    set_(config, bad)  # type: ignore[operator]
    what = "a NUL character" if bad == "\0" else rf"a lone surrogate \\u{ord(bad):04x}"
    with pytest.raises(InvalidSpec, match=rf"^config\.json: {re.escape(path)}: contains {what}"):
        _load(tmp_path, json.dumps(config))


def test_a_surrogate_pair_is_fine_and_annotations_are_not_looked_at(tmp_path: Path) -> None:
    config = _config()
    config["hostname"] = "\U0001f600"  # written as the pair \ud83d\ude00
    config["annotations"] = {"a": "\ud800\0"}
    _load(tmp_path, json.dumps(config))


def test_rootfs_symlink_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to("/")
    (tmp_path / "dirlink").symlink_to("real")
    config = _config()
    (tmp_path / "config.json").write_text(json.dumps(config))
    for name, target in (("link", "/"), ("dirlink", "real")):
        config["root"] = {"path": name}
        (tmp_path / "config.json").write_text(json.dumps(config))
        spec = _bundle.load(str(tmp_path))
        message = rf"invalid rootfs `{tmp_path}/{name}`: .* is a symlink \(to `{target}`\)"
        with pytest.raises(InvalidSpec, match=message):
            validate.rootfs_path(spec, str(tmp_path))
    config["root"] = {"path": "real"}
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert validate.rootfs_path(_bundle.load(str(tmp_path)), str(tmp_path)) == f"{tmp_path}/real"


def test_namespace_path_checks(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_text("")
    config = _config()
    for path, message in (
        (str(plain), rf"`{plain}` is not a namespace file"),
        ("/proc/self/ns/uts", r"`/proc/self/ns/uts` is a uts namespace, not a mount one"),
        (str(tmp_path / "none"), r"No such file or directory"),
    ):
        config["linux"] = {"namespaces": [{"type": "mount", "path": path}, {"type": "uts"}]}
        (tmp_path / "config.json").write_text(json.dumps(config))
        spec = _bundle.load(str(tmp_path))
        with pytest.raises(InvalidSpec, match=rf"^config\.json: \$\.linux\.namespaces\[0\]\.path: .*{message}"):
            validate.namespace_paths(spec)
    config["linux"] = {"namespaces": [{"type": "mount", "path": "/proc/self/ns/mnt"}]}
    (tmp_path / "config.json").write_text(json.dumps(config))
    validate.namespace_paths(_bundle.load(str(tmp_path)))


def test_preserve_fds_beyond_the_fd_limit_is_refused() -> None:
    """--preserve-fds 99999999999999 made a list of that many fds until the OOM killer came."""
    import resource

    from ocirun.lifecycle.creating import CreateOptions

    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    with pytest.raises(InvalidArgument, match=r"^--preserve-fds 99999999999999: more fds than this process may "
                                              rf"have open \(RLIMIT_NOFILE {limit}\)$"):
        CreateOptions(preserve_fds=99999999999999)
    CreateOptions(preserve_fds=limit - 3)


@pytest.mark.parametrize("reader", ["process", "resources"])
def test_deep_nesting_in_exec_and_update_files(tmp_path: Path, reader: str) -> None:
    path = tmp_path / "nested.json"
    path.write_text("[" * 100_000)
    with pytest.raises(InvalidArgument, match=r"invalid .*JSON.*: nested too deeply$"):
        if reader == "process":
            exec_.load_process_file(str(path))
        else:
            update.resources_from_file(str(path))


def test_init_dying_with_a_message_unread_is_eof() -> None:
    """The init killed (the OOM killer, at a 4096-byte memory limit on cgroup v2) while our ACK
    was still unread: the read gets ECONNRESET, which is the same as EOF, not an internal error."""
    import socket

    from ocirun.spawn import InitProcess

    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    init = InitProcess.__new__(InitProcess)
    init.sock = parent.fileno()
    init.ack()
    child.close()
    try:
        assert init.receive() is None
    finally:
        parent.close()


def test_init_dying_before_our_ack_is_not_an_internal_error() -> None:
    """The init killed before an ACK is sent (the OOM killer, at a 4096-byte memory limit in the
    v2 guest: "internal error: BrokenPipeError"): the send is let be, with fds or without, and
    the next receive is EOF, which tells how the init died."""
    import socket

    from ocirun.spawn import InitProcess

    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    init = InitProcess.__new__(InitProcess)
    init.sock = parent.fileno()
    child.close()
    try:
        init.ack()
        init._answer(b"x" * 8, [parent.fileno()])
        assert init.receive() is None
    finally:
        parent.close()
