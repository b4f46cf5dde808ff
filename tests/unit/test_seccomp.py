"""linux.seccomp compiled to BPF in the parent (ocirun/seccomp.py, csrc/seccomp.c), no root needed.

The BPF programs are decoded (struct sock_filter: u16 code, u8 jt, u8 jf, u32 k) and checked
for the return values and compared constants the profile asks for; the cache, the flags, the
errors (each naming its JSON path), the place of OP_SECCOMP in the plan, the default profile of
``ocirun spec`` and the features entry.

libseccomp is reached through the compiled module ocirun._shim: the one importable here (a build
in the source tree), else the one installed in the venv (`pip install .`), loaded as
ocirun._shim for these tests.
"""

from __future__ import annotations

import copy
import glob
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocirun import caps, hostfacts, plan, seccomp, seccomp_default, shim
from ocirun import protocol as P
from ocirun.errors import InvalidSpec
from ocirun.spec import validate
from ocirun.spec.model import Seccomp, Spec

ROOT = Path(__file__).resolve().parents[2]

SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_TRACE = 0x7FF00000
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_LOG = 0x7FFC0000
SECCOMP_RET_TRAP = 0x00030000
SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_KILL_THREAD = 0
SECCOMP_RET_USER_NOTIF = 0x7FC00000
BPF_RET_K = 0x06
BPF_JMP_JEQ_K = 0x15
AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_I386 = 0x40000003
MACHINE = os.uname().machine
# names of the default profile that a libseccomp older than the kernel may not know yet
NEWER_THAN_LIBSECCOMP = {"mseal", "futex_wait", "futex_wake", "futex_requeue", "map_shadow_stack",
                         "cachestat", "fchmodat2", "quotactl_fd", "set_mempolicy_home_node"}


def _find_installed_shim() -> str | None:
    for entry in sys.path:
        if not entry or Path(entry).resolve() == ROOT:
            continue
        found = glob.glob(os.path.join(entry, "ocirun", "_shim*.so"))
        if found:
            return found[0]
    return None


@pytest.fixture(scope="module", autouse=True)
def compiled_shim() -> Iterator[Any]:
    """ocirun._shim with libseccomp (a build in the tree, or the venv's, for this module only)."""
    borrowed = False
    try:
        from ocirun import _shim  # type: ignore[attr-defined, unused-ignore]
    except ImportError:
        path = _find_installed_shim()
        if path is None:
            pytest.skip("the compiled module ocirun._shim is not built (pip install .)")
        spec = importlib.util.spec_from_file_location("ocirun._shim", path)
        assert spec is not None and spec.loader is not None
        _shim = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(_shim)
        sys.modules["ocirun._shim"] = _shim
        borrowed = True
    try:
        if not hasattr(_shim.lib, "ocirun_scmp_compile"):
            pytest.skip("the compiled ocirun._shim predates seccomp: reinstall (pip install .)")
        yield _shim
    finally:
        if borrowed:  # other test modules see the tree as it is
            del sys.modules["ocirun._shim"]
            shim._lib = shim._ffi = None


@pytest.fixture
def lib(compiled_shim: Any) -> Any:
    return compiled_shim.lib


def insns(bpf: bytes) -> list[tuple[int, int, int, int]]:
    assert len(bpf) % 8 == 0 and bpf
    return [
        (int.from_bytes(bpf[i : i + 2], "little"), bpf[i + 2], bpf[i + 3],
         int.from_bytes(bpf[i + 4 : i + 8], "little"))
        for i in range(0, len(bpf), 8)
    ]


def returns(bpf: bytes) -> set[int]:
    """The k of every `ret #k` instruction."""
    return {k for code, _, _, k in insns(bpf) if code == BPF_RET_K}


def compared(bpf: bytes) -> set[int]:
    """The k of every `jeq #k` instruction (syscall numbers, arch tokens, argument values)."""
    return {k for code, _, _, k in insns(bpf) if code == BPF_JMP_JEQ_K}


def nr(lib: Any, name: str) -> int:
    n = int(lib.ocirun_scmp_syscall(name.encode()))
    assert n >= 0, name
    return n


