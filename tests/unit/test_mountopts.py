"""Mount option strings (ocirun.spec.mountopts) against the runtime-spec's table and the kernel.

The table is read from config.md "Linux mount options" of the runtime-spec checkout (a sibling
``shared/oci-runtime-spec`` folder, or $OCI_RUNTIME_SPEC_DIR); those tests are skipped when it is
missing.  The flag values are checked against the kernel headers, compiled with gcc.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ocirun.spec import mountopts as mo

ROOT = Path(__file__).resolve().parents[2]
SPEC_DIR = Path(os.environ.get("OCI_RUNTIME_SPEC_DIR") or ROOT.parent / "shared" / "oci-runtime-spec")
CONFIG_MD = SPEC_DIR / "config.md"
UNSUPPORTED: set[str] = set()


def spec_table() -> dict[str, str]:
    """option -> requirement (MUST/SHOULD/MAY) of config.md's "Linux mount options" table."""
    text = CONFIG_MD.read_text(encoding="utf-8")
    section = text.split('name="configLinuxMountOptions"', 1)[1]
    out = {}
    for line in section.splitlines()[1:]:
        if line.startswith("#"):
            break
        m = re.match(r"^\s*`([^`]+)`\s*\|\s*(MUST|SHOULD|MAY)\s*\|", line)
        if m:
            out[m.group(1).strip()] = m.group(2)
    return out


needs_spec = pytest.mark.skipif(not CONFIG_MD.is_file(), reason=f"{CONFIG_MD} is missing")


@needs_spec
def test_the_table_is_read() -> None:
    table = spec_table()
    assert len(table) > 50
    assert table["ro"] == "MUST" and table["rro"] == "SHOULD" and table["tmpcopyup"] == "MAY"
    assert "rrelatime" in table  # written "`rrelatime  `" in the table


@needs_spec
def test_every_option_of_the_spec_is_supported_or_known_unsupported() -> None:
    table = spec_table()
    missing = sorted(o for o in table if o not in mo.SUPPORTED and o not in UNSUPPORTED)
    assert not missing, (
        f"options of config.md that ocirun neither supports nor lists as unsupported: {missing}"
    )
    assert set(table) >= UNSUPPORTED


@needs_spec
def test_supported_options_beyond_the_table_are_recursive_forms_of_table_options() -> None:
    # the table lists rdev but not rnodev (runc and crun take both); custom options are allowed
    table = spec_table()
    extra = set(mo.SUPPORTED) - set(table)
    assert all(o in mo.RECURSIVE and o[1:] in table for o in extra), extra
    assert extra <= {"rnodev"}


@needs_spec
def test_every_must_option_is_supported() -> None:
    assert not [o for o, req in spec_table().items() if req == "MUST" and o not in mo.SUPPORTED]


def test_supported_has_no_duplicates_and_no_unsupported() -> None:
    assert len(mo.SUPPORTED) == len(set(mo.SUPPORTED))
    assert not UNSUPPORTED & set(mo.SUPPORTED)
    assert not set(mo.FLAGS) & set(mo.PROPAGATION)
    assert not set(mo.FLAGS) & set(mo.RECURSIVE)
    assert not set(mo.PROPAGATION) & set(mo.RECURSIVE)


# ---------------------------------------------------------------------------- the kernel's values

HEADER_PROGRAM = r"""
#include <stdio.h>
#include <linux/fcntl.h>
#include <linux/mount.h>
#define P(x) printf(#x " %lu\n", (unsigned long)(x));
int main(void)
{
    P(MS_RDONLY) P(MS_NOSUID) P(MS_NODEV) P(MS_NOEXEC) P(MS_SYNCHRONOUS) P(MS_REMOUNT) P(MS_MANDLOCK)
    P(MS_DIRSYNC) P(MS_NOSYMFOLLOW) P(MS_NOATIME) P(MS_NODIRATIME) P(MS_BIND) P(MS_MOVE) P(MS_REC)
    P(MS_SILENT) P(MS_UNBINDABLE) P(MS_PRIVATE) P(MS_SLAVE) P(MS_SHARED) P(MS_RELATIME) P(MS_I_VERSION)
    P(MS_STRICTATIME) P(MS_LAZYTIME)
    P(MOUNT_ATTR_RDONLY) P(MOUNT_ATTR_NOSUID) P(MOUNT_ATTR_NODEV) P(MOUNT_ATTR_NOEXEC) P(MOUNT_ATTR__ATIME)
    P(MOUNT_ATTR_RELATIME) P(MOUNT_ATTR_NOATIME) P(MOUNT_ATTR_STRICTATIME) P(MOUNT_ATTR_NODIRATIME)
    P(MOUNT_ATTR_NOSYMFOLLOW) P(AT_RECURSIVE)
    return 0;
}
"""


