"""Tests of the config.json schema, its generated validator and ``ocirun.spec.schema.check``.

The generated validator (``ocirun/spec/_validator.py``) is checked against jsonschema running
our own schema (the reference), against our fixtures in spec-fixtures/config, against the
official runtime-spec schema and fixtures when the spec checkout is present (a sibling
``shared/oci-runtime-spec`` folder, or $OCI_RUNTIME_SPEC_DIR), and against random mutations
of valid configs.  Also: it is up to date, imports nothing and is fast.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocirun.errors import InvalidSpec
from ocirun.spec import _validator, compile_schema, schema
from ocirun.spec._validator import json_path, validate

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "spec-fixtures" / "config"
OFFICIAL = Path(os.environ.get("OCI_RUNTIME_SPEC_DIR") or ROOT.parent / "shared" / "oci-runtime-spec")

GOOD = sorted((FIXTURES / "good").glob("*.json"))
BAD = sorted((FIXTURES / "bad").glob("*.json"))


def load(path: Path) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def expectation(path: Path) -> tuple[str, str]:
    """The JSON path and message fragment a bad fixture must give (see spec-fixtures/README.md)."""
    lines = path.with_suffix(".expect").read_text(encoding="utf-8").splitlines()
    return lines[0], (lines[1] if len(lines) > 1 else "")


@pytest.fixture(scope="module")
def reference() -> Any:
    """jsonschema validating our schema, with the generated validator's integer rule."""
    pytest.importorskip("jsonschema")
    return schema.reference_validator()


def error_paths(validator: Any, doc: Any) -> set[str]:
    """JSON paths of all errors jsonschema finds, including those nested under anyOf."""
    paths = set()
    stack = list(validator.iter_errors(doc))
    while stack:
        e = stack.pop()
        paths.add(json_path(e.absolute_path))
        stack.extend(e.context or ())
    return paths


# ---------------------------------------------------------------------------- generator


def test_generated_validator_is_up_to_date() -> None:
    expected = compile_schema.generate()
    current = compile_schema.OUTPUT_PATH.read_text(encoding="utf-8")
    assert current == expected, "run: python -m ocirun.spec.compile_schema"


def test_schema_is_a_valid_draft7_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft7Validator.check_schema(compile_schema.load_schema())


def test_schema_allows_unknown_properties_everywhere() -> None:
    def walk(node: Any) -> Iterator[Any]:
        if isinstance(node, dict):
            yield node
            for v in node.values():
                yield from walk(v)
        elif isinstance(node, list):
            for v in node:
                yield from walk(v)

    for node in walk(compile_schema.load_schema()):
        assert node.get("additionalProperties") is not False


@pytest.mark.parametrize(
    "bad_schema",
    [
        {"type": "object", "additionalProperties": False},
        {"type": "object", "properties": {"a": {"oneOf": [{"type": "string"}]}}},
        {"type": "object", "properties": {"a": {"type": ["string", "null"]}}},
        {"type": "object", "properties": {"a": {"$ref": "#/definitions/missing"}}},
        {"type": "object", "properties": {"a": {"type": "string", "maxLength": 3}}},
        {"type": "object", "properties": {"a": {"type": "integer", "minimum": 0.5}}},
        {"type": "object", "properties": {"a": {"type": "number"}}},
    ],
)
def test_generator_refuses_what_it_does_not_support(bad_schema: dict[str, Any]) -> None:
    with pytest.raises(compile_schema.SchemaError):
        compile_schema.generate(bad_schema)


