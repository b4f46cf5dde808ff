"""Reading a launch plan back by the names protocol.OPS gives its fields: ``decode`` (what tests
check and --debug shows) and ``listing`` (the text of the golden plans in tests/golden).  Kept
out of ocirun.protocol, which every create imports, because only tests and --debug read plans.
"""

from __future__ import annotations

from .protocol import ABI_VERSION, OP_HDR, OPS, PLAN_HDR, PLAN_MAGIC

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_U64 = 1 << 64


def fields(code: int) -> list[tuple[str, int, int, int, str]]:
    """(name, slot 0..3, shift, bits, shown as) of each field of op ``code``."""
    out = []
    for field in OPS[code][1]:
        name, slot, shown = field[:3]
        shift, bits = (field[3], field[4]) if len(field) == 5 else (0, 64)
        out.append((name, "abcd".index(slot), shift, bits, shown))
    return out


class DecodedOp:
    """One op read back by its layout in OPS: ``op["flags"]``, ``op["target"]``."""

    __slots__ = ("args", "code", "name", "values", "what")

    def __init__(self, code: int, args: tuple[int, int, int, int], values: dict[str, Any]) -> None:
        self.code = code
        self.name = OPS[code][0]
        self.args = args
        self.values = values
        self.what = ""

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def __repr__(self) -> str:
        return f"<{self.name} {self.values}>"


def decode(data: bytes) -> list[DecodedOp]:
    """The ops of an encoded plan, each with its fields and payload named as OPS says; ValueError
    for what init.c would refuse or misread (a bad header, an unknown op, bits outside the fields)."""
    magic, abi, nops, total = (int(x) for x in PLAN_HDR.unpack_from(data))
    if magic != PLAN_MAGIC or abi != ABI_VERSION or total != len(data):
        raise ValueError("not a plan of this ABI")
    ops = []
    pos = PLAN_HDR.size
    for i in range(nops):
        code, size, *slots = (int(x) for x in OP_HDR.unpack_from(data, pos))
        if size < OP_HDR.size or size % 8 or pos + size > len(data) or code not in OPS:
            raise ValueError(f"op {i}: code {code}, size {size}")
        payload = data[pos + OP_HDR.size : pos + size]
        pos += size
        _name, _fields, strings, blob = OPS[code]
        values: dict[str, Any] = {}
        rebuilt = [0, 0, 0, 0]
        for name, slot, shift, bits, shown in fields(code):
            value = slots[slot] if bits == 64 else (slots[slot] >> shift) & ((1 << bits) - 1)
            if shown == "u":
                value %= _U64
            values[name] = value
            rebuilt[slot] |= value << shift if bits < 64 else value
        if [(v + _U64) % _U64 for v in rebuilt] != [(v + _U64) % _U64 for v in slots]:
            raise ValueError(f"op {i} ({OPS[code][0]}): arguments {slots} have bits outside its fields")
        if strings:
            parts = payload.split(b"\0")
            at = 0
            for name, count in strings:
                n = 1 if count is None else values[count]
                got = tuple(p.decode() for p in parts[at : at + n])
                values[name] = got[0] if count is None else got
                at += n
        at = 0
        for name, kind in blob:
            if kind == "u32s":
                n = values["count"]
                values[name] = tuple(int.from_bytes(payload[j : j + 4], "little") for j in range(0, 4 * n, 4))
            elif kind == "u64":
                values[name] = int.from_bytes(payload[at : at + 8], "little")
                at += 8
            elif kind == "mask":
                values[name] = int.from_bytes(payload[: values["size"]], "little")
            else:
                values[name] = payload
        ops.append(DecodedOp(code, (slots[0], slots[1], slots[2], slots[3]), values))
    if pos != len(data):
        raise ValueError("bytes after the last op")
    return ops


def listing(ops: list[DecodedOp]) -> str:
    """Decoded ops as text, one line each: "  3 mount flags=MS_BIND|MS_REC ... target='/'  # what".
    Flags by name, modes in octal, blobs by size (a BPF program differs between architectures)."""
    import os

    from . import protocol as P
    from .plan import NAMESPACE_FLAGS
    from .spec import mountopts as mo

    tables = {
        "ms": {k: v for k, v in vars(mo).items() if k.startswith("MS_") and isinstance(v, int)},
        "attr": {k: v for k, v in vars(mo).items() if k.startswith("MOUNT_ATTR_") and isinstance(v, int)},
        "at": {"AT_RECURSIVE": mo.AT_RECURSIVE},
        "mnt": {k: v for k, v in vars(P).items() if k.startswith("MNT_") and isinstance(v, int)},
        "clone": {"CLONE_NEW" + ("NS" if k == "mount" else k.upper()): v for k, v in NAMESPACE_FLAGS.items()},
    }
    named = {
        "sync": {v: k for k, v in vars(P).items() if k.startswith("SYNC_") and isinstance(v, int)},
        "chdir": {v: k for k, v in vars(P).items() if k.startswith("CHDIR_") and isinstance(v, int)},
        "caps": {v: k for k, v in vars(P).items() if k.startswith("CAPS_") and isinstance(v, int)},
    }

    def show(value: int, shown: str) -> str:
        if shown in tables:
            names = [k for k, v in sorted(tables[shown].items(), key=lambda kv: kv[1])
                     if v and v & (v - 1) == 0 and value & v]
            rest = value & ~sum(tables[shown][k] for k in names)
            return "|".join(names + ([hex(rest)] if rest else [])) or "0"
        if shown in named:
            return named[shown].get(value, str(value))
        if shown == "x":
            return hex(value)
        if shown == "o":
            return oct(value)
        if shown == "dev":
            return f"{os.major(value)}:{os.minor(value)}"
        return str(value)

    lines = []
    for i, op in enumerate(ops):
        _name, _fields, strings, blob = OPS[op.code]
        parts = [f"{i:3} {op.name}"]
        parts += [f"{name}={show(op[name], shown)}" for name, _s, _sh, _b, shown in fields(op.code)]
        parts += [f"{name}={op[name]!r}" for name, _count in strings]
        for name, kind in blob:
            value = op[name]
            if kind == "bpf":
                parts.append(f"{name}=<{len(value)} bytes>")
            elif kind == "u32s":
                parts.append(f"{name}={list(value)}")
            else:
                parts.append(f"{name}={hex(value)}")
        lines.append(" ".join(parts) + (f"  # {op.what}" if op.what else ""))
    return "\n".join(lines) + "\n"
