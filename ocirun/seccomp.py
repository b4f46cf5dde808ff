"""linux.seccomp: the profile compiled to a BPF program in the parent, cached; NOTIFY's listener.

crun's way (STYLE.md 3): libseccomp runs here, in the runtime, never in the container.

    linux.seccomp --(spec.validate, flatten)--> rules --(libseccomp, csrc/seccomp.c)--> BPF bytes
                  \\--> blake2b(profile, libseccomp version, arch, kernel) = <root>/.cache/seccomp/<key>

A profile compiled once is read back from the cache: the second create of the same profile does
not call libseccomp.  The init stage gets the BPF in OP_SECCOMP and only calls seccomp(2) with it
(``a`` = the SECCOMP_FILTER_FLAG_* of ``flags``); libseccomp's own loading and its attributes
(NNP, TSYNC, LOG, SSB) are never used, and no_new_privs is an op of its own.  Where the op sits in
the plan (runc's order relative to no_new_privs and the capabilities) is plan._process's business.

runc's rules, kept: a syscall name libseccomp does not know is skipped (a debug line); a rule
whose action is the default action is skipped; conditions that repeat an argument index become
one rule each (runc's "old behavior", an OR); SCMP_ACT_KILL is SCMP_ACT_KILL_THREAD; errnoRet
defaults to EPERM; without ``flags`` the filter gets SECCOMP_FILTER_FLAG_SPEC_ALLOW when the
kernel has it (runc 1.2+, crun).  The spec's rules, where runc is laxer: errnoRet (or
defaultErrnoRet) on an action that takes no errno is an error.

SCMP_ACT_NOTIFY: the init stage loads the filter with SECCOMP_FILTER_FLAG_NEW_LISTENER and sends
the listener's fd number (MSG_SECCOMP); the parent takes a copy with pidfd_getfd(2) and sends it
to ``listenerPath`` with the container process state (config-linux.md), see ``send_listener``.
"""

from __future__ import annotations

from . import _os as os
from .errors import InvalidSpec, OciRunError, SyscallError
from .spec import SPEC_VERSION

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .spec.model import Seccomp

EPERM = 1
ENOENT = 2
CACHE_DIR = ".cache/seccomp"
CACHE_MAX_ENTRIES = 64  # a miss that finds more removes the oldest ones
BPF_MAXINSNS = 4096  # the kernel's limit for one filter
INSN_SIZE = 8  # struct sock_filter
_FORMAT = b"ocirun-seccomp 1\0"  # part of the cache key: bump when compile_bpf changes its output

# SCMP_ACT_* (libseccomp) = SECCOMP_RET_* (the kernel's uapi); ERRNO and TRACE carry 16 bits of data.
ACTIONS = {
    "SCMP_ACT_KILL": 0x00000000,
    "SCMP_ACT_KILL_THREAD": 0x00000000,
    "SCMP_ACT_KILL_PROCESS": 0x80000000,
    "SCMP_ACT_TRAP": 0x00030000,
    "SCMP_ACT_ERRNO": 0x00050000,
    "SCMP_ACT_TRACE": 0x7FF00000,
    "SCMP_ACT_LOG": 0x7FFC0000,
    "SCMP_ACT_ALLOW": 0x7FFF0000,
    "SCMP_ACT_NOTIFY": 0x7FC00000,
}
WITH_DATA = ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE")
# enum scmp_compare
OPERATORS = {
    "SCMP_CMP_NE": 1,
    "SCMP_CMP_LT": 2,
    "SCMP_CMP_LE": 3,
    "SCMP_CMP_EQ": 4,
    "SCMP_CMP_GE": 5,
    "SCMP_CMP_GT": 6,
    "SCMP_CMP_MASKED_EQ": 7,
}
# SECCOMP_FILTER_FLAG_* that a profile may ask for, and the two the runtime adds itself
FLAGS = {
    "SECCOMP_FILTER_FLAG_TSYNC": 1,
    "SECCOMP_FILTER_FLAG_LOG": 2,
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW": 4,
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV": 32,
}
FLAG_TSYNC = 1
FLAG_SPEC_ALLOW = 4
FLAG_NEW_LISTENER = 8
FLAG_TSYNC_ESRCH = 16
FLAG_WAIT_KILLABLE_RECV = 32
# What each flag needs next to it for the kernel to accept it (probing WAIT_KILLABLE_RECV alone
# gives EINVAL even where it exists).
_PROBE_WITH = {FLAG_WAIT_KILLABLE_RECV: FLAG_NEW_LISTENER}
# runtime-spec config-linux.md, as of libseccomp 2.6; libseccomp's own names are these, lowercase,
# without the prefix.
ARCHS = (
    "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
    "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
)
# The init stage talks to the parent with sendto(2) right after loading a filter with a listener:
# if that call waited for the listener, nobody would ever answer it (runc refuses "write").
NOT_NOTIFIABLE = ("sendto",)
BASE = "$.linux.seccomp"


