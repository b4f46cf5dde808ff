"""The protocol between ocirun (Python) and its init stage (csrc/init.c); mirrors csrc/ocirun.h.

    ocirun create                         shim child                    init stage (from memfd)
    -------------                         ----------                    -----------------------
    plan = build_plan(spec)   (bytes)
    create its cgroup v2
    clone3(CLONE_NEW*, INTO_CGROUP) ---->  setns(joined namespaces)
    [user ns: id maps]                     [user ns: wait for sync 1]
    /* sync 1 */ send ACK  ------------->  [user ns: become root]
    create cgroups v1, apply resources     execveat(sealed memfd) ---->  run ops in order: mounts ...
                                                                         OP_SYNC(HOOKS):
    /* sync 2 */ run hooks, send ACK <------------------------------------  MSG_SYNC, wait
                                                                         OP_SYNC(CGROUPS):
    /* sync 3 */ ACK (host pid) + v1 `tasks` fds <------------------------  MSG_SYNC, wait;
                                                                         write "0" to each
                                                                         ... creds, lookup
    /* sync 4 */ write state.json <-----------------------------------------  OP_READY: MSG_READY
    exit (create) / wait (run)                                            OP_WAIT_FIFO (create)
                                                                         ... OP_EXEC: execve
    run: EOF on the socket = execve succeeded (close-on-exec), MSG_ERROR = it failed.

The process joins its cgroups without the kernel's global cgroup_threadgroup_rwsem, whose write
side (a parent writing the child's pid to cgroup.procs) waits for an RCU grace period, 5-10 ms
here: it is born in its cgroup v2 (clone3 CLONE_INTO_CGROUP) and moves itself into its v1 ones
(a thread writing "0" to `tasks`), with the fds the parent sends with the ACK of sync 3 (the
parent makes those cgroups while the init stage sets up the rootfs; `exec` joins a container's
cgroups the same way).  Without a new user namespace nothing has to happen between clone and
exec, so the shim clones with CLONE_VM|CLONE_VFORK (no copy of the interpreter's page tables)
and sync 1 is skipped.

A failing op i sends MSG_ERROR {step=i, err=errno, detail}; the parent names the op with the
description it gave it when planning (Plan.describe).  See csrc/ocirun.h for the layouts.
"""

from __future__ import annotations

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
OP_HDR = Record("<IIqqqq")  # code, size, a, b, c, d
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
OP_SETNS = 2
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
OP_CHOWN = 31
OP_OOM_SCORE_ADJ = 32
OP_SETSID = 33
OP_DUP2 = 34
OP_PDEATHSIG = 35
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

MNT_IN_ROOT = 0x1
MNT_MKDIR = 0x2
MNT_MKFILE = 0x4
MNT_SRC_AUTO = 0x8
MNT_ROOT = 0x10
MNT_KEEP_MODE = 0x20
MNT_COPYUP = 0x40
MNT_PLAIN_DIR = 0x100

CHDIR_FIRST = 1
CHDIR_AGAIN = 2


class Plan:
    """An ordered list of ops for the init stage, each with the sentence that names it in errors."""

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
        """Appends an op.  ``what`` is how an error in it reads: "mount `proc` to `/proc`"."""
        payload = blob or b"".join(s.encode() + b"\0" for s in strings)
        pad = -(OP_HDR.size + len(payload)) % 8
        size = OP_HDR.size + len(payload) + pad
        self._chunks.append(OP_HDR.pack(code, size, a, b, c, d) + payload + b"\0" * pad)
        self._descriptions.append(what)

    def or_flags(self, step: int, c: int) -> None:
        """Sets more bits in argument c of op ``step`` (OCIRUN_MNT_* of a mount made elsewhere)."""
        chunk = self._chunks[step]
        code, size, a, b, old, d = (int(x) for x in OP_HDR.unpack_from(chunk))
        self._chunks[step] = OP_HDR.pack(code, size, a, b, old | c, d) + chunk[OP_HDR.size :]

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
        """The op codes in order (for tests)."""
        return [int.from_bytes(c[:4], "little") for c in self._chunks]

    def ops(self) -> list[tuple[int, str, tuple[int, int, int, int], bytes]]:
        """(code, description, (a, b, c, d), payload) of every op (for tests and --debug)."""
        out = []
        for chunk, what in zip(self._chunks, self._descriptions, strict=True):
            code, _size, a, b, c, d = (int(x) for x in OP_HDR.unpack_from(chunk))
            out.append((code, what, (a, b, c, d), chunk[OP_HDR.size :]))
        return out
