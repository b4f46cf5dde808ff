"""The device rules of a container's cgroup: v1 devices.allow/devices.deny, v2 an eBPF program.

The rules are those of linux.resources.devices, in order, followed by the devices every container
gets (runc's list: mknod of any device, /dev/null, zero, full, random, urandom, tty, ptmx, the pty
slaves and /dev/net/tun).  Like runc, and like the v1 kernel, a rule list is read as a sequence of
edits of a filter that starts as "deny everything":

    type "a" (or none)          the default becomes allow (allow rule) or deny (deny rule), and
                                every exception is dropped
    a rule agreeing with the    takes its access away from the exception for that exact device
    default                     (an error if a wildcard exception it cannot cut still grants it)
    a rule against the default  adds its access to the exception for that device (or wildcard)

The result, a default and exceptions, is what both cgroup versions get: on v1 one "a" rule for the
default, then one line per exception; on v2 a program that returns the exception's verdict when a
device matches one, the default otherwise.
"""

from __future__ import annotations

from .. import _os as os
from ..errors import CgroupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..spec.resources import DeviceRule
    from . import Manager

WILDCARD = -1
# access bits, as the kernel's bpf_cgroup_dev_ctx encodes them (BPF_DEVCG_ACC_*)
MKNOD, READ, WRITE = 1, 2, 4
ALL = MKNOD | READ | WRITE
# device types (BPF_DEVCG_DEV_*)
BLOCK, CHAR = 1, 2
_TYPES = {"b": BLOCK, "c": CHAR}
_TYPE_CHARS = {BLOCK: "b", CHAR: "c"}

# runc's AllowedDevices, always after the config's rules: (type, major, minor, access)
DEFAULT_RULES: tuple[tuple[int, int, int, int], ...] = (
    (CHAR, WILDCARD, WILDCARD, MKNOD),
    (BLOCK, WILDCARD, WILDCARD, MKNOD),
    (CHAR, 1, 3, ALL),  # /dev/null
    (CHAR, 1, 8, ALL),  # /dev/random
    (CHAR, 1, 7, ALL),  # /dev/full
    (CHAR, 5, 0, ALL),  # /dev/tty
    (CHAR, 1, 5, ALL),  # /dev/zero
    (CHAR, 1, 9, ALL),  # /dev/urandom
    (CHAR, 136, WILDCARD, ALL),  # /dev/pts/*
    (CHAR, 5, 2, ALL),  # /dev/ptmx
    (CHAR, 10, 200, ALL),  # /dev/net/tun
)


def access_bits(access: str) -> int:
    bits = 0
    for ch in access:
        bit = {"r": READ, "w": WRITE, "m": MKNOD}.get(ch)
        if bit is None:
            raise ValueError(ch)
        bits |= bit
    return bits


def access_text(bits: int) -> str:
    return ("r" if bits & READ else "") + ("w" if bits & WRITE else "") + ("m" if bits & MKNOD else "")


class Filter:
    """What a rule list amounts to: ``default_allow`` and the exceptions to it,
    {(type, major, minor): access bits} with WILDCARD for a "*" number."""

    __slots__ = ("default_allow", "exceptions")

    def __init__(self, default_allow: bool = False) -> None:
        self.default_allow = default_allow
        self.exceptions: dict[tuple[int, int, int], int] = {}

    def add(self, allow: bool, type_: int | None, major: int, minor: int, access: int) -> None:
        """One rule; ``type_`` None means "a" (every device)."""
        if type_ is None:
            self.default_allow = allow
            self.exceptions = {}
            return
        key = (type_, major, minor)
        if allow != self.default_allow:
            self.exceptions[key] = self.exceptions.get(key, 0) | access
            return
        # The rule agrees with the default: it narrows the exception for this very key.  A
        # wildcard exception that also covers the device cannot be cut (the v1 kernel would
        # silently keep granting it), so that is an error, as in runc.
        for wider in ((type_, WILDCARD, minor), (type_, major, WILDCARD), (type_, WILDCARD, WILDCARD)):
            if wider != key and self.exceptions.get(wider, 0) & access:
                wide = rule_text(not allow, *wider, self.exceptions[wider])
                raise CgroupError(
                    f"device rule {rule_text(allow, type_, major, minor, access)} cannot be applied: "
                    f"it would punch a hole in the wider rule {wide}"
                )
        left = self.exceptions.get(key, 0) & ~access
        if left:
            self.exceptions[key] = left
        else:
            self.exceptions.pop(key, None)

    def sorted_exceptions(self) -> list[tuple[int, int, int, int]]:
        """(type, major, minor, access), by major, minor, type."""
        return [
            (t, ma, mi, acc)
            for (t, ma, mi), acc in sorted(
                self.exceptions.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])
            )
        ]

    def allows(self, type_: int, major: int, minor: int, access: int) -> bool:
        """Whether an access to a device passes (what the kernel decides from the same rules)."""
        for (t, ma, mi), acc in self.exceptions.items():
            if t != type_ or ma not in (WILDCARD, major) or mi not in (WILDCARD, minor):
                continue
            # allow-list: an exception must grant all that is asked; deny-list: any of it
            if (access & acc == access) if not self.default_allow else (access & acc):
                return not self.default_allow
        return self.default_allow