def profile(default: str = "SCMP_ACT_ALLOW", *calls: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"defaultAction": default, "syscalls": list(calls), **extra}


def rule(names: list[str] | str, action: str = "SCMP_ACT_ERRNO", **extra: Any) -> dict[str, Any]:
    return {"names": [names] if isinstance(names, str) else names, "action": action, **extra}


def compile_bpf(prof: dict[str, Any]) -> tuple[bytes, list[str]]:
    return seccomp.compile_bpf(Seccomp.from_json(prof))


def flatten(prof: dict[str, Any]) -> tuple[int, list[tuple[str, str]], list[seccomp.Rule]]:
    return seccomp.flatten(Seccomp.from_json(prof))


def prepare(prof: dict[str, Any], **kwargs: Any) -> seccomp.Filter:
    """As create does it: the profile's own rules checked (spec.validate), then compiled."""
    typed = Seccomp.from_json(prof)
    validate.check_seccomp(typed)
    return seccomp.prepare(typed, **kwargs)


def bad(prof: dict[str, Any], path: str, reason: str) -> None:
    with pytest.raises(InvalidSpec) as e:
        prepare(prof)
    assert e.value.path == path, str(e.value)
    assert reason in e.value.reason, str(e.value)


# ---------------------------------------------------------------------------- compiling


def test_a_profile_compiles_to_bpf(lib: Any) -> None:
    bpf, skipped = compile_bpf(profile("SCMP_ACT_ALLOW", rule(["getcwd", "chmod"])))
    assert skipped == []
    assert 4 < len(bpf) // 8 < 40
    assert returns(bpf) >= {SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | 1}  # errnoRet defaults to EPERM
    assert {nr(lib, "getcwd"), nr(lib, "chmod")} <= compared(bpf)


def test_errno_ret_and_default_errno_ret(lib: Any) -> None:
    bpf, _ = compile_bpf(profile("SCMP_ACT_ERRNO", rule("getcwd", "SCMP_ACT_ERRNO", errnoRet=42),
                                         rule("read", "SCMP_ACT_ALLOW"), defaultErrnoRet=38))
    assert returns(bpf) >= {SECCOMP_RET_ERRNO | 42, SECCOMP_RET_ERRNO | 38, SECCOMP_RET_ALLOW}


def test_trace_takes_errno_ret_as_its_value() -> None:
    bpf, _ = compile_bpf(profile("SCMP_ACT_ALLOW", rule("getcwd", "SCMP_ACT_TRACE", errnoRet=7),
                                         rule("chmod", "SCMP_ACT_TRACE")))
    assert returns(bpf) >= {SECCOMP_RET_TRACE | 7, SECCOMP_RET_TRACE | 1}


@pytest.mark.parametrize(
    "action, ret",
    [
        ("SCMP_ACT_KILL", SECCOMP_RET_KILL_THREAD),
        ("SCMP_ACT_KILL_THREAD", SECCOMP_RET_KILL_THREAD),
        ("SCMP_ACT_KILL_PROCESS", SECCOMP_RET_KILL_PROCESS),
        ("SCMP_ACT_TRAP", SECCOMP_RET_TRAP),
        ("SCMP_ACT_ERRNO", SECCOMP_RET_ERRNO | 1),
        ("SCMP_ACT_TRACE", SECCOMP_RET_TRACE | 1),
        ("SCMP_ACT_LOG", SECCOMP_RET_LOG),
        ("SCMP_ACT_NOTIFY", SECCOMP_RET_USER_NOTIF),
    ],
)
def test_every_action(action: str, ret: int) -> None:
    bpf, _ = compile_bpf(profile("SCMP_ACT_ALLOW", rule("getcwd", action)))
    assert ret in returns(bpf)


