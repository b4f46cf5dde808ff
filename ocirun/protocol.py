"""The protocol between ocirun (Python) and its init stage (csrc/init.c); mirrors csrc/ocirun.h,
and defines the ops (the C side of them is generated from here: _LAYOUT below).

    ocirun create                         shim child                    init stage (from memfd)
    -------------                         ----------                    -----------------------
    plan = build_plan(spec)   (bytes)
    create its cgroup v2
    clone3(CLONE_NEW*, INTO_CGROUP) ---->  setns(joined namespaces)
    [user ns: id maps]                     [user ns: wait for sync 1]
    /* sync 1 */ send ACK  ------------->  [user ns: become root]
    create cgroups v1, apply resources     execveat(sealed memfd) ---->  run ops in order: mounts ...
                                                                         OP_SYNC(SYNC_CGROUPS):
    /* sync 2 */ ACK (host pid) + v1 `tasks` fds <------------------------  MSG_SYNC, wait;
                                                                         write "0" to each
                                                                         ... devices
                                                                         OP_SYNC(SYNC_HOOKS):
    /* sync 3 */ run hooks, send ACK <------------------------------------  MSG_SYNC, wait
                                                                         ... pivot_root, creds,
                                                                         exec lookup
    /* sync 4 */ write state.json <-----------------------------------------  OP_READY: MSG_READY
    exit (create) / wait (run)                                            OP_WAIT_FIFO (create)
                                                                         ... OP_EXEC: execve
    run: EOF on the socket = execve succeeded (close-on-exec), MSG_ERROR = it failed.

The process joins its cgroups without the kernel's global cgroup_threadgroup_rwsem, whose write
side (a parent writing the child's pid to cgroup.procs) waits for an RCU grace period, 5-10 ms
here: it is born in its cgroup v2 (clone3 CLONE_INTO_CGROUP) and moves itself into its v1 ones
(a thread writing "0" to `tasks`), with the fds the parent sends with the ACK of sync 2 (the
parent makes those cgroups while the init stage sets up the rootfs; `exec` joins a container's
cgroups the same way).  Without a new user namespace nothing has to happen between clone and
exec, so the shim clones with CLONE_VM|CLONE_VFORK (no copy of the interpreter's page tables)
and sync 1 is skipped.

The sync points are numbered in the order they happen; the values of SYNC_* are only names.  A
plan with a cgroup mount reaches SYNC_CGROUPS before that mount; one without createRuntime,
createContainer or prestart hooks has no SYNC_HOOKS.

A failing op i sends MSG_ERROR {step=i, err=errno, detail}; the parent names the op with the
description it gave it when planning (Plan.describe).  See csrc/ocirun.h for the layouts, and
OPS (the table _LAYOUT below) for what each op's fields hold and how an op is added.  This
drawing is the protocol's only one: README.md, csrc/shim.c and csrc/ocirun.h point here.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from .plandecode import DecodedOp

ABI_VERSION = 1
PLAN_MAGIC = 0x5049434F


class Record:
    """A little-endian record, like struct.Struct for the formats used here ("<" then I i q and
    Ns), without importing struct (0.3 ms, a tenth of ocirun's imports for create)."""

    __slots__ = ("_fields", "size")
    _WIDTH: dict[str, tuple[int, bool]] = {"I": (4, False), "i": (4, True), "q": (8, True)}  # noqa: RUF012

    def __init__(self, fmt: str) -> None:
        assert fmt[0] == "<"
        fields: list[tuple[int, bool | None]] = []
        count = ""
        for ch in fmt[1:]:
            if ch.isdigit():
                count += ch
            elif ch == "s":
                fields.append((int(count), None))
                count = ""
            else:
                fields.append(self._WIDTH[ch])
        self._fields = tuple(fields)
        self.size = sum(width for width, _ in fields)

    def pack(self, *values: int | bytes) -> bytes:
        out = []
        for (width, signed), value in zip(self._fields, values, strict=True):
            if signed is None:
                assert isinstance(value, bytes)
                out.append(value[:width].ljust(width, b"\0"))
            else:
                assert isinstance(value, int)
                out.append(value.to_bytes(width, "little", signed=signed))
        return b"".join(out)

    def unpack_from(self, data: bytes, offset: int = 0) -> tuple[int | bytes, ...]:
        out: list[int | bytes] = []
        for width, signed in self._fields:
            chunk = data[offset : offset + width]
            out.append(chunk if signed is None else int.from_bytes(chunk, "little", signed=signed))
            offset += width
        return tuple(out)

    def unpack(self, data: bytes) -> tuple[int | bytes, ...]:
        if len(data) != self.size:
            raise ValueError(f"unpack requires {self.size} bytes, got {len(data)}")
        return self.unpack_from(data)


PLAN_HDR = Record("<IIII")  # magic, abi, nops, size
OP_HDR = Record("<IIqqqq")  # code, size, a, b, c, d (40 bytes: Plan.add writes it out)
MSG = Record("<Iiiiq256s")  # kind, step, err, pad, value, detail

MSG_ACK = 1
MSG_READY = 2
MSG_ERROR = 3
MSG_SYNC = 4
MSG_PID = 7
MSG_SECCOMP = 6

SYNC_HOOKS = 1
SYNC_CGROUPS = 2
SYNC_UNSHARED = 3

OP_UNSHARE = 1
OP_MOUNT = 3
OP_ROOTFS = 4
OP_MKNOD = 5
OP_SYMLINK = 6
OP_PIVOT_ROOT = 7
OP_MOVE_ROOT = 8
OP_SETHOSTNAME = 9
OP_SETDOMAINNAME = 10
OP_WRITE_FILE = 11
OP_OPEN_DEVNULL = 12
OP_MASK = 13
OP_READONLY = 14
OP_SYNC = 15
OP_CHDIR = 16
OP_RLIMIT = 17
OP_NO_NEW_PRIVS = 18
OP_SECCOMP = 19
OP_SETGROUPS = 20
OP_SETID = 21
OP_CAPS = 22
OP_UMASK = 23
OP_PERSONALITY = 24
OP_EXEC_LOOKUP = 25
OP_READY = 26
OP_WAIT_FIFO = 27
OP_CLOSE_FROM = 28
OP_EXEC = 29
OP_MKDIR = 30
OP_OOM_SCORE_ADJ = 32
OP_SETSID = 33
OP_MOUNT_SETATTR = 36
OP_LOOPBACK_UP = 37
OP_HOOK = 38
OP_CONSOLE = 39
OP_KEYRING = 40
OP_AFFINITY = 41
OP_SCHED = 42
OP_IOPRIO = 43
OP_CHROOT = 44
OP_PIDNS_FORK = 45
OP_SET_MEMPOLICY = 46
# Retired op codes (setns, chown, dup2, pdeathsig: never planned), never to be given out again.
RETIRED_OP_CODES = (2, 31, 34, 35)

MNT_IN_ROOT = 0x1
MNT_MKDIR = 0x2
MNT_MKFILE = 0x4
MNT_SRC_AUTO = 0x8
MNT_ROOT = 0x10
MNT_KEEP_MODE = 0x20
MNT_COPYUP = 0x40
MNT_PLAIN_DIR = 0x100
MNT_SYSFS_BIND = 0x200
MNT_SRC_FD = 0x400
MNT_CGROUP2_BIND = 0x800

CHDIR_FIRST = 1
CHDIR_AGAIN = 2

CAPS_BOUNDING = 1
CAPS_SET = 2

# ---- the layout of every op: the one description of its fields ------------------------------------
#
# An op is a header {code, size, a, b, c, d} and a payload (ocirun.h).  OPS says, per op code, what
# a, b, c and d hold, and what the payload is; the builders of Plan below fill them in,
# ocirun/plandecode.py reads them back by the same table (tests, --debug: off the hot path), and at
# build time ocirun/_opgen.py makes the C side from it: the enum of op codes, an accessor per field
# for the init stage (<op>_<field>(op)) and run_op()'s dispatch (case OP_<NAME>: op_<name>(op)).
# The table is text, made into OPS the first time something asks for it (`protocol.OPS`): the
# create path never does, and one string costs nothing to load.
#
# Adding an op touches:
#   - here: its code OP_<NAME> (a new number; never a retired one), its line in _LAYOUT, and its
#     builder in Plan (named after it, keyword fields as the line names them);
#   - ocirun/plan.py: where in the plan it goes;
#   - the part of csrc/init/ of its concern: `static void op_<name>(const struct ocirun_op *op)`,
#     reading its fields with <name>_<field>(op) and its strings with op_str(op, i);
#   - tests: its line in tests/unit/test_protocol.py's BUILT, plan tests, an integration test.
# Nothing else: the build generates the C op code, accessors and dispatch, and fails if the
# function is missing (tests/unit/test_protocol.py says so by name).
#
# One line per op: its name (OP_<NAME> is its code), its fields, then after `|` the payload's
# NUL-terminated strings, then after a second `|` a binary payload instead; `#` starts a comment.
#
#   fields:  name:slot:shown[:shift:bits]: the slot is a, b, c or d; most fields are the whole slot,
#            a few share one (the console's size and switches).  "shown" is for listings: d decimal,
#            u unsigned (C reads a u64, decode gives it as such), x hex, o octal, b 0/1, or the flag
#            table (ms: MS_*, mnt: MNT_*, clone: CLONE_*, attr: MOUNT_ATTR_*, at: AT_*), dev
#            (major:minor), sync, chdir, caps.
#   strings: in order; name*field: as many as that field says.
#   blob:    name:kind: u32s (that many uint32, `count`; 8 zero bytes for none), u64 (one uint64
#            each, in order), mask (a CPU bit mask), bpf (struct sock_filter[]).
# An op without fields or payload takes no arguments.  OPS[code] is (name, fields, strings, blob):
# fields as (name, slot, shown[, shift, bits]), strings as (name, None | field), blob as (name, kind).

_LAYOUT = """
unshare        flags:a:clone
# mount(source, target, fstype, flags, data), resolving the target as `how` (MNT_*) says, then a
# remount with remount_flags (0: none) and a propagation change (0: none) of the new mount
# how MNT_SRC_FD: the source is the next detached tree the runtime cloned (open_tree; the n-th such
# mount takes fd sync+5+n, plan.Launch.trees), the source string names it
# how MNT_CGROUP2_BIND: a cgroup2 mount that, refused (EBUSY: the target is the host's cgroup2
# already, in a /sys bound from the host; EPERM), becomes a bind of `fallback`, the container's
# cgroup on the host (runc)
mount          flags:a:ms propagation:b:ms how:c:mnt remount_flags:d:ms | source target fstype data fallback
rootfs         | path  # host path: the root of later "in root" paths
# check: "check" in a bind-mounted /dev: the node must be there already, nothing is made
mknod          mode:a:o dev:b:dev uid:c:d gid:d:d | path check
symlink        | target path  # path -> target
pivot_root  # pivot into the rootfs, detach the old root
# --no-pivot: unmount (or cover) every full procfs and sysfs outside the rootfs, move the rootfs
# onto / and chroot
move_root
sethostname    | name
setdomainname  | name
# procfs_only: the file must be on a procfs (written as it is); else it is truncated first
write_file     procfs_only:a:b | path content
open_devnull  # open and check the host's /dev/null, kept for mask
mask           | path  # /dev/null over a file, a read-only tmpfs over a directory
readonly       | path  # a read-only bind of itself
sync           point:a:sync  # SYNC_*: tell the parent, wait for its ACK
# phase: 0 chdir and check; CHDIR_FIRST as root (EACCES, EPERM left for) CHDIR_AGAIN as the user
chdir          phase:a:chdir | path
rlimit         resource:a:d soft:b:u hard:c:u  # u64
no_new_privs
seccomp        flags:a:x instructions:b:d | | bpf:bpf
setgroups      count:a:d | | gids:u32s
setid          uid:a:d gid:b:d  # setresgid, setresuid, caps kept
# mode CAPS_BOUNDING: drop from the bounding set what it lacks; CAPS_SET: the other four sets
caps           mode:a:caps last_cap:b:d | | bounding:u64 effective:u64 permitted:u64 inheritable:u64 ambient:u64
umask          mask:a:o
personality    persona:a:x
exec_lookup    count:a:d | candidates*count  # the first executable
# clears the parent-death signal and sends MSG_READY; parent_exits: create, errors go to stderr after
ready          parent_exits:a:b
wait_fifo      fd:a:d  # block until `start` writes a byte
close_from     fd:a:d  # it and all above close-on-exec
exec           argc:a:d envc:b:d | argv*argc envp*envc
mkdir          mode:a:o | path  # and parents (init.c: 0755)
oom_score_adj  score:a:d
setsid  # a new session: the container's processes are not in the caller's
mount_setattr  attr_set:a:attr attr_clr:b:attr propagation:c:ms at_flags:d:at | path
loopback_up  # bring up "lo" in the (new) network namespace
# a startContainer hook, run in the container: the state JSON goes to its stdin as state_before,
# the container's pid (the ACK of SYNC_CGROUPS), state_after; timeout in seconds (0: none);
# index: its place in the config, for the error
hook           nargs:a:d nenv:b:d timeout:c:d index:d:d | path args*nargs env*nenv state_before state_after
# a pty from the container's /dev/ptmx, its master sent on socket_fd, the slave the controlling
# terminal and stdio; rows, cols (0: leave the size); dev_console: the slave bound on
# /dev/console too (not for exec); clear_onlcr: the runtime
# relays the pty itself (runc's tty.go); the slave chowned to uid:gid (-1: devpts's gid=)
console        socket_fd:a:d rows:b:d:16:16 cols:b:d:0:16 dev_console:b:b:32:1 clear_onlcr:b:b:33:1 uid:c:d gid:d:d
keyring        | name  # join a new session keyring of that name (the host's keys are not the container's)
affinity       size:a:d | | cpus:mask  # sched_setaffinity
sched          policy:a:d nice:b:d priority:c:d flags:d:x | | runtime:u64 deadline:u64 period:u64  # sched_setattr
ioprio         ioclass:a:d:13:3 level:a:d:0:13
chroot  # no mount namespace: chroot into the rootfs
# setns into the pid namespace of fd (-1: unshare a new one) and fork; the parent (in the runtime's
# pid namespace) sends MSG_PID {value = the child's pid} and exits, the child goes on: no process
# of the runtime's ever shows in that namespace before it runs the sealed init stage
pidns_fork     fd:a:d
# set_mempolicy(mode | flags, nodes, maxnode): the NUMA memory policy (linux.memoryPolicy); mode
# MPOL_*, flags MPOL_F_*, size: bytes of the node mask (0: no nodes, a NULL mask)
set_mempolicy  mode:a:d flags:b:x size:c:d | | nodes:mask
"""

if TYPE_CHECKING:  # (no typing at run time: protocol is imported by every create)
    Field = tuple[str, str, str] | tuple[str, str, str, int, int]
    Layout = tuple[str, tuple[Field, ...], tuple[tuple[str, str | None], ...], tuple[tuple[str, str], ...]]
    OPS: dict[int, Layout]


def _layouts() -> dict[int, Layout]:
    """OPS from _LAYOUT."""
    ops: dict[int, Layout] = {}
    for line in _LAYOUT.splitlines():
        line = line.partition("#")[0]
        if not line.strip():
            continue
        head, _, rest = line.partition("|")
        strings, _, blob = rest.partition("|")
        name, *field_words = head.split()
        fields: list[Field] = []
        for word in field_words:
            fname, slot, shown, *bits = word.split(":")
            fields.append((fname, slot, shown, int(bits[0]), int(bits[1])) if bits else (fname, slot, shown))
        ops[globals()["OP_" + name.upper()]] = (
            name,
            tuple(fields),
            tuple((w.partition("*")[0], w.partition("*")[2] or None) for w in strings.split()),
            tuple((w.partition(":")[0], w.partition(":")[2]) for w in blob.split()),
        )
    return ops


def __getattr__(name: str) -> object:
    """OPS, made from _LAYOUT the first time it is asked for."""
    if name == "OPS":
        ops = globals()["OPS"] = _layouts()
        return ops
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_U64 = 1 << 64


def _signed(value: int) -> int:
    """A u64 (RLIM_INFINITY is 2**64-1) in a signed 64-bit slot, as C's (u64) cast reads it back."""
    return value - _U64 if value >= 1 << 63 else value


def _no_fields(code: int) -> Callable[[Plan, str], None]:
    def build(self: Plan, what: str) -> None:
        self.add(code, what)

    return build


def _one_string(code: int) -> Callable[[Plan, str, str], None]:
    def build(self: Plan, what: str, s0: str) -> None:
        self.add(code, what, strings=(s0,))

    return build


class Plan:
    """An ordered list of ops for the init stage, each with the sentence that names it in errors.

    Build it with the method named after the op (``mount``, ``write_file``, ...): named,
    keyword-only fields as OPS lays them out.  ``what`` is how an error in the op reads: "mount
    `proc` to `/proc`".
    """

    __slots__ = ("_chunks", "_descriptions")

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._descriptions: list[str] = []

    def add(
        self,
        code: int,
        what: str,
        a: int = 0,
        b: int = 0,
        c: int = 0,
        d: int = 0,
        strings: tuple[str, ...] | list[str] = (),
        blob: bytes = b"",
    ) -> None:
        """Appends an op by its raw slots (the builders below are the way to add one)."""
        payload = blob or b"".join([s.encode() + b"\0" for s in strings])
        pad = -(40 + len(payload)) % 8
        # OP_HDR.pack(code, size, a, b, c, d), written out: a quarter of its time, for every op
        self._chunks.append(b"".join((
            code.to_bytes(4, "little"), (40 + len(payload) + pad).to_bytes(4, "little"),
            a.to_bytes(8, "little", signed=True), b.to_bytes(8, "little", signed=True),
            c.to_bytes(8, "little", signed=True), d.to_bytes(8, "little", signed=True),
            payload, b"\0" * pad,
        )))
        self._descriptions.append(what)

    # ---- one builder per op (fields: _LAYOUT) ----

    # the ops without fields: plan.pivot_root(what)
    pivot_root, move_root, chroot = _no_fields(OP_PIVOT_ROOT), _no_fields(OP_MOVE_ROOT), _no_fields(OP_CHROOT)
    open_devnull, no_new_privs = _no_fields(OP_OPEN_DEVNULL), _no_fields(OP_NO_NEW_PRIVS)
    setsid, loopback_up = _no_fields(OP_SETSID), _no_fields(OP_LOOPBACK_UP)
    # the ops of one string, a path or a name (_LAYOUT names it): plan.mask(what, path)
    rootfs, mask, readonly = _one_string(OP_ROOTFS), _one_string(OP_MASK), _one_string(OP_READONLY)
    sethostname, setdomainname = _one_string(OP_SETHOSTNAME), _one_string(OP_SETDOMAINNAME)
    keyring = _one_string(OP_KEYRING)

    def unshare(self, what: str, *, flags: int) -> None:
        self.add(OP_UNSHARE, what, flags)

    def mount(self, what: str, *, target: str, source: str = "", fstype: str = "", data: str = "",
              flags: int = 0, propagation: int = 0, how: int = 0, remount_flags: int = 0, fallback: str = "") -> None:
        self.add(OP_MOUNT, what, flags, propagation, how, remount_flags, (source, target, fstype, data, fallback))

    def mknod(self, what: str, path: str, *, mode: int, dev: int, uid: int, gid: int, check_only: bool = False) -> None:
        self.add(OP_MKNOD, what, mode, dev, uid, gid, (path, "check" if check_only else ""))

    def symlink(self, what: str, *, target: str, path: str) -> None:
        self.add(OP_SYMLINK, what, strings=(target, path))

    def write_file(self, what: str, path: str, content: str, *, procfs_only: bool) -> None:
        self.add(OP_WRITE_FILE, what, int(procfs_only), strings=(path, content))

    def sync(self, what: str, point: int) -> None:
        self.add(OP_SYNC, what, point)

    def chdir(self, what: str, path: str, *, phase: int) -> None:
        self.add(OP_CHDIR, what, phase, strings=(path,))

    def rlimit(self, what: str, *, resource: int, soft: int, hard: int) -> None:
        self.add(OP_RLIMIT, what, resource, _signed(soft), _signed(hard))

    def seccomp(self, what: str, *, flags: int, instructions: int, bpf: bytes) -> None:
        self.add(OP_SECCOMP, what, flags, instructions, blob=bpf)

    def setgroups(self, what: str, gids: list[int]) -> None:
        self.add(OP_SETGROUPS, what, len(gids), blob=b"".join(g.to_bytes(4, "little") for g in gids) or b"\0" * 8)

    def setid(self, what: str, *, uid: int, gid: int) -> None:
        self.add(OP_SETID, what, uid, gid)

    def caps(self, what: str, *, mode: int, last_cap: int, bounding: int, effective: int, permitted: int,
             inheritable: int, ambient: int) -> None:
        blob = b"".join(x.to_bytes(8, "little") for x in (bounding, effective, permitted, inheritable, ambient))
        self.add(OP_CAPS, what, mode, last_cap, blob=blob)

    def umask(self, what: str, mask: int) -> None:
        self.add(OP_UMASK, what, mask)

    def personality(self, what: str, persona: int) -> None:
        self.add(OP_PERSONALITY, what, persona)

    def exec_lookup(self, what: str, candidates: list[str]) -> None:
        self.add(OP_EXEC_LOOKUP, what, len(candidates), strings=candidates)

    def ready(self, what: str, *, parent_exits: bool) -> None:
        self.add(OP_READY, what, int(parent_exits))

    def wait_fifo(self, what: str, fd: int) -> None:
        self.add(OP_WAIT_FIFO, what, fd)

    def close_from(self, what: str, fd: int) -> None:
        self.add(OP_CLOSE_FROM, what, fd)

    def exec(self, what: str, argv: list[str], envp: list[str]) -> None:
        self.add(OP_EXEC, what, len(argv), len(envp), strings=[*argv, *envp])

    def mkdir(self, what: str, path: str, *, mode: int) -> None:
        self.add(OP_MKDIR, what, mode, strings=(path,))

    def oom_score_adj(self, what: str, score: int) -> None:
        self.add(OP_OOM_SCORE_ADJ, what, score)

    def mount_setattr(self, what: str, path: str, *, attr_set: int, attr_clr: int, propagation: int = 0,
                      at_flags: int = 0) -> None:
        self.add(OP_MOUNT_SETATTR, what, attr_set, attr_clr, propagation, at_flags, (path,))

    def hook(self, what: str, *, path: str, args: list[str], env: list[str], state_before: str,
             state_after: str, timeout: int, index: int) -> None:
        self.add(OP_HOOK, what, len(args), len(env), timeout, index,
                 [path, *args, *env, state_before, state_after])

    def console(self, what: str, *, socket_fd: int, rows: int, cols: int, dev_console: bool, clear_onlcr: bool,
                uid: int, gid: int) -> None:
        b = (rows << 16) | cols | int(dev_console) << 32 | int(clear_onlcr) << 33
        self.add(OP_CONSOLE, what, socket_fd, b, uid, gid)

    def affinity(self, what: str, cpus: bytes) -> None:
        self.add(OP_AFFINITY, what, len(cpus), blob=cpus)

    def sched(self, what: str, *, policy: int, nice: int, priority: int, flags: int, runtime: int, deadline: int,
              period: int) -> None:
        times = b"".join(t.to_bytes(8, "little") for t in (runtime, deadline, period))
        self.add(OP_SCHED, what, policy, nice, priority, flags, blob=times)

    def ioprio(self, what: str, *, ioclass: int, level: int) -> None:
        self.add(OP_IOPRIO, what, ioclass << 13 | level)

    def pidns_fork(self, what: str, fd: int) -> None:
        self.add(OP_PIDNS_FORK, what, fd)

    def set_mempolicy(self, what: str, *, mode: int, flags: int, nodes: bytes) -> None:
        """``nodes``: the node mask, little-endian, a multiple of 8 bytes (b"": none)."""
        self.add(OP_SET_MEMPOLICY, what, mode, flags, len(nodes), blob=nodes)

    def mount_how(self, step: int, how: int) -> None:
        """Adds MNT_* bits to the ``how`` of mount op ``step`` (one planned elsewhere: proc, sysfs)."""
        chunk = self._chunks[step]
        code, size, a, b, old, d = (int(x) for x in OP_HDR.unpack_from(chunk))
        assert code == OP_MOUNT
        self._chunks[step] = OP_HDR.pack(code, size, a, b, old | how, d) + chunk[OP_HDR.size :]

    # ---- reading it back ----

    def __len__(self) -> int:
        return len(self._chunks)

    def describe(self, step: int) -> str:
        if 0 <= step < len(self._descriptions):
            return self._descriptions[step]
        return "container init"

    def encode(self) -> bytes:
        body = b"".join(self._chunks)
        return PLAN_HDR.pack(PLAN_MAGIC, ABI_VERSION, len(self._chunks), PLAN_HDR.size + len(body)) + body

    def codes(self) -> list[int]:
        """The op codes in order."""
        return [int.from_bytes(c[:4], "little") for c in self._chunks]

    def ops(self) -> list[tuple[int, str, tuple[int, int, int, int], bytes]]:
        """(code, description, (a, b, c, d), payload) of every op (the raw form; ``decode`` names it)."""
        out = []
        for chunk, what in zip(self._chunks, self._descriptions, strict=True):
            code, _size, a, b, c, d = (int(x) for x in OP_HDR.unpack_from(chunk))
            out.append((code, what, (a, b, c, d), chunk[OP_HDR.size :]))
        return out

    def decode(self) -> list[DecodedOp]:
        """Every op with its named fields and its description (for tests and --debug)."""
        from .plandecode import decode

        ops = decode(self.encode())
        for op, what in zip(ops, self._descriptions, strict=True):
            op.what = what
        return ops

    def listing(self) -> str:
        """One line per op: its name, named fields and payload, and its description."""
        from .plandecode import listing

        return listing(self.decode())
