"""spec: write a default config.json into the bundle, the one ``runc spec`` (1.1) writes.

The same fields and values (test suites and people build their configs from it), but for
``ociVersion`` (the spec version ocirun implements) and ``hostname`` (the runtime's name): a cgroup
namespace only on a pure cgroup v2 host, and no seccomp profile.  ``--seccomp-default`` adds
ocirun's default profile (an allow-list in the spirit of Docker's and podman's: no ``unshare``,
``mount``, ``bpf`` ... without the capabilities they need).
"""

from __future__ import annotations

from .. import _os as os
from .._json import dumps_pretty
from ..errors import OciRunError, SyscallError
from ..spec import SPEC_VERSION

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..context import Context

DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
MASKED = ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
          "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"]
READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


def default_spec(rootless: bool = False, cgroup_ns: bool = False, seccomp: bool = False) -> dict[str, Any]:
    """runc spec's config (``cgroup_ns``: add a cgroup namespace, as runc does on cgroup v2 only;
    ``seccomp``: ocirun's default seccomp profile)."""
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
    names = ["pid", "network", "ipc", "uts", "mount"] + (["cgroup"] if cgroup_ns else [])
    linux: dict[str, Any] = {
        "resources": {"devices": [{"allow": False, "access": "rwm"}]},
        "namespaces": [{"type": t} for t in names],
    }
    if seccomp:
        from ..seccomp_default import profile

        linux["seccomp"] = profile(DEFAULT_CAPS)
    linux.update(maskedPaths=MASKED, readonlyPaths=READONLY)
    if rootless:  # as runc's specconv.ToRootless: no network namespace, a user one, no resources
        for m in mounts:
            if m["destination"] == "/sys":
                m.update(type="none", source="/sys", options=["rbind", "nosuid", "noexec", "nodev", "ro"])
            elif "options" in m:
                m["options"] = [o for o in m["options"] if not o.startswith(("gid=", "uid="))]
        del linux["resources"]
        linux = {
            "uidMappings": [{"containerID": 0, "hostID": os.geteuid(), "size": 1}],
            "gidMappings": [{"containerID": 0, "hostID": os.getegid(), "size": 1}],
            **linux,
            "namespaces": [{"type": t} for t in names if t != "network"] + [{"type": "user"}],
        }
    return {
        "ociVersion": SPEC_VERSION,
        "process": {
            "terminal": True,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {k: list(DEFAULT_CAPS) for k in ("bounding", "effective", "permitted", "ambient")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "ocirun",
        "mounts": mounts,
        "linux": linux,
    }


def write_spec(bundle: str, rootless: bool = False, seccomp: bool = False) -> str:
    path = os.path.join(bundle, "config.json")
    if os.path.exists(path):
        raise OciRunError("File config.json exists. Remove it first.")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        try:
            from ..cgroups import mode

            spec = default_spec(rootless, cgroup_ns=mode() == "unified", seccomp=seccomp)
            os.write(fd, (dumps_pretty(spec, indent="\t") + "\n").encode())
        finally:
            os.close(fd)
    except OSError as e:
        raise SyscallError.from_oserror("write", e, path) from None
    return path


def command(ctx: Context, opts: dict[str, Any], args: list[str]) -> int:
    write_spec(opts["bundle"], rootless=opts["rootless"], seccomp=opts["seccomp_default"])
    return 0
