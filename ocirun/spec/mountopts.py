"""Mount option strings (config.md "Linux mount options") to mount(2) and mount_setattr(2) arguments."""

from __future__ import annotations

# mount(2) flags
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_SYNCHRONOUS = 0x10
MS_REMOUNT = 0x20
MS_MANDLOCK = 0x40
MS_DIRSYNC = 0x80
MS_NOSYMFOLLOW = 0x100
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_MOVE = 0x2000
MS_REC = 0x4000
MS_SILENT = 0x8000
MS_UNBINDABLE = 0x20000
MS_PRIVATE = 0x40000
MS_SLAVE = 0x80000
MS_SHARED = 0x100000
MS_RELATIME = 0x200000
MS_I_VERSION = 0x800000
MS_STRICTATIME = 0x1000000
MS_LAZYTIME = 0x2000000

# mount_setattr(2) attributes
MOUNT_ATTR_RDONLY = 0x1
MOUNT_ATTR_NOSUID = 0x2
MOUNT_ATTR_NODEV = 0x4
MOUNT_ATTR_NOEXEC = 0x8
MOUNT_ATTR__ATIME = 0x70
MOUNT_ATTR_RELATIME = 0x0
MOUNT_ATTR_NOATIME = 0x10
MOUNT_ATTR_STRICTATIME = 0x20
MOUNT_ATTR_NODIRATIME = 0x80
MOUNT_ATTR_NOSYMFOLLOW = 0x200000
AT_RECURSIVE = 0x8000

# option -> (clear, flag): "clear" options remove the flag that their opposite sets
FLAGS: dict[str, tuple[bool, int]] = {
    "defaults": (False, 0),
    "ro": (False, MS_RDONLY),
    "rw": (True, MS_RDONLY),
    "nosuid": (False, MS_NOSUID),
    "suid": (True, MS_NOSUID),
    "nodev": (False, MS_NODEV),
    "dev": (True, MS_NODEV),
    "noexec": (False, MS_NOEXEC),
    "exec": (True, MS_NOEXEC),
    "sync": (False, MS_SYNCHRONOUS),
    "async": (True, MS_SYNCHRONOUS),
    "dirsync": (False, MS_DIRSYNC),
    "remount": (False, MS_REMOUNT),
    "mand": (False, MS_MANDLOCK),
    "nomand": (True, MS_MANDLOCK),
    "noatime": (False, MS_NOATIME),
    "atime": (True, MS_NOATIME),
    "nodiratime": (False, MS_NODIRATIME),
    "diratime": (True, MS_NODIRATIME),
    "relatime": (False, MS_RELATIME),
    "norelatime": (True, MS_RELATIME),
    "strictatime": (False, MS_STRICTATIME),
    "nostrictatime": (True, MS_STRICTATIME),
    "bind": (False, MS_BIND),
    "rbind": (False, MS_BIND | MS_REC),
    "silent": (False, MS_SILENT),
    "loud": (True, MS_SILENT),
    "iversion": (False, MS_I_VERSION),
    "noiversion": (True, MS_I_VERSION),
    "lazytime": (False, MS_LAZYTIME),
    "nolazytime": (True, MS_LAZYTIME),
    "nosymfollow": (False, MS_NOSYMFOLLOW),
    "symfollow": (True, MS_NOSYMFOLLOW),
}

PROPAGATION: dict[str, int] = {
    "private": MS_PRIVATE,
    "rprivate": MS_PRIVATE | MS_REC,
    "shared": MS_SHARED,
    "rshared": MS_SHARED | MS_REC,
    "slave": MS_SLAVE,
    "rslave": MS_SLAVE | MS_REC,
    "unbindable": MS_UNBINDABLE,
    "runbindable": MS_UNBINDABLE | MS_REC,
}

