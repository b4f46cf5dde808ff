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

/* Sync points (MSG_SYNC value), in the order they happen (ocirun/protocol.py draws the exchange;
 * the values are names, not that order). */
enum ocirun_sync_point {
    SYNC_UNSHARED = 3,/* the shim's child has made the namespaces it unshares (time): the parent may
                         write their settings now (the ACK of sync 1 follows) */
    SYNC_CGROUPS = 2,/* sync 2, before the first op that needs the cgroups: the ACK's value is the
                        container's pid as the host sees it, and it carries the `tasks` files of
                        the cgroup v1 hierarchies the process moves itself into (init.c wait_ack) */
    SYNC_HOOKS = 1,  /* sync 3, mounts and devices done, before pivot_root: run the createRuntime,
                        createContainer and prestart hooks */
};

/* Op codes.  What each op's arguments a, b, c, d and its payload hold is said once, in the OPS
 * table of ocirun/protocol.py (whose Plan has a builder per op); init.c reads them through the
 * accessors below, named <op>_<field> as there. */
enum ocirun_op_code {
    OP_UNSHARE = 1,
    /* 2: retired (OP_SETNS, never planned) */
    OP_MOUNT = 3,
    OP_ROOTFS = 4,        /* the root of later "in root" paths */
    OP_MKNOD = 5,
    OP_SYMLINK = 6,
    OP_PIVOT_ROOT = 7,    /* pivot into the rootfs, detach the old root */
    OP_MOVE_ROOT = 8,     /* --no-pivot: unmount (or cover) every full procfs and sysfs outside the
                             rootfs, move the rootfs onto / and chroot */
    OP_SETHOSTNAME = 9,
    OP_SETDOMAINNAME = 10,
    OP_WRITE_FILE = 11,
    OP_OPEN_DEVNULL = 12, /* open and check the host's /dev/null, kept for OP_MASK */
    OP_MASK = 13,         /* /dev/null over a file, read-only tmpfs over a directory */
    OP_READONLY = 14,     /* read-only bind of itself */
    OP_SYNC = 15,         /* tell the parent, wait for MSG_ACK */
    OP_CHDIR = 16,
    OP_RLIMIT = 17,
    OP_NO_NEW_PRIVS = 18,
    OP_SECCOMP = 19,
    OP_SETGROUPS = 20,
    OP_SETID = 21,
    OP_CAPS = 22,
    OP_UMASK = 23,
    OP_PERSONALITY = 24,
    OP_EXEC_LOOKUP = 25,  /* the first executable candidate is used */
    OP_READY = 26,        /* clear the parent-death signal, send MSG_READY */
    OP_WAIT_FIFO = 27,    /* block until `start` writes a byte */
    OP_CLOSE_FROM = 28,
    OP_EXEC = 29,
    OP_MKDIR = 30,
    /* 31: retired (OP_CHOWN, never planned) */
    OP_OOM_SCORE_ADJ = 32,
    OP_SETSID = 33,       /* new session: the container's processes are not in the caller's */
    /* 34, 35: retired (OP_DUP2, OP_PDEATHSIG, never planned) */
    OP_MOUNT_SETATTR = 36,
    OP_LOOPBACK_UP = 37,  /* bring up "lo" in the (new) network namespace */
    OP_HOOK = 38,         /* a startContainer hook, run in the container */
    OP_CONSOLE = 39,      /* a new pty from the container's /dev/ptmx, its master sent on the socket,
                             the slave the controlling terminal and stdio (and /dev/console) */
    OP_KEYRING = 40,      /* join a new session keyring (the host's keys are not the container's) */
    OP_AFFINITY = 41,
    OP_SCHED = 42,
    OP_IOPRIO = 43,
    OP_CHROOT = 44,       /* no mount namespace: chroot into the rootfs (its mounts stay the host's) */
    OP_PIDNS_FORK = 45,   /* setns into a pid namespace and fork; the parent (in the runtime's pid
                             namespace) sends MSG_PID {value = the child's pid} and exits, the child
                             goes on.  No process of the runtime's ever shows in that namespace
                             before it runs this sealed program. */
    OP_MAX = 46,
};

/* The arguments by name, one line per op: OP_FIELD(name, slot) is the whole slot, OP_BITS(name,
 * slot, shift, bits) a part of it.  tests/unit/test_protocol.py checks them against protocol.OPS. */
#define OP_FIELD(name, slot) \
    static inline int64_t name(const struct ocirun_op *op) { return op->slot; }
#define OP_BITS(name, slot, shift, bits) \
    static inline int64_t name(const struct ocirun_op *op) \
    { return (int64_t)(((uint64_t)op->slot >> (shift)) & ((1ULL << (bits)) - 1)); }
