"""linux.seccomp seen from inside the container: actions, errno values, argument filters, flags,
the order relative to no_new_privs and the credentials, the listener of SCMP_ACT_NOTIFY.

The probe's ``syscall NR ARGS...`` makes raw system calls and reports ret and errno; getppid
ignores its arguments but the filter sees them, which makes it a harmless target for argument
filters.  Syscall numbers are those of x86_64 and aarch64 (other machines skip).
"""

from __future__ import annotations

import array
import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocirun import seccomp_default

from .support import SLOWDOWN, Bundle, Runtime, expect_error, parse_json

NRS = {
    "x86_64": {"getppid": 110, "getpid": 39, "setresuid": 117, "capset": 126, "swapoff": 168, "acct": 163,
               "munlockall": 152},
    "aarch64": {"getppid": 173, "getpid": 172, "setresuid": 147, "capset": 91, "swapoff": 225, "acct": 89,
                "munlockall": 231},
}
MACHINE = os.uname().machine
pytestmark = pytest.mark.skipif(MACHINE not in NRS, reason=f"syscall numbers of {MACHINE} not listed")
NR = NRS.get(MACHINE, {})
SIGSYS = 31
ENOSYS = 38
EPERM = 1
MAGIC = 0xC0FFEE


@pytest.fixture(autouse=True)
def _drop_seccomp_cache(runtime: Runtime) -> Iterator[None]:
    """ocirun keeps compiled profiles in <root>/.cache (as crun does): not a container, not a leak."""
    yield
    shutil.rmtree(runtime.root / ".cache", ignore_errors=True)


def leaks(runtime: Runtime) -> list[str]:
    """runtime.leaks() but ocirun's cache of compiled profiles."""
    return [p for p in runtime.leaks() if not p.endswith("['.cache']")]


def seccomp(bundle: Bundle, default: str = "SCMP_ACT_ALLOW", *calls: dict[str, Any],
            **extra: Any) -> dict[str, Any]:
    profile: dict[str, Any] = {"defaultAction": default, "syscalls": list(calls), **extra}
    bundle.linux["seccomp"] = profile
    return profile


def rule(names: str | list[str], action: str = "SCMP_ACT_ERRNO", **extra: Any) -> dict[str, Any]:
    return {"names": [names] if isinstance(names, str) else names, "action": action, **extra}


def calls(*groups: tuple[str | int, ...]) -> list[str]:
    """probe syscall arguments for several calls: ("getppid", 1, 2), ("getpid",) ..."""
    args: list[str] = []
    for group in groups:
        if args:
            args.append("--")
        name, *rest = group
        args += [str(NR[name] if isinstance(name, str) else name), *map(str, rest)]
    return args


def run_calls(runtime: Runtime, bundle: Bundle, *groups: tuple[str | int, ...]) -> list[dict[str, int]]:
    result: list[dict[str, int]] = runtime.run_probe(bundle, "syscall", *calls(*groups))
    return result


def status_fields(runtime: Runtime, bundle: Bundle) -> dict[str, str]:
    bundle.set_args("/bin/grep", "-E", "^(Seccomp|Seccomp_filters|NoNewPrivs):", "/proc/self/status")
    status, out, err = runtime.run_container(bundle)
    assert status == 0, err
    return dict(line.split(":\t", 1) for line in out.strip().splitlines())


# ---------------------------------------------------------------------------- actions


def test_errno_and_errno_ret_from_inside(runtime: Runtime, bundle: Bundle) -> None:
    seccomp(bundle, "SCMP_ACT_ALLOW", rule("getppid", errnoRet=42), rule("getpid"))
    got = run_calls(runtime, bundle, ("getppid",), ("getpid",))
    assert [(r["ret"], r["errno"]) for r in got] == [(-1, 42), (-1, EPERM)]  # EPERM without errnoRet


