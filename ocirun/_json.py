"""JSON through CPython's C accelerator alone.

``import json`` costs about 7 ms when Python runs with -S (json imports re, and re compiles its
patterns), more than all of ``ocirun state``.  The scanner and encoder that json uses are in the C
module ``_json``, which imports in microseconds; this module drives them directly.
"""

from __future__ import annotations

from _json import encode_basestring_ascii as _quote
from _json import make_encoder as _make_encoder
from _json import make_scanner as _make_scanner

TYPE_CHECKING = False  # typing costs milliseconds to import; mypy reads this name as typing's
if TYPE_CHECKING:
    from typing import Any

_WS = " \t\n\r"
_CONSTANTS = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}


class _ScannerContext:
    """The attributes _json's scanner reads from a JSONDecoder."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = _CONSTANTS.__getitem__
    memo: dict[str, str] = {}  # noqa: RUF012  (read by the C scanner of older Pythons)


# (typeshed types these arguments as json's own classes; the C code reads attributes only)
_scan = _make_scanner(_ScannerContext())  # type: ignore[arg-type]
_encode = _make_encoder(None, None, _quote, None, ":", ",", False, False, True)  # type: ignore[arg-type]


class JSONError(ValueError):
    """The text is not JSON; ``pos`` is the offset of the problem, ``line``/``col`` count from 1."""

    def __init__(self, msg: str, text: str, pos: int) -> None:
        self.pos = pos
        self.line = text.count("\n", 0, pos) + 1
        self.col = pos - text.rfind("\n", 0, pos)
        super().__init__(f"{msg}: line {self.line} column {self.col} (char {pos})")


def loads(text: str | bytes) -> Any:
    """Parses one JSON document (what json.loads does, without importing json)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if text.startswith("\ufeff"):
        raise JSONError("Unexpected UTF-8 BOM", text, 0)
    start = len(text) - len(text.lstrip(_WS))
    try:
        obj, end = _scan(text, start)
    except (StopIteration, ValueError, SystemError):
        # The C scanner's own errors need json.decoder loaded (it only looks in sys.modules):
        # on this failure path, let json itself parse and explain.
        return _slow_loads(text)
    if end != len(text) and text[end:].strip(_WS):
        raise JSONError("Extra data", text, len(text) - len(text[end:].lstrip(_WS)))
    return obj


def _slow_loads(text: str) -> Any:
    import json

    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise JSONError(e.msg, text, e.pos) from None


def dumps(obj: Any) -> str:
    """Compact JSON, ASCII only."""
    return "".join(_encode(obj, 0))


def dumps_pretty(obj: Any, indent: str = "  ", _level: int = 0) -> str:
    """Indented JSON as runc prints it (``state``, ``spec``): two spaces, ASCII only."""
    if isinstance(obj, dict) and obj:
        inner = indent * (_level + 1)
        items = ",\n".join(
            f"{inner}{_quote(str(k))}: {dumps_pretty(v, indent, _level + 1)}" for k, v in obj.items()
        )
        return "{\n" + items + "\n" + indent * _level + "}"
    if isinstance(obj, (list, tuple)) and obj:
        inner = indent * (_level + 1)
        items = ",\n".join(inner + dumps_pretty(v, indent, _level + 1) for v in obj)
        return "[\n" + items + "\n" + indent * _level + "]"
    return dumps(obj)
