"""spec: write a default config.json into the bundle, like ``runc spec``, with a cgroup namespace and
a default seccomp profile (an allow-list, as docker's and podman's)."""

from __future__ import annotations

from .. import _os as os
from .._json import dumps_pretty
from ..errors import OciRunError, SyscallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..context import Context

DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
MASKED = ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
          "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"]
READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


def default_spec(rootless: bool = False) -> dict[str, Any]:
    mounts: list[dict[str, Any]] = [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
    ]
    namespaces = [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount", "cgroup")]
    from ..seccomp_default import profile

    linux: dict[str, Any] = {
        "resources": {"devices": [{"allow": False, "access": "rwm"}]},
        "namespaces": namespaces,
        "seccomp": profile(DEFAULT_CAPS),
        "maskedPaths": MASKED,
        "readonlyPaths": READONLY,
    }
    if rootless:
        uid, gid = os.getuid(), os.getgid()
        mounts = [m for m in mounts if m["type"] != "cgroup"]
        for m in mounts:
            if m["type"] == "sysfs":
                m.update(type="none", source="/sys", options=["rbind", "nosuid", "noexec", "nodev", "ro"])
            if m["type"] == "devpts":
                m["options"] = [o for o in m["options"] if o != "gid=5"]
        linux = {
            "uidMappings": [{"containerID": 0, "hostID": uid, "size": 1}],
            "gidMappings": [{"containerID": 0, "hostID": gid, "size": 1}],
            "namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount", "cgroup", "user")],
            "seccomp": linux["seccomp"],
            "maskedPaths": MASKED,
            "readonlyPaths": READONLY,
        }
    return {
        "ociVersion": "1.3.0",
        "process": {
            "terminal": True,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {k: list(DEFAULT_CAPS) for k in ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "ocirun",
        "mounts": mounts,
        "linux": linux,
    }


def write_spec(bundle: str, rootless: bool = False) -> str:
    path = os.path.join(bundle, "config.json")
    if os.path.exists(path):
        raise OciRunError("File config.json exists. Remove it first.")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        try:
            os.write(fd, (dumps_pretty(default_spec(rootless), indent="\t") + "\n").encode())
        finally:
            os.close(fd)
    except OSError as e:
        raise SyscallError.from_oserror("write", e, path) from None
    return path


def command(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    write_spec(opts["bundle"], rootless=opts["rootless"])
    return 0
