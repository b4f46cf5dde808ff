"""The protocol between ocirun and its init stage: ocirun/protocol.py against csrc/ocirun.h.

The header defines the structs and messages that cross between Python and C (STYLE.md 7.12), so
every such constant and struct layout of protocol.py is checked against it: constants by parsing
the header's enums and #defines, layouts by compiling a small C program that prints sizeof and
offsetof.  The ops go the other way: protocol.py defines them and ocirun/_opgen.py generates the C
op codes, field accessors and dispatch from it, so what is checked is the generated C: every op
has its op_<name> function, the init stage builds, and the C test program reads every field of a
plan as plandecode does.  Also the ABI version of ocirun/shim.py and of the compiled module, and
the byte layout Plan.encode() produces (what csrc/init.c reads).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ocirun import _opgen, plandecode, shim
from ocirun import protocol as P

ROOT = Path(__file__).resolve().parents[2]
HEADER = ROOT / "csrc" / "ocirun.h"

# Python name prefix -> C name prefix (OP_ is protocol.py's own: the C op codes are generated)
PREFIXES = {
    "MSG_": "MSG_",
    "SYNC_": "SYNC_",
    "MNT_": "OCIRUN_MNT_",
    "CHDIR_": "OCIRUN_CHDIR_",
    "CAPS_": "OCIRUN_CAPS_",
}
SINGLES = {"ABI_VERSION": "OCIRUN_ABI_VERSION", "PLAN_MAGIC": "OCIRUN_PLAN_MAGIC"}
INIT = ROOT / "csrc" / "init.c"
INIT_PARTS = sorted((ROOT / "csrc" / "init").glob("*.c"))


def _c_int(text: str) -> int:
    return int(text.rstrip("uUlL"), 0)


def header_constants(text: str | None = None) -> dict[str, int]:
    """NAME -> value of every enumerator and every integer #define of csrc/ocirun.h."""
    if text is None:
        text = HEADER.read_text()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    out: dict[str, int] = {}
    for name, value in re.findall(
        r"^\s*#define\s+(\w+)\s+(0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*)\s*$", text, re.M
    ):
        out[name] = _c_int(value)
    for body in re.findall(r"\benum\s+\w*\s*\{(.*?)\}", text, re.S):
        for name, value in re.findall(r"(\w+)\s*=\s*(0[xX][0-9a-fA-F]+|\d+)\s*,?", body):
            out[name] = _c_int(value)
    return out


def python_constants() -> dict[str, int]:
    """Python name -> value of the protocol constants of ocirun/protocol.py."""
    return {
        name: value
        for name, value in vars(P).items()
        if isinstance(value, int) and (name in SINGLES or name.startswith(tuple(PREFIXES)))
    }


def c_name(py_name: str) -> str:
    if py_name in SINGLES:
        return SINGLES[py_name]
    for py_prefix, c_prefix in PREFIXES.items():
        if py_name.startswith(py_prefix):
            return c_prefix + py_name[len(py_prefix) :]
    raise AssertionError(py_name)


# ---------------------------------------------------------------------------- constants


def test_header_parser_reads_enums_and_defines() -> None:
    sample = """
    #define OCIRUN_ABI_VERSION 7   /* comment */
    #define OCIRUN_PLAN_MAGIC 0x5049434fu
    #define NOT_A_NUMBER (1 << 2)
    enum x { A = 1,  /* one */ B = 0x10, C = 3 };
    """
    assert header_constants(sample) == {
        "OCIRUN_ABI_VERSION": 7,
        "OCIRUN_PLAN_MAGIC": 0x5049434F,
        "A": 1,
        "B": 16,
        "C": 3,
    }


def test_header_defines_what_the_python_side_expects() -> None:
    c = header_constants()
    assert c["OCIRUN_ABI_VERSION"] >= 1
    assert c["OCIRUN_PLAN_MAGIC"] == int.from_bytes(b"OCIP", "little")
    assert {"MSG_READY", "SYNC_CGROUPS", "OCIRUN_MNT_IN_ROOT"} <= set(c)


@pytest.mark.parametrize("name", sorted(python_constants()))
def test_python_constant_equals_header(name: str) -> None:
    c = header_constants()
    cname = c_name(name)
    assert cname in c, f"{name} has no {cname} in csrc/ocirun.h"
    assert getattr(P, name) == c[cname], f"{name} = {getattr(P, name):#x}, {cname} = {c[cname]:#x}"


