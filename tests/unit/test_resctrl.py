"""ocirun.resctrl against a temporary directory laid out as a mounted resctrl is: the root group
with `schemata`, `tasks`, `info/` and `mon_groups/`, and a pre-made CLOS group; a new group
gets its files from the stand-in ``mkdir`` as the kernel makes them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ocirun import resctrl
from ocirun.errors import InvalidSpec

ROOT_SCHEMATA = "    L3:0=7ff;1=7ff\n    MB:0=100;1=100\n"


def group_dir(path: Path, schemata: str = ROOT_SCHEMATA) -> None:
    """What the kernel makes in a new resctrl group."""
    path.mkdir()
    (path / "schemata").write_text(schemata)
    (path / "tasks").write_text("")
    (path / "cpus").write_text("0-3\n")
    (path / "mon_groups").mkdir()


def mkdir_like_resctrl(path: str) -> None:
    p = Path(path)
    if p.parent.name == "mon_groups":  # a MON group: tasks only
        p.mkdir()
        (p / "tasks").write_text("")
    else:
        group_dir(p, "")  # (the kernel shows the defaults; a plain file shows what was written)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "resctrl"
    group_dir(r)
    (r / "info").mkdir()
    group_dir(r / "guaranteed_group", "    L3:0=7f0;1=01f\n    MB:0=20;1=70\n")
    return r


def files(path: Path) -> dict[str, str]:
    return {name: (path / name).read_text() for name in ("schemata", "tasks")}


def test_mount_point_from_mountinfo() -> None:
    text = (
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
        "40 22 0:38 / /sys/fs/resctrl rw,relatime shared:20 - resctrl resctrl rw\n"
    )
    assert resctrl.mount_point(text) == "/sys/fs/resctrl"
    assert resctrl.mount_point(text.splitlines()[0]) is None


def test_no_resctrl_mounted_is_a_clear_error() -> None:
    with pytest.raises(InvalidSpec) as e:
        resctrl.plan({"closID": "x"}, "c1", None)
    assert str(e.value) == ("config.json: $.linux.intelRdt: no resctrl filesystem is mounted: "
                            "Intel RDT is not available on this host")


def test_group_named_after_the_container_made_written_and_removed(root: Path) -> None:
    """No closID: the group is the container's id, made, l3CacheSchema then memBwSchema then
    schemata written, the pid in its tasks; delete removes it (and the MON group) again."""
    rdt = {"l3CacheSchema": "L3:0=f;1=f", "memBwSchema": "MB:0=50;1=50", "schemata": ["L2:0=3"],
           "enableMonitoring": True}
    group = resctrl.plan(rdt, "c1", str(root))
    assert group.made == [str(root / "c1" / "mon_groups" / "c1"), str(root / "c1")]
    resctrl.apply(group, 4242, mkdir=mkdir_like_resctrl)
    assert files(root / "c1") == {"schemata": "L3:0=f;1=f\nMB:0=50;1=50\nL2:0=3\n", "tasks": "4242\n"}
    assert (root / "c1" / "mon_groups" / "c1" / "tasks").read_text() == "4242\n"
    for d in group.made:  # the kernel's files go with the directory
        for f in Path(d).iterdir():
            if f.is_file():
                f.unlink()
    resctrl.remove(group.made[:1])
    os.rmdir(root / "c1" / "mon_groups")
    resctrl.remove(group.made)  # (the MON group is gone already: fine)
    assert not (root / "c1").exists()
    assert files(root)["tasks"] == ""  # the root group untouched


def test_existing_closid_without_schemata_is_joined_and_kept(root: Path) -> None:
    group = resctrl.plan({"closID": "guaranteed_group"}, "c1", str(root))
    assert group.made == []  # not ocirun's: never removed
    resctrl.apply(group, 7, mkdir=mkdir_like_resctrl)
    assert files(root / "guaranteed_group") == {"schemata": "    L3:0=7f0;1=01f\n    MB:0=20;1=70\n",
                                                "tasks": "7\n"}


def test_existing_closid_with_matching_schemata(root: Path) -> None:
    """The schemata of an existing group are compared (numbers as numbers), not written."""
    rdt = {"closID": "guaranteed_group", "l3CacheSchema": "L3:0=7f0;1=1f", "schemata": ["MB:0=20"]}
    group = resctrl.plan(rdt, "c1", str(root))
    resctrl.apply(group, 7, mkdir=mkdir_like_resctrl)
    assert files(root / "guaranteed_group")["schemata"] == "    L3:0=7f0;1=01f\n    MB:0=20;1=70\n"


@pytest.mark.parametrize(("rdt", "where", "why"), [
    ({"closID": "guaranteed_group", "l3CacheSchema": "L3:0=fff"}, "$.linux.intelRdt.l3CacheSchema",
     "does not match the schemata of the existing resctrl group"),
    ({"closID": "guaranteed_group", "memBwSchema": "MB:1=10"}, "$.linux.intelRdt.memBwSchema",
     "does not match"),
    ({"closID": "guaranteed_group", "schemata": ["L3:0=7f0", "bogus"]}, "$.linux.intelRdt.schemata[1]",
     "is not a schemata line"),
    ({"closID": "nothere"}, "$.linux.intelRdt.closID", "there is no resctrl group `nothere`"),
    ({"closID": "../etc"}, "$.linux.intelRdt.closID", "is not the name of a resctrl group"),
    ({"memBwSchema": "L3:0=1"}, "$.linux.intelRdt.memBwSchema", "must start with `MB:`"),
    ({"l3CacheSchema": "L3:0=1\nMB:0=1"}, "$.linux.intelRdt.l3CacheSchema", "must not contain newlines"),
])
def test_refused(root: Path, rdt: dict[str, object], where: str, why: str) -> None:
    before = sorted(p.name for p in root.iterdir())
    with pytest.raises(InvalidSpec) as e:
        resctrl.plan(rdt, "c1", str(root))
    assert e.value.path == where and why in e.value.reason
    assert sorted(p.name for p in root.iterdir()) == before


def test_new_named_group_is_made_but_not_removed(root: Path) -> None:
    """A closID that does not exist, given schemata: made, and (named by the config) never removed;
    its MON group is."""
    group = resctrl.plan({"closID": "batch", "schemata": ["L3:0=3"], "enableMonitoring": True}, "c9", str(root))
    resctrl.apply(group, 11, mkdir=mkdir_like_resctrl)
    assert files(root / "batch") == {"schemata": "L3:0=3\n", "tasks": "11\n"}
    assert group.made == [str(root / "batch" / "mon_groups" / "c9")]


def test_closid_slash_is_the_root_group(root: Path) -> None:
    group = resctrl.plan({"closID": "/"}, "c1", str(root))
    resctrl.apply(group, 5, mkdir=mkdir_like_resctrl)
    assert files(root)["tasks"] == "5\n" and group.made == []


def test_exec_joins_the_containers_group(root: Path) -> None:
    """An exec'd process goes where the init went: the group and its MON group."""
    rdt = {"closID": "guaranteed_group", "enableMonitoring": True}
    group = resctrl.plan(rdt, "c1", str(root))
    resctrl.apply(group, 7, mkdir=mkdir_like_resctrl)
    resctrl.join(rdt, "c1", 8, str(root))
    assert files(root / "guaranteed_group")["tasks"] == "8\n"  # (resctrl appends; a plain file is rewritten)
    assert (root / "guaranteed_group" / "mon_groups" / "c1" / "tasks").read_text() == "8\n"
    with pytest.raises(OSError):
        resctrl.join(rdt, "c1", 9, None)