def test_the_filter_is_on_in_proc_status(runtime: Runtime, bundle: Bundle) -> None:
    seccomp(bundle, "SCMP_ACT_ALLOW", rule("swapoff"))
    fields = status_fields(runtime, bundle)
    assert fields["Seccomp"] == "2"
    assert fields["Seccomp_filters"] == "1"
    assert fields["NoNewPrivs"] == "1"


def test_no_filter_without_seccomp(runtime: Runtime, bundle: Bundle) -> None:
    fields = status_fields(runtime, bundle)
    assert (fields["Seccomp"], fields["Seccomp_filters"]) == ("0", "0")


@pytest.mark.parametrize("action", ["SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD",
                                    "SCMP_ACT_TRAP"])
def test_kill_and_trap_end_the_process_with_sigsys(runtime: Runtime, bundle: Bundle, action: str) -> None:
    seccomp(bundle, "SCMP_ACT_ALLOW", rule("getppid", action))
    bundle.set_args("/bin/probe", "syscall", *calls(("getppid",)))
    status, out, _ = runtime.run_container(bundle)
    assert status == 128 + SIGSYS
    assert out == ""


def test_trace_without_a_tracer_is_enosys(runtime: Runtime, bundle: Bundle) -> None:
    seccomp(bundle, "SCMP_ACT_ALLOW", rule("getppid", "SCMP_ACT_TRACE", errnoRet=7))
    (got,) = run_calls(runtime, bundle, ("getppid",))
    assert (got["ret"], got["errno"]) == (-1, ENOSYS)


def test_log_lets_the_call_through(runtime: Runtime, bundle: Bundle) -> None:
    seccomp(bundle, "SCMP_ACT_ALLOW", rule("getppid", "SCMP_ACT_LOG"), rule("getpid", "SCMP_ACT_ALLOW"))
    got = run_calls(runtime, bundle, ("getppid",), ("getpid",))
    assert got[0]["errno"] == 0 and got[0]["ret"] == 0  # pid 1's parent is outside its namespace
    assert got[1] == {"nr": NR["getpid"], "ret": 1, "errno": 0}


def test_log_is_logged_by_the_kernel(runtime: Runtime, bundle: Bundle) -> None:
    """SCMP_ACT_LOG: the kernel writes an audit record (type=1326) naming the syscall."""
    try:
        logged = Path("/proc/sys/kernel/seccomp/actions_logged").read_text().split()
    except OSError:
        logged = []
    if "log" not in logged:
        pytest.skip("the kernel does not log SCMP_ACT_LOG here (kernel.seccomp.actions_logged)")
    seccomp(bundle, "SCMP_ACT_ALLOW", rule("getppid", "SCMP_ACT_LOG"))
    bundle.set_args("/bin/probe", "syscall", *calls(("getppid", MAGIC)))
    cid = runtime.create(bundle)
    pid = runtime.state(cid)["pid"]
    runtime.start(cid)
    runtime.wait_status(cid, "stopped")
    runtime.delete(cid)
    needle = f" pid={pid} "
    deadline = time.monotonic() + 5 * SLOWDOWN
    while True:
        kmsg = _kernel_log()
        syscall = f"syscall={NR['getppid']} "
        lines = [ln for ln in kmsg if "type=1326" in ln and needle in ln and syscall in ln]
        if lines or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if not lines and not any("type=1326" in ln for ln in kmsg):
        pytest.skip("no seccomp audit records reach the kernel log here (auditd?)")
    assert lines, f"no seccomp log record for pid {pid}"


def _kernel_log() -> list[str]:
    fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    out = []
    try:
        while True:
            try:
                out.append(os.read(fd, 8192).decode(errors="replace"))
            except BlockingIOError:
                break
            except OSError:  # EPIPE: records overwritten meanwhile
                continue
    finally:
        os.close(fd)
    return out


# ---------------------------------------------------------------------------- arguments


