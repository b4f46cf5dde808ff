"""ocirun._json: JSON through the C accelerator alone, checked against the json package.

loads must equal json.loads, and its errors must be JSONError (a ValueError) with the line and
column json would give, also in a process that has not imported json (the C scanner then cannot
build its own exception).  dumps / dumps_pretty must read back with json.loads, and
dumps_pretty must be formatted like json.dumps(indent=2) (runc's state output).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ocirun import _json
from ocirun._json import JSONError

ROOT = Path(__file__).resolve().parents[2]

GOOD = [
    "{}",
    "[]",
    '""',
    "0",
    "-0",
    "1",
    "-1",
    "1.5",
    "-1.5e-3",
    "1E10",
    "1e+2",
    "6.02214076e23",
    "1e400",
    "-1e400",
    "123456789012345678901234567890",
    "0.1",
    "true",
    "false",
    "null",
    "NaN",
    "Infinity",
    "-Infinity",
    "[NaN, Infinity, -Infinity]",
    ' \t\n\r{"a": 1} \t\n\r',
    "\n\n[1]\n",
    '{"a": {"b": {"c": [1, [2, [3, {"d": null}]]]}}}',
    '{"ociVersion": "1.0.2", "process": {"args": ["sh", "-c", "echo hi"], "env": ["A=1"], "cwd": "/"}}',
    '"\\u00e9\\u4e2d\\ud83d\\ude00"',
    '"é中😀"',
    '"\\"\\\\\\/\\b\\f\\n\\r\\t"',
    '"\\ud800"',  # a lone surrogate: json accepts it
    '{"a": 1, "a": 2}',  # the last one wins
    '{"": ""}',
    "[1,2 , 3 ,\n4]",
    '{"k":"v","n":[true,false,null]}',
    "[" * 100 + "]" * 100,
]

BAD = [
    "",
    " ",
    "\n",
    "{",
    "[1, 2",
    '{"a": 1,}',
    "[1,]",
    '{"a" 1}',
    "{'a': 1}",
    '{"a": 1}}',
    "[1]]",
    "{} x",
    "{}\n\n x",
    " \n  [1]\n  ]",
    "1 2",
    "01",
    "tru",
    "nan",
    "infinity",
    "+1",
    ".5",
    "1.",
    "1e",
    '"abc',
    '"\\x"',
    '"\\u12"',
    '"\\uZZZZ"',
    '"a\x01b"',
    '"tab\there"',
    "\ufeff{}",
    "[1, 2,\n 3, ]",
    '{"a":\n\n  }',
    "/* comment */ {}",
]


def same(a: Any, b: Any) -> bool:
    """Equality that treats NaN as equal to NaN and checks types (1 is not 1.0 nor True)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@pytest.mark.parametrize("text", GOOD)
def test_loads_equals_json_loads(text: str) -> None:
    assert same(_json.loads(text), json.loads(text))


@pytest.mark.parametrize("text", [t for t in GOOD if t.isascii() or "\ud800" not in t])
def test_loads_of_utf8_bytes(text: str) -> None:
    assert same(_json.loads(text.encode("utf-8", "surrogatepass")), json.loads(text))


def test_loads_of_a_large_document() -> None:
    doc = {"mounts": [{"destination": f"/m{i}", "options": ["ro", "nosuid"] * 3} for i in range(2000)]}
    text = json.dumps(doc)
    assert _json.loads(text) == doc