def op_codes() -> dict[str, int]:
    return {name: value for name, value in vars(P).items() if name.startswith("OP_") and isinstance(value, int)}


def test_op_codes_are_distinct_and_never_retired_ones() -> None:
    codes = op_codes()
    assert len(set(codes.values())) == len(codes), "two ops share a code"
    assert all(0 < v < 1 << 32 for v in codes.values())
    assert not set(P.RETIRED_OP_CODES) & set(codes.values())
    assert not {k for k in header_constants() if k.startswith("OP_")}, "op codes are generated, not in ocirun.h"


def test_every_op_has_a_layout() -> None:
    assert set(P.OPS) == set(op_codes().values())
    for code, (name, _fields, strings, blob) in P.OPS.items():
        fields = plandecode.fields(code)
        assert getattr(P, "OP_" + name.upper()) == code
        assert not (strings and blob), name
        names = [f[0] for f in fields] + [s[0] for s in strings] + [b[0] for b in blob]
        assert len(set(names)) == len(names), name
        # the bits of the fields of one slot do not overlap
        for slot in range(4):
            used = 0
            for _n, fslot, shift, bits, _shown in fields:
                if fslot == slot:
                    mask = ((1 << bits) - 1) << shift
                    assert not used & mask, name
                    used |= mask
        for _s, count in strings:
            assert count is None or count in names, name


def test_generated_header_has_every_op_and_field() -> None:
    """ocirun_ops.h: OP_<NAME> = code for every op, and <op>_<field> reading its slot, shift and bits."""
    text = _opgen.ops_header(P)
    enum = dict(re.findall(r"^    (OP_\w+) = (\d+),$", text, re.M))
    assert {k: int(v) for k, v in enum.items()} == op_codes()
    accessors: dict[str, tuple[int, int, int]] = {}
    for m in re.finditer(r"int64_t (\w+)\(const struct ocirun_op \*op\) \{ return (.*); \}", text):
        body = m.group(2)
        full = re.fullmatch(r"op->([abcd])", body)
        part = re.fullmatch(r"\(int64_t\)\(\(\(uint64_t\)op->([abcd]) >> (\d+)\) & (0x[0-9a-f]+)u\)", body)
        assert full or part, body
        if full:
            accessors[m.group(1)] = ("abcd".index(full.group(1)), 0, 64)
        elif part:
            mask = int(part.group(3), 16)
            accessors[m.group(1)] = ("abcd".index(part.group(1)), int(part.group(2)), mask.bit_length())
    python = {
        f"{name}_{field}": (slot, shift, bits)
        for code, (name, *_rest) in P.OPS.items()
        for field, slot, shift, bits, _shown in plandecode.fields(code)
    }
    assert accessors == python


def test_generated_dispatch_calls_op_name_for_every_op() -> None:
    cases = re.findall(r"^case (OP_\w+): op_(\w+)\(op\); break;$", _opgen.op_cases(P), re.M)
    assert sorted(cases) == sorted((f"OP_{name.upper()}", name) for name, *_r in P.OPS.values())


def test_every_op_is_a_function_of_the_init_stage() -> None:
    """One `static void op_<name>(const struct ocirun_op *op)` per op, in init.c or a part of
    csrc/init/, and no such function for an op protocol.py does not have (the build says the
    same, less plainly: an undeclared function, or an unused static one)."""
    defined: dict[str, str] = {}
    for path in (INIT, *INIT_PARTS):
        for name in re.findall(r"^static void op_(\w+)\(const struct ocirun_op \*op\)$", path.read_text(), re.M):
            assert name not in defined, f"op_{name} in {defined.get(name)} and {path.name}"
            defined[name] = path.name
    ops = {name for name, *_r in P.OPS.values()}
    assert not ops - set(defined), f"ops without their op_<name>() in csrc/init: {sorted(ops - set(defined))}"
    assert not set(defined) - ops, f"op_<name>() of no op of protocol.py: {sorted(set(defined) - ops)}"


