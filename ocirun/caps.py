"""Capability names and numbers (linux/capability.h), and the masks the init stage applies."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .spec.model import Capabilities

NAMES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
    "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
)
NUMBERS = {name: i for i, name in enumerate(NAMES)}
SETS = ("bounding", "effective", "permitted", "inheritable", "ambient")


def last_cap() -> int:
    """The kernel's highest capability number."""
    try:
        with open("/proc/sys/kernel/cap_last_cap", "rb") as f:
            return int(f.read())
    except OSError:
        return len(NAMES) - 1


def own_permitted() -> int:
    """This process's permitted set: what it can hand on to a container."""
    return own_set("CapPrm")


def own_set(name: str) -> int:
    """One of this process's capability sets from /proc/self/status (``CapPrm``, ``CapBnd``...)."""
    key = name.encode() + b":"
    with open("/proc/self/status", "rb") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1], 16)
    return 0


def masks(
    caps: Capabilities | None, top: int, warn: list[str], held: int | None = None
) -> tuple[int, int, int, int, int]:
    """(bounding, effective, permitted, inheritable, ambient) bit masks.

    Unknown names, names above the kernel's last capability and ones missing from what ocirun itself
    holds are left out with a warning (config.md: a runtime SHOULD NOT fail for a capability it
    does not know; runc warns too).  ``held``: ocirun's own permitted set (read when not given).
    """
    if caps is None:
        return (0, 0, 0, 0, 0)
    if held is None:
        held = own_permitted()
    out = []
    for set_name in SETS:
        names = getattr(caps, set_name) or []
        mask = 0
        for i, name in enumerate(names):
            num = NUMBERS.get(name)
            if num is None:
                note = f"unknown capability {name!r} in $.process.capabilities.{set_name}[{i}] is left out"
                warn.append(note)
                continue
            if num > top or not held >> num & 1:
                note = f"capability {name} is not available here; it is left out of the {set_name} set"
                if note not in warn:
                    warn.append(note)
                continue
            mask |= 1 << num
        out.append(mask)
    bounding, eff, perm, inh, amb = out
    # The kernel raises an ambient capability only if it is permitted and inheritable; runc
    # warns and goes on, and so do we (before the container starts, not in the init stage).
    for num in range(top + 1):
        if amb >> num & 1 and not (perm & inh) >> num & 1:
            warn.append(f"debug: can't raise ambient capability {NAMES[num]}: it is not both permitted and inheritable")
            amb &= ~(1 << num)
    return bounding, eff, perm, inh, amb