@pytest.mark.parametrize("default", ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP",
                                     "SCMP_ACT_LOG", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"])
def test_every_default_action(default: str) -> None:
    ret = seccomp.ACTIONS[default] | (1 if default in seccomp.WITH_DATA else 0)
    bpf, _ = compile_bpf(profile(default, rule("read", "SCMP_ACT_ALLOW")))
    assert {ret, SECCOMP_RET_ALLOW} <= returns(bpf)


def test_a_rule_with_the_default_action_is_skipped() -> None:
    alone, _ = compile_bpf(profile("SCMP_ACT_ALLOW"))
    same, _ = compile_bpf(profile("SCMP_ACT_ALLOW", rule(["getcwd", "read"], "SCMP_ACT_ALLOW")))
    assert same == alone


@pytest.mark.parametrize("op", sorted(seccomp.OPERATORS))
def test_every_operator(lib: Any, op: str) -> None:
    arg = {"index": 1, "value": 0x1234, "op": op}
    if op == "SCMP_CMP_MASKED_EQ":
        arg["valueTwo"] = 0x0204
    bpf, _ = compile_bpf(profile("SCMP_ACT_ALLOW", rule("getcwd", args=[arg])))
    assert SECCOMP_RET_ERRNO | 1 in returns(bpf)
    ks = {k for _, _, _, k in insns(bpf)}
    assert (0x0204 if op == "SCMP_CMP_MASKED_EQ" else 0x1234) in ks


def test_64_bit_values() -> None:
    arg = {"index": 0, "value": 0xDEADBEEF_00C0FFEE, "op": "SCMP_CMP_EQ"}
    bpf, _ = compile_bpf(profile("SCMP_ACT_ALLOW", rule("getcwd", args=[arg])))
    assert {0xDEADBEEF, 0x00C0FFEE} <= compared(bpf)


def test_conditions_on_the_same_argument_become_separate_rules() -> None:
    """runc: two conditions on one index are two rules (either matches), not one (both)."""
    args = [{"index": 0, "value": 0x1111, "op": "SCMP_CMP_EQ"},
            {"index": 0, "value": 0x2222, "op": "SCMP_CMP_EQ"}]
    bpf, _ = compile_bpf(profile("SCMP_ACT_ALLOW", rule("getcwd", args=args)))
    assert {0x1111, 0x2222} <= compared(bpf)
    rules = flatten(profile("SCMP_ACT_ALLOW", rule("getcwd", args=args)))[2]
    assert [r[2] for r in rules] == [[(0, 4, 0x1111, 0)], [(0, 4, 0x2222, 0)]]
    both = [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}]
    rules = flatten(profile("SCMP_ACT_ALLOW", rule("getcwd", args=both)))[2]
    assert len(rules) == 1 and len(rules[0][2]) == 2


def test_unknown_syscall_names_are_skipped_with_a_debug_line(lib: Any) -> None:
    lines: list[str] = []
    prof = profile("SCMP_ACT_ALLOW", rule(["getcwd", "no_such_call_xyz", "neither_this"]))
    filt = prepare(prof, debug=lines.append)
    assert filt.skipped == ["no_such_call_xyz", "neither_this"]
    assert lines == ["unknown seccomp syscall 'no_such_call_xyz' ignored",
                     "unknown seccomp syscall 'neither_this' ignored"]
    assert nr(lib, "getcwd") in compared(filt.bpf)
    only_unknown, _ = compile_bpf(profile("SCMP_ACT_ALLOW", rule("no_such_call_xyz")))
    assert only_unknown == compile_bpf(profile("SCMP_ACT_ALLOW"))[0]


def test_a_syscall_of_another_arch_is_not_unknown(lib: Any) -> None:
    """socketcall (x86) or breakpoint (arm) on another machine: libseccomp knows them, no skip."""
    _, skipped = compile_bpf(profile("SCMP_ACT_ALLOW", rule(["socketcall", "breakpoint"])))
    assert skipped == []


@pytest.mark.skipif(MACHINE != "x86_64", reason="arch tokens checked on x86_64")
def test_architectures() -> None:
    native, _ = compile_bpf(profile("SCMP_ACT_ALLOW", rule("getcwd")))
    assert AUDIT_ARCH_X86_64 in compared(native) and AUDIT_ARCH_I386 not in compared(native)
    archs = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    multi, _ = compile_bpf(profile("SCMP_ACT_ALLOW", rule("getcwd"), architectures=archs))
    assert {AUDIT_ARCH_X86_64, AUDIT_ARCH_I386} <= compared(multi)
    assert len(multi) > len(native)