def test_init_stage_builds_from_the_generated_headers(tmp_path: Path, nolibc_cflags: list[str]) -> None:
    """csrc/init.c with the headers _opgen writes, as setup.py builds it."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    _opgen.write(str(tmp_path), P)
    cc = subprocess.run(["gcc", *nolibc_cflags, "-I", str(tmp_path), "-o", str(tmp_path / "init"), str(INIT)],
                        capture_output=True, text=True, timeout=120)
    assert cc.returncode == 0, cc.stderr


def test_opgen_leaves_an_unchanged_header_alone(tmp_path: Path) -> None:
    _opgen.write(str(tmp_path), P)
    before = (tmp_path / _opgen.HEADER).stat().st_mtime_ns
    _opgen.write(str(tmp_path), P)
    assert (tmp_path / _opgen.HEADER).stat().st_mtime_ns == before


def test_opgen_runs_without_the_package(tmp_path: Path) -> None:
    """setup.py loads _opgen by its path, in a build environment without ocirun's dependencies."""
    done = subprocess.run([sys.executable, "-I", "-S", str(ROOT / "ocirun" / "_opgen.py"), str(tmp_path)],
                          capture_output=True, text=True, cwd="/", timeout=30)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / _opgen.HEADER).read_text() == _opgen.ops_header(P)
    assert (tmp_path / _opgen.CASES).read_text() == _opgen.op_cases(P)


def test_every_constant_of_the_header_has_a_python_mirror() -> None:
    c = header_constants()
    mirrored = {c_name(n) for n in python_constants()}
    missing = sorted(k for k in c if k not in mirrored)
    assert not missing, f"in csrc/ocirun.h but not in ocirun/protocol.py: {missing}"


def test_python_constants_are_distinct_within_each_group() -> None:
    groups: dict[str, dict[int, str]] = {}
    for name, value in python_constants().items():
        prefix = next((p for p in PREFIXES if name.startswith(p)), name)
        seen = groups.setdefault(prefix, {})
        assert value not in seen, f"{name} and {seen.get(value)} are both {value}"
        seen[value] = name
    mnt = [v for k, v in python_constants().items() if k.startswith("MNT_")]
    assert all(v & (v - 1) == 0 for v in mnt), "MNT_* are bit flags"


# ---------------------------------------------------------------------------- ABI version


def _compiled_abi_version() -> int | None:
    """lib.ocirun_abi_version() of the compiled module: the one importable here (a build in the
    source tree), else the installed one (run by the interpreter of the tests, outside the tree)."""
    try:
        from ocirun._shim import lib  # type: ignore[attr-defined, unused-ignore]
    except ImportError:
        pass
    else:
        return int(lib.ocirun_abi_version())
    proc = subprocess.run(
        [sys.executable, "-I", "-c", "from ocirun._shim import lib; print(lib.ocirun_abi_version())"],
        capture_output=True,
        text=True,
        cwd="/",
        timeout=30,
    )
    if proc.returncode != 0:
        return None
    return int(proc.stdout)


def test_shim_abi_version_equals_header() -> None:
    assert shim.ABI_VERSION == header_constants()["OCIRUN_ABI_VERSION"] == P.ABI_VERSION


def test_compiled_module_abi_version_equals_header() -> None:
    version = _compiled_abi_version()
    if version is None:
        pytest.skip("the compiled module ocirun._shim is not built")
    assert version == header_constants()["OCIRUN_ABI_VERSION"]


# ---------------------------------------------------------------------------- struct layouts