FEATURES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["kind"],
    "properties": {
        "kind": {"enum": ["one", "two"]},
        "tags": {"type": "array", "minItems": 2, "items": {"const": "t"}},
        "size": {"anyOf": [{"type": "string", "pattern": "^[a-f]+$"}, {"type": "integer", "minimum": 0}]},
        "names": {
            "type": "object",
            "propertyNames": {"minLength": 3},
            "additionalProperties": {"type": "boolean"},
        },
        "free": {"description": "anything goes"},
        "either": {"anyOf": [{"required": ["a"]}, {"required": ["b"]}]},
    },
    "if": {"properties": {"kind": {"const": "two"}}},
    "then": {"required": ["size"]},
}


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"kind": "one"}, None),
        ({"kind": "two", "size": "abc", "tags": ["t", "t"], "names": {"abc": True}, "free": [1]}, None),
        ({"kind": "two", "size": 3, "either": {"b": 1}}, None),
        ({"kind": "one", "either": "not an object: no member is required"}, None),
        ([], ("$", "must be an object, got array")),
        ({"kind": "three"}, ("$.kind", "'three' is not one of 'one', 'two'")),
        ({"kind": 1}, ("$.kind", "1 is not one of 'one', 'two'")),
        ({"kind": "two"}, ("$", "'size' is a required property")),
        ({"kind": "one", "tags": ["t"]}, ("$.tags", "must have at least 2 items")),
        ({"kind": "one", "tags": ["t", "u"]}, ("$.tags[1]", "must be 't', got string 'u'")),
        ({"kind": "one", "size": "xyz"}, ("$.size", "is not valid under any of the allowed forms")),
        ({"kind": "one", "size": -1}, ("$.size", "is not valid under any of the allowed forms")),
        (
            {"kind": "one", "names": {"ab": True}},
            ("$.names", "property name 'ab' must be at least 3 characters long"),
        ),
        ({"kind": "one", "names": {"a.b.c": 0}}, ("$.names['a.b.c']", "must be a boolean, got 0")),
        ({"kind": "one", "either": {}}, ("$.either", "must have at least one of 'a', 'b'")),
    ],
)
def test_generator_features(doc: Any, expected: tuple[str, str] | None) -> None:
    """Keywords and forms our schema does not use (yet) but the generator supports, including a
    pattern without hand-written predicate (its code imports re lazily)."""
    namespace: dict[str, Any] = {}
    exec(compile(compile_schema.generate(FEATURES_SCHEMA), "<generated>", "exec"), namespace)
    assert namespace["validate"](doc) == expected
    jsonschema = pytest.importorskip("jsonschema")
    assert jsonschema.Draft7Validator(FEATURES_SCHEMA).is_valid(doc) == (expected is None)


def test_generator_check_mode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert compile_schema.main(["--check"]) == 0
    stale = tmp_path / "_validator.py"
    stale.write_text("# stale\n")
    monkeypatch.setattr(compile_schema, "OUTPUT_PATH", stale)
    assert compile_schema.main(["--check"]) == 1
    assert compile_schema.main([]) == 0
    assert compile_schema.main(["--check"]) == 0


# ---------------------------------------------------------------------------- patterns

# Strings built from these pieces exercise each pattern's edges (digits, leading zeros,
# separators, case, newlines, non-ASCII look-alikes).
PATTERN_PIECES: dict[str, list[str]] = {
    "_is_version_1": [
        "1",
        "0",
        "2",
        "01",
        "10",
        ".",
        ".",
        "-",
        "+",
        "rc",
        "a",
        "A-",
        "x",
        "00",
        "\n",
        " ",
        "٣",
        "é",
    ],
    "_is_absolute": ["/", "a", "\n", " ", "./", "\\"],
    "_is_rlimit": ["RLIMIT_", "RLIMIT", "_", "NOFILE", "a", "1", "\n", "Ä"],
    "_is_page_size": ["1", "0", "2", "64", "K", "M", "G", "B", "b", "k", "T", "\n", "٣", " "],
    "_is_cpu_list": ["0", "3", ",", "-", " ", ";", "\n", "a", "٣", "\t"],
    "_is_mb_schema": ["MB:", "MB", ":", "0=20", ";", "\n", "\r", "L3:", "mb:"],
    "_is_one_line": ["a", "\n", "\r", " ", "\u2028", "MB:0"],
    "_is_access": ["r", "w", "m", "x", "R", "\n", " ", ""],
}


def ecma_regex(pattern: str) -> str:
    """Python regex with ECMA-262's meaning of ``$`` (end of input, not before a final newline)."""
    return pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern


def test_every_pattern_has_a_predicate_and_pieces() -> None:
    used = {p.function for regex, p in compile_schema.PATTERNS.items()}
    assert used == set(PATTERN_PIECES)
    for p in compile_schema.PATTERNS.values():
        assert callable(getattr(_validator, p.function))


@pytest.mark.parametrize("regex", sorted(compile_schema.PATTERNS))
def test_pattern_predicates_match_the_regex(regex: str) -> None:
    pattern = compile_schema.PATTERNS[regex]
    predicate = getattr(_validator, pattern.function)
    compiled = re.compile(ecma_regex(regex))
    rng = random.Random(20240611 + len(regex))
    pieces = PATTERN_PIECES[pattern.function]
    samples = {
        "",
        "1.0.0",
        "1.2.3-rc.1+b.5",
        "CAP_SYS_ADMIN",
        "RLIMIT_NOFILE",
        "2MB",
        "0-3,7",
        "MB:0=1",
        "rw",
        "/x",
    }
    for _ in range(4000):
        samples.add("".join(rng.choice(pieces) for _ in range(rng.randint(0, 8))))
    mismatches = [s for s in samples if predicate(s) != (compiled.search(s) is not None)]
    assert not mismatches, mismatches[:10]
    assert any(predicate(s) for s in samples) and not all(predicate(s) for s in samples)


