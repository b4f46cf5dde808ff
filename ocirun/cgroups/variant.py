"""Values of the ``org.systemd.property.NAME`` annotations: GVariant text, as runc reads them.

runc passes such an annotation's value to systemd as the unit property NAME (appended after its
own, so it wins), the value parsed by godbus's ``ParseVariant``: the GVariant text format of
``busctl`` and ``gdbus``, without tuples and dictionaries.  ``parse`` reads the same subset:

- ``true``, ``false``; numbers (``0x`` hexadecimal, a leading ``0`` octal, a ``.`` or ``e`` a
  double); strings in single or double quotes with C escapes; ``b'...'`` byte strings;
- ``[a, b]`` arrays, whose elements agree on one type; ``<value>`` variants;
- a type before a value: a keyword (``uint64 5``) or ``@SIGNATURE`` (``@as []``).

An unannotated value takes the type it can have, or the default: ``int32`` for an integer,
``double`` for a number with a dot or exponent, ``string`` for a string.  So, as with runc,
``TimeoutStopUSec=uint64 5000000`` is what systemd accepts, and a bare ``5000000`` (an int32) is
refused by systemd.  A NAME ending in a lower-case letter and ``Sec`` takes seconds and is sent
as the ``USec`` property, in microseconds (runc: ``TimeoutStopSec=5`` is ``TimeoutStopUSec``
5000000).

The result is what jeepney sends: ``(signature, value)``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Typed = tuple[str, Any]

KEYWORDS = {"boolean": "b", "byte": "y", "int16": "n", "uint16": "q", "int32": "i", "uint32": "u",
            "int64": "x", "uint64": "t", "double": "d", "string": "s", "objectpath": "o",
            "signature": "g"}
INTEGERS = {"y": (0, 8), "n": (1, 16), "q": (0, 16), "i": (1, 32), "u": (0, 32), "x": (1, 64),
            "t": (0, 64)}  # signature: (signed, bits)
NUMBERS = frozenset(INTEGERS) | {"d"}
STRINGS = frozenset("sog")
ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\n": ""}


class VariantError(ValueError):
    pass


class _Node:
    """A parsed value whose type may still be open: ``sigs`` are the types it can have (empty:
    any, an empty array), ``default`` the one it takes when nothing else decides."""

    def __init__(self, text: str, sigs: frozenset[str], default: str, value: Any = None,
                 children: list[_Node] | None = None) -> None:
        self.text, self.sigs, self.default = text, sigs, default
        self.value, self.children = value, children or []

    def signature(self) -> str:
        if len(self.sigs) == 1:
            return next(iter(self.sigs))
        if not self.default:
            raise VariantError(f"cannot tell the type of {self.text} (write it as @TYPE {self.text})")
        return self.default

    def as_(self, sig: str) -> Any:
        """The value as a D-Bus value of type ``sig``."""
        if self.sigs and sig not in self.sigs:
            raise VariantError(f"{self.text} is not of type {sig!r}")
        if sig == "ay" and isinstance(self.value, bytes):
            return self.value
        if sig.startswith("a"):
            items = [child.as_(sig[1:]) for child in self.children]
            return bytes(items) if sig == "ay" else items
        if sig == "v":
            inner = self.children[0]
            inner_sig = inner.signature()
            return inner_sig, inner.as_(inner_sig)
        if sig in INTEGERS:
            return _integer(self.value, sig)
        if sig == "d":
            try:
                return float(self.value)
            except ValueError:
                raise VariantError(f"{self.text} is not a number") from None
        return self.value


def _integer(text: str, sig: str) -> int:
    signed, bits = INTEGERS[sig]
    body = text.lstrip("+-")
    base = 16 if body[:2].lower() == "0x" else 8 if body.startswith("0") and len(body) > 1 else 10
    try:
        number = int(text, base)
    except ValueError:
        raise VariantError(f"{text} is not an integer") from None
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if not low <= number <= high:
        raise VariantError(f"{text} is out of the range of type {sig!r}")
    return number


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def _skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _peek(self) -> str:
        self._skip()
        return self.text[self.pos:self.pos + 1]

    def _expect(self, char: str) -> None:
        if self._peek() != char:
            found = repr(self.text[self.pos]) if self.pos < len(self.text) else "the end"
            raise VariantError(f"expected {char!r} at {self.pos}, found {found}")
        self.pos += 1

    def _word(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum() or self.text[self.pos] in "_+-.@{}()"):
            self.pos += 1
        return self.text[start:self.pos]

    def value(self, sig: str = "") -> _Node:
        char = self._peek()
        if not char:
            raise VariantError("a value is missing")
        if char == "@" or (char.isalpha() and not self.text.startswith(("b'", 'b"'), self.pos)):
            word = self._word()
            if word in ("true", "false"):
                return self._typed(_Node(word, frozenset("b"), "b", word == "true"), sig)
            if sig:
                raise VariantError(f"a second type before a value: {word}")
            if word.startswith("@") and len(word) > 1:
                return self.value(word[1:])
            if word in KEYWORDS:
                return self.value(KEYWORDS[word])
            raise VariantError(f"unknown word {word!r}")
        if char in "'\"":
            text = self._string()
            return self._typed(_Node(repr(text), STRINGS, "s", text), sig)
        if char == "b":
            self.pos += 1
            raw = self._string().encode("latin-1", "replace")
            return self._typed(_Node("b" + repr(raw)[1:], frozenset({"ay"}), "ay", raw + b"\0"), sig)
        if char == "[":
            return self._array(sig)
        if char == "<":
            self.pos += 1
            inner = self.value()
            self._expect(">")
            return self._typed(_Node(f"<{inner.text}>", frozenset("v"), "v", children=[inner]), sig)
        if char.isdigit() or char in "+-.":
            word = self._word()
            is_double = any(c in word.lower() for c in ".e") and not word.lower().lstrip("+-").startswith("0x")
            node = _Node(word, frozenset("d") if is_double else NUMBERS, "d" if is_double else "i", word)
            return self._typed(node, sig)
        raise VariantError(f"unexpected {char!r} at {self.pos} (tuples and dictionaries are not taken)")

    def _typed(self, node: _Node, sig: str) -> _Node:
        if sig:
            if node.sigs and sig not in node.sigs:
                raise VariantError(f"{node.text} cannot be of type {sig!r}")
            node.sigs = frozenset({sig})
            node.as_(sig)  # its range and form checked now
        return node

    def _string(self) -> str:
        quote = self.text[self.pos]
        self.pos += 1
        out: list[str] = []
        while True:
            if self.pos >= len(self.text):
                raise VariantError("a string without its closing quote")
            char = self.text[self.pos]
            self.pos += 1
            if char == quote:
                return "".join(out)
            if char != "\\":
                out.append(char)
                continue
            if self.pos >= len(self.text):
                raise VariantError("a string without its closing quote")
            char = self.text[self.pos]
            self.pos += 1
            if char in "uU":
                width = 4 if char == "u" else 8
                digits = self.text[self.pos:self.pos + width]
                try:
                    out.append(chr(int(digits, 16)))
                except ValueError:
                    raise VariantError(f"a bad \\{char} escape: {digits!r}") from None
                self.pos += width
            else:
                out.append(ESCAPES.get(char, char))

    def _array(self, sig: str) -> _Node:
        if sig and not sig.startswith("a"):
            raise VariantError(f"an array cannot be of type {sig!r}")
        self._expect("[")
        children: list[_Node] = []
        sigs: frozenset[str] = frozenset({sig}) if sig else frozenset()
        while self._peek() != "]":
            child = self.value(sig[1:] if sig else "")
            if child.sigs:
                arrays = frozenset("a" + s for s in child.sigs)
                sigs = sigs & arrays if sigs else arrays
                if not sigs:
                    raise VariantError(f"{child.text} is not of the type of the array's other elements")
            children.append(child)
            if self._peek() != ",":
                break
            self.pos += 1
        self._expect("]")
        text = "[" + ", ".join(c.text for c in children) + "]"
        default = ""
        for child in children:
            try:
                default = "a" + child.signature()
                break
            except VariantError:
                continue
        return _Node(text, sigs, default, children=children)

    def parse(self) -> Typed:
        node = self.value()
        if self._peek():
            raise VariantError(f"unexpected {self.text[self.pos:]!r} after the value")
        sig = node.signature()
        return sig, node.as_(sig)


def parse(text: str) -> Typed:
    """``(signature, value)`` for jeepney, from GVariant text (the module's doc); VariantError
    says what is wrong."""
    return _Parser(text).parse()


def seconds_to_usec(typed: Typed) -> Typed:
    """A number of seconds as a uint64 of microseconds (the ``...Sec`` annotations)."""
    sig, value = typed
    if sig not in NUMBERS:
        raise VariantError("seconds must be a number")
    usec = int(value * 1_000_000)
    if not 0 <= usec < 1 << 64:
        raise VariantError(f"{value} seconds is out of range")
    return "t", usec