class Filter:
    """A compiled profile: what OP_SECCOMP loads, and where NOTIFY's listener goes."""

    __slots__ = ("bpf", "cached", "flags", "listener_metadata", "listener_path", "skipped")

    def __init__(self, bpf: bytes, flags: int, listener_path: str | None = None,
                 listener_metadata: str | None = None) -> None:
        self.bpf = bpf
        self.flags = flags  # SECCOMP_FILTER_FLAG_* for seccomp(2), NEW_LISTENER included
        self.listener_path = listener_path
        self.listener_metadata = listener_metadata
        self.cached = False  # read from the cache (libseccomp was not called)
        self.skipped: list[str] = []  # syscall names libseccomp does not know (compiled now only)

    @property
    def instructions(self) -> int:
        return len(self.bpf) // INSN_SIZE

    @property
    def listener(self) -> bool:
        return bool(self.flags & FLAG_NEW_LISTENER)


def _lib() -> tuple[Any, Any]:
    from .shim import _load

    return _load()


# ---------------------------------------------------------------------------- the profile


def prepare(profile: Seccomp, *, cache_root: str | None = None,
            debug: Callable[[str], None] | None = None) -> Filter:
    """linux.seccomp, checked (spec.validate.check_seccomp) -> Filter.  With ``cache_root`` (the
    state root) the BPF is read from, or written to, ``<cache_root>/.cache/seccomp/``.  ``debug``
    gets one line per skipped name."""
    flags = filter_flags(profile.flags, profile.uses_notify())
    bpf = None
    key = path = ""
    if cache_root is not None:
        key = cache_key(profile.raw)
        path = f"{cache_root}/{CACHE_DIR}/{key}"
        bpf = _cache_read(path)
    filt = Filter(b"", flags, profile.listener_path, profile.listener_metadata)
    if bpf is not None:
        filt.bpf = bpf
        filt.cached = True
        return filt
    filt.bpf, filt.skipped = compile_bpf(profile)
    if debug is not None:
        for name in filt.skipped:
            debug(f"unknown seccomp syscall {name!r} ignored")
    if cache_root is not None:
        _cache_write(cache_root, path, filt.bpf)
    return filt


def filter_flags(names: list[str] | None, notify: bool) -> int:
    """The SECCOMP_FILTER_FLAG_* bits (of known names) for seccomp(2); a flag the kernel lacks is an
    error."""
    lib, _ = _lib()
    flags = 0
    if names is None:
        # No flags given (not even []): SPEC_ALLOW where the kernel has it, as runc 1.2+ and crun.
        if lib.ocirun_seccomp_flags_known(FLAG_SPEC_ALLOW) == 1:
            flags = FLAG_SPEC_ALLOW
    else:
        for i, name in enumerate(names):
            bit = FLAGS[name]
            if lib.ocirun_seccomp_flags_known(bit | _PROBE_WITH.get(bit, 0)) != 1:
                raise InvalidSpec(f"{BASE}.flags[{i}]", f"{name} is not supported by this kernel")
            flags |= bit
    if notify:
        flags |= FLAG_NEW_LISTENER
        if flags & FLAG_TSYNC:
            flags |= FLAG_TSYNC_ESRCH  # else the kernel refuses TSYNC with a listener
    else:
        flags &= ~FLAG_WAIT_KILLABLE_RECV  # about the listener only: without one, libseccomp drops it too
    return flags


def _action(name: str, errno_ret: int | None) -> int:
    value = ACTIONS[name]
    if name in WITH_DATA:
        return value | (EPERM if errno_ret is None else errno_ret)
    return value


def _arch_name(spec_name: str) -> str:
    return spec_name[len("SCMP_ARCH_"):].lower() if spec_name.startswith("SCMP_ARCH_") else ""