def test_an_arch_libseccomp_lacks_is_an_error(lib: Any) -> None:
    missing = [a for a in seccomp.ARCHS if lib.ocirun_scmp_arch(seccomp._arch_name(a).encode()) == 0]
    if not missing:
        pytest.skip("this libseccomp knows every arch of the spec")
    bad(profile(architectures=["SCMP_ARCH_X86_64", missing[0]]), "$.linux.seccomp.architectures[1]",
        f"{missing[0]} is not supported by libseccomp {seccomp.libseccomp_version()}")


def test_libseccomp_version(lib: Any) -> None:
    version = seccomp.libseccomp_version()
    assert version.count(".") == 2 and int(version.split(".")[0]) >= 2


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "prof, path, reason",
    [
        (profile("SCMP_ACT_NOPE"), "$.linux.seccomp.defaultAction", "unknown seccomp action 'SCMP_ACT_NOPE'"),
        (profile("SCMP_ACT_ALLOW", rule("read", "SCMP_ACT_BOGUS")), "$.linux.seccomp.syscalls[0].action",
         "unknown seccomp action 'SCMP_ACT_BOGUS'"),
        (profile("SCMP_ACT_ALLOW", rule("read", "SCMP_ACT_KILL", errnoRet=1)),
         "$.linux.seccomp.syscalls[0].action",
         "errnoRet is only allowed with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not SCMP_ACT_KILL"),
        (profile("SCMP_ACT_ALLOW", defaultErrnoRet=1), "$.linux.seccomp.defaultAction",
         "defaultErrnoRet is only allowed with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not SCMP_ACT_ALLOW"),
        (profile("SCMP_ACT_ALLOW", rule("read", errnoRet=70000)), "$.linux.seccomp.syscalls[0].action",
         "errnoRet 70000 is out of range"),
        (profile("SCMP_ACT_ALLOW", rule("read"),
                 rule("getcwd", args=[{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}])),
         "$.linux.seccomp.syscalls[1].args[0].index", "6 is not an argument index"),
        (profile("SCMP_ACT_ALLOW", rule("read", args=[{"index": 0, "value": 1, "op": "SCMP_CMP_NOPE"}])),
         "$.linux.seccomp.syscalls[0].args[0].op", "unknown seccomp operator 'SCMP_CMP_NOPE'"),
        (profile("SCMP_ACT_ALLOW", rule("read", args=[{"index": 0, "value": 1 << 64, "op": "SCMP_CMP_EQ"}])),
         "$.linux.seccomp.syscalls[0].args[0].value", "is not a 64-bit unsigned value"),
        (profile("SCMP_ACT_ALLOW", architectures=["SCMP_ARCH_VAX"]), "$.linux.seccomp.architectures[0]",
         "unknown seccomp architecture 'SCMP_ARCH_VAX'"),
        (profile("SCMP_ACT_ALLOW", flags=["SECCOMP_FILTER_FLAG_NOPE"]), "$.linux.seccomp.flags[0]",
         "unknown seccomp flag 'SECCOMP_FILTER_FLAG_NOPE'"),
        (profile("SCMP_ACT_NOTIFY", listenerPath="/run/agent.sock"), "$.linux.seccomp.defaultAction",
         "SCMP_ACT_NOTIFY cannot be the default action"),
        (profile("SCMP_ACT_ALLOW", rule("getcwd", "SCMP_ACT_NOTIFY")), "$.linux.seccomp",
         "SCMP_ACT_NOTIFY needs a listenerPath"),
        (profile("SCMP_ACT_ALLOW", rule(["read", "sendto"], "SCMP_ACT_NOTIFY"), listenerPath="/run/a.sock"),
         "$.linux.seccomp.syscalls[0].names[1]", "SCMP_ACT_NOTIFY cannot be used for 'sendto'"),
    ],
)
def test_errors_name_the_json_path(prof: dict[str, Any], path: str, reason: str) -> None:
    bad(prof, path, reason)