# getppid(arg0) for arg0 in 0x10, 0x20, 0x30, 0x2f against a rule for 0x20 (MASKED_EQ: mask 0xf0 == 0x20)
@pytest.mark.parametrize(
    "op, denied",
    [
        ("SCMP_CMP_NE", {0x10, 0x30, 0x2F}),
        ("SCMP_CMP_LT", {0x10}),
        ("SCMP_CMP_LE", {0x10, 0x20}),
        ("SCMP_CMP_EQ", {0x20}),
        ("SCMP_CMP_GE", {0x20, 0x30, 0x2F}),
        ("SCMP_CMP_GT", {0x30, 0x2F}),
        ("SCMP_CMP_MASKED_EQ", {0x20, 0x2F}),
    ],
)
def test_argument_operators(runtime: Runtime, bundle: Bundle, op: str, denied: set[int]) -> None:
    arg = {"index": 0, "value": 0xF0, "valueTwo": 0x20, "op": op} if op == "SCMP_CMP_MASKED_EQ" else \
        {"index": 0, "value": 0x20, "op": op}
    seccomp(bundle, "SCMP_ACT_ALLOW", rule("getppid", errnoRet=99, args=[arg]))
    values = (0x10, 0x20, 0x30, 0x2F)
    got = run_calls(runtime, bundle, *(("getppid", v) for v in values))
    assert {v for v, r in zip(values, got, strict=True) if r["errno"] == 99} == denied
    assert all(r["errno"] in (0, 99) for r in got)


def test_arguments_combine_and_64_bit_values(runtime: Runtime, bundle: Bundle) -> None:
    """Two conditions on different arguments must both hold; values are compared in 64 bits."""
    big = 0x1_0000_0005
    args = [{"index": 0, "value": big, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 7, "op": "SCMP_CMP_EQ"}]
    seccomp(bundle, "SCMP_ACT_ALLOW", rule("getppid", errnoRet=99, args=args))
    got = run_calls(runtime, bundle, ("getppid", big, 7), ("getppid", big, 8), ("getppid", 5, 7))
    assert [r["errno"] for r in got] == [99, 0, 0]


def test_the_same_argument_twice_is_either(runtime: Runtime, bundle: Bundle) -> None:
    """runc's rule: conditions repeating an index are separate rules, any one matches."""
    args = [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]
    seccomp(bundle, "SCMP_ACT_ALLOW", rule("getppid", errnoRet=99, args=args))
    got = run_calls(runtime, bundle, ("getppid", 1), ("getppid", 2), ("getppid", 3))
    assert [r["errno"] for r in got] == [99, 99, 0]


# ---------------------------------------------------------------------------- profiles


@pytest.mark.parametrize("nnp", [True, False])
def test_the_default_profile_of_ocirun_spec(runtime: Runtime, bundle: Bundle, nnp: bool) -> None:
    """An allow-list: the probe and busybox work, the rest fails with the default errno."""
    bundle.process["noNewPrivileges"] = nnp
    bundle.linux["seccomp"] = seccomp_default.profile(bundle.process["capabilities"]["bounding"])
    got = run_calls(runtime, bundle, ("getpid",), ("swapoff", 0), ("acct", 0))
    assert [(r["ret"], r["errno"]) for r in got] == [(1, 0), (-1, EPERM), (-1, EPERM)]
    bundle.set_args("/bin/sh", "-c", "echo hi | cat; ls / >/dev/null && echo ok")
    status, out, err = runtime.run_container(bundle)
    assert (status, out) == (0, "hi\nok\n"), err


def test_default_errno_ret(runtime: Runtime, bundle: Bundle) -> None:
    bundle.linux["seccomp"] = seccomp_default.profile(bundle.process["capabilities"]["bounding"])
    bundle.linux["seccomp"]["defaultErrnoRet"] = 77
    got = run_calls(runtime, bundle, ("swapoff", 0), ("getpid",))
    assert [(r["ret"], r["errno"]) for r in got] == [(-1, 77), (1, 0)]


def test_unknown_syscall_names_are_skipped(runtime: Runtime, bundle: Bundle) -> None:
    seccomp(bundle, "SCMP_ACT_ALLOW", rule(["no_such_syscall_xyz", "getppid"], errnoRet=42))
    (got,) = run_calls(runtime, bundle, ("getppid",))
    assert got["errno"] == 42


