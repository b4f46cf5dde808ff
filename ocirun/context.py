"""The settings every command gets from the global flags, passed explicitly (never a global)."""

from __future__ import annotations

from . import _os as os
from .errors import InvalidArgument
from .log import Logger

DEFAULT_ROOT = "/run/ocirun"
_TRUE = ("1", "t", "T", "true", "TRUE", "True")
_FALSE = ("0", "f", "F", "false", "FALSE", "False")


def default_root(euid: int, xdg: str) -> str:
    """runc's default --root: ``$XDG_RUNTIME_DIR/ocirun`` (``xdg``) for a non-root caller that has
    one (the user's own runtime directory), else /run/ocirun."""
    if euid != 0 and xdg:
        return xdg.rstrip("/") + "/ocirun"
    return DEFAULT_ROOT


def rootless_mode(value: str, euid: int) -> bool:
    """--rootless true|false|auto (runc's values): whether cgroups ocirun may not make are done
    without (auto: a caller other than root)."""
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if value == "auto":
        return euid != 0
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