# The C program fills each struct with the values below and prints its size and bytes; the
# Python records must pack the same values to the same bytes, and unpack C's bytes to them.
LAYOUT_PROGRAM = r"""
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "ocirun.h"

static void dump(const char *name, const void *p, size_t n)
{
    printf("%s %zu ", name, n);
    for (size_t i = 0; i < n; i++)
        printf("%02x", ((const unsigned char *)p)[i]);
    printf("\n");
}

#define MEMBER(s, m) printf("%s.%s %zu %zu\n", #s, #m, offsetof(struct s, m), sizeof(((struct s *)0)->m))

int main(void)
{
    struct ocirun_plan_hdr h;
    struct ocirun_op o;
    struct ocirun_msg m;
    memset(&h, 0, sizeof h);
    memset(&o, 0, sizeof o);
    memset(&m, 0, sizeof m);
    h.magic = OCIRUN_PLAN_MAGIC;
    h.abi = 0x01020304u;
    h.nops = 0xfffffffeu;
    h.size = 0x12345678u;
    o.code = 29;
    o.size = 0x80000001u;
    o.a = -1;
    o.b = 0x0102030405060708LL;
    o.c = -1099511627776LL;
    o.d = 7;
    m.kind = 3;
    m.step = -1;
    m.err = 13;
    m.pad = -2;
    m.value = -123456789012LL;
    strcpy(m.detail, "hello, world");
    m.detail[255] = 'z';
    dump("ocirun_plan_hdr", &h, sizeof h);
    dump("ocirun_op", &o, sizeof o);
    dump("ocirun_msg", &m, sizeof m);
    MEMBER(ocirun_plan_hdr, magic);
    MEMBER(ocirun_plan_hdr, size);
    MEMBER(ocirun_op, code);
    MEMBER(ocirun_op, a);
    MEMBER(ocirun_op, d);
    MEMBER(ocirun_msg, kind);
    MEMBER(ocirun_msg, value);
    MEMBER(ocirun_msg, detail);
    return 0;
}
"""

DETAIL = b"hello, world".ljust(255, b"\0") + b"z"
# struct name -> (Python record, the values the C program sets, in member order)
LAYOUTS = {
    "ocirun_plan_hdr": (P.PLAN_HDR, (P.PLAN_MAGIC, 0x01020304, 0xFFFFFFFE, 0x12345678)),
    "ocirun_op": (P.OP_HDR, (29, 0x80000001, -1, 0x0102030405060708, -(1 << 40), 7)),
    "ocirun_msg": (P.MSG, (3, -1, 13, -2, -123456789012, DETAIL)),
}