Cond = tuple[int, int, int, int]  # index, op, value, valueTwo
Rule = tuple[str, int, list[Cond], str]  # syscall name, action, conditions, JSON path of its entry


def flatten(profile: Seccomp) -> tuple[int, list[tuple[str, str]], list[Rule]]:
    """The checked profile as (default action, [(arch, libseccomp's name)], rules), one rule per
    name and per repeated argument index."""
    default = _action(profile.default_action, profile.default_errno_ret)
    archs = [(arch, _arch_name(arch)) for arch in profile.architectures]
    rules = []
    for i, call in enumerate(profile.syscalls):
        where = f"{BASE}.syscalls[{i}]"
        action = _action(call.action, call.errno_ret)
        seen: set[int] = set()
        repeated = False
        conds: list[Cond] = []
        for arg in call.args:
            repeated = repeated or arg.index in seen
            seen.add(arg.index)
            conds.append((arg.index, OPERATORS[arg.op], arg.value, arg.value_two))
        # The same argument twice: one rule per condition (an OR), as runc does.
        groups: list[list[Cond]] = [[c] for c in conds] if repeated else [conds]
        for name in call.names:
            if action == default:
                continue  # redundant: libseccomp would refuse it
            for group in groups:
                rules.append((name, action, group, where))
    return default, archs, rules


def compile_bpf(profile: Seccomp) -> tuple[bytes, list[str]]:
    """The BPF program of ``profile`` (libseccomp) and the syscall names it skipped."""
    default, archs, rules = flatten(profile)
    lib, ffi = _lib()
    for act in {(a & 0xFFFF0000) for a in (default, *(r[1] for r in rules))}:
        if lib.ocirun_seccomp_action_avail(act) == 0:
            name = next(k for k, v in ACTIONS.items() if v == act)
            raise InvalidSpec(BASE, f"{name} is not supported by this kernel")
    tokens = []
    for i, (arch, name) in enumerate(archs):
        token = lib.ocirun_scmp_arch(name.encode())
        if token == 0:
            raise InvalidSpec(f"{BASE}.architectures[{i}]",
                              f"{arch} is not supported by libseccomp {libseccomp_version()}")
        tokens.append(token)
    keep: list[Any] = []
    c_rules = ffi.new("struct ocirun_scmp_rule[]", max(len(rules), 1))
    for r, (name, action, conds, _where) in zip(c_rules, rules, strict=False):  # c_rules: 1 at least
        c_name = ffi.new("char[]", name.encode())
        keep.append(c_name)
        r.name = c_name
        r.action = action
        r.nconds = len(conds)
        if conds:
            c_conds = ffi.new("struct ocirun_scmp_cond[]", conds)
            keep.append(c_conds)
            r.conds = c_conds
    c_archs = ffi.new("uint32_t[]", tokens or [0])
    p = ffi.new("struct ocirun_scmp_profile *")
    p.default_action = default
    p.narchs = len(tokens)
    p.archs = c_archs
    p.nrules = len(rules)
    p.rules = c_rules
    # libseccomp's binary tree for long lists (runc's threshold; with no rules 2.5 gets it wrong)
    p.optimize = 2 if len(rules) > 32 else 0
    fd = os.memfd_create("ocirun-seccomp", os.MFD_CLOEXEC)
    try:
        ret = lib.ocirun_scmp_compile(p, fd)
        if ret < 0:
            if p.failed_arch >= 0:
                arch = archs[p.failed_arch][0]
                raise InvalidSpec(f"{BASE}.architectures[{p.failed_arch}]",
                                  f"add {arch}: {os.strerror(-ret)}")
            if p.failed_rule >= 0:
                name, _, _, where = rules[p.failed_rule]
                raise InvalidSpec(where, f"seccomp rule for {name!r}: {os.strerror(-ret)}")
            raise SyscallError("compile the seccomp profile", -ret)
        bpf = _read_all(fd)
    finally:
        os.close(fd)
    skipped = [rules[i][0] for i in range(len(rules)) if c_rules[i].status == 1]
    n = len(bpf) // INSN_SIZE
    if not 0 < n <= BPF_MAXINSNS or len(bpf) % INSN_SIZE:
        raise InvalidSpec(BASE, f"the seccomp filter has {n} BPF instructions; "
                          f"the kernel takes at most {BPF_MAXINSNS}")
    return bpf, list(dict.fromkeys(skipped))


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks: list[bytes] = []
    while True:
        data = os.read(fd, 1 << 16)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