@pytest.mark.skipif(MACHINE != "x86_64", reason="x86 architectures")
def test_architectures(runtime: Runtime, bundle: Bundle) -> None:
    seccomp(bundle, "SCMP_ACT_ALLOW", rule("getppid", errnoRet=42),
            architectures=["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
    (got,) = run_calls(runtime, bundle, ("getppid",))
    assert got["errno"] == 42


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 refuses every seccomp flag ('not yet supported')")
@pytest.mark.parametrize("flag", ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                  "SECCOMP_FILTER_FLAG_SPEC_ALLOW"])
def test_flags(runtime: Runtime, bundle: Bundle, flag: str) -> None:
    seccomp(bundle, "SCMP_ACT_ALLOW", rule("getppid", errnoRet=42), flags=[flag])
    (got,) = run_calls(runtime, bundle, ("getppid",))
    assert got["errno"] == 42


def test_an_empty_flag_list(runtime: Runtime, bundle: Bundle) -> None:
    seccomp(bundle, "SCMP_ACT_ALLOW", rule("getppid", errnoRet=42), flags=[])
    (got,) = run_calls(runtime, bundle, ("getppid",))
    assert got["errno"] == 42


# ---------------------------------------------------------------------------- order


def test_with_no_new_privs_the_filter_comes_after_the_credentials(runtime: Runtime, bundle: Bundle) -> None:
    """noNewPrivileges: the filter is loaded after setresuid/capset, so blocking them stops the
    container's program only."""
    bundle.process["noNewPrivileges"] = True
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    seccomp(bundle, "SCMP_ACT_ALLOW", rule(["setresuid", "capset"], errnoRet=42))
    got = run_calls(runtime, bundle, ("setresuid", -1, -1, -1), ("capset", 0, 0))
    assert [r["errno"] for r in got] == [42, 42]


@pytest.mark.parametrize("blocked", [["setuid", "setresuid"], ["capset"]])
def test_without_no_new_privs_the_filter_comes_before_the_credentials(runtime: Runtime, bundle: Bundle,
                                                                      blocked: list[str]) -> None:
    """Without noNewPrivileges seccomp(2) needs CAP_SYS_ADMIN: the filter is loaded while the
    init still has it, before it changes the user (runc 1.1.5 with setuid, ocirun with setresuid)
    and sets the capabilities, which the filter then denies: the container does not start."""
    bundle.process["noNewPrivileges"] = False
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    seccomp(bundle, "SCMP_ACT_ALLOW", rule(blocked, errnoRet=42))
    bundle.set_args("/bin/probe", "ids")
    status, out, _ = runtime.run_container(bundle)
    assert status != 0 and out == ""
    assert not leaks(runtime)


def test_without_no_new_privs_and_a_permissive_profile(runtime: Runtime, bundle: Bundle) -> None:
    """(munlockall as the target: runc's own init calls getppid after loading the filter.)"""
    bundle.process["noNewPrivileges"] = False
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    seccomp(bundle, "SCMP_ACT_ALLOW", rule("munlockall", errnoRet=42))
    fields = status_fields(runtime, bundle)
    assert (fields["Seccomp"], fields["NoNewPrivs"]) == ("2", "0")
    (got,) = run_calls(runtime, bundle, ("munlockall",))
    assert got["errno"] == 42


def test_create_start_with_a_filter(runtime: Runtime, bundle: Bundle) -> None:
    seccomp(bundle, "SCMP_ACT_ALLOW", rule("getppid", errnoRet=42))
    bundle.set_args("/bin/probe", "syscall", *calls(("getppid",)))
    cid = runtime.create(bundle)
    runtime.start(cid)
    runtime.wait_status(cid, "stopped")
    out, _ = runtime.output(cid)
    assert parse_json(out)[0]["errno"] == 42
    runtime.delete(cid)


def test_exec_gets_the_containers_filter(runtime: Runtime, bundle: Bundle) -> None:
    seccomp(bundle, "SCMP_ACT_ALLOW", rule("getppid", errnoRet=42))
    bundle.set_args("/bin/probe", "sleep", "300")
    cid = runtime.create(bundle)
    runtime.start(cid)
    res = runtime.run("exec", cid, "/bin/probe", "syscall", *calls(("getppid",)))
    assert parse_json(res.stdout)[0]["errno"] == 42
    runtime.delete(cid, force=True)


# ---------------------------------------------------------------------------- errors


def test_notify_as_default_action_is_an_error(runtime: Runtime, bundle: Bundle, workdir: Path) -> None:
    seccomp(bundle, "SCMP_ACT_NOTIFY", rule("getppid", "SCMP_ACT_ALLOW"),
            listenerPath=str(workdir / "agent.sock"))
    res = runtime.try_create(bundle)
    expect_error(runtime, res, both="(?i)notify", ocirun=r"\$\.linux\.seccomp\.defaultAction: ")
    assert not leaks(runtime)


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 ignores errnoRet on an action that takes none; "
                                          "config-linux.md: 'the runtime MUST print and error and fail'")