@pytest.fixture(scope="module")
def c_layout(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, bytes | int]]:
    """ "struct" -> (sizeof, bytes of the filled struct); "struct.member" -> (offsetof, sizeof)."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    tmp = tmp_path_factory.mktemp("layout")
    src, exe = tmp / "layout.c", tmp / "layout"
    src.write_text(LAYOUT_PROGRAM)
    cc = subprocess.run(
        [
            "gcc",
            "-std=gnu11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-I",
            str(HEADER.parent),
            "-o",
            str(exe),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cc.returncode == 0, cc.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True, timeout=30).stdout
    layout: dict[str, tuple[int, bytes | int]] = {}
    for line in out.splitlines():
        name, first, second = line.split()
        layout[name] = (int(first), bytes.fromhex(second) if "." not in name else int(second))
    return layout


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_record_size_equals_sizeof(name: str, c_layout: dict[str, tuple[int, bytes | int]]) -> None:
    record, _values = LAYOUTS[name]
    assert record.size == c_layout[name][0], f"sizeof(struct {name})"


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_python_packs_what_c_lays_out(name: str, c_layout: dict[str, tuple[int, bytes | int]]) -> None:
    record, values = LAYOUTS[name]
    c_bytes = c_layout[name][1]
    assert record.pack(*values) == c_bytes


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_python_unpacks_what_c_wrote(name: str, c_layout: dict[str, tuple[int, bytes | int]]) -> None:
    record, values = LAYOUTS[name]
    c_bytes = c_layout[name][1]
    assert isinstance(c_bytes, bytes)
    assert tuple(record.unpack(c_bytes)) == values
    assert tuple(record.unpack_from(b"\xaa" * 8 + c_bytes, 8)) == values


def test_member_offsets(c_layout: dict[str, tuple[int, bytes | int]]) -> None:
    # the offsets the Python side relies on when it slices records by hand
    assert c_layout["ocirun_plan_hdr.magic"] == (0, 4)
    assert c_layout["ocirun_plan_hdr.size"] == (12, 4)
    assert c_layout["ocirun_op.code"] == (0, 4)  # Plan.codes() reads the first 4 bytes
    assert c_layout["ocirun_op.a"] == (8, 8)
    assert c_layout["ocirun_op.d"] == (32, 8)
    assert c_layout["ocirun_msg.kind"] == (0, 4)
    assert c_layout["ocirun_msg.value"] == (16, 8)
    assert c_layout["ocirun_msg.detail"] == (24, 256)


def test_msg_detail_is_cut_and_padded() -> None:
    raw = P.MSG.pack(P.MSG_ERROR, 0, 0, 0, 0, b"x" * 300)
    assert len(raw) == P.MSG.size
    assert P.MSG.unpack(raw)[5] == b"x" * 256
    assert P.MSG.unpack(P.MSG.pack(P.MSG_ACK, -1, 0, 0, 0, b""))[5] == b"\0" * 256


def test_unpack_needs_the_exact_size() -> None:
    with pytest.raises(ValueError):
        P.MSG.unpack(b"\0" * (P.MSG.size - 1))


def test_op_header_keeps_payloads_8_byte_aligned() -> None:
    assert P.PLAN_HDR.size % 8 == 0
    assert P.OP_HDR.size % 8 == 0


# ---------------------------------------------------------------------------- Plan.encode


def walk(data: bytes) -> tuple[tuple[int, int, int, int], list[tuple[int, int, tuple[int, ...], bytes]]]:
    """The header and the (code, size, args, payload) of each op, read the way init.c reads them."""
    magic, abi, nops, total = (int(x) for x in P.PLAN_HDR.unpack_from(data))
    ops = []
    pos = P.PLAN_HDR.size
    for _ in range(nops):
        code, size, *args = (int(x) for x in P.OP_HDR.unpack_from(data, pos))
        assert size >= P.OP_HDR.size and pos + size <= len(data)
        ops.append((code, size, tuple(args), data[pos + P.OP_HDR.size : pos + size]))
        pos += size
    assert pos == len(data), "bytes after the last op"
    return (magic, abi, nops, total), ops


def test_empty_plan_is_a_header() -> None:
    plan = P.Plan()
    data = plan.encode()
    assert len(plan) == 0
    assert data == P.PLAN_HDR.pack(P.PLAN_MAGIC, P.ABI_VERSION, 0, P.PLAN_HDR.size)
    assert plan.codes() == [] and plan.ops() == []


def test_encode_layout() -> None:
    plan = P.Plan()
    plan.add(
        P.OP_MOUNT,
        "mount `proc` to `/proc`",
        a=1,
        b=-2,
        c=3,
        d=1 << 40,
        strings=("proc", "/proc", "proc", ""),
    )
    plan.add(P.OP_PIVOT_ROOT, "pivot_root")
    plan.add(P.OP_SETGROUPS, "setgroups", a=2, blob=(5).to_bytes(4, "little") + (6).to_bytes(4, "little"))
    plan.add(P.OP_SETHOSTNAME, "sethostname", strings=("a" * 13,))
    plan.add(P.OP_CHDIR, "chdir", strings=["/"])
    data = plan.encode()

    (magic, abi, nops, size), ops = walk(data)
    assert (magic, abi, nops, size) == (P.PLAN_MAGIC, P.ABI_VERSION, 5, len(data))
    assert data[:4] == b"OCIP"
    assert len(data) % 8 == 0
    assert (
        [op[0] for op in ops]
        == plan.codes()
        == [P.OP_MOUNT, P.OP_PIVOT_ROOT, P.OP_SETGROUPS, P.OP_SETHOSTNAME, P.OP_CHDIR]
    )
    for _code, op_size, _args, _payload in ops:
        assert op_size % 8 == 0

    # strings: each NUL-terminated, one after the other, then NUL padding to 8 bytes
    _code, op_size, args, payload = ops[0]
    assert args == (1, -2, 3, 1 << 40)
    assert payload == b"proc\0/proc\0proc\0\0" + b"\0" * 7
    assert op_size == P.OP_HDR.size + 24
    # no payload at all
    assert ops[1][1] == P.OP_HDR.size and ops[1][3] == b""
    # a blob is taken as is (already a multiple of 8 here)
    assert ops[2][3] == b"\5\0\0\0\6\0\0\0"
    # 13 characters + NUL = 14, padded to 16
    assert ops[3][3] == b"a" * 13 + b"\0\0\0"
    assert ops[4][3] == b"/\0" + b"\0" * 6

    # ops() reports the same, with the descriptions
    assert [(c, a, p) for c, _w, a, p in plan.ops()] == [(c, a, p) for c, _s, a, p in ops]
    assert plan.ops()[0][1] == "mount `proc` to `/proc`"


def test_strings_are_utf8() -> None:
    plan = P.Plan()
    plan.add(P.OP_SETHOSTNAME, "sethostname", strings=("hôte",))
    _hdr, ops = walk(plan.encode())
    assert ops[0][3].split(b"\0")[0].decode() == "hôte"


def test_payload_needing_no_padding_gets_none() -> None:
    plan = P.Plan()
    plan.add(P.OP_CHDIR, "chdir", strings=("/abcdef",))  # 7 + NUL = 8
    _hdr, ops = walk(plan.encode())
    assert ops[0][1] == P.OP_HDR.size + 8


def test_describe() -> None:
    plan = P.Plan()
    plan.add(P.OP_MOUNT, "mount `proc` to `/proc`")
    plan.add(P.OP_PIVOT_ROOT, "pivot_root into `/r`")
    assert plan.describe(0) == "mount `proc` to `/proc`"
    assert plan.describe(1) == "pivot_root into `/r`"
    # a step the plan does not have (the shim's own failures are step -1)
    assert plan.describe(-1) == "container init"
    assert plan.describe(2) == "container init"


def test_msg_round_trip() -> None:
    raw = P.MSG.pack(P.MSG_ERROR, 7, 2, 0, -5, b"detail")
    assert len(raw) == P.MSG.size
    kind, step, err, _pad, value, detail = P.MSG.unpack(raw)
    assert (kind, step, err, value) == (P.MSG_ERROR, 7, 2, -5)
    assert detail == b"detail".ljust(256, b"\0")


# ---------------------------------------------------------------------------- builders and decode

# One call of each builder, with values that fill their fields (and a negative one where C reads
# a signed value): what decode() must give back.
BUILT: dict[int, tuple[str, tuple[object, ...], dict[str, object]]] = {
    P.OP_UNSHARE: ("unshare", (), {"flags": 0x02000000}),
    P.OP_MOUNT: ("mount", (), {"source": "/src", "target": "/dst", "fstype": "tmpfs", "data": "mode=755",
                               "flags": 0x1000, "propagation": 0x44000, "how": P.MNT_IN_ROOT | P.MNT_MKDIR,
                               "remount_flags": 0x1001}),
    P.OP_ROOTFS: ("rootfs", ("/rootfs",), {}),
    P.OP_MKNOD: ("mknod", ("/dev/null",), {"mode": 0o20666, "dev": os.makedev(1, 3), "uid": 7, "gid": 8}),
    P.OP_SYMLINK: ("symlink", (), {"target": "/proc/self/fd", "path": "/dev/fd"}),
    P.OP_PIVOT_ROOT: ("pivot_root", (), {}),
    P.OP_MOVE_ROOT: ("move_root", (), {}),
    P.OP_SETHOSTNAME: ("sethostname", ("box",), {}),
    P.OP_SETDOMAINNAME: ("setdomainname", ("example.org",), {}),
    P.OP_WRITE_FILE: ("write_file", ("/proc/sys/kernel/msgmax", "8192"), {"procfs_only": True}),
    P.OP_OPEN_DEVNULL: ("open_devnull", (), {}),
    P.OP_MASK: ("mask", ("/proc/kcore",), {}),
    P.OP_READONLY: ("readonly", ("/proc/sys",), {}),
    P.OP_SYNC: ("sync", (P.SYNC_HOOKS,), {}),
    P.OP_CHDIR: ("chdir", ("/root",), {"phase": P.CHDIR_AGAIN}),
    P.OP_RLIMIT: ("rlimit", (), {"resource": 7, "soft": 1024, "hard": 4096}),
    P.OP_NO_NEW_PRIVS: ("no_new_privs", (), {}),
    P.OP_SECCOMP: ("seccomp", (), {"flags": 8, "instructions": 2, "bpf": bytes(range(16))}),
    P.OP_SETGROUPS: ("setgroups", ([5, 6, 7],), {}),
    P.OP_SETID: ("setid", (), {"uid": 1000, "gid": 100}),
    P.OP_CAPS: ("caps", (), {"mode": P.CAPS_SET, "last_cap": 40, "bounding": 1 << 40, "effective": 3,
                             "permitted": 7, "inheritable": 0, "ambient": 1}),
    P.OP_UMASK: ("umask", (0o077,), {}),
    P.OP_PERSONALITY: ("personality", (8,), {}),
    P.OP_EXEC_LOOKUP: ("exec_lookup", (["/usr/bin/sh", "/bin/sh"],), {}),
    P.OP_READY: ("ready", (), {"parent_exits": True}),
    P.OP_WAIT_FIFO: ("wait_fifo", (5,), {}),
    P.OP_CLOSE_FROM: ("close_from", (3,), {}),
    P.OP_EXEC: ("exec", (["sh", "-c", "true"], ["PATH=/bin"]), {}),
    P.OP_MKDIR: ("mkdir", ("/dev/shm",), {"mode": 0o1777}),
    P.OP_OOM_SCORE_ADJ: ("oom_score_adj", (-500,), {}),
    P.OP_SETSID: ("setsid", (), {}),
    P.OP_MOUNT_SETATTR: ("mount_setattr", ("/rec",), {"attr_set": 1, "attr_clr": 2, "propagation": 0x40000,
                                                      "at_flags": 0x8000}),
    P.OP_LOOPBACK_UP: ("loopback_up", (), {}),
    P.OP_HOOK: ("hook", (), {"path": "/bin/hook", "args": ["hook", "x"], "env": ["A=1"], "state_before": "{",
                             "state_after": "}", "timeout": 5, "index": 2}),
    P.OP_CONSOLE: ("console", (), {"socket_fd": 6, "rows": 24, "cols": 80, "dev_console": True,
                                   "clear_onlcr": True, "uid": 1000, "gid": -1}),
    P.OP_KEYRING: ("keyring", ("_ses.c1",), {}),
    P.OP_AFFINITY: ("affinity", ((0b1011).to_bytes(8, "little"),), {}),
    P.OP_SCHED: ("sched", (), {"policy": 6, "nice": -5, "priority": 0, "flags": 0x20, "runtime": 10,
                               "deadline": 20, "period": 30}),
    P.OP_IOPRIO: ("ioprio", (), {"ioclass": 2, "level": 4}),
    P.OP_CHROOT: ("chroot", (), {}),
    P.OP_PIDNS_FORK: ("pidns_fork", (8,), {}),
    P.OP_SET_MEMPOLICY: ("set_mempolicy", (), {"mode": 2, "flags": 1 << 15, "nodes": (0b1001).to_bytes(8, "little")}),
}


def built_plan() -> P.Plan:
    plan = P.Plan()
    for code in sorted(BUILT):
        method, args, kwargs = BUILT[code]
        getattr(plan, method)(f"step {method}", *args, **kwargs)
    return plan


def test_every_op_has_a_builder_named_after_it() -> None:
    assert set(BUILT) == set(P.OPS)
    for code, (name, *_rest) in P.OPS.items():
        assert BUILT[code][0] == name and callable(getattr(P.Plan, name))


@pytest.mark.parametrize("code", sorted(BUILT), ids=lambda c: P.OPS[c][0])
def test_builder_fields_decode_by_name(code: int) -> None:
    method, args, kwargs = BUILT[code]
    plan = P.Plan()
    getattr(plan, method)("what", *args, **kwargs)
    (op,) = plan.decode()
    assert op.code == code and op.name == method and op.what == "what"
    _name, fields, strings, blob = P.OPS[code]
    # positional arguments are the payload or the one field, in the order OPS names them
    names = [n for n in (*(f[0] for f in fields), *(s[0] for s in strings), *(b[0] for b in blob))
             if n not in kwargs and n not in {s[1] for s in strings} | {"count", "size"}]
    expected = {**dict(zip(names, args, strict=False)), **kwargs}
    for name, value in expected.items():
        if isinstance(value, bool):
            value = int(value)
        elif isinstance(value, list):
            value = tuple(value)
        elif name in ("cpus", "nodes"):
            value = int.from_bytes(value, "little")  # type: ignore[arg-type]
        assert op[name] == value, name


def test_decode_refuses_what_init_would_refuse() -> None:
    data = built_plan().encode()
    with pytest.raises(ValueError, match="ABI"):
        plandecode.decode(b"XXXX" + data[4:])
    with pytest.raises(ValueError, match="ABI"):
        plandecode.decode(data + b"\0" * 8)  # the header's size is the plan's
    plan = P.Plan()
    plan.add(2, "a retired op")
    with pytest.raises(ValueError, match="code 2"):
        plan.decode()
    plan = P.Plan()
    plan.add(P.OP_SETID, "setid with a third argument", 1, 2, 3)
    with pytest.raises(ValueError, match="outside its fields"):
        plan.decode()


def test_listing_names_fields_flags_and_strings() -> None:
    plan = P.Plan()
    plan.mount("mount `proc` to `/proc`", source="proc", target="/proc", fstype="proc", flags=0x1000 | 0x4000,
               how=P.MNT_IN_ROOT | P.MNT_MKDIR)
    plan.console("console", socket_fd=6, rows=24, cols=80, dev_console=True, clear_onlcr=False, uid=0, gid=-1)
    plan.seccomp("seccomp", flags=0, instructions=2, bpf=b"\0" * 16)
    assert plan.listing().splitlines() == [
        "  0 mount flags=MS_BIND|MS_REC propagation=0 how=MNT_IN_ROOT|MNT_MKDIR remount_flags=0 source='proc'"
        " target='/proc' fstype='proc' data='' fallback=''  # mount `proc` to `/proc`",
        "  1 console socket_fd=6 rows=24 cols=80 dev_console=1 clear_onlcr=0 uid=0 gid=-1  # console",
        "  2 seccomp flags=0x0 instructions=2 bpf=<16 bytes>  # seccomp",
    ]


# The C side reads the same plan the way init.c does: tests/unit/c/init_parts.c walks it with
# csrc/init/plan.c (plan_header, plan_next) and prints every field of every op through the
# accessors of ocirun.h, every string through op_str (the init_parts fixture, tests/unit/conftest.py).


def c_view(data: bytes) -> list[str]:
    """What init_parts prints for a plan, from plandecode's reading of it."""
    lines = []
    _hdr, raw = walk(data)
    for i, (op, (code, size, _args, _payload)) in enumerate(zip(plandecode.decode(data), raw, strict=True)):
        lines.append(f"{i} op {code} {size}")
        for field in P.OPS[code][1]:
            value = op[field[0]]
            lines.append(f"{i} {op.name}.{field[0]} {value - (1 << 64) if value >= 1 << 63 else value}")
        strings = [s for name, count in P.OPS[code][2] for s in ((op[name],) if count is None else op[name])]
        lines += [f"{i} {op.name}${k} {s}" for k, s in enumerate(strings)]
    return lines