# ---------------------------------------------------------------------------- the cache


def cache_key(profile: dict[str, Any]) -> str:
    """What the BPF depends on: the profile (but its listener), libseccomp, the arch and the kernel
    (libseccomp asks it which actions exist)."""
    try:
        from _blake2 import blake2b  # 0.1 ms; hashlib costs 2 ms
    except ImportError:  # pragma: no cover
        from hashlib import blake2b
    from ._json import dumps

    lib, _ = _lib()
    body = {k: v for k, v in profile.items() if k not in ("listenerPath", "listenerMetadata", "flags")}
    u = os.uname()
    head = f"{lib.ocirun_scmp_version()} {lib.ocirun_scmp_arch_native()} {u.machine} {u.release} "
    head += f"{u.version}\0"
    h = blake2b(_FORMAT, digest_size=32)
    h.update(head.encode())
    h.update(dumps(body).encode())
    return h.hexdigest()


def _cache_read(path: str) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        data = _read_all(fd)
    except OSError:
        return None
    finally:
        os.close(fd)
    if not data or len(data) % INSN_SIZE or len(data) > BPF_MAXINSNS * INSN_SIZE:
        return None  # not ours: compiled again and replaced
    return data


def _cache_write(root: str, path: str, bpf: bytes) -> None:
    """Best effort: a cache that cannot be written costs time, not correctness."""
    d = os.path.dirname(path)
    try:
        for sub in (f"{root}/.cache", d):
            try:
                os.mkdir(sub, 0o700)
            except FileExistsError:
                pass
        os.write_atomic(path, bpf, 0o600)
        _evict(d)
    except OSError:
        pass


def _evict(d: str) -> None:
    names = [n for n in os.listdir(d) if not n.endswith(".tmp")]
    if len(names) <= CACHE_MAX_ENTRIES:
        return
    aged = []
    for n in names:
        try:
            aged.append((os.stat(f"{d}/{n}").st_mtime_ns, n))
        except OSError:
            pass
    aged.sort()
    for _, n in aged[: len(aged) - CACHE_MAX_ENTRIES // 2]:
        try:
            os.unlink(f"{d}/{n}")
        except OSError:
            pass


# ---------------------------------------------------------------------------- NOTIFY


def send_listener(filt: Filter, pid: int, child_fd: int, state: dict[str, Any]) -> None:
    """Sends the init's listener fd ``child_fd`` with the container process state to
    ``filt.listener_path``: one connection, the fd in the first sendmsg (config-linux.md)."""
    from ._json import dumps

    assert filt.listener_path is not None
    lib, ffi = _lib()
    fd = lib.ocirun_pidfd_getfd(pid, child_fd)
    if fd < 0:
        raise SyscallError(f"get the seccomp listener fd {child_fd} of the container's init (pidfd_getfd)",
                           -fd)
    try:
        msg: dict[str, Any] = {"ociVersion": SPEC_VERSION, "fds": ["seccompFd"], "pid": pid}
        if filt.listener_metadata:
            msg["metadata"] = filt.listener_metadata
        msg["state"] = state
        data = dumps(msg).encode()
        failed = ffi.new("int *")
        ret = lib.ocirun_send_with_fd(filt.listener_path.encode(), data, len(data), fd, failed)
        if ret < 0:
            op = "connect to the seccomp agent" if failed[0] == 1 else "send the seccomp fd to the agent"
            raise SyscallError(op, -ret, filt.listener_path)
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------- features


def libseccomp_version() -> str:
    lib, _ = _lib()
    v = lib.ocirun_scmp_version()
    return f"{v >> 16}.{v >> 8 & 0xFF}.{v & 0xFF}"


def seccomp_features() -> dict[str, Any]:
    """features.md linux.seccomp: what this build and this kernel do."""
    try:
        lib, _ = _lib()
    except OciRunError:
        return {"enabled": False}
    supported = [name for name, bit in FLAGS.items()
                 if lib.ocirun_seccomp_flags_known(bit | _PROBE_WITH.get(bit, 0)) == 1]
    return {
        "enabled": True,
        "actions": sorted(ACTIONS),
        "operators": sorted(OPERATORS),
        "archs": sorted(a for a in ARCHS if lib.ocirun_scmp_arch(_arch_name(a).encode()) != 0),
        "knownFlags": list(FLAGS),
        "supportedFlags": supported,
    }