# recursive option -> (clear, attribute), applied with mount_setattr(AT_RECURSIVE)
RECURSIVE: dict[str, tuple[bool, int]] = {
    "rro": (False, MOUNT_ATTR_RDONLY),
    "rrw": (True, MOUNT_ATTR_RDONLY),
    "rnosuid": (False, MOUNT_ATTR_NOSUID),
    "rsuid": (True, MOUNT_ATTR_NOSUID),
    "rnodev": (False, MOUNT_ATTR_NODEV),
    "rdev": (True, MOUNT_ATTR_NODEV),
    "rnoexec": (False, MOUNT_ATTR_NOEXEC),
    "rexec": (True, MOUNT_ATTR_NOEXEC),
    "rnodiratime": (False, MOUNT_ATTR_NODIRATIME),
    "rdiratime": (True, MOUNT_ATTR_NODIRATIME),
    "rnosymfollow": (False, MOUNT_ATTR_NOSYMFOLLOW),
    "rsymfollow": (True, MOUNT_ATTR_NOSYMFOLLOW),
    # the atime options replace the whole atime field (MOUNT_ATTR__ATIME is cleared first)
    "rrelatime": (False, MOUNT_ATTR_RELATIME),
    "rnorelatime": (True, MOUNT_ATTR__ATIME),
    "rnoatime": (False, MOUNT_ATTR_NOATIME),
    "ratime": (True, MOUNT_ATTR__ATIME),
    "rstrictatime": (False, MOUNT_ATTR_STRICTATIME),
    "rnostrictatime": (True, MOUNT_ATTR__ATIME),
}
_ATIME_SETTERS = {"rrelatime", "rnoatime", "rstrictatime"}

# Options the features command reports (the spec's table).
SUPPORTED = tuple(FLAGS) + tuple(PROPAGATION) + tuple(RECURSIVE) + ("tmpcopyup", "idmap", "ridmap")


class MountOptions:
    """What a mount's option list asks of mount(2) and mount_setattr(2)."""

    __slots__ = ("attr_clr", "attr_set", "clear", "copyup", "data", "flags", "idmap", "propagation")

    def __init__(self) -> None:
        self.flags = 0          # flags for mount(2)
        self.clear = 0          # flags an option asked to clear ("rw", "exec", ...)
        self.propagation = 0    # MS_SHARED/... (| MS_REC), applied by a second mount(2)
        self.attr_set = 0       # mount_setattr(AT_RECURSIVE)
        self.attr_clr = 0
        self.data: list[str] = []  # filesystem-specific options, comma-joined into mount(2)'s data
        self.copyup = False  # tmpcopyup: the covered directory's content copied into the tmpfs
        self.idmap = ""  # "idmap" or "ridmap" (recursive): the mount's own id mappings (never mount(2)'s)

    @property
    def is_bind(self) -> bool:
        return bool(self.flags & MS_BIND)

    @property
    def recursive_attrs(self) -> bool:
        return bool(self.attr_set or self.attr_clr)


def parse(options: list[str]) -> MountOptions:
    out = MountOptions()
    for opt in options:
        flag = FLAGS.get(opt)
        if flag is not None:
            clear, bits = flag
            if clear:
                out.flags &= ~bits
                out.clear |= bits
            else:
                out.flags |= bits
                out.clear &= ~bits
            continue
        prop = PROPAGATION.get(opt)
        if prop is not None:
            out.propagation = prop
            continue
        rec = RECURSIVE.get(opt)
        if rec is not None:
            clear, attr = rec
            if opt in _ATIME_SETTERS:
                out.attr_clr |= MOUNT_ATTR__ATIME
                out.attr_set = (out.attr_set & ~MOUNT_ATTR__ATIME) | attr
            elif clear:
                out.attr_clr |= attr
                out.attr_set &= ~attr
            else:
                out.attr_set |= attr
                out.attr_clr &= ~attr
            continue
        if opt == "tmpcopyup":
            out.copyup = True
            continue
        if opt in ("idmap", "ridmap"):
            out.idmap = opt
            continue
        out.data.append(opt)
    return out
