"""linux.intelRdt (config-linux.md "IntelRdt"): the container's init in a resctrl group.

``plan`` (create, before anything is made) finds the resctrl mount (none: a clear error naming
``$.linux.intelRdt``, nothing made), picks the group (``closID``, else the container id; ``/``
is the default group, the root) and checks what the spec wants checked: a named group without
schemata must exist; an existing group given schemata must already have them.  ``apply`` (once the
init exists) makes the group when needed, writes the schemata (l3CacheSchema, memBwSchema, then
each line of schemata), the init's pid to ``tasks``, and with enableMonitoring makes the MON group
``mon_groups/<container id>`` and puts the init there too.  ``Group.made`` lists the directories
delete removes, deepest first: the MON group, and the group when ocirun made it for want of a
closID (one the config names is never removed, as the spec says).

Every function takes the resctrl root, so the tests run them on a directory laid out as resctrl is.
"""

from __future__ import annotations

from . import _os as os
from .errors import InvalidSpec, SyscallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

WHERE = "$.linux.intelRdt"


def mount_point(mountinfo: str) -> str | None:
    """The first resctrl mount of a /proc/self/mountinfo text."""
    for line in mountinfo.splitlines():
        head, sep, tail = line.partition(" - ")
        if sep and tail.split(" ", 1)[0] == "resctrl":
            return head.split(" ")[4].replace("\\040", " ")
    return None


def find_mount() -> str | None:
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
        return mount_point(f.read())


def _lines(rdt: dict[str, Any]) -> list[str]:
    """What goes to `schemata`, in the spec's order."""
    out = [rdt[k] for k in ("l3CacheSchema", "memBwSchema") if rdt.get(k)]
    return out + list(rdt.get("schemata") or ())


def _parse(line: str) -> tuple[str, dict[str, int]] | None:
    """``L3:0=7f0;1=1f`` -> ("L3", {"0": 0x7f0, "1": 0x1f}); MB values are decimal."""
    kind, sep, rest = line.strip().partition(":")
    if not sep:
        return None
    base = 10 if kind.strip().startswith("MB") else 16
    domains = {}
    for part in filter(None, (p.strip() for p in rest.split(";"))):
        dom, eq, value = part.partition("=")
        try:
            domains[dom.strip()] = int(value.strip(), base)
        except ValueError:
            return None
        if not eq:
            return None
    return kind.strip(), domains


class Group:
    """The resctrl group of one container: its directory, whether to make it, the MON group."""

    __slots__ = ("dir", "lines", "make", "mon", "own")

    def __init__(self, dir: str, make: bool, lines: list[str], mon: str, own: bool) -> None:
        self.dir = dir
        self.make = make  # ocirun makes it
        self.own = own  # and removes it at delete (made, and named after the container)
        self.lines = lines
        self.mon = mon  # the MON group's directory, or ""

    @property
    def made(self) -> list[str]:
        """The directories delete removes, deepest first."""
        return [d for d in (self.mon, self.dir if self.own else "") if d]


def plan(rdt: dict[str, Any], container_id: str, root: str | None) -> Group:
    """The group for ``rdt`` under the resctrl root ``root`` (None: resctrl is not mounted)."""
    if root is None:
        raise InvalidSpec(WHERE, "no resctrl filesystem is mounted: Intel RDT is not available on this host")
    for key in ("l3CacheSchema", "memBwSchema"):
        if "\n" in (rdt.get(key) or ""):
            raise InvalidSpec(f"{WHERE}.{key}", "must not contain newlines")
    for i, line in enumerate(rdt.get("schemata") or ()):
        if "\n" in line:
            raise InvalidSpec(f"{WHERE}.schemata[{i}]", "must not contain newlines")
    if rdt.get("memBwSchema") and not rdt["memBwSchema"].startswith("MB:"):
        raise InvalidSpec(f"{WHERE}.memBwSchema", "must start with `MB:`")
    closid = rdt.get("closID")
    lines = _lines(rdt)
    if closid is not None and ("/" in closid.strip("/") or closid in (".", "..", "")
                               or (closid != "/" and closid.startswith("/"))):
        raise InvalidSpec(f"{WHERE}.closID", f"{closid!r} is not the name of a resctrl group")
    name = container_id if closid is None else closid
    path = root if name == "/" else os.path.join(root, name)
    exists = os.path.isdir(path)
    if closid is not None and exists and lines:
        _compare(path, rdt)
        lines = []  # they are there already
    elif closid is not None and not exists and not lines:
        raise InvalidSpec(f"{WHERE}.closID", f"there is no resctrl group `{closid}` (`{path}`)")
    mon = os.path.join(path, "mon_groups", container_id) if rdt.get("enableMonitoring") else ""
    return Group(path, not exists, lines, mon, own=not exists and closid is None)


