"""Rootless pieces that need no root: the default --root, --rootless, /etc/subuid, the mapping
checks, the cgroups a rootless caller keeps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ocirun import cgroups, idmap
from ocirun.context import default_root, rootless_mode
from ocirun.errors import InvalidArgument, InvalidSpec
from ocirun.spec import validate
from ocirun.spec.model import Spec
from ocirun.spec.resources import Resources


def test_default_root() -> None:
    def host() -> bool:
        return False

    def userns() -> bool:
        return True

    assert default_root(0, "/run/user/0", None, host) == "/run/ocirun"
    assert default_root(1000, "/run/user/1000/", None, host) == "/run/user/1000/ocirun"
    assert default_root(1000, "", None, host) == "/run/ocirun"
    # root in a user namespace (rootless podman's runtime calls), as runc: $XDG_RUNTIME_DIR unless $USER is root
    assert default_root(0, "/run/user/1000", None, userns) == "/run/user/1000/ocirun"
    assert default_root(0, "/run/user/1000", "alice", userns) == "/run/user/1000/ocirun"
    assert default_root(0, "/run/user/1000", "root", userns) == "/run/ocirun"
    assert default_root(0, "", None, userns) == "/run/ocirun"


@pytest.mark.parametrize(("value", "euid", "in_userns", "want"), [
    ("auto", 0, False, False), ("auto", 1000, False, True), ("auto", 0, True, True), ("true", 0, False, True),
    ("false", 1000, True, False), ("false", 0, True, False), ("1", 0, False, True),
])
def test_rootless_mode(value: str, euid: int, in_userns: bool, want: bool) -> None:
    assert rootless_mode(value, euid, lambda: in_userns) is want


def test_rootless_mode_refuses_other_values() -> None:
    with pytest.raises(InvalidArgument, match="'maybe' for --rootless"):
        rootless_mode("maybe", 0)


def test_subordinate_ranges() -> None:
    text = "alice:100000:65536\nbob:200000:10\n1000:300000:5\n# junk\nalice:x:1\n"
    assert idmap.subordinate_ranges(text, "alice", 1000) == [(100000, 65536), (300000, 5)]
    assert idmap.subordinate_ranges(text, "carol", 1001) == []


def _spec(linux: dict[str, Any], mounts: list[dict[str, Any]] | None = None) -> Spec:
    return Spec.from_json({"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "mounts": mounts or [],
                           "linux": linux})


def _userns(uids: list[tuple[int, int, int]], gids: list[tuple[int, int, int]] | None = None) -> dict[str, Any]:
    def maps(rows: list[tuple[int, int, int]]) -> list[dict[str, int]]:
        return [{"containerID": c, "hostID": h, "size": s} for c, h, s in rows]

    return {"namespaces": [{"type": "user"}], "uidMappings": maps(uids), "gidMappings": maps(gids or uids)}


@pytest.mark.parametrize(("linux", "mounts", "where", "what"), [
    (_userns([(0, 1000, 0)]), None, r"\$\.linux\.uidMappings\[0\]\.size", "maps no id"),
    (_userns([(0, 1000, 10), (5, 5000, 10)]), None, r"\$\.linux\.uidMappings\[1\]", "containerID range 5-14 overlaps"),
    (_userns([(0, 1000, 10), (100, 1005, 10)]), None, r"\$\.linux\.uidMappings\[1\]", "hostID range"),
    (_userns([(0, 1000, 1)], [(0, 4294967295, 2)]), None, r"\$\.linux\.gidMappings\[0\]", "past the last id"),
    ({"namespaces": [{"type": "user"}]}, None, r"\$\.linux\.uidMappings", "needs uidMappings and gidMappings"),
    ({"namespaces": [{"type": "mount"}]}, [{"destination": "/m", "source": "/x", "options": ["bind", "idmap"]}],
     r"\$\.mounts\[0\]\.options", "'idmap' needs the mount's uidMappings"),
    ({"namespaces": [{"type": "mount"}]}, [{"destination": "/m", "source": "/x", "options": ["rbind", "ridmap"],
                                            "uidMappings": [{"containerID": 0, "hostID": 1, "size": 0}],
                                            "gidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]}],
     r"\$\.mounts\[0\]\.uidMappings\[0\]\.size", "maps no id"),
    ({"namespaces": [{"type": "mount"}]}, [{"destination": "/m", "type": "tmpfs", "source": "tmpfs",
                                            "options": ["idmap"],
                                            "uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}],
                                            "gidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]}],
     r"\$\.mounts\[0\]\.uidMappings", "idmapped mounts are bind mounts"),
])
def test_bad_mappings(linux: dict[str, Any], mounts: list[dict[str, Any]] | None, where: str, what: str) -> None:
    with pytest.raises(InvalidSpec, match=f"{where}: .*{what}"):
        validate.check_for_create(_spec(linux, mounts))


def test_subid_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A non-root caller may map its own id and its /etc/subuid ranges; more is one clear error."""
    sub = tmp_path / "subuid"
    sub.write_text("54321:100000:65536\n")
    monkeypatch.setattr(idmap, "SUBID_FILES", {"uid_map": str(sub), "gid_map": str(sub)})
    monkeypatch.setattr(idmap, "_helper", lambda name: "/usr/bin/" + name)
    idmap.check(_spec(_userns([(0, 54321, 1), (1, 100000, 65536)])), 54321, 54321)
    idmap.check(_spec(_userns([(0, 54321, 1)])), 54321, 54321)  # its own: no helper, no subuid
    with pytest.raises(InvalidSpec, match=r"\$\.linux\.uidMappings\[1\]: host ids 100000-165536 are not "
                                          r"54321's to map \(.*gives it: 100000-165535; its own id is 54321"):
        idmap.check(_spec(_userns([(0, 54321, 1), (1, 100000, 65537)])), 54321, 54321)


def test_setgroups_denied_only_for_the_own_gid() -> None:
    assert idmap.denies_setgroups(_spec(_userns([(0, 1000, 1)])), 1000, 1000)
    assert not idmap.denies_setgroups(_spec(_userns([(0, 1000, 1)])), 0, 0)
    assert not idmap.denies_setgroups(_spec(_userns([(0, 1000, 1), (1, 100000, 10)])), 1000, 1000)


def test_rootless_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hierarchies a caller may write to are kept, the others left out; with limits, an error."""
    mine = tmp_path / "mine"
    mine.mkdir()
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    monkeypatch.setattr(cgroups.os, "access", lambda path, mode: "theirs" not in path)  # (root may write anywhere)
    paths = {"": str(mine / "c"), "memory": str(theirs / "c")}
    assert cgroups.rootless_paths(paths, None) == {"": str(mine / "c")}
    devices = Resources.from_json({"devices": [{"allow": False, "access": "rwm"}]})
    assert cgroups.rootless_paths(paths, devices) == {"": str(mine / "c")}
    with pytest.raises(InvalidSpec, match=r"\$\.linux\.resources: .*`.*theirs/c` is not writable"):
        cgroups.rootless_paths(paths, Resources.from_json({"memory": {"limit": 1 << 20}}))
