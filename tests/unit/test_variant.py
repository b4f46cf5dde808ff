"""GVariant text of the org.systemd.property.* annotations (ocirun.cgroups.variant), read as runc
reads it (godbus's ParseVariant): the types it infers, the ones it is told, and what it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from ocirun.cgroups.variant import VariantError, parse, seconds_to_usec


@pytest.mark.parametrize(
    "text, typed",
    [
        ("true", ("b", True)),
        ("false", ("b", False)),
        ("5", ("i", 5)),                          # an integer is an int32 unless told
        ("-5", ("i", -5)),
        ("0x1f", ("i", 31)),
        ("010", ("i", 8)),                        # a leading 0: octal
        ("1.5", ("d", 1.5)),
        ("2e3", ("d", 2000.0)),
        ("uint64 5000000", ("t", 5000000)),
        ("int64 -5", ("x", -5)),
        ("uint32 7", ("u", 7)),
        ("byte 255", ("y", 255)),
        ("double 3", ("d", 3.0)),
        ("boolean true", ("b", True)),
        ("@t 18446744073709551615", ("t", (1 << 64) - 1)),
        ("'inactive-or-failed'", ("s", "inactive-or-failed")),
        ('"two words"', ("s", "two words")),
        (r"'a\tb\u00e9\''", ("s", "a\tb\u00e9'")),
        ("objectpath '/org/a'", ("o", "/org/a")),
        ("['a.service', 'b.service']", ("as", ["a.service", "b.service"])),
        ("[1, 2]", ("ai", [1, 2])),
        ("@at [1, 2]", ("at", [1, 2])),
        ("@ay [1, 2]", ("ay", b"\x01\x02")),
        ("b'ab'", ("ay", b"ab\x00")),             # a byte string ends in NUL, as GVariant's
        ("@as []", ("as", [])),
        ("[[1], [2, 3]]", ("aai", [[1], [2, 3]])),
        ("<5>", ("v", ("i", 5))),
        ("  [ 'x' ,'y' ]  ", ("as", ["x", "y"])),
    ],
)
def test_parse(text: str, typed: tuple[str, Any]) -> None:
    assert parse(text) == typed


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "a value is missing"),
        ("[]", r"cannot tell the type of \[\]"),  # an empty array needs @TYPE
        ("uint64 -1", "out of the range of type 't'"),
        ("byte 256", "out of the range of type 'y'"),
        ("int32 2147483648", "out of the range of type 'i'"),
        ("[1, 'a']", "not of the type of the array's other elements"),
        ("{1: 2}", "tuples and dictionaries are not taken"),
        ("(1, 2)", "tuples and dictionaries are not taken"),
        ("'open", "without its closing quote"),
        ("@t 'a'", "cannot be of type 't'"),
        ("uint64 uint64 5", "a second type before a value"),
        ("1.2.3", "is not a number"),
        ("08", "is not an integer"),
        ("5 6", "unexpected '6' after the value"),
        ("yes", "unknown word 'yes'"),
        ("uint64 [1]", "an array cannot be of type 't'"),
    ],
)
def test_parse_refuses(text: str, message: str) -> None:
    with pytest.raises(VariantError, match=message):
        parse(text)


def test_seconds_to_usec() -> None:
    assert seconds_to_usec(("i", 5)) == ("t", 5_000_000)
    assert seconds_to_usec(("d", 0.25)) == ("t", 250_000)
    with pytest.raises(VariantError, match="must be a number"):
        seconds_to_usec(("s", "5"))
    with pytest.raises(VariantError, match="out of range"):
        seconds_to_usec(("i", -1))