def rule_text(allow: bool, type_: int | None, major: int, minor: int, access: int) -> str:
    """A rule as devices.allow/devices.deny take it: "c 1:3 rwm", "a *:* rwm"."""
    if type_ is None:
        return "a *:* rwm"
    ma = "*" if major == WILDCARD else str(major)
    mi = "*" if minor == WILDCARD else str(minor)
    return f"{_TYPE_CHARS[type_]} {ma}:{mi} {access_text(access)}"


def parse_rules(rules: Iterable[DeviceRule]) -> list[tuple[bool, int | None, int, int, int]]:
    """linux.resources.devices as (allow, type or None for "a", major, minor, access bits); the
    rules have passed ocirun.spec.resources' checks (known type and access letters, numbers in range)."""
    out = []
    for r in rules:
        type_ = None if r.type == "a" else _TYPES[r.type]
        bits = access_bits(r.access) if r.access else ALL
        major = WILDCARD if r.major is None or r.major < 0 else r.major
        minor = WILDCARD if r.minor is None or r.minor < 0 else r.minor
        out.append((r.allow, type_, major, minor, bits))
    return out


def build_filter(rules: Iterable[DeviceRule]) -> Filter:
    """The filter of the config's rules followed by the default devices."""
    f = Filter()
    for rule in parse_rules(rules):
        f.add(*rule)
    for t, ma, mi, acc in DEFAULT_RULES:
        f.add(True, t, ma, mi, acc)
    return f


def v1_writes(f: Filter) -> list[tuple[str, str]]:
    """(file, line) to write to a v1 devices cgroup to get ``f``: the default, then exceptions."""
    out = [("devices.allow" if f.default_allow else "devices.deny", "a *:* rwm")]
    name = "devices.deny" if f.default_allow else "devices.allow"
    for t, ma, mi, acc in f.sorted_exceptions():
        out.append((name, rule_text(not f.default_allow, t, ma, mi, acc)))
    return out


# -- eBPF -----------------------------------------------------------------------------------------
# struct bpf_cgroup_dev_ctx { u32 access_type; /* (access << 16) | type */ u32 major; u32 minor; }
# The program loads the four values into r2..r5, tests each exception in turn and returns 1
# (allow) or 0 (deny).

_LDXW = 0x61  # BPF_LDX | BPF_MEM | BPF_W: dst = *(u32 *)(src + off)
_AND32 = 0x54  # BPF_ALU | BPF_AND | BPF_K
_RSH32 = 0x74  # BPF_ALU | BPF_RSH | BPF_K
_MOV32_REG = 0xBC  # BPF_ALU | BPF_MOV | BPF_X
_MOV32_IMM = 0xB4  # BPF_ALU | BPF_MOV | BPF_K
_JNE_IMM = 0x55  # BPF_JMP | BPF_JNE | BPF_K
_JNE_REG = 0x5D  # BPF_JMP | BPF_JNE | BPF_X
_JEQ_IMM = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_EXIT = 0x95  # BPF_JMP | BPF_EXIT


def _insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    return (
        bytes((code, (src << 4) | dst))
        + (off & 0xFFFF).to_bytes(2, "little")
        + (imm & 0xFFFFFFFF).to_bytes(4, "little")
    )


