"""The settings every command gets from the global flags, passed explicitly (never a global)."""

from __future__ import annotations

from .log import Logger

DEFAULT_ROOT = "/run/ocirun"


class Context:
    __slots__ = ("criu", "log", "root", "rootless", "systemd_cgroup")

    def __init__(
        self,
        root: str = DEFAULT_ROOT,
        log: Logger | None = None,
        systemd_cgroup: bool = False,
        rootless: str = "auto",
        criu: str | None = None,
    ) -> None:
        self.criu = criu  # --criu: the criu binary checkpoint and restore run
        self.root = root
        self.log = log or Logger()
        self.systemd_cgroup = systemd_cgroup
        self.rootless = rootless