def test_too_long_a_filter_is_an_error() -> None:
    many = [rule("getcwd", args=[{"index": 0, "value": v, "op": "SCMP_CMP_EQ"} for v in range(4200)])]
    bad(profile("SCMP_ACT_ALLOW", *many), "$.linux.seccomp", "the kernel takes at most 4096")


# ---------------------------------------------------------------------------- flags


class FakeLib:
    """The compiled lib with some SECCOMP_FILTER_FLAG_* unknown to the 'kernel'."""

    def __init__(self, lib: Any, missing: int) -> None:
        self._lib = lib
        self._missing = missing

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lib, name)

    def ocirun_seccomp_flags_known(self, flags: int) -> int:
        return 0 if flags & self._missing else int(self._lib.ocirun_seccomp_flags_known(flags))


def test_flags(lib: Any) -> None:
    if lib.ocirun_seccomp_flags_known(seccomp.FLAG_SPEC_ALLOW) == 1:
        assert seccomp.filter_flags(None, False) == seccomp.FLAG_SPEC_ALLOW  # runc's default
    assert seccomp.filter_flags([], False) == 0
    assert seccomp.filter_flags(["SECCOMP_FILTER_FLAG_LOG"], False) == 2
    two = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]
    assert seccomp.filter_flags(two, False) == 1 | 4
    assert seccomp.filter_flags([], True) == seccomp.FLAG_NEW_LISTENER
    # the kernel refuses TSYNC with a listener unless TSYNC_ESRCH says how to report
    assert seccomp.filter_flags(["SECCOMP_FILTER_FLAG_TSYNC"], True) == 1 | 8 | 16


def test_wait_killable_recv_goes_with_the_listener(lib: Any) -> None:
    if lib.ocirun_seccomp_flags_known(seccomp.FLAG_WAIT_KILLABLE_RECV | seccomp.FLAG_NEW_LISTENER) != 1:
        pytest.skip("the kernel has no SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")
    assert seccomp.filter_flags(["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"], True) == 8 | 32
    assert seccomp.filter_flags(["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"], False) == 0


@pytest.mark.parametrize("flag", sorted(seccomp.FLAGS))
def test_a_flag_the_kernel_lacks_is_an_error(lib: Any, monkeypatch: pytest.MonkeyPatch, flag: str) -> None:
    monkeypatch.setattr(seccomp, "_lib", lambda: (FakeLib(lib, seccomp.FLAGS[flag]), None))
    flags = [flag] if flag == "SECCOMP_FILTER_FLAG_LOG" else ["SECCOMP_FILTER_FLAG_LOG", flag]
    bad(profile(flags=flags), f"$.linux.seccomp.flags[{len(flags) - 1}]",
        f"{flag} is not supported by this kernel")


def test_without_spec_allow_in_the_kernel_no_flags_mean_none(lib: Any,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seccomp, "_lib", lambda: (FakeLib(lib, seccomp.FLAG_SPEC_ALLOW), None))
    assert seccomp.filter_flags(None, False) == 0


def test_listener_fields() -> None:
    prof = profile("SCMP_ACT_ALLOW", rule("getcwd", "SCMP_ACT_NOTIFY"), listenerPath="/run/agent.sock",
                   listenerMetadata="meta")
    filt = prepare(prof)
    assert filt.listener and filt.flags & seccomp.FLAG_NEW_LISTENER
    assert (filt.listener_path, filt.listener_metadata) == ("/run/agent.sock", "meta")
    assert not prepare(profile("SCMP_ACT_ALLOW", rule("getcwd"), listenerPath="/x")).listener


# ---------------------------------------------------------------------------- the cache


