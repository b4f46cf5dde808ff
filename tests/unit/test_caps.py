"""Capabilities (ocirun.caps): the name table against linux/capability.h, and the masks the init
stage applies."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ocirun import caps
from ocirun.spec.model import Capabilities

HEADER = Path("/usr/include/linux/capability.h")
ALL = (1 << 64) - 1


def header_caps() -> dict[str, int]:
    text = HEADER.read_text()
    found = {name: int(num) for name, num in re.findall(r"^#define\s+(CAP_[A-Z_]+)\s+(\d+)\s*$", text, re.M)}
    return found


@pytest.mark.skipif(not HEADER.is_file(), reason=f"{HEADER} is missing")
def test_names_agree_with_the_kernel_header() -> None:
    header = header_caps()
    assert header, "no capability found in the header"
    for name, num in header.items():
        assert caps.NUMBERS.get(name) == num, f"{name} is {num} in linux/capability.h"
    # the header may be older than our table, never the other way round
    last = max(header.values())
    assert [n for n in caps.NAMES[: last + 1]] == sorted(header, key=header.__getitem__)


def test_table_shape() -> None:
    assert len(caps.NAMES) == len(set(caps.NAMES))
    assert all(re.fullmatch(r"CAP_[A-Z_]+", n) for n in caps.NAMES)
    assert {n: i for i, n in enumerate(caps.NAMES)} == caps.NUMBERS
    assert (caps.NUMBERS["CAP_CHOWN"], caps.NUMBERS["CAP_SYS_ADMIN"]) == (0, 21)
    assert caps.NUMBERS["CAP_CHECKPOINT_RESTORE"] == 40


def test_last_cap_matches_proc() -> None:
    top = caps.last_cap()
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            assert top == int(f.read())
    except FileNotFoundError:
        assert top == len(caps.NAMES) - 1


def test_own_permitted_matches_proc_status() -> None:
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith("CapPrm:"))
    assert caps.own_permitted() == int(line.split()[1], 16)


@pytest.fixture
def hold_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(caps, "own_permitted", lambda: ALL)


def bit(*names: str) -> int:
    out = 0
    for n in names:
        out |= 1 << caps.NUMBERS[n]
    return out


def test_no_capabilities_object_means_none() -> None:
    warn: list[str] = []
    assert caps.masks(None, 40, warn) == (0, 0, 0, 0, 0)
    assert warn == []


def test_masks(hold_all: None) -> None:
    c = Capabilities(
        bounding=["CAP_KILL", "CAP_CHOWN", "CAP_NET_BIND_SERVICE"],
        effective=["CAP_KILL"],
        permitted=["CAP_KILL", "CAP_CHOWN"],
        inheritable=["CAP_KILL"],
        ambient=["CAP_KILL"],
    )
    warn: list[str] = []
    assert caps.masks(c, 40, warn) == (
        bit("CAP_KILL", "CAP_CHOWN", "CAP_NET_BIND_SERVICE"),
        bit("CAP_KILL"),
        bit("CAP_KILL", "CAP_CHOWN"),
        bit("CAP_KILL"),
        bit("CAP_KILL"),
    )
    assert warn == []


def test_missing_sets_are_empty(hold_all: None) -> None:
    warn: list[str] = []
    assert caps.masks(Capabilities(bounding=["CAP_KILL"]), 40, warn) == (bit("CAP_KILL"), 0, 0, 0, 0)
    assert caps.masks(Capabilities(), 40, warn) == (0, 0, 0, 0, 0)


@pytest.mark.parametrize("set_name", caps.SETS)
def test_unknown_name_is_left_out_with_a_warning(hold_all: None, set_name: str) -> None:
    """config.md: a runtime SHOULD NOT fail for a capability it does not know (runc warns)."""
    c = Capabilities(**{set_name: ["CAP_KILL", "CAP_CHOWN", "CAP_BOGUS"]})
    warn: list[str] = []
    masks = caps.masks(c, 40, warn)
    # (ambient ones are also left out unless permitted and inheritable)
    expected = 0 if set_name == "ambient" else bit("CAP_KILL") | bit("CAP_CHOWN")
    assert masks[caps.SETS.index(set_name)] == expected
    assert any("CAP_BOGUS" in w and f"$.process.capabilities.{set_name}[2]" in w for w in warn)


@pytest.mark.parametrize("name", ["cap_kill", "KILL", "CAP_KILL ", ""])
def test_names_are_exact(hold_all: None, name: str) -> None:
    warn: list[str] = []
    assert caps.masks(Capabilities(bounding=[name]), 40, warn) == (0, 0, 0, 0, 0)
    assert warn


@pytest.mark.parametrize(
    ("permitted", "inheritable", "kept"),
    [
        (["CAP_KILL"], ["CAP_KILL"], True),
        (["CAP_KILL"], [], False),
        ([], ["CAP_KILL"], False),
        ([], [], False),
    ],
)
def test_ambient_needs_permitted_and_inheritable(
    hold_all: None, permitted: list[str], inheritable: list[str], kept: bool
) -> None:
    c = Capabilities(
        permitted=permitted,
        inheritable=inheritable,
        ambient=["CAP_KILL", "CAP_CHOWN"],
        effective=[],
        bounding=["CAP_KILL", "CAP_CHOWN"],
    )
    warn: list[str] = []
    ambient = caps.masks(c, 40, warn)[4]
    assert ambient == (bit("CAP_KILL") if kept else 0)
    # CAP_CHOWN is in neither set: always dropped, with a warning naming it
    assert any("CAP_CHOWN" in w and "ambient" in w for w in warn)
    assert any("CAP_KILL" in w for w in warn) is not kept
    assert len(warn) == (1 if kept else 2)


def test_above_the_kernels_last_cap_is_dropped_with_a_warning(hold_all: None) -> None:
    c = Capabilities(bounding=["CAP_KILL", "CAP_CHECKPOINT_RESTORE"], permitted=["CAP_CHECKPOINT_RESTORE"])
    warn: list[str] = []
    masks = caps.masks(c, 39, warn)
    assert masks[0] == bit("CAP_KILL") and masks[2] == 0
    assert len([w for w in warn if "CAP_CHECKPOINT_RESTORE" in w]) == 2  # once per set
    assert all("not available" in w for w in warn)


def test_not_held_is_dropped_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(caps, "own_permitted", lambda: bit("CAP_KILL"))
    warn: list[str] = []
    c = Capabilities(bounding=["CAP_KILL", "CAP_SYS_ADMIN"], effective=["CAP_SYS_ADMIN"])
    masks = caps.masks(c, 40, warn)
    assert masks[:2] == (bit("CAP_KILL"), 0)
    assert len(warn) == 2 and all("CAP_SYS_ADMIN" in w for w in warn)


def test_warnings_are_not_repeated(hold_all: None) -> None:
    warn: list[str] = []
    c = Capabilities(bounding=["CAP_BPF", "CAP_BPF"])
    caps.masks(c, 30, warn)
    caps.masks(c, 30, warn)
    assert len(warn) == 1


def test_every_name_maps_to_its_bit(hold_all: None) -> None:
    c = Capabilities(**{s: list(caps.NAMES) for s in caps.SETS})
    warn: list[str] = []
    masks = caps.masks(c, len(caps.NAMES) - 1, warn)
    full = (1 << len(caps.NAMES)) - 1
    assert masks == (full, full, full, full, full)
    assert warn == []
