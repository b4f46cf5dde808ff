/* init.c: ocirun's init stage, the container's first process.
 *
 * Started by the shim (shim.c) with execveat() of a sealed memfd copy of this program, so that its
 * /proc/self/exe is never a host executable (CVE-2019-5736), and built without libc so that the
 * process waiting for `start` costs a few pages of memory.
 *
 *     argv[1]  fd of the sync socket (SOCK_SEQPACKET, messages: struct ocirun_msg)
 *     argv[2]  fd of the launch plan (a memfd: struct ocirun_plan_hdr + ops)
 *
 * It runs the plan's ops in order.  It makes no decisions: what to mount, in which order, which
 * checks apply, all of that was decided by ocirun/plan.py (its order follows runc's standard init;
 * tests/golden has whole plans).  When op i fails it sends MSG_ERROR {step = i, err = errno} on
 * the sync socket and exits 1; after the parent is gone (a failed execve after `start`) it writes
 * one line on stderr instead and exits 127.
 *
 * This file holds the state of the run, the messages to the parent, the ops that use them (sync,
 * ready, wait_fifo) and the op interpreter; the other ops are in csrc/init/, one file per concern,
 * included below as one translation unit (csrc/init/init.h says why and in which order, and how
 * an op is written).
 */
#include "init/init.h"

static int sync_fd = -1;
static int parent_gone;        /* after OP_READY of a create: errors go to stderr */
static int cur_step = -1;
static u32 cur_code;
static s64 host_pid;           /* the container's pid in the runtime's namespace (ACK of SYNC_CGROUPS) */

/* ---- messages -------------------------------------------------------------------------------- */

static void send_msg(u32 kind, int step, int err, s64 value, const char *detail)
{
    struct ocirun_msg m;
    memset(&m, 0, sizeof m);
    m.kind = kind;
    m.step = step;
    m.err = err;
    m.value = value;
    if (detail)
        str_copy(m.detail, sizeof m.detail, detail);
    if (SC6(__NR_sendto, sync_fd, &m, sizeof m, MSG_NOSIGNAL, 0, 0) < 0 && kind != MSG_ERROR)
        SC1(__NR_exit_group, 1);
}

static void write_str(int fd, const char *s)
{
    SC3(__NR_write, fd, s, str_len(s));
}

static const char *errno_name(int err)
{
    switch (err) {
    case ENOENT: return "No such file or directory";
    case EACCES: return "Permission denied";
    case EPERM: return "Operation not permitted";
    case EINVAL: return "Invalid argument";
    case ENOTDIR: return "Not a directory";
    case ELOOP: return "Too many levels of symbolic links";
    case ENOEXEC: return "Exec format error";
    case ETXTBSY: return "Text file busy";
    case ETIME: return "Timer expired";
    case EIO: return "Input/output error";
    case EISDIR: return "Is a directory";
    default: return "error";
    }
}

/* What an op does, for the one error message that does not go through the parent (after start,
 * when the parent that knows the plan's descriptions is gone). */
static const char *op_name(u32 code)
{
    switch (code) {
    case OP_SECCOMP: return "load the seccomp filter";
    case OP_HOOK: return "startContainer hook";
    case OP_EXEC: return "exec";
    case OP_WAIT_FIFO: return "wait for start";
    case OP_CLOSE_FROM: return "mark fds close-on-exec";
    case OP_AFFINITY: return "set the CPU affinity";
    default: return "container init";
    }
}

/* Reports the failure of the current step and exits (declared in init.h: every part reports
 * through it).  `err` is a positive errno, 0 for none. */
__attribute__((noreturn)) static void fail(int err, const char *detail)
{
    if (!parent_gone) {
        send_msg(MSG_ERROR, cur_step, err, 0, detail);
    } else {
        /* Nobody listens on the sync socket any more: say it on stderr, like runc's init. */
        char line[512], *p = line;
        p += str_copy(p, 200, "ocirun init: ");
        p += str_copy(p, 200, detail ? detail : op_name(cur_code));
        if (err) {
            p += str_copy(p, 4, ": ");
            p += str_copy(p, 64, errno_name(err));
        }
        *p++ = '\n';
        *p = 0;
        write_str(2, line);
    }
    SC1(__NR_exit_group, parent_gone ? 127 : 1);
    __builtin_unreachable();
}

/* Waits for the parent's ACK.  At the cgroup sync point it carries (SCM_RIGHTS) the `tasks` files
 * of the container's cgroup v1 hierarchies, made by the parent meanwhile: the process moves itself
 * into each by writing "0", which takes no global lock (see ocirun/protocol.py).  A failure on one
 * of the first `err` of them is an error; the others (named hierarchies) are best effort. */