@pytest.fixture(scope="module")
def kernel_values(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    if shutil.which("gcc") is None or not Path("/usr/include/linux/mount.h").is_file():
        pytest.skip("gcc or the kernel headers are missing")
    tmp = tmp_path_factory.mktemp("mount-h")
    (tmp / "p.c").write_text(HEADER_PROGRAM)
    cc = subprocess.run(
        ["gcc", "-o", str(tmp / "p"), str(tmp / "p.c")], capture_output=True, text=True, timeout=60
    )
    if cc.returncode != 0:
        pytest.skip(f"the kernel headers lack a constant: {cc.stderr[-300:]}")
    out = subprocess.run([str(tmp / "p")], capture_output=True, text=True, check=True, timeout=30).stdout
    return {name: int(value) for name, value in (line.split() for line in out.splitlines())}


def test_constants_equal_the_kernel_headers(kernel_values: dict[str, int]) -> None:
    wrong = {
        name: (getattr(mo, name), value)
        for name, value in kernel_values.items()
        if getattr(mo, name) != value
    }
    assert not wrong


# ---------------------------------------------------------------------------- parse


@pytest.mark.parametrize("opt", sorted(mo.FLAGS))
def test_each_flag_option(opt: str) -> None:
    clear, bits = mo.FLAGS[opt]
    out = mo.parse([opt])
    assert out.data == [] and out.propagation == 0 and not out.recursive_attrs
    if clear:
        assert out.flags == 0 and out.clear == bits
    else:
        assert out.flags == bits and out.clear == 0


@pytest.mark.parametrize(
    ("on", "off", "bit"),
    [
        ("ro", "rw", mo.MS_RDONLY),
        ("nosuid", "suid", mo.MS_NOSUID),
        ("nodev", "dev", mo.MS_NODEV),
        ("noexec", "exec", mo.MS_NOEXEC),
        ("sync", "async", mo.MS_SYNCHRONOUS),
        ("mand", "nomand", mo.MS_MANDLOCK),
        ("noatime", "atime", mo.MS_NOATIME),
        ("nodiratime", "diratime", mo.MS_NODIRATIME),
        ("relatime", "norelatime", mo.MS_RELATIME),
        ("strictatime", "nostrictatime", mo.MS_STRICTATIME),
        ("silent", "loud", mo.MS_SILENT),
        ("iversion", "noiversion", mo.MS_I_VERSION),
        ("lazytime", "nolazytime", mo.MS_LAZYTIME),
        ("nosymfollow", "symfollow", mo.MS_NOSYMFOLLOW),
    ],
)
def test_opposites_last_one_wins(on: str, off: str, bit: int) -> None:
    a = mo.parse([on, off])
    assert not a.flags & bit and a.clear & bit
    b = mo.parse([off, on])
    assert b.flags & bit and not b.clear & bit
    c = mo.parse([on, off, on, "defaults"])
    assert c.flags & bit and not c.clear & bit


def test_flags_combine() -> None:
    out = mo.parse(["nosuid", "noexec", "nodev", "ro", "relatime"])
    assert out.flags == mo.MS_NOSUID | mo.MS_NOEXEC | mo.MS_NODEV | mo.MS_RDONLY | mo.MS_RELATIME
    assert out.clear == 0


def test_bind_and_rbind() -> None:
    assert mo.parse(["bind"]).flags == mo.MS_BIND and mo.parse(["bind"]).is_bind
    assert mo.parse(["rbind"]).flags == mo.MS_BIND | mo.MS_REC and mo.parse(["rbind"]).is_bind
    assert mo.parse(["bind", "ro"]).flags == mo.MS_BIND | mo.MS_RDONLY
    assert not mo.parse(["ro"]).is_bind
    assert not mo.parse([]).is_bind


def test_remount() -> None:
    assert mo.parse(["remount", "ro"]).flags == mo.MS_REMOUNT | mo.MS_RDONLY


@pytest.mark.parametrize("opt", sorted(mo.PROPAGATION))
def test_each_propagation_option(opt: str) -> None:
    out = mo.parse([opt])
    assert out.propagation == mo.PROPAGATION[opt]
    assert out.flags == 0 and out.data == []
    recursive = opt.startswith("r")
    assert bool(out.propagation & mo.MS_REC) is recursive
    kind = out.propagation & ~mo.MS_REC
    assert kind in (mo.MS_SHARED, mo.MS_SLAVE, mo.MS_PRIVATE, mo.MS_UNBINDABLE)


def test_propagation_last_one_wins() -> None:
    assert mo.parse(["shared", "rprivate"]).propagation == mo.MS_PRIVATE | mo.MS_REC
    assert mo.parse(["rslave", "shared"]).propagation == mo.MS_SHARED
    assert mo.parse(["rbind", "rshared", "ro"]).propagation == mo.MS_SHARED | mo.MS_REC


@pytest.mark.parametrize(
    ("opt", "attr_set", "attr_clr"),
    [
        ("rro", mo.MOUNT_ATTR_RDONLY, 0),
        ("rrw", 0, mo.MOUNT_ATTR_RDONLY),
        ("rnosuid", mo.MOUNT_ATTR_NOSUID, 0),
        ("rsuid", 0, mo.MOUNT_ATTR_NOSUID),
        ("rnodev", mo.MOUNT_ATTR_NODEV, 0),
        ("rdev", 0, mo.MOUNT_ATTR_NODEV),
        ("rnoexec", mo.MOUNT_ATTR_NOEXEC, 0),
        ("rexec", 0, mo.MOUNT_ATTR_NOEXEC),
        ("rnodiratime", mo.MOUNT_ATTR_NODIRATIME, 0),
        ("rdiratime", 0, mo.MOUNT_ATTR_NODIRATIME),
        ("rnosymfollow", mo.MOUNT_ATTR_NOSYMFOLLOW, 0),
        ("rsymfollow", 0, mo.MOUNT_ATTR_NOSYMFOLLOW),
        # the atime modes replace the whole atime field (mount_setattr(2))
        ("rrelatime", mo.MOUNT_ATTR_RELATIME, mo.MOUNT_ATTR__ATIME),
        ("rnoatime", mo.MOUNT_ATTR_NOATIME, mo.MOUNT_ATTR__ATIME),
        ("rstrictatime", mo.MOUNT_ATTR_STRICTATIME, mo.MOUNT_ATTR__ATIME),
        ("ratime", 0, mo.MOUNT_ATTR__ATIME),
        ("rnorelatime", 0, mo.MOUNT_ATTR__ATIME),
        ("rnostrictatime", 0, mo.MOUNT_ATTR__ATIME),
    ],
)
def test_each_recursive_option(opt: str, attr_set: int, attr_clr: int) -> None:
    out = mo.parse([opt])
    assert (out.attr_set, out.attr_clr) == (attr_set, attr_clr)
    assert out.flags == 0 and out.data == [] and out.propagation == 0
    assert out.recursive_attrs
    # what mount_setattr(2) accepts: an atime mode only together with clearing the whole field
    if out.attr_set & mo.MOUNT_ATTR__ATIME:
        assert out.attr_clr & mo.MOUNT_ATTR__ATIME == mo.MOUNT_ATTR__ATIME
    assert out.attr_clr & mo.MOUNT_ATTR__ATIME in (0, mo.MOUNT_ATTR__ATIME)


def test_recursive_last_one_wins() -> None:
    a = mo.parse(["rro", "rrw"])
    assert (a.attr_set, a.attr_clr) == (0, mo.MOUNT_ATTR_RDONLY)
    b = mo.parse(["rrw", "rro"])
    assert (b.attr_set, b.attr_clr) == (mo.MOUNT_ATTR_RDONLY, 0)
    c = mo.parse(["rnoatime", "rstrictatime"])
    assert c.attr_set & mo.MOUNT_ATTR__ATIME == mo.MOUNT_ATTR_STRICTATIME
    assert c.attr_clr == mo.MOUNT_ATTR__ATIME
    d = mo.parse(["rnoatime", "ratime"])
    assert d.attr_set == 0 and d.attr_clr == mo.MOUNT_ATTR__ATIME
    e = mo.parse(["rro", "rnoatime", "rnosuid"])
    assert e.attr_set == mo.MOUNT_ATTR_RDONLY | mo.MOUNT_ATTR_NOATIME | mo.MOUNT_ATTR_NOSUID
    assert e.attr_clr == mo.MOUNT_ATTR__ATIME


def test_recursive_and_plain_options_are_independent() -> None:
    out = mo.parse(["rbind", "ro", "rrw"])
    assert out.flags == mo.MS_BIND | mo.MS_REC | mo.MS_RDONLY
    assert out.attr_clr == mo.MOUNT_ATTR_RDONLY and out.attr_set == 0


def test_unknown_options_are_data_in_order() -> None:
    out = mo.parse(["nosuid", "mode=755", "size=65536k", "ro", "uid=5", "newinstance", "x"])
    assert out.data == ["mode=755", "size=65536k", "uid=5", "newinstance", "x"]
    assert out.flags == mo.MS_NOSUID | mo.MS_RDONLY


def test_unknown_options_are_passed_as_data() -> None:
    # not recognized: they reach mount(2)'s data, where the kernel rejects them, rather than being ignored
    assert mo.parse(["tmpcopyup", "idmapx"]).data == ["idmapx"]
    assert mo.parse(["tmpcopyup"]).copyup


def test_idmap_options_are_never_mount_data() -> None:
    assert (mo.parse(["rbind", "idmap"]).idmap, mo.parse(["rbind", "idmap"]).data) == ("idmap", [])
    assert mo.parse(["rbind", "ridmap"]).idmap == "ridmap"


def test_options_are_case_sensitive_and_exact() -> None:
    assert mo.parse(["RO", " ro", "ro "]).flags == 0
    assert mo.parse(["RO", " ro", "ro "]).data == ["RO", " ro", "ro "]


def test_empty() -> None:
    out = mo.parse([])
    assert (out.flags, out.clear, out.propagation, out.attr_set, out.attr_clr, out.data) == (
        0,
        0,
        0,
        0,
        0,
        [],
    )
    assert not out.is_bind and not out.recursive_attrs
