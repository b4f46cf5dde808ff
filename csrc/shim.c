/* shim.c: the C half of ocirun's cffi module (ocirun._shim).
 *
 * ocirun_spawn() clones the container's first process with the namespaces the plan asks for, born
 * in its cgroup v2 (it joins its v1 ones later, in the init stage) and, once the parent has written
 * its id maps (the parent's first MSG_ACK, with a new user namespace), execs the init stage
 * (init.c) from a sealed memfd.  Everything between clone and exec runs in a copy of the
 * Python process, so it follows the rules of CPython's _posixsubprocess child: raw
 * system calls only, no allocation, no stdio, no Python, and _exit() on any error after reporting
 * it on the sync socket.  The exchange with the parent and the init stage is drawn in
 * ocirun/protocol.py.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ocirun.h"
#include "weaken.h"
#include "shim.h"

int ocirun_abi_version(void)
{
    return OCIRUN_ABI_VERSION;
}

int ocirun_socketpair(int fds[2])
{
    return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0 ? -errno : 0;
}

/* A sealed, close-on-exec memfd holding a copy of the file at `path`: exec'ing it gives a process
 * whose /proc/self/exe cannot be written and leads to no host file. */
int ocirun_sealed_copy(const char *path)
{
    struct stat st;
    int src = open(path, O_RDONLY | O_CLOEXEC);
    if (src < 0)
        return -errno;
    if (WEAKENED(HOST_INIT))
        return src; /* attack-test build: the init stage runs the host's file (CVE-2019-5736) */
    int fd = -1, err = 0;
    if (fstat(src, &st) < 0) {
        err = errno;
        goto out;
    }
    fd = memfd_create("ocirun-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        err = errno;
        goto out;
    }
    for (off_t off = 0; off < st.st_size;) {
        ssize_t n = sendfile(fd, src, &off, (size_t)(st.st_size - off));
        if (n <= 0) {
            err = n < 0 ? errno : EIO;
            goto out;
        }
    }
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
        err = errno;
out:
    close(src);
    if (err) {
        if (fd >= 0)
            close(fd);
        return -err;
    }
    return fd;
}

/* open(2) of `path` resolved inside the directory `root_fd` (openat2 RESOLVE_IN_ROOT): symlinks and
 * ".." cannot lead out of it, and magic links of /proc are refused. */
int ocirun_open_in_root(int root_fd, const char *path, int flags)
{
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)flags | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    while (*path == '/')
        path++;
    long fd = syscall(SYS_openat2, root_fd, *path ? path : ".", &how, sizeof how);
    return fd < 0 ? -errno : (int)fd;
}