def test_trailing_newline_follows_ecma_not_python() -> None:
    """JSON Schema patterns are ECMA-262: ``$`` does not match before a final newline, unlike
    Python's ``re``, so the generated validator rejects "1.0.0\\n" where jsonschema (which uses
    ``re.search``) would accept it.  The one known divergence of the two validators."""
    regex = next(r for r, p in compile_schema.PATTERNS.items() if p.function == "_is_version_1")
    assert re.search(regex, "1.0.0\n")
    assert not _validator._is_version_1("1.0.0\n")
    assert not _validator._is_mb_schema("MB:0=20\n")
    assert validate({"ociVersion": "1.0.0\n", "root": {"path": "rootfs"}}) is not None


# ---------------------------------------------------------------------------- our fixtures


def test_fixture_counts_and_expectations() -> None:
    assert len(GOOD) >= 25 and len(BAD) >= 40
    for path in BAD:
        assert path.with_suffix(".expect").is_file(), f"{path.name} has no .expect"
    for expect in (FIXTURES / "bad").glob("*.expect"):
        assert expect.with_suffix(".json").is_file(), f"{expect.name} has no .json"
    for path in GOOD:
        assert not path.with_suffix(".expect").exists()


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.stem)
def test_good_fixture(path: Path, reference: Any) -> None:
    doc = load(path)
    assert validate(doc) is None
    assert reference.is_valid(doc), [e.message for e in reference.iter_errors(doc)]
    schema.check(doc)


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_fixture(path: Path, reference: Any) -> None:
    doc = load(path)
    want_path, fragment = expectation(path)
    result = validate(doc)
    assert result is not None
    assert result[0] == want_path
    assert fragment in result[1]
    assert not reference.is_valid(doc)
    assert want_path in error_paths(reference, doc)
    with pytest.raises(InvalidSpec) as info:
        schema.check(doc)
    assert info.value.path == want_path
    assert info.value.reason


# ---------------------------------------------------------------------------- check()


