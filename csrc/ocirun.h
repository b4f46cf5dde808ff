/* ocirun.h: the one definition of what crosses between Python and C.
 *
 * Two programs share it:
 *   - the cffi module (shim.c): clones the container's first process and execs the init stage;
 *   - the init stage (init.c): a tiny static program, run from a sealed memfd copy, that executes
 *     the launch plan step by step and finally execve()s the user's program.
 *
 * ocirun/protocol.py mirrors every constant here; tests/unit/test_protocol.py checks that they agree.
 * Bump OCIRUN_ABI_VERSION whenever a layout or a constant changes.
 *
 * The launch plan (built by ocirun/plan.py, read by init.c) is a flat little-endian byte string:
 *
 *     struct ocirun_plan_hdr   magic, abi, number of ops, total size
 *     struct ocirun_op         code, size, four integer arguments,
 *       payload                then `size - sizeof(struct ocirun_op)` bytes: NUL-terminated strings
 *                              one after the other, or a binary blob; padded to 8 bytes
 *     struct ocirun_op ...
 *
 * The init stage runs the ops in order and makes no decisions of its own.  When op number i fails it
 * sends MSG_ERROR {step = i, err = errno} and exits; the parent turns that into a sentence, because it
 * knows what op i meant ("mount `proc` to `/proc`").
 */
#ifndef OCIRUN_H
#define OCIRUN_H

#include <stdint.h>

#define OCIRUN_ABI_VERSION 1
#define OCIRUN_PLAN_MAGIC 0x5049434fu /* "OCIP" */

struct ocirun_plan_hdr {
    uint32_t magic;
    uint32_t abi;
    uint32_t nops;
    uint32_t size; /* of the whole plan, header included */
};

struct ocirun_op {
    uint32_t code;
    uint32_t size; /* of this op, header and padded payload included */
    int64_t a, b, c, d;
    /* payload follows */
};

/* Messages on the sync socket (SOCK_SEQPACKET), both directions. */
struct ocirun_msg {
    uint32_t kind;
    int32_t step;  /* index of the op, or -1 */
    int32_t err;   /* errno, or 0 */
    int32_t pad;
    int64_t value;
    char detail[256];
};

enum ocirun_msg_kind {
    MSG_PID = 7,     /* child -> parent: `value` = the pid of the process that goes on (OP_PIDNS_FORK) */
    MSG_ACK = 1,     /* parent -> child: go on */
    MSG_READY = 2,   /* child -> parent: everything before the wait for `start` is done */
    MSG_ERROR = 3,   /* child -> parent: op `step` failed with `err`; parent -> child: abort */
    MSG_SYNC = 4,    /* child -> parent: reached sync point `value`, waits for MSG_ACK */
    /* 5: unused (EOF after READY means execve succeeded: the sync socket is close-on-exec) */
    MSG_SECCOMP = 6, /* child -> parent: `value` = fd number of the seccomp listener (OP_SECCOMP with
                        SECCOMP_FILTER_FLAG_NEW_LISTENER); the parent takes a copy, waits for MSG_ACK */
};

/* Sync points (MSG_SYNC value). */
enum ocirun_sync_point {
    SYNC_HOOKS = 1,  /* mounts done, before pivot_root: run createRuntime/prestart hooks */
    SYNC_UNSHARED = 3,/* the shim's child has made the namespaces it unshares (time): the parent may
                         write their settings now (the ACK of sync 1 follows) */
    SYNC_CGROUPS = 2,/* before the first op that needs the cgroups: the ACK's value is the
                        container's pid as the host sees it, and it carries the `tasks` files of
                        the cgroup v1 hierarchies the process moves itself into (init.c wait_ack) */
};

