"""Generate ``_validator.py``, a fast validator, from ``config.schema.json``.

Run ``python -m ocirun.spec.compile_schema`` after editing the schema (``--check`` only tells
whether the generated file is up to date).  The generated module imports nothing: each object
or array node of the schema becomes a small function, scalar checks are inlined, and the few
regular expressions of the schema become hand-written predicates (PATTERNS below), so that
validating a config costs tens of microseconds and importing the module well under a
millisecond.

Each generated function takes a value and returns ``None`` when it is valid, else
``(path, message)`` where ``path`` is relative to the value (``""``, ``".cwd"``, ``"[2].type"``);
callers prefix their own segment only on failure, so a valid document builds no strings.

Only the keywords the schema uses are supported; anything else is an error here, never a
silently skipped check.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NamedTuple

HERE = Path(__file__).resolve().parent
SCHEMA_PATH = HERE / "config.schema.json"
OUTPUT_PATH = HERE / "_validator.py"

Node = dict[str, Any]

#: Keywords that only document; they may appear anywhere, also next to ``$ref``.
ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "definitions"})
OBJECT_KEYWORDS = frozenset(
    {"properties", "required", "additionalProperties", "propertyNames", "dependencies"}
)
ARRAY_KEYWORDS = frozenset({"items", "minItems"})
SCALAR_KEYWORDS = frozenset({"enum", "const", "minimum", "maximum", "minLength", "pattern"})
#: Keywords that apply whatever the type of the value.
GENERIC_KEYWORDS = frozenset({"anyOf", "if", "then", "else"})
KNOWN = ANNOTATIONS | OBJECT_KEYWORDS | ARRAY_KEYWORDS | SCALAR_KEYWORDS | GENERIC_KEYWORDS | {"type", "$ref"}
SCALAR_TYPES = frozenset({"string", "integer", "boolean"})


class Pattern(NamedTuple):
    """A regular expression of the schema and its hand-written equivalent."""

    function: str  # name of the predicate in the generated module
    message: str  # completes "<repr of value> " in the error message
    source: str  # Python source of the predicate
    helpers: tuple[str, ...] = ()  # names in HELPERS the predicate needs


HELPERS: dict[str, str] = {
    "_DIGITS": "_DIGITS = '0123456789'\n",
    "_UPPER": "_UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'\n",
    "_ALNUM_HYPHEN": "_ALNUM_HYPHEN = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-'\n",
}

# Note on ``str.strip(chars)``: it returns "" exactly when every character of the string is in
# ``chars``, which makes it a fast "consists only of" test.  Predicates follow ECMA-262 (the regex
# dialect of JSON Schema): ``$`` is the end of the string, so a trailing newline never matches
# (Python's ``re`` lets ``$`` match before a final "\n").
PATTERNS: dict[str, Pattern] = {
    "^1\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(-(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
    "(\\.(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*)?(\\+[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?$": Pattern(
        "_is_version_1",
        "is not a SemVer 2.0.0 version of the form 1.x.y (ocirun implements runtime-spec 1.x)",
        '''\
def _is_version_1(s: str) -> bool:
    """1.MINOR.PATCH[-PRERELEASE][+BUILD] as defined by SemVer 2.0.0."""
    s, plus, build = s.partition('+')
    if plus:
        for ident in build.split('.'):
            if not ident or ident.strip(_ALNUM_HYPHEN):
                return False
    s, dash, pre = s.partition('-')
    if dash:
        for ident in pre.split('.'):
            if not ident or ident.strip(_ALNUM_HYPHEN):
                return False
            if len(ident) > 1 and ident[0] == '0' and not ident.strip(_DIGITS):
                return False
    parts = s.split('.')
    if len(parts) != 3 or parts[0] != '1':
        return False
    for num in parts[1:]:
        if not num or num.strip(_DIGITS) or (len(num) > 1 and num[0] == '0'):
            return False
    return True
''',
        ("_DIGITS", "_ALNUM_HYPHEN"),
    ),
    "^/": Pattern(
        "_is_absolute",
        "is not an absolute path",
        "def _is_absolute(s: str) -> bool:\n    return s[:1] == '/'\n",
    ),
    "^RLIMIT_[A-Z]+$": Pattern(
        "_is_rlimit",
        "is not a resource limit name (RLIMIT_ followed by A-Z)",
        "def _is_rlimit(s: str) -> bool:\n"
        "    return len(s) > 7 and s[:7] == 'RLIMIT_' and not s[7:].strip(_UPPER)\n",
        ("_UPPER",),
    ),
    "^[1-9][0-9]*[KMG]B$": Pattern(
        "_is_page_size",
        "is not a huge page size such as 64KB, 2MB or 1GB",
        "def _is_page_size(s: str) -> bool:\n"
        "    return (len(s) > 2 and s[-1] == 'B' and s[-2] in 'KMG' and s[0] in '123456789'\n"
        "            and not s[1:-2].strip(_DIGITS))\n",
        ("_DIGITS",),
    ),
    "^[0-9, -]*$": Pattern(
        "_is_cpu_list",
        "is not a CPU list such as 0-3,7",
        "def _is_cpu_list(s: str) -> bool:\n    return not s.strip('0123456789, -')\n",
    ),
    "^MB:[^\\n]*$": Pattern(
        "_is_mb_schema",
        "is not a memory bandwidth schema (one line starting with MB:)",
        "def _is_mb_schema(s: str) -> bool:\n    return s[:3] == 'MB:' and '\\n' not in s\n",
    ),
    "^[^\\n]*$": Pattern(
        "_is_one_line",
        "is not a single line (it contains a newline)",
        "def _is_one_line(s: str) -> bool:\n    return '\\n' not in s\n",
    ),
    "^[rwm]*$": Pattern(
        "_is_access",
        "is not a combination of r, w and m",
        "def _is_access(s: str) -> bool:\n    return not s.strip('rwm')\n",
    ),
}

PRELUDE = '''\
# GENERATED FILE, DO NOT EDIT.  Made by `python -m ocirun.spec.compile_schema` from
# config.schema.json; edit the schema (or the generator) and run it again.
# ruff: noqa
"""Fast validator for config.json, generated from ``config.schema.json``.