def test_errno_ret_on_an_action_without_errno_is_an_error(runtime: Runtime, bundle: Bundle) -> None:
    seccomp(bundle, "SCMP_ACT_ALLOW", rule("getppid", "SCMP_ACT_KILL", errnoRet=3))
    cid = runtime.new_id()
    res = runtime.try_create(bundle, cid)
    if res.returncode == 0:
        runtime.delete(cid, force=True)
    expect_error(runtime, res, ocirun=r"\$\.linux\.seccomp\.syscalls\[0\]\.action: errnoRet is only allowed")
    assert not leaks(runtime)


def test_notify_without_an_agent_is_an_error(runtime: Runtime, bundle: Bundle, workdir: Path) -> None:
    seccomp(bundle, "SCMP_ACT_ALLOW", rule("getppid", "SCMP_ACT_NOTIFY"),
            listenerPath=str(workdir / "nobody.sock"))
    res = runtime.try_create(bundle)
    expect_error(runtime, res,
                 ocirun=r"connect to the seccomp agent `.*nobody\.sock`: No such file or directory")
    assert not leaks(runtime)


# ---------------------------------------------------------------------------- NOTIFY


SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100  # _IOWR('!', 0, struct seccomp_notif)
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101  # _IOWR('!', 1, struct seccomp_notif_resp)
SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1
NOTIF = struct.Struct("=QIIiIQ6Q")  # id, pid, flags, data.nr, data.arch, data.instruction_pointer, data.args
NOTIF_RESP = struct.Struct("=QqiI")  # id, val, error, flags


