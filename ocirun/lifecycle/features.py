"""features: what this build of ocirun implements (features.md), listing only what works."""

from __future__ import annotations

from .. import _os as os
from .. import caps
from .._json import dumps_pretty
from ..spec import SPEC_VERSION, mountopts
from ..spec.validate import MPOL_FLAGS, MPOL_MODES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..context import Context


def features() -> dict[str, Any]:
    from .. import seccomp

    return {
        "ociVersionMin": "1.0.0",
        "ociVersionMax": SPEC_VERSION,
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
        "mountOptions": sorted(mountopts.SUPPORTED),
        "linux": {
            "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"],
            "capabilities": list(caps.NAMES),
            "cgroup": {"v1": True, "v2": True, "systemd": True, "systemdUser": False, "rdma": True},
            "seccomp": seccomp.seccomp_features(),
            "apparmor": {"enabled": False},
            "selinux": {"enabled": False},
            # resctrl where it is mounted (a clear error where it is not)
            "intelRdt": {"enabled": True, "schemata": True, "monitoring": True},
            "memoryPolicy": {"modes": sorted(MPOL_MODES), "flags": sorted(MPOL_FLAGS)},
            "mountExtensions": {"idmap": {"enabled": True}},
            "netDevices": {"enabled": True},
        },
        "annotations": {
            "org.opencontainers.ocirun.version": __import__("ocirun").__version__,
            # checkpoint and restore through criu (runc's key: org.opencontainers.runc.checkpoint.enabled)
            "org.opencontainers.ocirun.checkpoint.enabled": "true",
            "io.github.seccomp.libseccomp.version": seccomp.libseccomp_version(),
        },
    }


def command(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    os.write(1, (dumps_pretty(features()) + "\n").encode())
    return 0