``validate(doc)`` returns ``None`` when ``doc`` (a decoded JSON document) is valid, else
``(json_path, message)`` for the first problem found, e.g.
``('$.process.user.uid', 'must be an integer between 0 and 4294967295, got -1')``.

The module imports nothing.  Integers are Python ``int`` values that are not ``bool``;
fractional numbers are never integers.  No ``from __future__`` import either (importing
``__future__`` costs more than this module): return annotations are strings.
"""

TYPE_CHECKING = False  # without importing typing; mypy reads this name as typing's
if TYPE_CHECKING:
    from collections.abc import Iterable

_NO = object()  # "property absent" marker: JSON null is None


def _got(v: object) -> str:
    """Describe a JSON value briefly for an error message."""
    if v is None:
        return 'null'
    if v is True:
        return 'true'
    if v is False:
        return 'false'
    if type(v) is int or type(v) is float:
        return repr(v)
    if type(v) is str:
        return 'string ' + repr(v if len(v) <= 40 else v[:37] + '...')
    if type(v) is dict:
        return 'object'
    if type(v) is list:
        return 'array'
    return type(v).__name__


def _seg(key: str) -> str:
    """Path segment of an object member: .name, or ['other key'] if not a plain name."""
    if key.isascii() and key.isidentifier():
        return '.' + key
    return "[" + repr(key) + "]"


def json_path(parts: "Iterable[str | int]") -> str:
    """JSON path ``$.a.b[0]`` of a sequence of member names and array indexes."""
    out = '$'
    for p in parts:
        out += '[%d]' % p if type(p) is int else _seg(str(p))
    return out


def validate(doc: object) -> "tuple[str, str] | None":
    """None if ``doc`` is a valid configuration, else (JSON path, message)."""
    r = _root(doc)
    if r is None:
        return None
    return ('$' + r[0], r[1])
'''


def segment_literal(key: str) -> str:
    """The path segment of member ``key`` (same rule as ``_seg`` in the generated code)."""
    if key.isascii() and key.isidentifier():
        return "." + key
    return "[" + repr(key) + "]"


def quote_list(values: list[str]) -> str:
    return ", ".join(repr(v) for v in values)


class SchemaError(ValueError):
    """The schema uses something the generator does not support."""


class Generator:
    """Turns the schema into the source of the validator module."""

    def __init__(self, schema: Node) -> None:
        self.schema = schema
        self.definitions: dict[str, Node] = schema.get("definitions", {})
        self.functions: list[str] = []
        self.constants: list[str] = []
        self.const_names: dict[tuple[str, ...], str] = {}
        self.pointer_functions: dict[str, str] = {}
        self.names: set[str] = set()
        self.patterns: dict[str, Pattern] = {}
        self.fallback_patterns: dict[str, str] = {}

    # -- schema navigation ---------------------------------------------------------------------

    def resolve(self, node: Node, pointer: str) -> tuple[Node, str]:
        """Follow ``$ref`` (local definitions only); return the node and its JSON pointer."""
        seen = set()
        while "$ref" in node:
            extra = set(node) - ANNOTATIONS - {"$ref"}
            if extra:
                raise SchemaError(f"keywords beside $ref are ignored by draft-07: {sorted(extra)}")
            ref = node["$ref"]
            prefix = "#/definitions/"
            if (
                not isinstance(ref, str)
                or not ref.startswith(prefix)
                or ref[len(prefix) :] not in self.definitions
            ):
                raise SchemaError(f"unsupported or dangling $ref {ref!r}")
            name = ref[len(prefix) :]
            if name in seen:
                raise SchemaError(f"$ref loop through {name}")
            seen.add(name)
            node = self.definitions[name]
            pointer = ref
        return node, pointer

    def check_keywords(self, node: Node) -> None:
        unknown = set(node) - KNOWN
        if unknown:
            raise SchemaError(f"unsupported keywords {sorted(unknown)} in {node!r}")
        t = node.get("type")
        if t is not None and (not isinstance(t, str) or t not in SCALAR_TYPES | {"object", "array"}):
            raise SchemaError(f"unsupported type {t!r} (only one type name, not number/null)")
        if t in SCALAR_TYPES and set(node) & (OBJECT_KEYWORDS | ARRAY_KEYWORDS):
            raise SchemaError(f"object/array keywords on a {t} node: {node!r}")
        if t == "object" and set(node) & (ARRAY_KEYWORDS | SCALAR_KEYWORDS):
            raise SchemaError(f"misplaced keywords on an object node: {node!r}")
        if t == "array" and set(node) & (OBJECT_KEYWORDS | SCALAR_KEYWORDS):
            raise SchemaError(f"misplaced keywords on an array node: {node!r}")

    def is_leaf(self, node: Node) -> bool:
        """True for nodes checked inline: scalar types, or bare scalar keywords such as const."""
        self.check_keywords(node)
        if set(node) & GENERIC_KEYWORDS:
            return False
        if node.get("type") in SCALAR_TYPES:
            return True
        return (
            "type" not in node
            and not set(node) & (OBJECT_KEYWORDS | ARRAY_KEYWORDS)
            and bool(set(node) & SCALAR_KEYWORDS)
        )

    # -- names -----------------------------------------------------------------------------------

    def constant(self, kind: str, values: list[str]) -> str:
        key = (kind, *values)
        name = self.const_names.get(key)
        if name is None:
            name = f"_{kind}{len(self.const_names) + 1}"
            self.const_names[key] = name
            self.constants.append(f"{name} = frozenset(({quote_list(values)},))\n")
        return name

    def pattern(self, regex: str) -> tuple[str, str]:
        """Predicate function name and message for ``regex``."""
        known = PATTERNS.get(regex)
        if known is not None:
            self.patterns[regex] = known
            return known.function, known.message
        name = self.fallback_patterns.get(regex)
        if name is None:
            name = f"_matches{len(self.fallback_patterns) + 1}"
            self.fallback_patterns[regex] = name
        return name, f"does not match {regex!r}"

    def function_for(self, node: Node, pointer: str) -> str:
        """Name of the function validating ``node`` (found at JSON pointer ``pointer`` of the
        schema), generating it on first use."""
        name = self.pointer_functions.get(pointer)
        if name is not None:
            return name
        words = [w for w in pointer.lstrip("#/").split("/") if w not in ("properties", "definitions")]
        base = "_v_" + ("_".join("".join(c if c.isalnum() else "_" for c in w) for w in words) or "config")
        name, n = base, 1
        while name in self.names:
            n += 1
            name = f"{base}{n}"
        self.names.add(name)
        self.pointer_functions[pointer] = name
        body = self.body(node, pointer)
        self.functions.append(
            f'def {name}(x: object) -> "tuple[str, str] | None":\n'
            f'    """Check {pointer or "#"} of the schema."""\n' + "".join(body) + "    return None\n"
        )
        return name

    # -- code generation ---------------------------------------------------------------------------

    def check(self, node: Node, pointer: str, var: str, seg: str | None, ind: str) -> list[str]:
        """Lines checking ``var`` against ``node``; ``seg`` is the path segment expression of
        ``var`` relative to the function's ``x`` (None when ``var`` is ``x``)."""
        target, pointer = self.resolve(node, pointer)
        if self.is_leaf(target):
            return self.leaf(target, var, seg, ind)
        fn = self.function_for(target, pointer)
        ret = "r" if seg is None else f"({seg} + r[0], r[1])"
        return [f"{ind}r = {fn}({var})\n", f"{ind}if r is not None:\n", f"{ind}    return {ret}\n"]

    def leaf(self, node: Node, var: str, seg: str | None, ind: str) -> list[str]:
        """Inline checks of a scalar node."""
        where = "''" if seg is None else seg
        fail = f"{ind}    return ({where}, "
        lines: list[str] = []
        t = node.get("type")
        if t == "integer":
            lo, hi = node.get("minimum"), node.get("maximum")
            for bound in (lo, hi):
                if bound is not None and type(bound) is not int:
                    raise SchemaError(f"integer bounds must be integers: {node!r}")
            conds = [f"type({var}) is not int"]
            if lo is not None and hi is not None:
                what = f"must be an integer between {lo} and {hi}"
            elif lo is not None:
                what = f"must be an integer >= {lo}"
            elif hi is not None:
                what = f"must be an integer <= {hi}"
            else:
                what = "must be an integer"
            if lo is not None:
                conds.append(f"{var} < {lo}")
            if hi is not None:
                conds.append(f"{var} > {hi}")
            lines += [f"{ind}if {' or '.join(conds)}:\n", f"{fail}{what + ', got '!r} + _got({var}))\n"]
            extra = set(node) & SCALAR_KEYWORDS - {"minimum", "maximum"}
            if extra:
                raise SchemaError(f"unsupported keywords on an integer: {sorted(extra)}")
            return lines
        if t == "boolean":
            if set(node) & SCALAR_KEYWORDS:
                raise SchemaError(f"unsupported keywords on a boolean: {node!r}")
            return [
                f"{ind}if type({var}) is not bool:\n",
                f"{fail}'must be a boolean, got ' + _got({var}))\n",
            ]
        if t == "string":
            lines += [
                f"{ind}if type({var}) is not str:\n",
                f"{fail}'must be a string, got ' + _got({var}))\n",
            ]
        elif t is not None:
            raise SchemaError(f"unexpected leaf type {t!r}")
        if "minimum" in node or "maximum" in node:
            raise SchemaError(f"minimum/maximum need type integer: {node!r}")
        if "const" in node:
            value = node["const"]
            if type(value) is not str:
                raise SchemaError("only string constants are supported")
            lines += [
                f"{ind}if {var} != {value!r}:\n",
                f"{fail}{'must be ' + repr(value) + ', got '!r} + _got({var}))\n",
            ]
        if "enum" in node:
            values = node["enum"]
            if not values or not all(type(v) is str for v in values):
                raise SchemaError("only non-empty enums of strings are supported")
            name = self.constant("E", values)
            cond = (
                f"{var} not in {name}" if t == "string" else f"type({var}) is not str or {var} not in {name}"
            )
            lines += [
                f"{ind}if {cond}:\n",
                f"{fail}repr({var}) + {' is not one of ' + quote_list(values)!r})\n",
            ]
        if t != "string" and set(node) & {"minLength", "pattern"}:
            raise SchemaError(f"minLength/pattern need type string: {node!r}")
        if "minLength" in node:
            n = node["minLength"]
            what = "must not be empty" if n == 1 else f"must be at least {n} characters long"
            lines += [f"{ind}if len({var}) < {n}:\n", f"{fail}{what!r})\n"]
        if "pattern" in node:
            fn, message = self.pattern(node["pattern"])
            lines += [f"{ind}if not {fn}({var}):\n", f"{fail}repr({var}) + {' ' + message!r})\n"]
        return lines

    def body(self, node: Node, pointer: str) -> list[str]:
        """Lines of the function checking ``x`` against ``node`` (not checked inline)."""
        self.check_keywords(node)
        t = node.get("type")
        lines: list[str] = []
        ind = "    "
        if t == "object":
            lines += [
                "    if type(x) is not dict:\n",
                "        return ('', 'must be an object, got ' + _got(x))\n",
            ]
            lines += self.object_checks(node, pointer, ind)
        elif t == "array":
            lines += [
                "    if type(x) is not list:\n",
                "        return ('', 'must be an array, got ' + _got(x))\n",
            ]
            lines += self.array_checks(node, pointer, ind)
        else:
            if t in SCALAR_TYPES or set(node) & SCALAR_KEYWORDS:
                lines += self.leaf(node, "x", None, ind)
            object_part = self.object_checks(node, pointer, ind + "    ")
            if object_part:
                lines += ["    if type(x) is dict:\n", *object_part]
            array_part = self.array_checks(node, pointer, ind + "    ")
            if array_part:
                lines += ["    if type(x) is list:\n", *array_part]
        lines += self.generic_checks(node, pointer, ind)
        return lines

    def object_checks(self, node: Node, pointer: str, ind: str) -> list[str]:
        lines: list[str] = []
        for key in node.get("required", []):
            lines += [
                f"{ind}if {key!r} not in x:\n",
                f"{ind}    return ('', {repr(key) + ' is a required property'!r})\n",
            ]
        for key, needed in node.get("dependencies", {}).items():
            if not isinstance(needed, list):
                raise SchemaError("only property dependencies (arrays of names) are supported")
            for other in needed:
                msg = f"{other!r} is required when {key!r} is present"
                lines += [
                    f"{ind}if {key!r} in x and {other!r} not in x:\n",
                    f"{ind}    return ('', {msg!r})\n",
                ]
        if "propertyNames" in node:
            names = node["propertyNames"]
            if set(names) - ANNOTATIONS != {"minLength"}:
                raise SchemaError("propertyNames supports minLength only")
            n = names["minLength"]
            if n == 1:  # the common case, in O(1)
                lines += [
                    f"{ind}if '' in x:\n",
                    f"{ind}    return ('', \"property name '' must not be empty\")\n",
                ]
            else:
                what = f" must be at least {n} characters long"
                lines += [
                    f"{ind}for k in x:\n",
                    f"{ind}    if len(k) < {n}:\n",
                    f"{ind}        return ('', 'property name ' + repr(k) + {what!r})\n",
                ]
        properties: dict[str, Node] = node.get("properties", {})
        required = set(node.get("required", ()))
        for key, sub in properties.items():
            where = f"{pointer}/properties/{key}"
            if key in required:  # presence already checked
                lines.append(f"{ind}v = x[{key!r}]\n")
                lines += self.check(sub, where, "v", repr(segment_literal(key)), ind)
            else:
                lines += [f"{ind}v = x.get({key!r}, _NO)\n", f"{ind}if v is not _NO:\n"]
                lines += self.check(sub, where, "v", repr(segment_literal(key)), ind + "    ")
        if "additionalProperties" in node:
            extra = node["additionalProperties"]
            if not isinstance(extra, dict):
                raise SchemaError("additionalProperties must be a schema (unknown properties stay allowed)")
            lines.append(f"{ind}for k, v in x.items():\n")
            if properties:
                name = self.constant("P", list(properties))
                lines.append(f"{ind}    if k in {name}:\n{ind}        continue\n")
            lines += self.check(extra, f"{pointer}/additionalProperties", "v", "_seg(k)", ind + "    ")
        return lines

    def generic_checks(self, node: Node, pointer: str, ind: str) -> list[str]:
        """anyOf and if/then/else, which apply to values of any type."""
        lines: list[str] = []
        if "anyOf" in node:
            branches = node["anyOf"]
            if all(set(b) - ANNOTATIONS == {"required"} and len(b["required"]) == 1 for b in branches):
                keys = [b["required"][0] for b in branches]  # "at least one of these members"
                cond = " and ".join(f"{k!r} not in x" for k in keys)
                if node.get("type") != "object":  # "required" holds for anything but objects
                    cond = f"type(x) is dict and {cond}"
                msg = "must have at least one of " + quote_list(keys)
            else:
                fns = [self.function_for(b, f"{pointer}/anyOf/{i}") for i, b in enumerate(branches)]
                cond = " and ".join(f"{fn}(x) is not None" for fn in fns)
                msg = "is not valid under any of the allowed forms"
            lines += [f"{ind}if {cond}:\n", f"{ind}    return ('', {msg!r})\n"]
        if "if" in node:
            test = self.function_for(node["if"], f"{pointer}/if")
            then = (
                self.check(node["then"], f"{pointer}/then", "x", None, ind + "    ") if "then" in node else []
            )
            other = (
                self.check(node["else"], f"{pointer}/else", "x", None, ind + "    ") if "else" in node else []
            )
            if then and other:
                lines += [f"{ind}if {test}(x) is None:\n", *then, f"{ind}else:\n", *other]
            elif then:
                lines += [f"{ind}if {test}(x) is None:\n", *then]
            elif other:
                lines += [f"{ind}if {test}(x) is not None:\n", *other]
        elif "then" in node or "else" in node:
            raise SchemaError("then/else without if")
        return lines

    def array_checks(self, node: Node, pointer: str, ind: str) -> list[str]:
        lines: list[str] = []
        if "minItems" in node:
            n = node["minItems"]
            what = "must not be empty" if n == 1 else f"must have at least {n} items"
            lines += [f"{ind}if len(x) < {n}:\n", f"{ind}    return ('', {what!r})\n"]
        if "items" in node:
            items = node["items"]
            if not isinstance(items, dict):
                raise SchemaError("items must be a single schema")
            lines.append(f"{ind}for i, v in enumerate(x):\n")
            lines += self.check(items, f"{pointer}/items", "v", "'[%d]' % i", ind + "    ")
        return lines

    # -- module ------------------------------------------------------------------------------------

    def module(self) -> str:
        """The complete source of the validator module."""
        root = self.schema
        self.check_keywords(root)
        root_fn = self.function_for(root, "#")
        parts = [PRELUDE]
        helpers: dict[str, None] = {}
        for pat in self.patterns.values():
            helpers.update(dict.fromkeys(pat.helpers))
        if helpers or self.patterns or self.fallback_patterns:
            parts.append("\n\n# -- patterns of the schema, as predicates --\n\n")
            parts.extend(HELPERS[h] for h in helpers)
            for regex, pat in self.patterns.items():
                parts.append(f"\n\n# {regex}\n{pat.source}")
            for regex, name in self.fallback_patterns.items():
                parts.append(
                    f"\n\ndef {name}(s: str) -> bool:\n"
                    f"    import re  # no hand-written predicate for this pattern\n"
                    f"    return re.search({regex!r}, s) is not None\n"
                )
        if self.constants:
            parts.append("\n\n# -- enums and property sets --\n\n")
            parts.extend(self.constants)
        parts.append("\n\n# -- one function per schema node --\n")
        for fn in self.functions:
            parts.append("\n\n" + fn)
        parts.append(f"\n\n_root = {root_fn}\n")
        return "".join(parts)


def load_schema(path: Path = SCHEMA_PATH) -> Node:
    with open(path, encoding="utf-8") as f:
        schema: Node = json.load(f)
    return schema


def generate(schema: Node | None = None) -> str:
    """Source text of the validator module for ``schema`` (default: our config schema)."""
    return Generator(load_schema() if schema is None else schema).module()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = generate()
    if args == ["--check"]:
        current = OUTPUT_PATH.read_text(encoding="utf-8") if OUTPUT_PATH.exists() else ""
        if current != text:
            print(f"{OUTPUT_PATH} is out of date: run python -m ocirun.spec.compile_schema", file=sys.stderr)
            return 1
        return 0
    if args:
        print("usage: python -m ocirun.spec.compile_schema [--check]", file=sys.stderr)
        return 2
    OUTPUT_PATH.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