OP_FIELD(unshare_flags, a)
/* mount_how: OCIRUN_MNT_* */
OP_FIELD(mount_flags, a) OP_FIELD(mount_propagation, b) OP_FIELD(mount_how, c) OP_FIELD(mount_remount_flags, d)
OP_FIELD(mknod_mode, a) OP_FIELD(mknod_dev, b) OP_FIELD(mknod_uid, c) OP_FIELD(mknod_gid, d)
OP_FIELD(write_file_procfs_only, a)
OP_FIELD(sync_point, a) /* SYNC_* */
OP_FIELD(chdir_phase, a) /* 0, OCIRUN_CHDIR_FIRST or OCIRUN_CHDIR_AGAIN */
OP_FIELD(rlimit_resource, a) OP_FIELD(rlimit_soft, b) OP_FIELD(rlimit_hard, c)
OP_FIELD(seccomp_flags, a) OP_FIELD(seccomp_instructions, b)
OP_FIELD(setgroups_count, a)
OP_FIELD(setid_uid, a) OP_FIELD(setid_gid, b)
OP_FIELD(caps_mode, a) OP_FIELD(caps_last_cap, b) /* OCIRUN_CAPS_* */
OP_FIELD(umask_mask, a)
OP_FIELD(personality_persona, a)
OP_FIELD(exec_lookup_count, a)
OP_FIELD(ready_parent_exits, a)
OP_FIELD(wait_fifo_fd, a)
OP_FIELD(close_from_fd, a)
OP_FIELD(exec_argc, a) OP_FIELD(exec_envc, b)
OP_FIELD(mkdir_mode, a)
OP_FIELD(oom_score_adj_score, a)
OP_FIELD(mount_setattr_attr_set, a) OP_FIELD(mount_setattr_attr_clr, b) OP_FIELD(mount_setattr_propagation, c)
OP_FIELD(mount_setattr_at_flags, d)
OP_FIELD(hook_nargs, a) OP_FIELD(hook_nenv, b) OP_FIELD(hook_timeout, c) OP_FIELD(hook_index, d)
OP_FIELD(console_socket_fd, a) OP_FIELD(console_uid, c) OP_FIELD(console_gid, d)
OP_BITS(console_rows, b, 16, 16) OP_BITS(console_cols, b, 0, 16)
OP_BITS(console_dev_console, b, 32, 1) OP_BITS(console_clear_onlcr, b, 33, 1)
OP_FIELD(affinity_size, a)
OP_FIELD(sched_policy, a) OP_FIELD(sched_nice, b) OP_FIELD(sched_priority, c) OP_FIELD(sched_flags, d)
OP_BITS(ioprio_ioclass, a, 13, 3) OP_BITS(ioprio_level, a, 0, 13)
OP_FIELD(pidns_fork_fd, a)

/* mount_how */
#define OCIRUN_MNT_IN_ROOT 0x1     /* the target is resolved inside the root, never escaping it */
#define OCIRUN_MNT_MKDIR 0x2       /* create the target (and parents) as a directory if missing */
#define OCIRUN_MNT_MKFILE 0x4      /* create the target (parents as directories) as an empty file */
#define OCIRUN_MNT_SRC_AUTO 0x8    /* create like the source: file when the source is not a directory */
#define OCIRUN_MNT_ROOT 0x10       /* the target is ignored: it is the root itself */
#define OCIRUN_MNT_KEEP_MODE 0x20  /* give the new mount's root the mode of the directory it covers */
#define OCIRUN_MNT_COPYUP 0x40     /* tmpcopyup: copy what the new mount covers into it */
#define OCIRUN_MNT_PLAIN_DIR 0x100 /* the target's last component must be a directory, not a symlink
                                      (proc, sysfs: CVE-2019-19921) */
#define OCIRUN_MNT_SRC_FD 0x400    /* the source is the next detached mount tree the runtime cloned
                                      (open_tree, before the user namespace; the n-th such mount has
                                      fd sync+5+n): moved onto the target */
#define OCIRUN_MNT_SYSFS_BIND 0x200 /* sysfs refused (EPERM: a user namespace without its own network
                                       namespace): rbind the host's /sys there instead (runc) */

/* chdir_phase */
#define OCIRUN_CHDIR_FIRST 1
#define OCIRUN_CHDIR_AGAIN 2

/* caps_mode */
#define OCIRUN_CAPS_BOUNDING 1     /* drop from the bounding set what `bounding` lacks */
#define OCIRUN_CAPS_SET 2          /* capset effective, permitted, inheritable; raise the ambient */

#endif