/* Op codes.  Arguments are a, b, c, d; strings are s0, s1, ... in the payload. */
enum ocirun_op_code {
    OP_UNSHARE = 1,       /* a = CLONE_* flags */
    OP_SETNS = 2,         /* a = fd, b = CLONE_NEW* type */
    OP_MOUNT = 3,         /* s0 source, s1 target, s2 fstype, s3 data; a = flags, b = propagation flags,
                             c = OCIRUN_MNT_* , d = flags for a remount after the mount (0: none) */
    OP_ROOTFS = 4,        /* s0 = host path of the rootfs: becomes the root of later "in root" paths */
    OP_MKNOD = 5,         /* s0 = path in root; a = mode (with S_IFCHR...), b = dev, c = uid, d = gid;
                             s1 = "check": only check that the node is there (a bind-mounted /dev) */
    OP_SYMLINK = 6,       /* s0 = link target, s1 = path in root */
    OP_PIVOT_ROOT = 7,    /* pivot into the rootfs, detach the old root */
    OP_MOVE_ROOT = 8,     /* --no-pivot: unmount (or cover) every full procfs and sysfs outside the
                             rootfs, move the rootfs onto / and chroot */
    OP_SETHOSTNAME = 9,   /* s0 */
    OP_SETDOMAINNAME = 10,/* s0 */
    OP_WRITE_FILE = 11,   /* s0 = path, s1 = content; a = 1: must be on procfs */
    OP_OPEN_DEVNULL = 12, /* open and check the host's /dev/null, kept for OP_MASK */
    OP_MASK = 13,         /* s0 = path: /dev/null over a file, read-only tmpfs over a directory */
    OP_READONLY = 14,     /* s0 = path: read-only bind of itself */
    OP_SYNC = 15,         /* a = sync point: tell the parent, wait for MSG_ACK */
    OP_CHDIR = 16,        /* s0; a = 0: chdir, then check that the cwd is inside the root;
                             OCIRUN_CHDIR_FIRST: chdir before the user change, where EACCES and EPERM
                             are left for OCIRUN_CHDIR_AGAIN: after it, chdir if the first one
                             failed, then the check (runc finalizeNamespace) */
    OP_RLIMIT = 17,       /* a = resource, b = soft, c = hard */
    OP_NO_NEW_PRIVS = 18,
    OP_SECCOMP = 19,      /* a = SECCOMP_FILTER_FLAG_*, payload = struct sock_filter[b] */
    OP_SETGROUPS = 20,    /* a = count, payload = uint32 gids */
    OP_SETID = 21,        /* a = uid, b = gid: setresgid + setresuid, keeping capabilities */
    OP_CAPS = 22,         /* payload = uint64 bounding, effective, permitted, inheritable, ambient */
    OP_UMASK = 23,        /* a */
    OP_PERSONALITY = 24,  /* a */
    OP_EXEC_LOOKUP = 25,  /* a = count, s0.. = candidate paths: the first executable one is used */
    OP_READY = 26,        /* clear the parent-death signal, send MSG_READY */
    OP_WAIT_FIFO = 27,    /* a = fd: block until `start` writes a byte */
    OP_CLOSE_FROM = 28,   /* a = first fd: mark it and all above close-on-exec */
    OP_EXEC = 29,         /* a = argc, b = envc; s0.. = argv then envp */
    OP_MKDIR = 30,        /* s0 = path in root; a = mode */
    OP_CHOWN = 31,        /* s0 = path in root; a = uid, b = gid */
    OP_OOM_SCORE_ADJ = 32,/* a */
    OP_SETSID = 33,       /* new session: the container's processes are not in the caller's */
    OP_DUP2 = 34,         /* a = old fd, b = new fd */
    OP_PDEATHSIG = 35,    /* a = signal */
    OP_MOUNT_SETATTR = 36,/* s0 = path in root; a = MOUNT_ATTR_* to set, b = to clear, c = propagation,
                             d = AT_RECURSIVE or 0 */
    OP_LOOPBACK_UP = 37,  /* bring up "lo" in the (new) network namespace */
    OP_HOOK = 38,         /* run a hook in the container: s0 = path, then a args, b env entries, then the
                             state JSON before and after the pid (the parent's ACK at SYNC_CGROUPS
                             carries the pid); c = timeout in seconds (0: none), d = its index
                             (for the error, which carries its exit status, stdout and stderr) */
    OP_CONSOLE = 39,      /* a = console socket fd, b = rows << 16 | cols (0: leave) | 1 << 32 to bind
                             the slave on /dev/console (not for exec) | 1 << 33 to clear ONLCR (the
                             runtime relays the pty itself, runc's tty.go), c = uid, d = gid:
                             a new pty from the container's /dev/ptmx, its master sent on the socket,
                             the slave bound on /dev/console, the controlling terminal and stdio */
    OP_KEYRING = 40,      /* s0 = name: join a new session keyring (the host's keys are not the container's) */
    OP_AFFINITY = 41,     /* payload = CPU mask of a bytes: sched_setaffinity */
    OP_SCHED = 42,        /* a = policy, b = nice, c = priority, d = flags; payload = uint64 runtime,
                             deadline, period: sched_setattr */
    OP_IOPRIO = 43,       /* a = class << 13 | priority: ioprio_set on the process */
    OP_CHROOT = 44,       /* no mount namespace: chroot into the rootfs (its mounts stay the host's) */
    OP_PIDNS_FORK = 45,   /* a = fd of a pid namespace: setns into it and fork; the parent (in the
                             runtime's pid namespace) sends MSG_PID {value = the child's pid} and
                             exits, the child goes on with the plan.  No process of the runtime's
                             ever shows in that namespace before it runs this sealed program. */
    OP_MAX = 46,
};

/* OP_MOUNT c flags */
#define OCIRUN_MNT_IN_ROOT 0x1     /* s1 is resolved inside the root, never escaping it */
#define OCIRUN_MNT_MKDIR 0x2       /* create the target (and parents) as a directory if missing */
#define OCIRUN_MNT_MKFILE 0x4      /* create the target (parents as directories) as an empty file */
#define OCIRUN_MNT_SRC_AUTO 0x8    /* create like the source: file when the source is not a directory */
#define OCIRUN_MNT_ROOT 0x10       /* s1 is ignored: the target is the root itself */
#define OCIRUN_MNT_KEEP_MODE 0x20  /* give the new mount's root the mode of the directory it covers */
#define OCIRUN_MNT_COPYUP 0x40     /* tmpcopyup: copy what the new mount covers into it */
#define OCIRUN_MNT_PLAIN_DIR 0x100 /* the target's last component must be a directory, not a symlink
                                      (proc, sysfs: CVE-2019-19921) */

/* OP_CHDIR a */
#define OCIRUN_CHDIR_FIRST 1
#define OCIRUN_CHDIR_AGAIN 2

#endif
