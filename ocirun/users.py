"""The container user's HOME from the image's /etc/passwd, and the executable's candidate paths.

Read by the parent before the container starts (no NSS, nothing in the child), with every path
resolved inside the rootfs (openat2 RESOLVE_IN_ROOT), so that an image whose /etc/passwd is a
symlink to a host file reads nothing of the host.  As runc does, HOME is set from the passwd
entry when process.env has none; supplementary groups are additionalGids alone.
"""

from __future__ import annotations

from . import _os as os

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


def home_of(rootfs: str, uid: int) -> str:
    """HOME of ``uid`` in the image's /etc/passwd; "/" when it has no entry."""
    return home_in(_read_in_root(rootfs, "/etc/passwd"), uid)


def home_in(passwd: str, uid: int) -> str:
    """HOME of ``uid`` in the text of a passwd file; "/" when it has no entry."""
    entry = parse_passwd(passwd).get(uid)
    return (entry[1] if entry else "") or "/"


def exec_candidates(arg0: str, path_env: str | None) -> list[str]:
    """The files execvp would try for ``arg0``, in order (Go's exec.LookPath, as runc uses it)."""
    if "/" in arg0:
        return [arg0]
    if not path_env:
        return []
    return [os.path.join(d or ".", arg0) for d in path_env.split(":")]
