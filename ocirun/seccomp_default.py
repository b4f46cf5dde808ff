"""The seccomp profile ``ocirun spec`` writes: an allow-list in the spirit of Docker's default.

Everything not listed fails with EPERM (``defaultAction`` SCMP_ACT_ERRNO).  What an ordinary
program needs is allowed; left out are the calls that reach state the namespaces do not isolate
(kernel modules, keyrings, the clock, swap, reboot, accounting, quotas, io_uring, userfaultfd,
mounts, namespaces, BPF, perf), unless the process has the capability that rules them anyway:
``profile(capabilities)`` adds those groups for the capabilities it is given.  Three calls are
allowed only with harmless arguments: clone without CLONE_NEW* flags, personality with the
usual personas, socket of any family but AF_VSOCK; clone3 fails with ENOSYS, so that libc falls
back to clone, whose flags the filter can see.

Names the libseccomp in use does not know are skipped when the profile is compiled; names of
other architectures are harmless.  This module is data: it is imported by ``ocirun spec`` only.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ENOSYS = 38
AF_VSOCK = 40
# CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
CLONE_NAMESPACES = 0x7E020000
# PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and 0xffffffff (only asks which one is set)
PERSONAS = (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)

ALLOWED = (
    # files and directories
    "access", "faccessat", "faccessat2", "chdir", "fchdir", "getcwd", "chmod", "fchmod", "fchmodat",
    "fchmodat2", "chown", "chown32", "fchown", "fchown32", "fchownat", "lchown", "lchown32", "umask",
    "creat", "open", "openat", "openat2", "close", "close_range", "dup", "dup2", "dup3", "fcntl",
    "fcntl64", "flock", "link", "linkat", "symlink", "symlinkat", "unlink", "unlinkat", "rename",
    "renameat", "renameat2", "mkdir", "mkdirat", "mknod", "mknodat", "rmdir", "readlink",
    "readlinkat", "getdents", "getdents64", "stat", "stat64", "lstat", "lstat64", "fstat", "fstat64",
    "fstatat64", "newfstatat", "statx", "statfs", "statfs64", "fstatfs", "fstatfs64", "truncate",
    "truncate64", "ftruncate", "ftruncate64", "fallocate", "fadvise64", "fadvise64_64", "readahead",
    "fsync", "fdatasync", "sync", "syncfs", "sync_file_range", "utime", "utimes", "utimensat",
    "utimensat_time64", "futimesat", "getxattr", "lgetxattr", "fgetxattr", "setxattr", "lsetxattr",
    "fsetxattr", "listxattr", "llistxattr", "flistxattr", "removexattr", "lremovexattr",
    "fremovexattr", "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
    "fanotify_mark", "cachestat",
    # reading and writing
    "read", "readv", "pread64", "preadv", "preadv2", "write", "writev", "pwrite64", "pwritev",
    "pwritev2", "lseek", "_llseek", "sendfile", "sendfile64", "splice", "tee", "vmsplice",
    "copy_file_range", "ioctl", "pipe", "pipe2", "eventfd", "eventfd2", "memfd_create",
    # waiting for events
    "select", "_newselect", "pselect6", "pselect6_time64", "poll", "ppoll", "ppoll_time64",
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_wait", "epoll_wait_old",
    "epoll_pwait", "epoll_pwait2", "signalfd", "signalfd4", "timerfd_create", "timerfd_settime",
    "timerfd_settime64", "timerfd_gettime", "timerfd_gettime64", "io_setup", "io_destroy",
    "io_submit", "io_cancel", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
    # memory
    "brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore", "mlock", "mlock2",
    "mlockall", "munlock", "munlockall", "msync", "remap_file_pages", "membarrier", "pkey_alloc",
    "pkey_free", "pkey_mprotect", "map_shadow_stack", "mseal",
    # processes and threads
    "execve", "execveat", "exit", "exit_group", "fork", "vfork", "wait4", "waitid", "waitpid",
    "getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid",
    "getpriority", "setpriority", "getrusage", "prctl", "set_tid_address", "set_robust_list",
    "get_robust_list", "rseq", "restart_syscall", "set_thread_area", "get_thread_area",
    "futex", "futex_time64", "futex_waitv", "futex_wait", "futex_wake", "futex_requeue",
    "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getattr", "sched_setattr",
    "sched_getparam", "sched_setparam", "sched_getscheduler", "sched_setscheduler",
    "sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval",
    "sched_rr_get_interval_time64", "getcpu", "ioprio_get", "ioprio_set", "getrlimit", "setrlimit",
    "ugetrlimit", "prlimit64", "capget", "capset", "seccomp", "pidfd_open", "pidfd_send_signal",
    "process_mrelease", "ptrace", "process_vm_readv", "process_vm_writev",
    "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
    "getrandom", "uname", "sysinfo", "times",
    # credentials (the kernel checks them against the capabilities)
    "getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32", "getegid", "getegid32",
    "getresuid", "getresuid32", "getresgid", "getresgid32", "getgroups", "getgroups32", "setuid",
    "setuid32", "setgid", "setgid32", "setreuid", "setreuid32", "setregid", "setregid32",
    "setresuid", "setresuid32", "setresgid", "setresgid32", "setgroups", "setgroups32", "setfsuid",
    "setfsuid32", "setfsgid", "setfsgid32",
    # signals
    "kill", "tkill", "tgkill", "rt_sigaction", "rt_sigprocmask", "rt_sigpending", "rt_sigqueueinfo",
    "rt_tgsigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_sigtimedwait_time64", "sigaltstack", "sigprocmask", "sigreturn", "pause", "alarm",
    # time (reading it; setting it needs CAP_SYS_TIME)
    "clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64", "clock_nanosleep",
    "clock_nanosleep_time64", "gettimeofday", "time", "nanosleep", "getitimer", "setitimer",
    "timer_create", "timer_delete", "timer_settime", "timer_settime64", "timer_gettime",
    "timer_gettime64", "timer_getoverrun", "adjtimex",
    # sockets (socket itself below)
    "socketpair", "bind", "listen", "accept", "accept4", "connect", "getsockname", "getpeername",
    "getsockopt", "setsockopt", "shutdown", "send", "sendto", "sendmsg", "sendmmsg", "recv",
    "recvfrom", "recvmsg", "recvmmsg", "recvmmsg_time64", "socketcall",
    # System V and POSIX IPC (namespaced)
    "ipc", "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop",
    "semtimedop_time64", "semctl", "shmget", "shmat", "shmdt", "shmctl", "mq_open", "mq_unlink",
    "mq_timedsend", "mq_timedsend_time64", "mq_timedreceive", "mq_timedreceive_time64", "mq_notify",
    "mq_getsetattr",
)

# machine (uname -m) -> (the archs of its binaries, calls only that architecture has)
MACHINES = {
    "x86_64": (("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"), ("arch_prctl", "modify_ldt")),
    "i686": (("SCMP_ARCH_X86",), ("modify_ldt",)),
    "aarch64": (("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"),
                ("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush",
                 "set_tls")),
    "armv7l": (("SCMP_ARCH_ARM",),
               ("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush",
                "set_tls")),
    "ppc64le": (("SCMP_ARCH_PPC64LE",), ("sync_file_range2", "swapcontext")),
    "s390x": (("SCMP_ARCH_S390X", "SCMP_ARCH_S390"),
              ("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr")),
    "riscv64": (("SCMP_ARCH_RISCV64",), ("riscv_flush_icache",)),
    "mips64": (("SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPS"), ()),
    "loongarch64": (("SCMP_ARCH_LOONGARCH64",), ()),
}

# Calls that a capability rules anyway: allowed when the process has it.
BY_CAPABILITY = {
    "CAP_SYS_ADMIN": ("mount", "umount", "umount2", "pivot_root", "setns", "unshare", "sethostname",
                      "setdomainname", "quotactl", "quotactl_fd", "fanotify_init", "fsconfig", "fsmount",
                      "fsopen", "fspick", "move_mount", "open_tree", "mount_setattr", "lookup_dcookie",
                      "clone3"),
    "CAP_SYS_BOOT": ("reboot",),
    "CAP_SYS_CHROOT": ("chroot",),
    "CAP_SYS_MODULE": ("init_module", "finit_module", "delete_module"),
    "CAP_SYS_PACCT": ("acct",),
    "CAP_SYS_PTRACE": ("kcmp", "pidfd_getfd", "process_madvise"),
    "CAP_SYS_RAWIO": ("iopl", "ioperm"),
    "CAP_SYS_TIME": ("settimeofday", "stime", "clock_settime", "clock_settime64", "clock_adjtime",
                     "clock_adjtime64"),
    "CAP_SYS_TTY_CONFIG": ("vhangup",),
    "CAP_SYS_NICE": ("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node", "move_pages",
                     "migrate_pages"),
    "CAP_SYSLOG": ("syslog",),
    "CAP_BPF": ("bpf",),
    "CAP_PERFMON": ("perf_event_open",),
    "CAP_DAC_READ_SEARCH": ("open_by_handle_at", "name_to_handle_at"),
}


def profile(capabilities: list[str] | tuple[str, ...] = (), machine: str | None = None) -> dict[str, Any]:
    """The default linux.seccomp for a process with these (bounding) capabilities, for the
    architecture ``machine`` (``uname -m``; default: this one's)."""
    if machine is None:
        from . import _os as os

        machine = os.uname().machine
    archs, arch_calls = MACHINES.get(machine, ((), ()))
    caps = set(capabilities)
    allowed = [*ALLOWED, *arch_calls]
    for cap, names in BY_CAPABILITY.items():
        if cap in caps:
            allowed.extend(n for n in names if n not in allowed)
    syscalls: list[dict[str, Any]] = [{"names": allowed, "action": "SCMP_ACT_ALLOW"}]
    syscalls.append({"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                     "args": [{"index": 0, "value": p, "op": "SCMP_CMP_EQ"} for p in PERSONAS]})
    syscalls.append({"names": ["socket"], "action": "SCMP_ACT_ALLOW",
                     "args": [{"index": 0, "value": AF_VSOCK, "op": "SCMP_CMP_NE"}]})
    if "CAP_SYS_ADMIN" in caps:
        syscalls.append({"names": ["clone"], "action": "SCMP_ACT_ALLOW"})
    else:
        flags_arg = 1 if machine.startswith("s390") else 0  # s390's clone takes the stack first
        syscalls.append({"names": ["clone"], "action": "SCMP_ACT_ALLOW",
                         "args": [{"index": flags_arg, "value": CLONE_NAMESPACES, "valueTwo": 0,
                                   "op": "SCMP_CMP_MASKED_EQ"}]})
        syscalls.append({"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": ENOSYS})
    out: dict[str, Any] = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1}
    if archs:
        out["architectures"] = list(archs)
    out["syscalls"] = syscalls
    return out
