"""/proc/self/mountinfo, and unmounting what a container without a mount namespace left on the host."""

from __future__ import annotations


def unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as \\ooo octal."""
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def mount_points(text: str | None = None) -> list[str]:
    """Every mount point, in mount order."""
    if text is None:
        with open("/proc/self/mountinfo") as f:
            text = f.read()
    return [unescape(line.split(" ", 5)[4]) for line in text.splitlines() if line]


def unmount_under(root: str) -> None:
    """Detaches every mount at or below ``root``, the newest first (a container without a mount
    namespace of its own made them in the runtime's)."""
    from . import _os as os
    from . import shim

    try:  # mountinfo has the path the kernel resolved (symlinks in the bundle path)
        fd = os.open(root, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        root = os.readlink(f"/proc/self/fd/{fd}").rstrip("/")
    finally:
        os.close(fd)
    for point in reversed(mount_points()):
        if point == root or point.startswith(root + "/"):
            shim.umount(point)