static void wait_ack(void)
{
    struct ocirun_msg m;
    struct {
        unsigned long len; /* struct cmsghdr, then the fds */
        int level, type;
        int fds[ACK_MAX_FDS];
    } ctl;
    struct k_iovec iov = {&m, sizeof m};
    struct k_msghdr h = {0, 0, &iov, 1, &ctl, sizeof ctl, 0};
    long n;
    do
        n = SC3(__NR_recvmsg, sync_fd, &h, MSG_CMSG_CLOEXEC);
    while (n == -EINTR);
    if (n != (long)sizeof m || m.kind != MSG_ACK)
        SC1(__NR_exit_group, 1); /* the parent gave up; it reports why */
    if (m.value)
        host_pid = m.value;
    if (h.controllen > CMSG_HDR_LEN && ctl.level == SOL_SOCKET && ctl.type == SCM_RIGHTS) {
        int nfds = (int)((ctl.len - CMSG_HDR_LEN) / sizeof(int)), err = 0;
        for (int i = 0; i < nfds && i < ACK_MAX_FDS; i++) {
            long r = SC3(__NR_write, ctl.fds[i], "0", 1);
            if (r < 0 && i < m.err && !err)
                err = (int)-r;
            SC1(__NR_close, ctl.fds[i]);
        }
        if (err)
            fail(err, "join the container's cgroups (write 0 to tasks)");
    }
}

/* ---- the ops, by concern ---------------------------------------------------------------------- */

#include "init/plan.c"
#include "init/paths.c"
#include "init/rootfs.c"
#include "init/process.c"
#include "init/terminal.c"
#include "init/hooks.c"

/* ---- the ops on the state of the run --------------------------------------------------------- */

/* Tells the parent that sync point `point` is reached and waits for its ACK. */
static void op_sync(const struct ocirun_op *op)
{
    send_msg(MSG_SYNC, cur_step, 0, sync_point(op), 0);
    wait_ack();
}

/* Everything before the wait for `start` is done: no parent-death signal any more, MSG_READY. */
static void op_ready(const struct ocirun_op *op)
{
    SC5(__NR_prctl, PR_SET_PDEATHSIG, 0, 0, 0, 0);
    send_msg(MSG_READY, cur_step, 0, 0, 0);
    parent_gone = (int)ready_parent_exits(op); /* create: the parent exits once it has the READY */
}

/* Blocks until `start` writes a byte into the exec fifo. */
static void op_wait_fifo(const struct ocirun_op *op)
{
    char c;
    long n;
    do
        n = SC3(__NR_read, wait_fifo_fd(op), &c, 1);
    while (n == -EINTR);
    if (n != 1)
        SC1(__NR_exit_group, 1);
    SC1(__NR_close, wait_fifo_fd(op));
}

/* ---- the interpreter -------------------------------------------------------------------------- */

/* Op code -> op_<name>(op): the cases are generated from ocirun/protocol.py (ocirun/_opgen.py). */
static void run_op(const struct ocirun_op *op)
{
    switch (op->code) {
#include "ocirun_op_cases.h"
    default: fail(EINVAL, "unknown op");
    }
}

static int init_main(int argc, char **argv)
{
    u64 none = 0;
    SC4(__NR_rt_sigprocmask, SIG_SETMASK, &none, 0, sizeof none); /* the shim blocked all */
    /* Until the exec nobody in the container may ptrace us or open our /proc files (execve of
     * the user's program makes it dumpable again, as the kernel decides). */
    if (!WEAKENED(DUMPABLE_INIT))
        SC5(__NR_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (argc < 3)
        return 2;
    sync_fd = (int)parse_uint(argv[1]);
    long plan_fd = parse_uint(argv[2]);
    if (sync_fd < 0 || plan_fd < 0)
        return 2;
    long size = SC3(__NR_lseek, plan_fd, 0, SEEK_END);
    if (size < (long)sizeof(struct ocirun_plan_hdr))
        fail(EINVAL, "plan");
    long mem = SC6(__NR_mmap, 0, size, PROT_READ, MAP_PRIVATE, plan_fd, 0);
    CHECK(mem, "plan");
    SC1(__NR_close, plan_fd);
    const struct ocirun_plan_hdr *hdr = plan_header((const void *)mem, size);
    if (!hdr)
        fail(EINVAL, "plan");
    const char *p = (const char *)(hdr + 1), *end = (const char *)mem + size;
    for (u32 i = 0; i < hdr->nops; i++) {
        const struct ocirun_op *op = plan_next(&p, end);
        if (!op)
            fail(EINVAL, "plan");
        cur_step = (int)i;
        cur_code = op->code;
        run_op(op);
    }
    return 0;
}

__attribute__((used)) void start_c(long *sp)
{
    int argc = (int)sp[0];
    char **argv = (char **)(sp + 1);
    SC1(__NR_exit_group, init_main(argc, argv));
}