def test_the_second_prepare_reads_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prof = profile("SCMP_ACT_ERRNO", rule(["read", "write", "exit_group"], "SCMP_ACT_ALLOW"))
    first = prepare(prof, cache_root=str(tmp_path))
    assert not first.cached
    files = list((tmp_path / ".cache" / "seccomp").iterdir())
    assert len(files) == 1 and len(files[0].name) == 64
    assert files[0].read_bytes() == first.bpf
    assert files[0].stat().st_mode & 0o777 == 0o600
    assert (tmp_path / ".cache").stat().st_mode & 0o777 == 0o700

    def no_libseccomp(_: Any) -> Any:
        raise AssertionError("libseccomp called for a cached profile")

    monkeypatch.setattr(seccomp, "compile_bpf", no_libseccomp)
    second = prepare(copy.deepcopy(prof), cache_root=str(tmp_path))
    assert second.cached and second.bpf == first.bpf and second.flags == first.flags


def test_the_cache_key(lib: Any) -> None:
    a = profile("SCMP_ACT_ALLOW", rule("getcwd", "SCMP_ACT_NOTIFY"), listenerPath="/a.sock")
    b = profile("SCMP_ACT_ALLOW", rule("getcwd", "SCMP_ACT_NOTIFY"), listenerPath="/b.sock",
                listenerMetadata="x", flags=["SECCOMP_FILTER_FLAG_LOG"])
    c = profile("SCMP_ACT_ALLOW", rule("getcwd", "SCMP_ACT_ERRNO"))
    d = profile("SCMP_ACT_ALLOW", rule("getcwd", "SCMP_ACT_ERRNO", errnoRet=2))
    # the listener and the flags are not in the BPF: the same program
    assert seccomp.cache_key(a) == seccomp.cache_key(b)
    assert len({seccomp.cache_key(a), seccomp.cache_key(c), seccomp.cache_key(d)}) == 3


def test_a_broken_cache_entry_is_compiled_again(tmp_path: Path) -> None:
    prof = profile("SCMP_ACT_ALLOW", rule("getcwd"))
    path = tmp_path / ".cache" / "seccomp" / seccomp.cache_key(prof)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"12345")
    filt = prepare(prof, cache_root=str(tmp_path))
    assert not filt.cached and path.read_bytes() == filt.bpf


def test_an_unwritable_cache_costs_time_only(tmp_path: Path) -> None:
    (tmp_path / ".cache").write_text("not a directory")
    filt = prepare(profile("SCMP_ACT_ALLOW", rule("getcwd")), cache_root=str(tmp_path))
    assert filt.bpf and not filt.cached
    assert sorted(p.name for p in tmp_path.iterdir()) == [".cache"]


def test_the_cache_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seccomp, "CACHE_MAX_ENTRIES", 4)
    for errno in range(1, 7):
        prepare(profile("SCMP_ACT_ALLOW", rule("getcwd", errnoRet=errno)), cache_root=str(tmp_path))
    left = list((tmp_path / ".cache" / "seccomp").iterdir())
    assert 1 <= len(left) <= 4
    assert not [p for p in left if p.name.endswith(".tmp")]


# ---------------------------------------------------------------------------- the plan


@pytest.fixture
def bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(caps, "own_permitted", lambda: (1 << 64) - 1)
    (tmp_path / "rootfs" / "etc").mkdir(parents=True)
    (tmp_path / "rootfs" / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    return tmp_path


def config(nnp: bool, seccomp_profile: dict[str, Any] | None) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "ociVersion": "1.3.0",
        "root": {"path": "rootfs"},
        "process": {"args": ["sh"], "cwd": "/", "env": ["PATH=/bin"], "noNewPrivileges": nnp},
        "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]},
    }
    if seccomp_profile is not None:
        cfg["linux"]["seccomp"] = seccomp_profile
    return cfg


def launch_of(bundle: Path, cfg: dict[str, Any], fifo: bool = True, cache_root: str | None = None) -> plan.Launch:
    """The plan of ``cfg``, its seccomp profile compiled (and cached under ``cache_root``) by
    hostfacts.gather as create does."""
    spec = Spec.from_json(cfg)
    rootfs = str(bundle / "rootfs")
    host = hostfacts.gather(spec.process, rootfs=rootfs, seccomp=spec.linux.seccomp, cache_root=cache_root)
    return plan.build(spec, host=host, rootfs=rootfs, bundle=str(bundle), fifo=fifo)


