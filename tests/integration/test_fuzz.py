"""Property-based fuzzing of config.json (issue 12 item 3), with hypothesis: over the config's
structure (values replaced by any JSON, keys dropped or added) and over raw bytes (random, cut,
one byte changed).  Whatever the input, `ocirun create` exits 0 or 1, an error is one line and
never "internal error", and once deleted nothing is left behind.

Bounded: 80 examples each, most of them refused quickly at create; about 25 s each on a
busy 2-core machine.  OCIRUN_FUZZ_EXAMPLES=N runs more.

Safety: the fuzzer never touches what could reach the host: root, mounts' sources and types,
namespaces, cgroupsPath, hooks, devices and sysctls keep the test's values (a mutated config
without a mount namespace could mount onto the host, a hook could run anything).  ocirun only.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from .support import Bundle, Runtime, base_config, probe_args

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is a test extra (pip install .[test])")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

EXAMPLES = int(os.environ.get("OCIRUN_FUZZ_EXAMPLES", "80"))
# No shrinking: an example takes a create (tenths of a second), and shrinking one failure ran past
# five minutes; the failing example is printed as found.
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
                phases=(Phase.explicit, Phase.generate),
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

# JSON paths (as tuples of keys) the fuzzer leaves alone: what could reach the host
PROTECTED = (
    ("root",), ("linux", "namespaces"), ("linux", "cgroupsPath"), ("hooks",), ("linux", "devices"),
    ("linux", "sysctl"), ("linux", "uidMappings"), ("linux", "gidMappings"),
)
MOUNT_PROTECTED = ("source", "type", "options")

SPECIAL_TEXT = ["", "\ud800", "\udfff", "\0", "a\0b", "/", "..", "../../..", "/proc", "x" * 5000, "\U0001f600",
                "RLIMIT_NOFILE", "CAP_SYS_ADMIN", "-1", "max", "1.0.2", "2.0.0"]
SPECIAL_INTS = [0, -1, 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64, 2**64 + (64 << 20), -(2**63) - 1, 4096]

scalars = (
    st.none()
    | st.booleans()
    | st.sampled_from(SPECIAL_INTS)
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(SPECIAL_TEXT)
    | st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()), max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=8,
)


def _protected(path: tuple[Any, ...]) -> bool:
    keys = tuple(k for k in path if isinstance(k, str))
    if any(keys[: len(p)] == p for p in PROTECTED):
        return True
    return bool(path[:1] == ("mounts",) and len(path) >= 3 and path[2] in MOUNT_PROTECTED) or path == ("mounts",)


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every JSON path in the config the fuzzer may change."""
    if path and not _protected(path):
        yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _nodes(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _nodes(item, (*path, i))


@st.composite
def mutated_configs(draw: st.DrawFn) -> dict[str, Any]:
    config = base_config(probe_args("sleep", "5"))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = list(_nodes(config))
        path = draw(st.sampled_from(paths))
        parent = config
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(json_values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent["org.fuzz." + draw(st.text(max_size=6))] = draw(json_values)
    return config


def _check_create(runtime: Runtime, bundle: Bundle, cid: str) -> None:
    res = runtime.try_create(bundle, cid)
    assert res.returncode in (0, 1), f"exit {res.returncode}: {res.stderr!r}"
    assert "internal error" not in res.stderr, res.stderr
    if res.returncode == 1:
        assert len(res.error_lines) == 1, res.error_lines
    state = runtime.run("state", cid, check=False)
    assert "internal error" not in state.stderr, state.stderr
    delete = runtime.run("delete", "--force", cid, check=False)
    assert delete.returncode == 0 and "internal error" not in delete.stderr, delete.stderr
    leaks = runtime.leaks()
    assert leaks == [], leaks


@pytest.fixture
def ocirun_only(runtime: Runtime) -> Runtime:
    if runtime.name != "ocirun":
        pytest.skip("a property of ocirun's error handling (runc's Go errors may span lines)")
    return runtime


@pytest.mark.timeout(300)
def test_fuzz_config_structure(ocirun_only: Runtime, bundle: Bundle) -> None:
    runtime = ocirun_only

    @FUZZ
    @given(config=mutated_configs())
    def check(config: dict[str, Any]) -> None:
        bundle.raw_config = None
        bundle.config = config
        _check_create(runtime, bundle, runtime.new_id("fz"))

    check()


def _config_text() -> bytes:
    config = copy.deepcopy(base_config(probe_args("sleep", "5")))
    return json.dumps(config, indent=2).encode()


@st.composite
def raw_configs(draw: st.DrawFn) -> bytes:
    text = _config_text()
    kind = draw(st.sampled_from(["random", "cut", "flip", "flip"]))
    if kind == "random":
        return draw(st.binary(max_size=200))
    if kind == "cut":
        return text[: draw(st.integers(min_value=0, max_value=len(text)))]
    # one byte changed, never inside cgroupsPath's value (the cgroup stays the test's)
    protected = re.search(rb'"cgroupsPath": "[^"]*"', text)
    assert protected is not None
    at = draw(st.integers(min_value=0, max_value=len(text) - 1).filter(
        lambda i: not protected.start() <= i < protected.end()))
    return text[:at] + bytes([draw(st.integers(min_value=0, max_value=255))]) + text[at + 1:]


@pytest.mark.timeout(300)
def test_fuzz_config_bytes(ocirun_only: Runtime, bundle: Bundle) -> None:
    runtime = ocirun_only

    @FUZZ
    @given(data=raw_configs())
    def check(data: bytes) -> None:
        cid = runtime.new_id("fz")
        # the test's cgroupsPath template, filled in as Bundle.write_config does
        bundle.config_path.write_bytes(data.replace(b"{id}", cid.encode()))
        res = runtime.run("create", "--bundle", str(bundle.path), cid, check=False)
        assert res.returncode in (0, 1), f"exit {res.returncode}: {res.stderr!r}"
        assert "internal error" not in res.stderr, res.stderr
        if res.returncode == 1:
            assert len(res.error_lines) == 1, res.error_lines
        delete = runtime.run("delete", "--force", cid, check=False)
        assert delete.returncode == 0 and "internal error" not in delete.stderr, delete.stderr
        assert runtime.leaks() == []

    check()
