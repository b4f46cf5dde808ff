/* ocirun.h: the one definition of what crosses between Python and C.
 *
 * Two programs share it:
 *   - the cffi module (shim.c): clones the container's first process and execs the init stage;
 *   - the init stage (init.c): a tiny static program, run from a sealed memfd copy, that executes
 *     the launch plan step by step and finally execve()s the user's program.
 *
 * ocirun/protocol.py mirrors every constant here; tests/unit/test_protocol.py checks that they agree.
 * The ops themselves are defined in protocol.py only (see below).  Bump OCIRUN_ABI_VERSION whenever
 * a layout or a constant changes.
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

/* The op codes (enum ocirun_op_code, OP_<NAME>) and the accessors of their fields (<op>_<field>(op))
 * are not written here: ocirun/_opgen.py generates them at build time from ocirun/protocol.py, the
 * one definition of the ops (OP_* and the _LAYOUT table), into ocirun_ops.h in the build directory,
 * which csrc/init/init.h includes.  The values some fields take are below. */

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
#define OCIRUN_MNT_CGROUP2_BIND 0x800 /* cgroup2 refused (EBUSY: the target is the host's cgroup2 in a
                                         /sys bound from the host; EPERM): bind the container's
                                         cgroup on the host (the op's fallback) there instead (runc) */

/* chdir_phase */
#define OCIRUN_CHDIR_FIRST 1
#define OCIRUN_CHDIR_AGAIN 2

/* caps_mode */
#define OCIRUN_CAPS_BOUNDING 1     /* drop from the bounding set what `bounding` lacks */
#define OCIRUN_CAPS_SET 2          /* capset effective, permitted, inheritable; raise the ambient */

#endif