def codes(bundle: Path, cfg: dict[str, Any], fifo: bool = True) -> list[int]:
    return launch_of(bundle, cfg, fifo).plan.codes()


def after(seq: list[int], first: int, then: int) -> bool:
    return seq.index(first) < seq.index(then)


def test_without_no_new_privs_the_filter_comes_before_the_capabilities(bundle: Path) -> None:
    seq = codes(bundle, config(False, profile("SCMP_ACT_ALLOW", rule("getcwd"))))
    assert seq.count(P.OP_SECCOMP) == 1 and P.OP_NO_NEW_PRIVS not in seq
    i = seq.index(P.OP_SECCOMP)
    assert i < seq.index(P.OP_CAPS) < seq.index(P.OP_SETID) < seq.index(P.OP_READY)


@pytest.mark.parametrize("fifo", [True, False])
def test_with_no_new_privs_the_filter_comes_last(bundle: Path, fifo: bool) -> None:
    seq = codes(bundle, config(True, profile("SCMP_ACT_ALLOW", rule("getcwd"))), fifo=fifo)
    assert seq.count(P.OP_SECCOMP) == 1
    assert after(seq, P.OP_NO_NEW_PRIVS, P.OP_SETID) and after(seq, P.OP_SETID, P.OP_SECCOMP)
    assert after(seq, P.OP_CAPS, P.OP_SECCOMP) and after(seq, P.OP_READY, P.OP_SECCOMP)
    if fifo:
        assert after(seq, P.OP_WAIT_FIFO, P.OP_SECCOMP)
    assert seq[-2:] == [P.OP_SECCOMP, P.OP_EXEC]


def test_with_no_new_privs_and_a_listener_the_filter_comes_before_ready(bundle: Path) -> None:
    """The parent takes the listener fd: it must still be listening (create leaves at READY)."""
    prof = profile("SCMP_ACT_ALLOW", rule("getcwd", "SCMP_ACT_NOTIFY"), listenerPath="/run/agent.sock")
    seq = codes(bundle, config(True, prof))
    assert seq.index(P.OP_EXEC_LOOKUP) < seq.index(P.OP_SECCOMP) == seq.index(P.OP_READY) - 1


def test_the_op_carries_flags_and_program(bundle: Path, tmp_path: Path) -> None:
    prof = profile("SCMP_ACT_ALLOW", rule("getcwd"), flags=["SECCOMP_FILTER_FLAG_LOG"])
    launch = launch_of(bundle, config(True, prof), cache_root=str(tmp_path))
    (op,) = [o for o in launch.plan.ops() if o[0] == P.OP_SECCOMP]
    _, what, (a, b, _, _), payload = op
    assert what == "load the seccomp filter"
    assert launch.seccomp is not None
    assert a == 2 and b == launch.seccomp.instructions and payload == launch.seccomp.bpf
    assert (tmp_path / ".cache" / "seccomp").is_dir()


def test_unknown_names_become_debug_notes(bundle: Path) -> None:
    cfg = config(True, profile("SCMP_ACT_ALLOW", rule(["getcwd", "no_such_xyz"])))
    launch = launch_of(bundle, cfg)
    assert "debug: unknown seccomp syscall 'no_such_xyz' ignored" in launch.warnings


def test_a_config_without_seccomp_imports_none_of_it(bundle: Path) -> None:
    code = (
        "import sys\n"
        "from ocirun import hostfacts, plan\n"
        "from ocirun.spec.model import Spec\n"
        f"spec = Spec.from_json({config(True, None)!r})\n"
        f"host = hostfacts.gather(spec.process, rootfs={str(bundle / 'rootfs')!r}, seccomp=spec.linux.seccomp)\n"
        "host.home = lambda uid: '/'  # no compiled module in the tree: no read_in_root\n"
        f"launch = plan.build(spec, host=host, rootfs={str(bundle / 'rootfs')!r}, bundle={str(bundle)!r}, "
        "fifo=True)\n"
        "assert 19 not in launch.plan.codes()\n"
        "print(sorted(m for m in sys.modules if 'seccomp' in m))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------- default profile


def test_the_default_profile_compiles(lib: Any) -> None:
    prof = seccomp_default.profile(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])
    bpf, skipped = compile_bpf(prof)
    assert set(skipped) <= NEWER_THAN_LIBSECCOMP
    assert len(bpf) // 8 <= seccomp.BPF_MAXINSNS
    assert SECCOMP_RET_ERRNO | 1 in returns(bpf) and SECCOMP_RET_ERRNO | 38 in returns(bpf)
    names = prof["syscalls"][0]["names"]
    assert len(names) == len(set(names))
    for denied in ("mount", "umount2", "pivot_root", "setns", "unshare", "keyctl", "add_key", "bpf",
                   "reboot", "init_module", "kexec_load", "open_by_handle_at", "userfaultfd",
                   "io_uring_setup", "swapon"):
        assert denied not in names, denied


