"""The container process: args, env, cwd, user, umask, caps, rlimits, fds and stdio."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
from collections.abc import Iterator

import pytest

from .support import DEFAULT_PATH, Bundle, Runtime, parse_json, probe_args


def test_args_reach_the_process_intact(runtime: Runtime, bundle: Bundle) -> None:
    args = ["a b", 'quote"d', "back\\slash", "", "-x", "ünïcode", "$HOME", "*"]
    assert runtime.run_probe(bundle, "echo", *args) == args


def test_args_resolved_through_path(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("probe", "echo", "found")
    status, out, err = runtime.run_container(bundle)
    assert status == 0, err
    assert parse_json(out) == ["found"]


def test_env_exact(runtime: Runtime, bundle: Bundle) -> None:
    env = [DEFAULT_PATH, "HOME=/somewhere", "A=1", "WITH_SPACE=a b", "EMPTY=", "EQ=x=y"]
    bundle.process["env"] = env
    assert runtime.run_probe(bundle, "env") == env


def test_env_is_not_inherited_from_the_runtime(runtime: Runtime, bundle: Bundle) -> None:
    env = runtime.run_probe(bundle, "env")
    names = {e.split("=", 1)[0] for e in env}
    assert names <= {"PATH", "TERM", "HOME"}, env


@pytest.mark.parametrize("uid, home", [(0, "/root"), (1000, "/home/tester"), (4242, "/")])
def test_home_from_passwd_when_unset(runtime: Runtime, bundle: Bundle, uid: int, home: str) -> None:
    """runc sets HOME from the rootfs's /etc/passwd when the config has none ("/" if the
    uid has no entry)."""
    bundle.process["user"] = {"uid": uid, "gid": uid}
    env = runtime.run_probe(bundle, "env")
    assert f"HOME={home}" in env


def test_cwd(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["cwd"] = "/tmp"
    assert runtime.run_probe(bundle, "cwd") == {"cwd": "/tmp"}


def test_cwd_is_created(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["cwd"] = "/work/new/dir"
    assert runtime.run_probe(bundle, "cwd") == {"cwd": "/work/new/dir"}
    assert (bundle.rootfs / "work" / "new" / "dir").is_dir()


@pytest.mark.parametrize(("cwd", "private"), [("/root", "/root"), ("/srv/private/app", "/srv/private")])
def test_user_starts_in_a_cwd_only_root_can_enter(runtime: Runtime, bundle: Bundle, cwd: str, private: str) -> None:
    """An image's USER and WORKDIR: the cwd is entered before the user change, so a non-root user
    may start in /root (0700) or below a directory it cannot search (runc's finalizeNamespace)."""
    os.chmod(bundle.rootfs / "root", 0o700)
    (bundle.rootfs / "srv" / "private" / "app").mkdir(parents=True)
    os.chmod(bundle.rootfs / "srv" / "private", 0o700)
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["cwd"] = cwd
    bundle.set_args("/bin/sh", "-c", f"/bin/probe cwd; /bin/probe ids; ls {private} >/dev/null 2>&1 || echo denied")
    status, out, err = runtime.run_container(bundle)
    assert status == 0, f"{err}\nlog:\n{runtime.log_tail()}"
    lines = out.splitlines()
    assert parse_json(lines[0]) == {"cwd": cwd}
    assert parse_json(lines[1])["euid"] == 1000
    assert lines[2] == "denied", "the user still cannot read what only root may"


def test_cwd_that_is_a_file_fails(runtime: Runtime, bundle: Bundle) -> None:
    """Only a refusal of the user's access is tried again as the user; other errors stay errors."""
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["cwd"] = "/etc/passwd"
    status, _out, err = runtime.run_container(bundle)
    assert status != 0
    assert "not a directory" in err.lower(), err


def test_relative_path_resolved_in_cwd(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["cwd"] = "/bin"
    bundle.set_args("./probe", "cwd")
    status, out, err = runtime.run_container(bundle)
    assert status == 0, err
    assert parse_json(out) == {"cwd": "/bin"}


def test_root_user_default(runtime: Runtime, bundle: Bundle) -> None:
    ids = runtime.run_probe(bundle, "ids")
    assert (ids["uid"], ids["euid"], ids["suid"], ids["gid"], ids["egid"], ids["sgid"]) == (0,) * 6
    assert ids["groups"] == []


def test_uid_gid(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["user"] = {"uid": 1000, "gid": 100}
    ids = runtime.run_probe(bundle, "ids")
    assert (ids["uid"], ids["euid"], ids["suid"]) == (1000, 1000, 1000)
    assert (ids["gid"], ids["egid"], ids["sgid"]) == (100, 100, 100)
    assert ids["groups"] == [], "no supplementary groups unless additionalGids says so"


def test_uid_without_passwd_entry(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["user"] = {"uid": 4242, "gid": 4343}
    ids = runtime.run_probe(bundle, "ids")
    assert (ids["uid"], ids["gid"]) == (4242, 4343)


def test_additional_gids(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [10, 100, 5000]}
    ids = runtime.run_probe(bundle, "ids")
    assert sorted(ids["groups"]) == [10, 100, 5000]
    assert ids["gid"] == 1000


@pytest.mark.parametrize("umask", [0o027, 0o077, 0])
def test_umask(runtime: Runtime, bundle: Bundle, umask: int) -> None:
    bundle.process["user"]["umask"] = umask
    assert runtime.run_probe(bundle, "ids")["umask"] == umask


def test_umask_default(runtime: Runtime, bundle: Bundle) -> None:
    assert runtime.run_probe(bundle, "ids")["umask"] == 0o022


DEFAULT_CAP_BITS = (1 << 29) | (1 << 5) | (1 << 10)  # AUDIT_WRITE, KILL, NET_BIND_SERVICE


def test_capabilities(runtime: Runtime, bundle: Bundle) -> None:
    expected = DEFAULT_CAP_BITS
    caps = runtime.run_probe(bundle, "caps")
    for name in ("bounding", "permitted", "effective"):
        assert int(caps[name], 16) == expected, (name, caps[name])
    assert int(caps["inheritable"], 16) == 0
    assert caps["no_new_privs"] == "1"


def test_no_new_privileges_false(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["noNewPrivileges"] = False
    assert runtime.run_probe(bundle, "caps")["no_new_privs"] == "0"


def test_nonroot_user_loses_caps_without_ambient(runtime: Runtime, bundle: Bundle) -> None:
    """Ambient capabilities need the inheritable ones too; without them a non-root
    process keeps only the bounding set across execve."""
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    caps = runtime.run_probe(bundle, "caps")
    assert int(caps["bounding"], 16) == DEFAULT_CAP_BITS
    assert int(caps["permitted"], 16) == int(caps["effective"], 16) == int(caps["ambient"], 16) == 0


def test_nonroot_user_with_ambient_caps(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["capabilities"]["inheritable"] = list(bundle.process["capabilities"]["bounding"])
    caps = runtime.run_probe(bundle, "caps")
    for name in ("bounding", "permitted", "effective", "inheritable", "ambient"):
        assert int(caps[name], 16) == DEFAULT_CAP_BITS, (name, caps[name])


def test_no_capabilities_object_means_no_caps(runtime: Runtime, bundle: Bundle) -> None:
    """runc: a process without `capabilities` gets none at all, even as root."""
    del bundle.process["capabilities"]
    caps = runtime.run_probe(bundle, "caps")
    for name in ("bounding", "permitted", "effective", "inheritable", "ambient"):
        assert int(caps[name], 16) == 0, (name, caps[name])


def test_rlimits(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1000},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
    ]
    limits = runtime.run_probe(bundle, "rlimits")
    assert limits["RLIMIT_NOFILE"] == {"soft": 512, "hard": 1000}
    assert limits["RLIMIT_CORE"] == {"soft": 0, "hard": 0}


def test_only_stdio_fds_are_open(runtime: Runtime, bundle: Bundle) -> None:
    """No fd of the runtime (state dir, sync sockets, fifo, log) leaks into the container."""
    fds = runtime.run_probe(bundle, "fds")
    assert sorted(fds) == ["0", "1", "2"], fds


def test_only_stdio_fds_after_create_start(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args(*probe_args("fds"))
    cid = runtime.create(bundle)
    runtime.start(cid)
    runtime.wait_status(cid, "stopped")
    fds = parse_json(runtime.output(cid)[0])
    assert sorted(fds) == ["0", "1", "2"], fds
    runtime.delete(cid)


def test_stdout_and_stderr_reach_the_caller(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("sh", "-c", "echo to-stdout; echo to-stderr >&2")
    status, out, err = runtime.run_container(bundle)
    assert status == 0
    assert out == "to-stdout\n"
    assert err == "to-stderr\n"


def test_stdin_passes_through_run(runtime: Runtime, bundle: Bundle) -> None:
    data = "line one\nline two\n" + "x" * 100000 + "\n"
    bundle.set_args(*probe_args("cat"))
    status, out, err = runtime.run_container(bundle, input=data)
    assert status == 0, err
    assert out == data


def test_stdin_is_empty_without_input(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args(*probe_args("cat"))
    status, out, err = runtime.run_container(bundle)
    assert status == 0, err
    assert out == ""


def test_create_passes_stdio_to_the_container(runtime: Runtime, bundle: Bundle) -> None:
    """With create/start the container writes to the stdout/stderr `create` was given."""
    bundle.set_args("sh", "-c", "echo created-out; echo created-err >&2")
    cid = runtime.create(bundle)
    runtime.start(cid)
    runtime.wait_status(cid, "stopped")
    out, err = runtime.output(cid)
    assert out == "created-out\n"
    assert err == "created-err\n"
    runtime.delete(cid)


def test_not_a_terminal(runtime: Runtime, bundle: Bundle) -> None:
    assert runtime.run_probe(bundle, "tty") == {"stdin": False, "stdout": False, "stderr": False}


# ---------------------------------------------------------------------------- duplicate variables


def test_env_duplicates_take_the_last_value_and_an_empty_home_the_users(runtime: Runtime, bundle: Bundle) -> None:
    """A name given twice has its last value, where it first stands (runc sets each entry in turn
    with Go's os.Setenv); HOME given last as empty is then filled from the user's passwd entry."""
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["env"] = [DEFAULT_PATH, "A=1", "HOME=/x", "B=b", "A=2", "HOME="]
    assert runtime.run_probe(bundle, "env") == [DEFAULT_PATH, "A=2", "HOME=/home/tester", "B=b"]


def test_exec_env_duplicates_take_the_last_value(runtime: Runtime, bundle: Bundle) -> None:
    """``exec --env`` entries are set after the container's own, each in turn: the last value
    wins, where the name first stands; an empty HOME comes from the user's passwd entry."""
    bundle.process["env"] = [DEFAULT_PATH, "A=1", "HOME=/x", "B=b", "A=0"]
    bundle.set_args(*probe_args("sleep", "600"))
    cid = runtime.create(bundle)
    try:
        runtime.start(cid)
        flags = ["-e", "B=3", "-e", "C=c", "-e", "B=4", "-e", "HOME=/y", "-e", "HOME="]
        res = runtime.run("exec", *flags, "-u", "1000", cid, "/bin/probe", "env")
        assert parse_json(res.stdout) == [DEFAULT_PATH, "A=0", "HOME=/home/tester", "B=4", "C=c"]
    finally:
        runtime.delete(cid, force=True)


# ---------------------------------------------------------------------------- signal dispositions


@contextlib.contextmanager
def signals_ignored(*sigs: signal.Signals) -> Iterator[None]:
    """The runtime started as a shell's background job is (`cmd &`): these signals ignored. The
    subprocesses the tests start inherit SIG_IGN (subprocess resets only SIGPIPE and SIGXFSZ)."""
    old = [(s, signal.signal(s, signal.SIG_IGN)) for s in sigs]
    try:
        yield
    finally:
        for s, handler in old:
            signal.signal(s, handler)


@pytest.mark.parametrize("how", ["run", "create", "exec"])
def test_signals_ignored_by_the_caller_are_not_passed_on(runtime: Runtime, bundle: Bundle, how: str) -> None:
    """runc's container starts with the signals its caller ignored at their default disposition and
    none blocked, even when runc itself was started with SIGINT and SIGQUIT ignored (Go catches
    them, and exec resets caught signals); an ignored SIGINT would make Ctrl-C do nothing in the
    container.  ocirun resets every signal.  (Under make, the glibc-reserved 32 and 33 come
    ignored, and runc passes 32 on: the test looks at the signals it ignored itself.)"""
    sigs = (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTERM, signal.SIGUSR1)
    with signals_ignored(*sigs):
        if how == "run":
            state = runtime.run_probe(bundle, "signals-state")
        else:
            bundle.set_args(*probe_args("sleep", "600") if how == "exec" else probe_args("signals-state"))
            cid = runtime.create(bundle)
            try:
                runtime.start(cid)
                if how == "exec":
                    state = parse_json(runtime.run("exec", cid, "/bin/probe", "signals-state").stdout)
                else:
                    runtime.wait_status(cid, "stopped")
                    state = parse_json(runtime.output(cid)[0])
            finally:
                runtime.delete(cid, force=True)
    assert not set(state["ignored"]) & {int(s) for s in sigs}, state
    assert state["blocked"] == [], state
    if runtime.name == "ocirun":  # every disposition reset, also what the test did not ignore: under
        assert state["ignored"] == [], state  # make, 32 and 33 come ignored (runc passes 32 on)


# ---------------------------------------------------------------------------- unlimited rlimits

RLIM_INFINITY = 2**64 - 1  # as a config writes it: the largest uint64


def _can_set_unlimited(res: int) -> bool:
    """A hard limit of RLIM_INFINITY can be kept, or raised to with CAP_SYS_RESOURCE."""
    if resource.getrlimit(res)[1] == resource.RLIM_INFINITY:
        return True
    with open("/proc/self/status") as f:
        eff = next(line for line in f if line.startswith("CapEff:")).split()[1]
    return bool((int(eff, 16) >> 24) & 1)  # CAP_SYS_RESOURCE


def test_rlimit_unlimited(runtime: Runtime, bundle: Bundle) -> None:
    """A limit of 18446744073709551615 is RLIM_INFINITY: RLIMIT_CORE's soft limit goes from the
    runner's (0 on Debian) to unlimited; RLIMIT_DATA keeps an unlimited hard limit under a soft one."""
    if not (_can_set_unlimited(resource.RLIMIT_CORE) and _can_set_unlimited(resource.RLIMIT_DATA)):
        pytest.skip("the runner's hard RLIMIT_CORE/RLIMIT_DATA are limited and it lacks CAP_SYS_RESOURCE")
    bundle.process["rlimits"] = [
        {"type": "RLIMIT_CORE", "soft": RLIM_INFINITY, "hard": RLIM_INFINITY},
        {"type": "RLIMIT_DATA", "soft": 1 << 40, "hard": RLIM_INFINITY},
    ]
    limits = runtime.run_probe(bundle, "rlimits")
    assert limits["RLIMIT_CORE"] == {"soft": -1, "hard": -1}  # -1: the probe's RLIM_INFINITY
    assert limits["RLIMIT_DATA"] == {"soft": 1 << 40, "hard": -1}
