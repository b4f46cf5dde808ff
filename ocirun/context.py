"""The settings every command gets from the global flags, passed explicitly (never a global)."""

from __future__ import annotations

from .log import Logger

DEFAULT_ROOT = "/run/ocirun"


class Context:
    __slots__ = ("helper_pid", "log", "root", "rootless", "systemd_cgroup")

    def __init__(
        self,
        root: str = DEFAULT_ROOT,
        log: Logger | None = None,
        systemd_cgroup: bool = False,
        rootless: str = "auto",
    ) -> None:
        self.root = root
        self.log = log or Logger()
        self.systemd_cgroup = systemd_cgroup
        self.rootless = rootless
        self.helper_pid = 0  # the launcher's short-lived child, if any (csrc/launcher.c)

    def reap_helper(self) -> None:
        """Waits for the launcher's child (it is done within milliseconds of the start), so that
        a long foreground command leaves no zombie behind it."""
        if self.helper_pid > 0:
            import posix

            try:
                posix.waitpid(self.helper_pid, 0)
            except ChildProcessError:
                pass
            self.helper_pid = 0