def test_every_name_of_the_default_profile_is_a_syscall(lib: Any) -> None:
    every = set(seccomp_default.ALLOWED) | {n for v in seccomp_default.BY_CAPABILITY.values() for n in v}
    every |= {n for _, calls in seccomp_default.MACHINES.values() for n in calls}
    every |= {"personality", "socket", "clone", "clone3"}
    unknown = {n for n in every if lib.ocirun_scmp_syscall(n.encode()) == -1}
    assert unknown <= NEWER_THAN_LIBSECCOMP, sorted(unknown)


def test_the_default_profile_follows_the_capabilities() -> None:
    plain = seccomp_default.profile([], machine="x86_64")
    admin = seccomp_default.profile(["CAP_SYS_ADMIN", "CAP_SYS_CHROOT"], machine="x86_64")
    assert plain["defaultAction"] == "SCMP_ACT_ERRNO" and plain["defaultErrnoRet"] == 1
    assert plain["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    assert "arch_prctl" in plain["syscalls"][0]["names"]
    assert "mount" in admin["syscalls"][0]["names"] and "chroot" in admin["syscalls"][0]["names"]
    assert "chroot" not in plain["syscalls"][0]["names"]
    clone = [s for s in plain["syscalls"] if s["names"] == ["clone"]]
    assert clone[0]["args"] == [{"index": 0, "value": 0x7E020000, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]
    assert {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38} in plain["syscalls"]
    assert next(s for s in admin["syscalls"] if s["names"] == ["clone"]) == {"names": ["clone"],
                                                                              "action": "SCMP_ACT_ALLOW"}
    s390 = seccomp_default.profile([], machine="s390x")
    assert next(s for s in s390["syscalls"] if s["names"] == ["clone"])["args"][0]["index"] == 1
    assert "architectures" not in seccomp_default.profile([], machine="vax")


def test_the_default_profile_passes_the_schema() -> None:
    from ocirun.spec import schema

    cfg = {"ociVersion": "1.3.0", "root": {"path": "rootfs"},
           "linux": {"seccomp": seccomp_default.profile(["CAP_KILL"])}}
    schema.check(cfg)


# ---------------------------------------------------------------------------- features


def test_features(lib: Any) -> None:
    feat = seccomp.seccomp_features()
    assert feat["enabled"] is True
    assert feat["actions"] == sorted(seccomp.ACTIONS) and len(feat["actions"]) == 9
    assert feat["operators"] == sorted(seccomp.OPERATORS) and len(feat["operators"]) == 7
    assert feat["knownFlags"] == ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                  "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]
    assert set(feat["supportedFlags"]) <= set(feat["knownFlags"])
    assert set(feat["archs"]) <= set(seccomp.ARCHS)
    if MACHINE == "x86_64":
        assert {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"} <= set(feat["archs"])


def test_features_without_the_shim(monkeypatch: pytest.MonkeyPatch) -> None:
    from ocirun.errors import ShimError

    def missing() -> Any:
        raise ShimError("no shim")

    monkeypatch.setattr(seccomp, "_lib", missing)
    assert seccomp.seccomp_features() == {"enabled": False}


def test_the_shim_is_the_one_loaded() -> None:
    lib_, _ = shim._load()
    assert hasattr(lib_, "ocirun_scmp_compile")