def test_check_uses_generated_message_without_jsonschema(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = {
        "ociVersion": "1.0.0",
        "root": {"path": "rootfs"},
        "process": {"cwd": "/", "args": ["sh"], "user": {"uid": -1, "gid": 0}},
    }
    for name in [m for m in sys.modules if m == "jsonschema" or m.startswith("jsonschema.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "jsonschema", None)  # makes "import jsonschema" fail
    with pytest.raises(InvalidSpec) as info:
        schema.check(doc)
    assert info.value.path == "$.process.user.uid"
    assert info.value.reason == "must be an integer between 0 and 4294967295, got -1"


def test_check_prefers_jsonschema_wording_at_the_same_path(reference: Any) -> None:
    doc = {"ociVersion": "1.0.0", "root": {"path": "rootfs"}, "linux": {"namespaces": [{"type": "pidd"}]}}
    with pytest.raises(InvalidSpec) as info:
        schema.check(doc)
    assert info.value.path == "$.linux.namespaces[0].type"
    assert info.value.reason.startswith("'pidd' is not one of")


def test_check_keeps_own_wording_for_anyof_and_patterns(reference: Any) -> None:
    doc = {"ociVersion": "1.0", "root": {"path": "rootfs"}}
    with pytest.raises(InvalidSpec) as info:
        schema.check(doc)
    assert "SemVer" in info.value.reason  # jsonschema would quote the whole regex
    doc = {
        "ociVersion": "1.0.0",
        "root": {"path": "rootfs"},
        "linux": {"resources": {"rdma": {"mlx4_0": {}}}},
    }
    with pytest.raises(InvalidSpec) as info:
        schema.check(doc)
    assert info.value.reason == "must have at least one of 'hcaHandles', 'hcaObjects'"


def test_check_accepts_valid_document() -> None:
    assert schema.check({"ociVersion": "1.3.0", "root": {"path": "rootfs"}}) is None


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ([], "$"),
        (["process", "args", 0], "$.process.args[0]"),
        (["annotations", "com.example.key"], "$.annotations['com.example.key']"),
        (["linux", "netDevices", "eth0", "name"], "$.linux.netDevices.eth0.name"),
        (["a", "it's", 3], '$.a["it\'s"][3]'),
        (["a", ""], "$.a['']"),
        (["a", "ключ"], "$.a['ключ']"),
        (["a", "_x1"], "$.a._x1"),
    ],
)
def test_json_path(parts: list[Any], expected: str) -> None:
    assert json_path(parts) == expected


# ---------------------------------------------------------------------------- official schema

LINUX_IRRELEVANT_PREFIXES = ("freebsd-", "zos-", "windows-", "solaris-", "vm-")

#: Where our verdict deliberately differs from the official schema's (v1.3.0), and why.
#: The test fails if an entry is stale, i.e. the verdicts agree after all.
DIFFERENCES: dict[str, str] = {
    # -- stricter: the spec text asks for it, the official JSON schema does not check it
    "ours/bad/missing-root": "config.md: root is REQUIRED on all platforms but Windows",
    "ours/bad/ociversion-major-2": "ocirun implements runtime-spec 1.x: ociVersion must be SemVer 1.x.y",
    "ours/bad/ociversion-two-parts": "ociVersion MUST be SemVer: 1.0 is not",
    "ours/bad/ociversion-leading-zero": "ociVersion MUST be SemVer: no leading zeros",
    "ours/bad/ociversion-prerelease-leading-zero": "ociVersion MUST be SemVer: no leading zero in 01",
    "ours/bad/ociversion-v-prefix": "ociVersion MUST be SemVer: no v prefix",
    "ours/bad/process-missing-args": "config.md: at least one args entry is REQUIRED (non-Windows)",
    "ours/bad/process-args-empty": "config.md: at least one args entry is REQUIRED (non-Windows)",
    "ours/bad/process-cwd-relative": "config.md: cwd MUST be an absolute path",
    "ours/bad/user-missing-gid": "config.md: POSIX user uid and gid are REQUIRED",
    "ours/bad/io-priority-missing-priority": "config.md: ioPriority.priority is REQUIRED",
    "ours/bad/io-priority-out-of-range": "config.md: ioPriority.priority ranges from 0 to 7",
    "ours/bad/hook-relative-path": "config.md: hook path MUST be absolute",
    "ours/bad/mount-uid-mappings-without-gid": "config.md: uidMappings MUST come with gidMappings",
    "ours/bad/annotation-empty-key": "config.md: keys MUST NOT be empty (official pattern '.{1,}' skips '')",
    "ours/bad/namespace-relative-path": "config-linux.md: namespace path MUST be absolute",
    "ours/bad/masked-path-relative": "config-linux.md: maskedPaths MUST be absolute",
    "ours/bad/device-char-without-major": "config-linux.md: major, minor REQUIRED unless type is p",
    "ours/bad/device-rule-unknown-type": "config-linux.md: device rule type is a, c or b",
    "ours/bad/device-rule-bad-access": "config-linux.md: access is a composition of r, w and m",
    "ours/bad/memory-swappiness-over-100": "config-linux.md: swappiness values are from 0 to 100",
    "ours/bad/blockio-weight-device-without-weight": "config-linux.md: weight or leafWeight MUST be given",
    "ours/bad/blockio-throttle-missing-rate": "config-linux.md: throttle rate is REQUIRED",
    "ours/bad/rdma-entry-empty": "config-linux.md: rdma entry needs hcaHandles or hcaObjects",
    "ours/bad/intel-rdt-schemata-newline": "config-linux.md: schemata lines MUST NOT contain newlines",
    "ours/bad/memory-policy-missing-mode": "config-linux.md: memoryPolicy.mode is REQUIRED",
    "ours/bad/seccomp-metadata-without-listener": "config-linux.md: listenerMetadata needs listenerPath",
    # -- more permissive
    "ours/good/resources-pids-without-limit": "pids.limit is OPTIONAL in 1.3 (official: required)",
    "ours/good/device-fifo-without-numbers": "config-linux.md: fileMode is uint32 (official: at most 0o777)",
    "ours/good/rootfs-propagation-recursive": "rslave etc.: containerd writes them, runc takes them",
    "ours/good/non-linux-sections-ignored": "windows, solaris, vm, zos, freebsd: unknown to a Linux runtime",
    # -- official fixtures
    "official/good/spec-example": "ociVersion 0.5.0-dev: ocirun accepts 1.x.y only",
}


def official_cases() -> list[Any]:
    cases = [pytest.param(("ours", p), id=f"ours/{p.parent.name}/{p.stem}") for p in GOOD + BAD]
    test_dir = OFFICIAL / "schema" / "test" / "config"
    for p in sorted(test_dir.glob("*/*.json")) if test_dir.is_dir() else []:
        if not p.name.startswith(LINUX_IRRELEVANT_PREFIXES):
            cases.append(pytest.param(("official", p), id=f"official/{p.parent.name}/{p.stem}"))
    return cases


@pytest.fixture(scope="module")
def official_validator() -> Any:
    if not (OFFICIAL / "schema" / "config-schema.json").is_file():
        pytest.skip(f"no runtime-spec checkout at {OFFICIAL}")
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    from referencing.jsonschema import DRAFT4

    registry: Any = referencing.Registry()
    for path in (OFFICIAL / "schema").glob("*.json"):
        resource = referencing.Resource.from_contents(load(path), default_specification=DRAFT4)
        registry = registry.with_resource(path.name, resource)  # the schemas refer to "defs.json#..."
    return jsonschema.Draft4Validator(load(OFFICIAL / "schema" / "config-schema.json"), registry=registry)


@pytest.mark.parametrize("case", official_cases(), ids=None)
def test_verdict_matches_official_schema(
    case: tuple[str, Path], official_validator: Any, request: pytest.FixtureRequest
) -> None:
    origin, path = case
    key = f"{origin}/{path.parent.name}/{path.stem}"
    try:
        doc = load(path)
    except ValueError:
        pytest.skip("not JSON: parsing is not the validator's job")
    ours = validate(doc) is None
    official = official_validator.is_valid(doc)
    if origin == "official":
        assert official == (path.parent.name == "good")  # the fixtures' own claim
    if key in DIFFERENCES:
        assert ours != official, f"stale entry in DIFFERENCES: {key}"
    else:
        assert ours == official, f"{key}: ours={ours} official={official}: {validate(doc)}"


def test_differences_name_existing_fixtures() -> None:
    for key in DIFFERENCES:
        origin, kind, stem = key.split("/")
        if origin == "ours":
            assert (FIXTURES / kind / f"{stem}.json").is_file(), key


def config_md_example() -> Any:
    """The full example config.json at the end of the spec's config.md, or None."""
    path = OFFICIAL / "config.md"
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    section = text.split("## Configuration Schema Example", 1)[1]
    block = section.split("```json", 1)[1].split("```", 1)[0]
    return json.loads(block)


def test_config_md_example_is_valid(reference: Any) -> None:
    doc = config_md_example()
    if doc is None:
        pytest.skip(f"no runtime-spec checkout at {OFFICIAL}")
    assert validate(doc) is None
    assert reference.is_valid(doc)


# ---------------------------------------------------------------------------- mutations

#: Valid fixtures without unknown properties: every path in them is known to the schema.
MUTATION_BASES = [
    "full-featured",
    "process-linux-features",
    "seccomp-every-action-operator",
    "namespaces-all-types",
    "resources-integer-extremes",
    "resources-blockio",
    "resources-rdma",
    "intel-rdt",
    "memory-policy-personality",
    "hooks-all-kinds",
    "idmapped-mounts",
    "net-devices",
    "annotations-unknown-keys",
]

WRONG_TYPES: dict[type, list[Any]] = {
    str: [0, 1.5, True, None, [], {}],
    int: ["1", 1.0, 2.5, False, True, None, [], {}],
    bool: [0, 1, "true", None, [], {}],
    dict: [[], "x", 0, None, True],
    list: [{}, "x", 0, None, False],
}


def paths_of(doc: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path below the root of ``doc``."""
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from paths_of(value, (*prefix, key))


def get(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def put(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    doc = copy.deepcopy(doc)
    get(doc, path[:-1])[path[-1]] = value
    return doc


def mutation_docs() -> list[tuple[str, Any]]:
    return [(name, load(FIXTURES / "good" / f"{name}.json")) for name in MUTATION_BASES]


def test_type_mutations_are_rejected_identically(reference: Any) -> None:
    rng = random.Random(4242)
    docs = mutation_docs()
    checked = 0
    for name, doc in docs:
        for path in paths_of(doc):
            value = get(doc, path)
            wrong = rng.choice(WRONG_TYPES[type(value)])
            mutated = put(doc, path, wrong)
            where = json_path(path)
            result = validate(mutated)
            assert result is not None and result[0] == where, (name, where, wrong, result)
            # a non-empty set of error paths also means jsonschema finds the document invalid
            assert where in error_paths(reference, mutated), (name, where, wrong)
            checked += 1
    assert checked > 700, checked


def test_value_mutations_agree(reference: Any) -> None:
    """Same-type changes (out of range, unknown names, odd strings) and removals of members:
    valid or not, both validators must say the same, at a path jsonschema also reports."""
    rng = random.Random(777)
    docs = mutation_docs()
    ints = [
        -1,
        0,
        1,
        7,
        8,
        100,
        101,
        511,
        65535,
        65536,
        2**31,
        2**32 - 1,
        2**32,
        2**63 - 1,
        2**63,
        -(2**63),
        -(2**63) - 1,
        2**64 - 1,
        2**64,
    ]
    strs = [
        "",
        "/",
        "rel/path",
        "pidd",
        "CAP_X",
        "cap_x",
        "RLIMIT_X",
        "2MB",
        "2mb",
        "0-3",
        "a\nb",
        "MB:1",
        "1.0.0",
        "2.0.0",
        "rwm",
        "rwx",
        "p",
        "SCMP_ACT_KILL",
    ]
    seen = {"valid": 0, "invalid": 0}
    for _ in range(3000):
        name, doc = rng.choice(docs)
        path = rng.choice(list(paths_of(doc)))
        value = get(doc, path)
        if rng.random() < 0.2:
            mutated = copy.deepcopy(doc)
            container = get(mutated, path[:-1])
            del container[path[-1]]
        elif type(value) is int:
            mutated = put(doc, path, rng.choice(ints))
        elif type(value) is str:
            mutated = put(doc, path, rng.choice(strs))
        else:
            continue
        result = validate(mutated)
        js_valid = reference.is_valid(mutated)
        assert (result is None) == js_valid, (name, path, result)
        if result is not None:
            assert result[0] in error_paths(reference, mutated), (name, path, result)
        seen["valid" if result is None else "invalid"] += 1
    assert seen["valid"] > 100 and seen["invalid"] > 100, seen


# ---------------------------------------------------------------------------- cost


def python_isolated(code: str) -> str:
    """Run ``code`` like ocirun runs (-I -S) with the project on sys.path; return stderr+stdout."""
    prog = f"import sys; sys.path.insert(0, {str(ROOT)!r})\n{code}"
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-X", "importtime", "-c", prog],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout + "\n" + done.stderr


HEAVY = ("re", "json", "typing", "enum", "jsonschema", "__future__", "dataclasses")


def new_modules(parents: str, module: str) -> list[str]:
    """Modules that importing ``module`` adds, once ``parents`` (comma-separated) are imported."""
    out = python_isolated(
        f"import {parents}\n"
        "before = set(sys.modules)\n"
        f"import {module}\n"
        "print('NEW', sorted(set(sys.modules) - before))\n"
    )
    line = next(x for x in out.splitlines() if x.startswith("NEW "))
    return list(ast.literal_eval(line[4:]))


def test_validator_imports_nothing() -> None:
    assert new_modules("ocirun.spec", "ocirun.spec._validator") == ["ocirun.spec._validator"]


def test_schema_module_imports_nothing_heavy() -> None:
    added = new_modules("ocirun.spec, ocirun.errors", "ocirun.spec.schema")
    assert not set(added) & set(HEAVY), added


def test_validator_import_time() -> None:
    python_isolated("import ocirun.spec._validator")  # writes the .pyc if missing
    times = []
    for _ in range(7):
        out = python_isolated("import ocirun.spec._validator")
        line = next(x for x in out.splitlines() if x.rstrip().endswith("| ocirun.spec._validator"))
        times.append(int(line.split("|")[1]))  # cumulative microseconds
    assert min(times) < 2000, times


def average_validation_seconds(doc: Any, rounds: int = 500) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(rounds):
            validate(doc)
        best = min(best, (time.perf_counter() - start) / rounds)
    return best


def test_validation_time_full_config() -> None:
    doc = load(FIXTURES / "good" / "full-featured.json")
    assert validate(doc) is None
    assert average_validation_seconds(doc) < 0.001


def test_validation_time_config_md_example() -> None:
    doc = config_md_example()
    if doc is None:
        pytest.skip(f"no runtime-spec checkout at {OFFICIAL}")
    assert average_validation_seconds(doc) < 0.001