class Agent:
    """A seccomp agent on a unix socket: takes one container process state with its fd, then
    answers notifications: getppid(MAGIC) returns 4242, anything else continues.  It notes when
    the runtime closed the connection (``eof_at``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(1)
        self.state: dict[str, Any] | None = None
        self.fds: list[int] = []
        self.answered: list[tuple[int, list[int]]] = []
        self.error: BaseException | None = None
        self.eof_at: float | None = None
        self.conn: socket.socket | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            self.conn, _ = self.sock.accept()
            fds = array.array("i")
            data, anc, _, _ = self.conn.recvmsg(1 << 16, socket.CMSG_SPACE(4 * fds.itemsize))
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
            self.fds = list(fds)
            while True:  # the state may come in several sendmsg calls (the fd with the first)
                try:
                    self.state = json.loads(data)
                    break
                except ValueError:
                    more = self.conn.recv(1 << 16)
                    if not more:
                        raise
                    data += more
            threading.Thread(target=self._wait_eof, daemon=True).start()
            self._answer(self.fds[0])
        except BaseException as e:  # reported by the test
            self.error = e

    def _wait_eof(self) -> None:
        assert self.conn is not None
        with contextlib.suppress(OSError):
            while self.conn.recv(4096):
                pass
            self.eof_at = time.monotonic()

    def _answer(self, fd: int) -> None:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while not self.done.is_set():
            events = poller.poll(100)
            if not events:
                continue
            if events[0][1] & (select.POLLHUP | select.POLLERR):
                return  # no process uses the filter any more
            buf = bytearray(NOTIF.size)
            try:
                fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, buf)
            except OSError:  # ENOENT: the caller died meanwhile
                continue
            nid, _pid, _flags, nr, _arch, _ip, *args = NOTIF.unpack(bytes(buf))
            self.answered.append((nr, args))
            if args[0] == MAGIC:
                resp = NOTIF_RESP.pack(nid, 4242, 0, 0)
            else:
                resp = NOTIF_RESP.pack(nid, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE)
            with contextlib.suppress(OSError):
                fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, bytearray(resp))

    def close(self) -> None:
        self.done.set()
        self.thread.join(timeout=5 * SLOWDOWN)
        if self.conn is not None:
            self.conn.close()
        self.sock.close()
        for fd in self.fds:
            with contextlib.suppress(OSError):
                os.close(fd)


@pytest.fixture
def agent(workdir: Path) -> Iterator[Agent]:
    a = Agent(workdir / "agent.sock")
    yield a
    a.close()


@pytest.mark.parametrize("nnp", [True, False])
def test_notify_sends_the_listener_and_the_state(runtime: Runtime, bundle: Bundle, agent: Agent,
                                                 nnp: bool) -> None:
    bundle.process["noNewPrivileges"] = nnp
    assert bundle.config is not None
    bundle.config["annotations"] = {"org.example.key": "value"}
    seccomp(bundle, "SCMP_ACT_ALLOW",
            rule("getppid", "SCMP_ACT_NOTIFY", args=[{"index": 0, "value": MAGIC, "op": "SCMP_CMP_EQ"}]),
            listenerPath=str(agent.path), listenerMetadata="MKNOD=/dev/null;extra")
    bundle.set_args("/bin/probe", "syscall", *calls(("getppid", MAGIC), ("getppid", 1)))
    cid = runtime.create(bundle)
    pid = runtime.state(cid)["pid"]
    runtime.start(cid)
    runtime.wait_status(cid, "stopped")
    out, err = runtime.output(cid)
    runtime.delete(cid)
    assert agent.error is None, agent.error
    got = parse_json(out)
    # the agent's answer, then the kernel's
    assert [(r["ret"], r["errno"]) for r in got] == [(4242, 0), (0, 0)], err
    assert (NR["getppid"], [MAGIC, 0, 0, 0, 0, 0]) in agent.answered
    assert len(agent.fds) == 1
    state = agent.state
    assert state is not None
    assert state["fds"] == ["seccompFd"]
    assert state["pid"] == pid
    assert state["metadata"] == "MKNOD=/dev/null;extra"
    assert isinstance(state["ociVersion"], str)
    inner = state["state"]
    assert (inner["id"], inner["pid"], inner["bundle"]) == (cid, pid, str(bundle.path))
    assert inner["status"] == "creating"
    assert inner["annotations"] == {"org.example.key": "value"}


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 refuses every seccomp flag ('not yet supported')")
@pytest.mark.parametrize("flags", [["SECCOMP_FILTER_FLAG_TSYNC"], ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]])
def test_notify_with_flags(runtime: Runtime, bundle: Bundle, agent: Agent, flags: list[str]) -> None:
    """TSYNC with a listener needs TSYNC_ESRCH, WAIT_KILLABLE_RECV needs the listener: both work."""
    release = tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2])
    if "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" in flags and release < (5, 19):
        pytest.skip("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs Linux 5.19")
    seccomp(bundle, "SCMP_ACT_ALLOW",
            rule("getppid", "SCMP_ACT_NOTIFY", args=[{"index": 0, "value": MAGIC, "op": "SCMP_CMP_EQ"}]),
            listenerPath=str(agent.path), flags=flags)
    bundle.set_args("/bin/probe", "syscall", *calls(("getppid", MAGIC)))
    status, out, err = runtime.run_container(bundle)
    assert status == 0, err
    assert agent.error is None, agent.error
    assert parse_json(out)[0]["ret"] == 4242


def test_the_listener_is_a_seccomp_notify_fd(runtime: Runtime, bundle: Bundle, agent: Agent) -> None:
    seccomp(bundle, "SCMP_ACT_ALLOW",
            rule("getppid", "SCMP_ACT_NOTIFY", args=[{"index": 0, "value": MAGIC, "op": "SCMP_CMP_EQ"}]),
            listenerPath=str(agent.path))
    bundle.set_args("/bin/probe", "syscall", *calls(("getppid", MAGIC)))
    status, out, err = runtime.run_container(bundle)
    assert status == 0, err
    assert agent.error is None, agent.error
    assert parse_json(out)[0]["ret"] == 4242
    assert agent.fds and os.readlink(f"/proc/self/fd/{agent.fds[0]}") == "anon_inode:seccomp notify"


@pytest.mark.xfail_runtime("runc", reason="runc 1.1.5 keeps its connection to the agent open until it exits "
                                          "(it closes a dup of it only); config-linux.md: it MUST be closed")
def test_the_connection_to_the_agent_is_closed_after_the_state(runtime: Runtime, bundle: Bundle,
                                                                agent: Agent) -> None:
    seccomp(bundle, "SCMP_ACT_ALLOW",
            rule("getppid", "SCMP_ACT_NOTIFY", args=[{"index": 0, "value": MAGIC, "op": "SCMP_CMP_EQ"}]),
            listenerPath=str(agent.path))
    bundle.set_args("/bin/sh", "-c", f"/bin/probe syscall {NR['getppid']} {MAGIC}; sleep 1.5")
    started = time.monotonic()
    status, out, err = runtime.run_container(bundle)
    ended = time.monotonic()
    assert status == 0, err
    assert agent.error is None, agent.error
    assert parse_json(out)[0]["ret"] == 4242
    assert agent.eof_at is not None and agent.eof_at - started < ended - started - 1.0


def test_a_process_killed_while_waiting_for_the_agent(runtime: Runtime, bundle: Bundle,
                                                      workdir: Path) -> None:
    """An agent that never answers: the container can still be killed and deleted."""
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.bind(str(workdir / "silent.sock"))
    silent.listen(1)
    kept: list[socket.socket] = []

    def take() -> None:
        conn, _ = silent.accept()
        kept.append(conn)  # holds the fd without answering

    t = threading.Thread(target=take, daemon=True)
    t.start()
    try:
        seccomp(bundle, "SCMP_ACT_ALLOW",
                rule("getppid", "SCMP_ACT_NOTIFY", args=[{"index": 0, "value": MAGIC, "op": "SCMP_CMP_EQ"}]),
                listenerPath=str(workdir / "silent.sock"))
        bundle.set_args("/bin/probe", "syscall", *calls(("getppid", MAGIC)))
        cid = runtime.create(bundle)
        runtime.start(cid)
        time.sleep(0.2)
        assert runtime.status(cid) == "running"
        runtime.kill(cid, signal.SIGKILL)
        runtime.wait_status(cid, "stopped")
        runtime.delete(cid)
    finally:
        t.join(timeout=5 * SLOWDOWN)
        for c in kept:
            c.close()
        silent.close()


def test_the_second_create_reads_the_cache(runtime: Runtime, bundle: Bundle) -> None:
    if runtime.name != "ocirun":
        pytest.skip("ocirun's cache of compiled profiles")
    bundle.linux["seccomp"] = seccomp_default.profile(bundle.process["capabilities"]["bounding"])
    bundle.set_args("/bin/true")
    assert runtime.run_container(bundle)[0] == 0
    cache = runtime.root / ".cache" / "seccomp"
    (entry,) = cache.iterdir()
    first = entry.stat().st_mtime_ns
    assert runtime.run_container(bundle)[0] == 0
    assert [p.name for p in cache.iterdir()] == [entry.name] and entry.stat().st_mtime_ns == first