def bpf_program(f: Filter) -> bytes:
    """The BPF_PROG_TYPE_CGROUP_DEVICE program of a filter, as the kernel's struct bpf_insn array."""
    prog = [
        _insn(_LDXW, dst=2, src=1, off=0),
        _insn(_AND32, dst=2, imm=0xFFFF),  # r2 = type
        _insn(_LDXW, dst=3, src=1, off=0),
        _insn(_RSH32, dst=3, imm=16),  # r3 = access
        _insn(_LDXW, dst=4, src=1, off=4),  # r4 = major
        _insn(_LDXW, dst=5, src=1, off=8),  # r5 = minor
    ]
    verdict = 0 if f.default_allow else 1
    for t, ma, mi, acc in f.sorted_exceptions():
        tests: list[tuple[int, int, int, int]] = [(_JNE_IMM, 2, 0, t)]  # (code, dst, src, imm)
        if acc != ALL:
            tests += [(_MOV32_REG, 1, 3, 0), (_AND32, 1, 0, acc)]
            if f.default_allow:  # a deny exception matches when any of the access asked for is in it
                tests.append((_JEQ_IMM, 1, 0, 0))
            else:  # an allow exception, when all of it is
                tests.append((_JNE_REG, 1, 3, 0))
        if ma != WILDCARD:
            tests.append((_JNE_IMM, 4, 0, ma))
        if mi != WILDCARD:
            tests.append((_JNE_IMM, 5, 0, mi))
        n = len(tests) + 2  # the tests, then "r0 = verdict; exit"
        for i, (code, dst, src, imm) in enumerate(tests):
            off = n - i - 1 if code in (_JNE_IMM, _JNE_REG, _JEQ_IMM) else 0  # jump past this block
            prog.append(_insn(code, dst=dst, src=src, off=off, imm=imm))
        prog.append(_insn(_MOV32_IMM, dst=0, imm=verdict))
        prog.append(_insn(_EXIT))
    prog.append(_insn(_MOV32_IMM, dst=0, imm=1 if f.default_allow else 0))
    prog.append(_insn(_EXIT))
    return b"".join(prog)


def attach_program(path: str, prog: bytes) -> None:
    """Loads ``prog`` and makes it the one device program of the cgroup v2 directory ``path``."""
    from ..errors import SyscallError
    from ..shim import _load

    lib, ffi = _load()
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        log = ffi.new("char[]", 65536)
        ret = lib.ocirun_bpf_dev_attach(fd, prog, len(prog) // 8, log, 65536)
    finally:
        os.close(fd)
    if ret < 0:
        err = SyscallError("load the eBPF device filter of", -ret, path)
        text = ffi.string(log).decode(errors="replace").strip()
        if text:
            raise CgroupError(f"{err} (verifier: {text.splitlines()[-1]})")
        raise err


def attached_programs(path: str) -> int:
    """How many device programs are attached to a cgroup v2 directory."""
    from ..shim import _load

    lib, ffi = _load()
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        ids = ffi.new("unsigned int[]", 64)
        ret = lib.ocirun_bpf_dev_query(fd, ids, 64)
    finally:
        os.close(fd)
    if ret < 0:
        raise OSError(-ret, os.strerror(-ret), path)
    return int(ret)


# -- applying -------------------------------------------------------------------------------------


def _in_user_namespace() -> bool:
    try:
        with open("/proc/self/uid_map", "rb") as f:
            return f.read().split() != [b"0", b"0", b"4294967295"]
    except OSError:
        return False


def apply(mgr: Manager, rules: list[DeviceRule]) -> None:
    """Writes the container's device rules into its new cgroup, before its process opens or makes
    a device: on v1 before the process joins (at its cgroup sync point); on v2, where it is born in
    the cgroup, while it is still mounting the rootfs, ahead of that sync point."""
    f = build_filter(rules)
    if mgr.v2:
        path = mgr.paths[""]
        try:
            attach_program(path, bpf_program(f))
        except OSError as e:
            if e.errno in (1, 13) and _in_user_namespace():  # no bpf(2) in a user namespace
                return
            raise
        return
    v1_path = mgr.path("devices")
    if v1_path is None:
        raise CgroupError(
            "the devices cgroup controller is not mounted (it is what keeps containers from host devices)"
        )
    _write_v1(v1_path, v1_writes(f))


def _write_v1(path: str, writes: list[tuple[str, str]]) -> None:
    from . import CgroupWriteError

    fds: dict[str, int] = {}
    try:
        for name, line in writes:
            fd = fds.get(name)
            if fd is None:
                try:
                    fd = fds[name] = os.open(f"{path}/{name}", os.O_WRONLY | os.O_CLOEXEC)
                except OSError as e:
                    raise CgroupWriteError(f"{path}/{name}", line, e.errno or 0) from None
            try:
                os.write(fd, line.encode())
            except OSError as e:
                if e.errno == 1 and _in_user_namespace():
                    return
                raise CgroupWriteError(f"{path}/{name}", line, e.errno or 0) from None
    finally:
        for fd in fds.values():
            os.close(fd)