def _compare(path: str, rdt: dict[str, Any]) -> None:
    """An existing group given schemata must have them already (the spec: an error otherwise)."""
    current: dict[str, dict[str, int]] = {}
    with open(os.path.join(path, "schemata"), encoding="utf-8") as f:
        for line in f:
            parsed = _parse(line)
            if parsed is not None:
                current.setdefault(parsed[0], {}).update(parsed[1])
    for key in ("l3CacheSchema", "memBwSchema", "schemata"):
        values = rdt.get(key)
        for i, line in enumerate([values] if isinstance(values, str) else values or ()):
            want = _parse(line)
            at = f"{WHERE}.{key}" + (f"[{i}]" if key == "schemata" else "")
            if want is None:
                raise InvalidSpec(at, f"{line!r} is not a schemata line like L3:0=7f0;1=1f")
            have = current.get(want[0], {})
            if any(have.get(dom) != value for dom, value in want[1].items()):
                raise InvalidSpec(at, f"{line!r} does not match the schemata of the existing resctrl group `{path}`")


def _write(path: str, data: str) -> None:
    try:
        os.write_once(path, data.encode())
    except OSError as e:
        raise SyscallError.from_oserror("write", e, path) from None


def _mkdir(path: str) -> None:
    try:
        os.mkdir(path, 0o755)
    except OSError as e:
        raise SyscallError.from_oserror("mkdir", e, path) from None


def apply(group: Group, pid: int, mkdir: Callable[[str], None] = _mkdir) -> None:
    """Makes the group (when ocirun is to), writes its schemata, then puts ``pid`` in it (and in
    its MON group).  Should it fail, ``remove(group.made)`` undoes it.  (``mkdir``: the tests'
    stand-in for resctrl makes the files the kernel makes in a new group.)"""
    if group.make:
        mkdir(group.dir)
    if group.lines:
        _write(os.path.join(group.dir, "schemata"), "\n".join(group.lines) + "\n")
    _write(os.path.join(group.dir, "tasks"), f"{pid}\n")
    if group.mon:
        mkdir(group.mon)
        _write(os.path.join(group.mon, "tasks"), f"{pid}\n")


def join(rdt: dict[str, Any], container_id: str, pid: int, root: str | None) -> None:
    """An exec'd process joins the container's group (and its MON group), as runc's exec does."""
    if root is None:
        raise SyscallError("join the container's resctrl group", 2, "resctrl")  # ENOENT: unmounted since
    closid = rdt.get("closID") or container_id
    path = root if closid == "/" else os.path.join(root, closid)
    _write(os.path.join(path, "tasks"), f"{pid}\n")
    if rdt.get("enableMonitoring"):
        _write(os.path.join(path, "mon_groups", container_id, "tasks"), f"{pid}\n")


def remove(dirs: list[str]) -> None:
    """Removes the directories a container's group made (Group.made), those that are still there."""
    for path in dirs:
        try:
            os.rmdir(path)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise SyscallError.from_oserror("rmdir", e, path) from None