/* A connected AF_UNIX stream socket (close-on-exec): the console socket of --console-socket. */
int ocirun_connect_unix(const char *path)
{
    struct sockaddr_un sa;
    size_t len = strlen(path);
    if (len >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, len);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int r;
    do
        r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

/* Receives one fd sent with SCM_RIGHTS (the console's pty master); it arrives close-on-exec. */
int ocirun_recv_fd(int sock)
{
    char data[256];
    struct iovec iov = {data, sizeof data};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.buf;
    msg.msg_controllen = sizeof ctl.buf;
    ssize_t n;
    do
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
        return -EBADMSG;
    int fd;
    memcpy(&fd, CMSG_DATA(cm), sizeof fd);
    return fd;
}

/* One message with `nfds` fds attached (SCM_RIGHTS): an ACK carrying the cgroup files the init
 * stage joins (init.c wait_ack). */
int ocirun_send_with_fds(int sock, const char *buf, int len, const int *fds, int nfds)
{
    struct iovec iov = {(void *)buf, (size_t)len};
    union {
        char buf[CMSG_SPACE(64 * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    if (nfds < 0 || nfds > 64)
        return -EINVAL;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (nfds > 0) {
        memset(&ctl, 0, sizeof ctl);
        msg.msg_control = ctl.buf;
        msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
        memcpy(CMSG_DATA(cm), fds, (size_t)nfds * sizeof(int));
    }
    ssize_t n;
    do
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : (int)n;
}

/* umount2(MNT_DETACH | UMOUNT_NOFOLLOW); a path that is no (longer a) mount point is fine. */
int ocirun_umount(const char *path)
{
    if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
        return -errno;
    return 0;
}

/* setns(2) (Python 3.11 has no os.setns): a createContainer hook's child joins the container's
 * mount namespace with it. */
int ocirun_setns(int fd, int nstype)
{
    return syscall(SYS_setns, fd, nstype) < 0 ? -errno : 0;
}

/* The children of our children that lose their parent become ours (OP_PIDNS_FORK), or no longer:
 * returns whether this process was a subreaper before (0 or 1), or -errno. */
int ocirun_set_child_subreaper(int on)
{
    int was = 0;
    if (prctl(PR_GET_CHILD_SUBREAPER, (unsigned long)&was, 0, 0, 0) < 0)
        return -errno;
    if (prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0, 0, 0, 0) < 0)
        return -errno;
    return was != 0;
}

/* open_tree(2) OPEN_TREE_CLONE of `path` (AT_RECURSIVE: with the mounts below it): a detached
 * copy that a process in another mount and user namespace may attach (the init stage's
 * MNT_SRC_FD mounts).  The fd is CLOEXEC; -errno on failure. */
int ocirun_open_tree(const char *path, int recursive)
{
    long fd = syscall(SYS_open_tree, AT_FDCWD, path,
                      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
    return fd < 0 ? -errno : (int)fd;
}

/* mount_setattr(2) MOUNT_ATTR_IDMAP on a detached tree: its ids mapped as the user namespace
 * userns_fd's are (AT_RECURSIVE: the mounts below it too). -errno on failure. */
int ocirun_idmap_tree(int fd, int userns_fd, int recursive)
{
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = MOUNT_ATTR_IDMAP;
    attr.userns_fd = (__u64)userns_fd;
    long r = syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr);
    return r < 0 ? -errno : 0;
}

/* f_type of statfs(2): tells cgroup2 from tmpfs from proc. */
long ocirun_statfs_type(const char *path)
{
    struct statfs st;
    if (statfs(path, &st) < 0)
        return -errno;
    return (long)st.f_type;
}

/* ---- the child, between clone and exec ------------------------------------------------------- */

struct child_args {
    const struct ocirun_spawn *s;
};

static void child_report(int sync_fd, int err, const char *what)
{
    struct ocirun_msg m;
    memset(&m, 0, sizeof m);
    m.kind = MSG_ERROR;
    m.step = -1;
    m.err = err;
    for (size_t i = 0; what[i] && i < sizeof m.detail - 1; i++)
        m.detail[i] = what[i];
    (void)!syscall(SYS_sendto, sync_fd, &m, sizeof m, MSG_NOSIGNAL, NULL, 0);
}

#define CHILD_CHECK(expr, what)                                                                      \
    do {                                                                                             \
        if ((expr) < 0) {                                                                            \
            child_report(s->sync_fd, errno, what);                                                   \
            syscall(SYS_exit_group, 1);                                                              \
        }                                                                                            \
    } while (0)

/* Runs in the new process.  With CLONE_VM it shares the parent's memory (the parent is suspended
 * until the exec): it writes nothing but its own stack, calls nothing but raw system calls, and
 * all signals stay blocked (the init stage unblocks them). */
static int child(void *arg)
{
    const struct ocirun_spawn *s = ((struct child_args *)arg)->s;
    struct ocirun_msg m;

    /* Ignored signals survive exec: Python's SIGPIPE and SIGXFSZ, and whatever our caller ignored
     * (a shell's background job has SIGINT and SIGQUIT ignored).  The container starts with every
     * disposition at its default, as runc's does (its Go runtime catches them all). The mask stays
     * full until the init stage empties it. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < _NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            syscall(SYS_rt_sigaction, sig, &dfl, NULL, _NSIG / 8);

    if (s->pdeathsig)
        CHILD_CHECK(syscall(SYS_prctl, PR_SET_PDEATHSIG, s->pdeathsig, 0, 0, 0), "prctl PR_SET_PDEATHSIG");
    for (int i = 0; i < s->nsfds_n; i++)
        CHILD_CHECK(syscall(SYS_setns, s->nsfds[i], s->nstypes[i]), "setns");

    if (s->unshare_flags) {
        CHILD_CHECK(syscall(SYS_unshare, s->unshare_flags), "unshare");
        memset(&m, 0, sizeof m);
        m.kind = MSG_SYNC;
        m.step = -1;
        m.value = SYNC_UNSHARED; /* only now do /proc/<pid>/timens_offsets name the new one */
        CHILD_CHECK(syscall(SYS_sendto, s->sync_fd, &m, sizeof m, MSG_NOSIGNAL, NULL, 0), "sendto");
    }
    if (s->wait_go) {
        /* sync 1: the parent has written our id maps and time offsets. */
        ssize_t n;
        do
            n = syscall(SYS_read, s->sync_fd, &m, sizeof m);
        while (n < 0 && errno == EINTR);
        if (n != (ssize_t)sizeof m || m.kind != MSG_ACK)
            syscall(SYS_exit_group, 1);
    }
    if (s->unshare_flags & CLONE_NEWTIME) {
        /* unshare put only our children to come in the new time namespace; kernels from 6.2 move
         * us in at the exec too, older ones (Debian 12's 6.1) do not.  Join it ourselves, now that
         * its offsets are written (no memory shared: the kernel's condition for this setns). */
        long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
        CHILD_CHECK(fd, "open /proc/self/ns/time_for_children");
        CHILD_CHECK(syscall(SYS_setns, fd, CLONE_NEWTIME), "setns to the new time namespace");
        syscall(SYS_close, fd);
    }
    if (s->become_root) {
        CHILD_CHECK(syscall(SYS_setresgid, 0, 0, 0), "setresgid");
        CHILD_CHECK(syscall(SYS_setresuid, 0, 0, 0), "setresuid");
    }

    /* Move the fds to the numbers the init stage expects: first above every target, so that no
     * source is overwritten before it is used, then down; dup3 leaves the copies inheritable. */
    int top = 3;
    for (int i = 0; i < s->fds_n; i++)
        if (s->fds_to[i] >= top)
            top = s->fds_to[i] + 1;
    long exec_fd = syscall(SYS_fcntl, s->exec_fd, F_DUPFD_CLOEXEC, top + s->fds_n);
    CHILD_CHECK(exec_fd, "dup");
    int tmp[s->fds_n > 0 ? s->fds_n : 1];
    for (int i = 0; i < s->fds_n; i++) {
        long fd = syscall(SYS_fcntl, s->fds_from[i], F_DUPFD_CLOEXEC, top);
        CHILD_CHECK(fd, "dup");
        tmp[i] = (int)fd;
    }
    for (int i = 0; i < s->fds_n; i++)
        CHILD_CHECK(syscall(SYS_dup3, tmp[i], s->fds_to[i], 0), "dup3");

    syscall(SYS_execveat, exec_fd, "", s->argv, s->envp, AT_EMPTY_PATH);
    int err = errno, report_fd = s->sync_fd;
    for (int i = 0; i < s->fds_n; i++)
        if (s->fds_from[i] == s->sync_fd)
            report_fd = s->fds_to[i];
    child_report(report_fd, err, "execveat init stage");
    syscall(SYS_exit_group, 1);
    return 1;
}

#if defined(__x86_64__)
/* clone3 whose child calls fn(arg) on the stack clone_args names, then exits with its value: what
 * glibc's clone() does for clone(2), which it offers no function for with clone3.  The child
 * starts with the parent's registers but for rax, rcx and r11, so fn and arg wait in r12/r13. */
#define HAVE_CLONE3_ON_STACK 1
static long clone3_on_stack(struct clone_args *ca, int (*fn)(void *), void *arg)
{
    register long rax __asm__("rax") = SYS_clone3;
    register struct clone_args *rdi __asm__("rdi") = ca;
    register long rsi __asm__("rsi") = (long)sizeof *ca;
    register int (*r12)(void *) __asm__("r12") = fn;
    register void *r13 __asm__("r13") = arg;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "xor %%ebp, %%ebp\n\t"
                     "mov %%r13, %%rdi\n\t"
                     "call *%%r12\n\t"
                     "mov %%eax, %%edi\n\t"
                     "mov $60, %%eax\n\t" /* SYS_exit */
                     "syscall\n\t"
                     "ud2\n"
                     "1:"
                     : "+r"(rax)
                     : "r"(rdi), "r"(rsi), "r"(r12), "r"(r13)
                     : "rcx", "r11", "memory");
    return rax;
}
#endif

int ocirun_spawn(const struct ocirun_spawn *s)
{
    /* Nothing to wait for before the exec: share memory and sleep until the child has exec'd
     * (like posix_spawn), which spares copying the interpreter's page tables.  Otherwise (a new
     * user namespace, whose maps the parent writes in between; a cgroup that may be frozen) a
     * plain fork-like clone. */
    int shares_ok = !s->wait_go && !s->unshare_flags && !s->may_freeze;
    for (int i = 0; i < s->nsfds_n; i++) /* a time namespace is joined only by a process that */
        if (s->nstypes[i] == CLONE_NEWTIME) /* shares its memory with no other */
            shares_ok = 0;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    struct child_args args = {s};
    _Alignas(16) char stack[32768];
    long pid;
    if (s->cgroup_fd >= 0) {
        /* Born in its cgroup v2: no migration, which spares a write of cgroup.procs and the RCU
         * grace period it waits for. */
        struct clone_args ca;
        memset(&ca, 0, sizeof ca);
        ca.flags = (unsigned long)s->clone_flags | CLONE_INTO_CGROUP;
        ca.exit_signal = SIGCHLD;
        ca.cgroup = (unsigned long)s->cgroup_fd;
#ifdef HAVE_CLONE3_ON_STACK
        if (shares_ok) {
            ca.flags |= CLONE_VM | CLONE_VFORK;
            ca.stack = (unsigned long)stack;
            ca.stack_size = sizeof stack;
            pid = clone3_on_stack(&ca, child, &args);
            if (pid < 0) {
                errno = (int)-pid;
                pid = -1;
            }
        } else
#endif
        {
            pid = syscall(SYS_clone3, &ca, sizeof ca);
            if (pid == 0)
                child(&args);
        }
    } else {
        unsigned long flags = (unsigned long)s->clone_flags | SIGCHLD;
        if (shares_ok)
            flags |= CLONE_VM | CLONE_VFORK;
        pid = clone(child, stack + sizeof stack, (int)flags, &args);
    }
    int err = pid < 0 ? errno : 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    return pid < 0 ? -err : (int)pid;
}