def test_c_init_reads_what_python_decodes(tmp_path: Path, init_parts: Callable[..., tuple[int, list[str]]]) -> None:
    plan = built_plan()
    plan.rlimit("no limit", resource=7, soft=(1 << 64) - 1, hard=(1 << 64) - 1)  # a u64 over 2**63
    plan.exec("no arguments", [], [])
    data = plan.encode()
    (tmp_path / "plan").write_bytes(data)
    status, out = init_parts("plan", tmp_path / "plan")
    assert status == 0
    assert out == c_view(data)
    assert len([line for line in out if " op " in line]) == len(P.OPS) + 2


def test_c_init_refuses_what_decode_refuses(tmp_path: Path, init_parts: Callable[..., tuple[int, list[str]]]) -> None:
    plan = P.Plan()
    plan.sethostname("sethostname", "box")
    plan.chdir("chdir", "/", phase=0)
    data = plan.encode()
    second = P.PLAN_HDR.size + P.OP_HDR.size + 8  # where the second op starts
    bad = {
        "magic": b"XXXX" + data[4:],
        "abi": data[:4] + (P.ABI_VERSION + 1).to_bytes(4, "little") + data[8:],
        "size": data + b"\0" * 8,  # the header's size is the plan's
        "short": data[:P.PLAN_HDR.size - 1],
        "op past the end": data[:12] + (len(data) - 8).to_bytes(4, "little") + data[16:-8],
        "op too small": data[:second + 4] + (8).to_bytes(4, "little") + data[second + 8:],
    }
    for what, blob in bad.items():
        (tmp_path / "plan").write_bytes(blob)
        with pytest.raises(ValueError):
            plandecode.decode(blob)
        status, out = init_parts("plan", tmp_path / "plan")
        refused = "refused header" if what in ("magic", "abi", "size", "short") else "refused op 1"
        assert (status, out[-1:]) == (3, [refused]), what
