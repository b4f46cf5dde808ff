"""The container user's home and supplementary groups, from the image's /etc/passwd and /etc/group.

Read by the parent before the container starts (no NSS, nothing in the child), with every path
resolved inside the rootfs (openat2 RESOLVE_IN_ROOT), so that an image whose /etc/passwd is a
symlink to a host file reads nothing of the host.  runc does the same lookup: the user's groups
are the /etc/group entries that list the user's name, and HOME comes from the passwd entry.
"""

from __future__ import annotations

import os

MAX_FILE = 1 << 20


def _read_in_root(rootfs: str, path: str) -> str:
    from . import shim

    try:
        data = shim.read_in_root(rootfs, path, MAX_FILE)
    except OSError:
        return ""
    return data.decode("utf-8", "replace")


def parse_passwd(text: str) -> dict[int, tuple[str, str]]:
    """uid -> (name, home) of each well-formed line."""
    out: dict[int, tuple[str, str]] = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 7 or not fields[2].isdigit():
            continue
        out.setdefault(int(fields[2]), (fields[0], fields[5]))
    return out


def parse_group_members(text: str, user: str) -> list[int]:
    """The gids of the groups that list ``user`` as a member."""
    gids = []
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 4 or not fields[2].isdigit():
            continue
        if user in fields[3].split(","):
            gids.append(int(fields[2]))
    return gids


def lookup(rootfs: str, uid: int) -> tuple[str, list[int]]:
    """(HOME, supplementary gids) of ``uid`` in the image; ("/", []) when it has no entry."""
    entry = parse_passwd(_read_in_root(rootfs, "/etc/passwd")).get(uid)
    if entry is None:
        return "/", []
    name, home = entry
    groups = parse_group_members(_read_in_root(rootfs, "/etc/group"), name) if name else []
    return home or "/", groups


def exec_candidates(arg0: str, path_env: str | None) -> list[str]:
    """The files execvp would try for ``arg0``, in order (Go's exec.LookPath, as runc uses it)."""
    if "/" in arg0:
        return [arg0]
    if not path_env:
        return []
    return [os.path.join(d or ".", arg0) for d in path_env.split(":")]
