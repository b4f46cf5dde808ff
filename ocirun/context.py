"""The settings every command gets from the global flags, passed explicitly (never a global)."""

from __future__ import annotations

from . import _os as os
from .errors import InvalidArgument
from .log import Logger

TYPE_CHECKING = False  # typing costs milliseconds to import; mypy reads this name as typing's
if TYPE_CHECKING:
    from collections.abc import Callable

DEFAULT_ROOT = "/run/ocirun"
_TRUE = ("1", "t", "T", "true", "TRUE", "True")
_FALSE = ("0", "f", "F", "false", "FALSE", "False")


def in_user_namespace() -> bool:
    """Whether this process runs in a user namespace other than the host's (its uid map is not the
    initial identity map ``0 0 4294967295``): rootless podman runs the runtime as root in one."""
    try:
        fd = os.open("/proc/self/uid_map", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        text = os.read(fd, 4096)
    finally:
        os.close(fd)
    return text.split() != [b"0", b"0", b"4294967295"]


def default_root(
    euid: int, xdg: str, user: str | None = None, in_userns: Callable[[], bool] = in_user_namespace
) -> str:
    """runc's default --root: ``$XDG_RUNTIME_DIR/ocirun`` (``xdg``) for a non-root caller that has
    one (the user's own runtime directory), also for root in a user namespace unless $USER
    (``user``, None when unset) is root (rootless podman's runtime calls), else /run/ocirun."""
    if xdg and (euid != 0 or (user != "root" and in_userns())):
        return xdg.rstrip("/") + "/ocirun"
    return DEFAULT_ROOT


def rootless_mode(value: str, euid: int, in_userns: Callable[[], bool] = in_user_namespace) -> bool:
    """--rootless true|false|auto (runc's values): whether cgroups ocirun may not make are done
    without (auto: a caller other than root, or root in a user namespace, as under rootless
    podman, where the host's cgroups are not its own either)."""
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if value == "auto":
        return euid != 0 or in_userns()
    raise InvalidArgument(f"invalid value {value!r} for --rootless: 'true', 'false' or 'auto'")


class Context:
    __slots__ = ("criu", "log", "root", "rootless", "systemd_cgroup")

    def __init__(
        self,
        root: str = DEFAULT_ROOT,
        log: Logger | None = None,
        systemd_cgroup: bool = False,
        rootless: str | bool = "auto",
        criu: str | None = None,
    ) -> None:
        self.criu = criu  # --criu: the criu binary checkpoint and restore run
        self.root = root
        self.log = log or Logger()
        self.systemd_cgroup = systemd_cgroup
        self.rootless = rootless_mode(rootless, os.geteuid()) if isinstance(rootless, str) else rootless