@pytest.mark.parametrize("text", BAD)
def test_errors_are_json_errors(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(JSONError) as info:
        _json.loads(text)
    e = info.value
    assert isinstance(e, ValueError) and isinstance(e, JSONError)
    assert str(e).endswith(f": line {e.line} column {e.col} (char {e.pos})")
    assert str(e).rsplit(": line ", 1)[0] == expected.value.msg.split(" (")[0]


@pytest.fixture(params=BAD)
def bad(request: pytest.FixtureRequest) -> str:
    text: str = request.param
    return text


def test_error_positions(bad: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(bad)
    with pytest.raises(JSONError) as info:
        _json.loads(bad)
    assert (info.value.line, info.value.col, info.value.pos) == (
        expected.value.lineno,
        expected.value.colno,
        expected.value.pos,
    )


def test_bom_in_bytes_is_rejected_like_go() -> None:
    # runc's encoding/json rejects a BOM too ("invalid character 'ï' looking for beginning of value")
    with pytest.raises(JSONError):
        _json.loads(b"\xef\xbb\xbf{}")


def test_invalid_utf8_bytes() -> None:
    with pytest.raises(ValueError):
        _json.loads(b'{"a": "\xff"}')


def test_json_error_attributes() -> None:
    e = JSONError("Expecting value", "ab\ncd\nef", 7)
    assert (e.pos, e.line, e.col) == (7, 3, 2)
    assert str(e) == "Expecting value: line 3 column 2 (char 7)"


NO_JSON_SCRIPT = r"""
import sys
sys.path.insert(0, sys.argv[1])
from ocirun import _json
good = _json.loads('{"a": [1, 2.5e3, "\\u00e9", NaN, true, null], "b": {}}')
assert good["a"][:3] == [1, 2500.0, "\u00e9"], good
assert "json" not in sys.modules and "re" not in sys.modules, "loads of a good document imported json"
results = []
for text in sys.argv[2:]:
    try:
        _json.loads(text)
        results.append("accepted")
    except _json.JSONError as e:
        assert isinstance(e, ValueError)
        results.append("%d:%d:%d:%s" % (e.line, e.col, e.pos, str(e).rsplit(": line ", 1)[0]))
    except BaseException as e:
        results.append("wrong exception %s: %s" % (type(e).__name__, e))
print("\n".join(results))
"""

NO_JSON_BAD = [
    "",
    "[1,]",
    '{"a" 1}',
    '{"a": 1,}',
    '"\\x"',
    '"abc',
    "tru",
    "{",
    "\ufeff{}",
    "[1]]",
    '{"a":\n\n  }',
    '"a\x01b"',
]


def test_errors_when_json_is_not_imported() -> None:
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", NO_JSON_SCRIPT, str(ROOT), *NO_JSON_BAD],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    got = proc.stdout.splitlines()
    assert len(got) == len(NO_JSON_BAD)
    for text, result in zip(NO_JSON_BAD, got, strict=True):
        with pytest.raises(json.JSONDecodeError) as expected:
            json.loads(text)
        e = expected.value
        assert result == f"{e.lineno}:{e.colno}:{e.pos}:{e.msg.split(' (')[0]}", (text, result)


def test_good_documents_do_not_import_json() -> None:
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); from ocirun import _json\n"
        "for t in sys.argv[2:]: _json.loads(t)\n"
        "_json.dumps({'a': [1, 2.5, None, True, 'é']}); _json.dumps_pretty({'a': {'b': []}})\n"
        "print(sorted(m for m in ('json', 're', 'enum', 'typing') if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script, str(ROOT), *GOOD],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


# ---------------------------------------------------------------------------- dumps

VALUES: list[Any] = [
    {},
    [],
    "",
    0,
    -1,
    2**70,
    1.5,
    -0.0,
    1e300,
    True,
    False,
    None,
    'é中😀\n\t"\\/\x00\x1f',
    {"a": 1, "b": [1, 2, {"c": None}], "d": {"e": {}}, "f": []},
    [{"x": []}, [[]], [{}], "s", 1.25],
    {"ociVersion": "1.3.0", "id": "c1", "pid": 0, "status": "stopped", "annotations": {"k": "v"}},
    {"z": 1, "a": 2, "m": 3},  # order kept, not sorted
    ("tuple", 1),
]


@pytest.mark.parametrize("value", VALUES)
def test_dumps_round_trips(value: Any) -> None:
    text = _json.dumps(value)
    assert text.isascii()
    expected = list(value) if isinstance(value, tuple) else value
    assert same(json.loads(text), expected)
    assert text == json.dumps(value, separators=(",", ":"))


@pytest.mark.parametrize("value", VALUES)
def test_dumps_pretty_is_json_dumps_indent_2(value: Any) -> None:
    text = _json.dumps_pretty(value)
    assert text == json.dumps(value, indent=2)
    expected = list(value) if isinstance(value, tuple) else value
    assert same(json.loads(text), expected)


@pytest.mark.parametrize("value", VALUES)
def test_dumps_pretty_with_tabs(value: Any) -> None:
    assert _json.dumps_pretty(value, indent="\t") == json.dumps(value, indent="\t")


def test_dumps_of_special_floats() -> None:
    assert _json.dumps([math.inf, -math.inf, math.nan]) == "[Infinity,-Infinity,NaN]"
    assert same(_json.loads(_json.dumps([math.nan])), [math.nan])


def test_dumps_refuses_what_json_refuses() -> None:
    with pytest.raises(TypeError):
        _json.dumps({"a": object()})
    with pytest.raises(TypeError):
        _json.dumps({1, 2})
