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
 * checks apply, all of that was decided by ocirun/plan.py.  When op i fails it sends
 * MSG_ERROR {step = i, err = errno} on the sync socket and exits 1; after the parent is gone (a
 * failed execve after `start`) it writes one line on stderr instead and exits 127.
 *
 * The order of the steps follows runc's standard init and is set by the plan (tests/golden has
 * whole plans): mounts, the cgroups sync, devices, the hooks sync, sysctls, masked and read-only
 * paths, pivot_root, the console, hostname; then close-on-exec of every fd but stdio and
 * preserved ones, rlimits, oom_score_adj, scheduler, I/O priority, personality, LSM labels,
 * no_new_privs or else seccomp, chdir (as root), bounding set, setgroups/setresgid/setresuid,
 * chdir (as the user, where root could not), capabilities, umask, executable lookup, READY, wait
 * for `start`, seccomp (when no_new_privs is on, as late as possible: before READY when its
 * listener goes to the parent), startContainer hooks,
 * execve.
 */
#include "nolibc.h"
#include "ocirun.h"
#include "weaken.h"

#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/fcntl.h>
#include <linux/filter.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/prctl.h>
#include <linux/resource.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <linux/stat.h>
#include <asm/statfs.h>

#define MSG_NOSIGNAL 0x4000
#define PROT_READ 0x1
#define MAP_PRIVATE 0x02
#define MAP_ANONYMOUS 0x20
#define PROT_WRITE 0x2
#define SEEK_END 2
#define X_OK 1
#define EINTR 4
#define ENOENT 2
#define EEXIST 17
#define EPERM 1
#define ENOTDIR 20
#define EINVAL 22
#define EACCES 13
#define ENOSYS 38
#define ENXIO 6
#define EIO 5
#define ELOOP 40
#define ENAMETOOLONG 36
#define ENOTTY_ 25
#define EXDEV_ 18
#define MNT_DETACH 2
#define AT_SYMLINK_NOFOLLOW_ 0x100

static int sync_fd = -1;
static int root_fd = -1;       /* the directory "in root" paths are resolved in */
static int devnull_fd = -1;    /* the host's /dev/null, checked, for OP_MASK */
static const char *exec_path;  /* set by OP_EXEC_LOOKUP */
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
    case 8: return "Exec format error";
    case 26: return "Text file busy";
    case 62: return "Timer expired";
    case EIO: return "Input/output error";
    case 21: return "Is a directory";
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

/* Reports the failure of the current step and exits.  `err` is a positive errno. */
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

#define CHECK(expr, detail)                                                                          \
    do {                                                                                             \
        long _r = (long)(expr);                                                                      \
        if (_r < 0)                                                                                  \
            fail((int)-_r, detail);                                                                  \
    } while (0)

/* recvmsg(2)'s structures as the kernel reads them (no libc headers here). */
struct k_iovec {
    void *base;
    unsigned long len;
};
struct k_msghdr {
    void *name;
    int namelen;
    struct k_iovec *iov;
    unsigned long iovlen;
    void *control;
    unsigned long controllen;
    unsigned flags;
};
#define K_SOL_SOCKET 1
#define K_SCM_RIGHTS 1
#define K_MSG_CMSG_CLOEXEC 0x40000000
#define ACK_MAX_FDS 64

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
        n = SC3(__NR_recvmsg, sync_fd, &h, K_MSG_CMSG_CLOEXEC);
    while (n == -EINTR);
    if (n != (long)sizeof m || m.kind != MSG_ACK)
        SC1(__NR_exit_group, 1); /* the parent gave up; it reports why */
    if (m.value)
        host_pid = m.value;
    if (h.controllen > 16 && ctl.level == K_SOL_SOCKET && ctl.type == K_SCM_RIGHTS) {
        int nfds = (int)((ctl.len - 16) / sizeof(int)), err = 0;
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

/* ---- plan access ----------------------------------------------------------------------------- */

/* The i-th NUL-terminated string of the op's payload. */
static const char *op_str(const struct ocirun_op *op, int i)
{
    const char *p = (const char *)(op + 1);
    const char *end = (const char *)op + op->size;
    while (i-- > 0) {
        while (p < end && *p)
            p++;
        p++;
    }
    return p < end ? p : "";
}

static const char *nonempty(const char *s)
{
    return *s ? s : 0;
}

/* ---- paths inside the root --------------------------------------------------------------------- */

static char *fd_path(char buf[32], int fd)
{
    char *p = buf + str_copy(buf, 32, "/proc/self/fd/");
    put_uint(p, (unsigned long)fd);
    return buf;
}

static long open_in_root(const char *path, u64 flags)
{
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = flags | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
#if OCIRUN_WEAKEN_NO_RESOLVE_IN_ROOT
    how.resolve = 0; /* attack-test build: symlinks and ".." lead out of the root */
#endif
    while (*path == '/')
        path++;
    return SC4(__NR_openat2, root_fd, *path ? path : ".", &how, sizeof how);
}

enum { CREATE_NONE, CREATE_DIR, CREATE_FILE };

/* Opens `path` inside the root as O_PATH; when it does not exist and `create` says so, creates the
 * missing components (directories, and the last one as `create` says), each resolved again from the
 * root so that no symlink in the image can lead outside. */
static long resolve(const char *path, int create)
{
    char buf[4096];
    long fd = open_in_root(path, O_PATH);
    if (fd != -ENOENT || create == CREATE_NONE)
        return fd;
    if (str_copy(buf, sizeof buf, path) >= sizeof buf - 1)
        return -ENAMETOOLONG;
    size_t len = str_len(buf);
    size_t start = 0;
    while (start < len && buf[start] == '/')
        start++;
    for (size_t i = start; i <= len; i++) {
        if (i < len && buf[i] != '/')
            continue;
        if (i == start)
            continue;
        int last = (i == len);
        char saved = buf[i];
        buf[i] = 0;
        long cfd = open_in_root(buf, O_PATH);
        if (cfd == -ENOENT) {
            /* Create this component in its parent, itself resolved in the root. */
            size_t j = i;
            while (j > start && buf[j - 1] != '/')
                j--;
            const char *name = buf + j;
            long pfd;
            if (j > start) {
                buf[j - 1] = 0;
                pfd = open_in_root(buf, O_PATH | O_DIRECTORY);
                buf[j - 1] = '/';
            } else {
                pfd = open_in_root("", O_PATH | O_DIRECTORY);
            }
            if (pfd < 0)
                return pfd;
            long r;
            if (last && create == CREATE_FILE) {
                r = SC4(__NR_openat, pfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (r >= 0)
                    SC1(__NR_close, r);
            } else {
                r = SC3(__NR_mkdirat, pfd, name, 0755);
            }
            SC1(__NR_close, pfd);
            if (r < 0 && r != -EEXIST)
                return r;
            cfd = open_in_root(buf, O_PATH);
        }
        buf[i] = saved;
        if (cfd < 0)
            return cfd;
        if (last)
            return cfd;
        SC1(__NR_close, cfd);
    }
    return -ENOENT;
}

/* Opens the parent directory of `path` inside the root (creating it if asked) and points *name at
 * the last component. */
static long resolve_parent(const char *path, char *buf, size_t cap, const char **name)
{
    str_copy(buf, cap, path);
    size_t len = str_len(buf);
    while (len > 1 && buf[len - 1] == '/')
        buf[--len] = 0;
    size_t j = len;
    while (j > 0 && buf[j - 1] != '/')
        j--;
    *name = buf + j;
    if (j == 0)
        return open_in_root("", O_PATH | O_DIRECTORY);
    buf[j - 1] = 0;
    long fd = resolve(buf, CREATE_DIR);
    buf[j - 1] = '/';
    return fd;
}

/* ---- ops -------------------------------------------------------------------------------------- */

static long statx_fd(long fd, const char *path, int flags, struct statx *st)
{
    return SC5(__NR_statx, fd, path, flags, STATX_TYPE | STATX_MODE | STATX_INO, st);
}

/* Flags that a remount must keep, because the kernel locks them on mounts from a more privileged
 * mount namespace (nosuid, nodev, noexec, and the atime ones). */
static unsigned long locked_flags(const char *target)
{
    struct statfs st;
    if (SC2(__NR_statfs, target, &st) < 0)
        return 0;
    unsigned long f = 0, s = (unsigned long)st.f_flags;
    if (s & 0x2) f |= MS_NOSUID;
    if (s & 0x4) f |= MS_NODEV;
    if (s & 0x8) f |= MS_NOEXEC;
    if (s & 0x400) f |= MS_NOATIME;
    if (s & 0x800) f |= MS_NODIRATIME;
    if (s & 0x1000) f |= MS_RELATIME;
    return f;
}

static void remount(const char *target, unsigned long flags)
{
    long r = SC5(__NR_mount, 0, target, 0, flags | MS_REMOUNT, 0);
    if (r == -EPERM)
        r = SC5(__NR_mount, 0, target, 0, flags | MS_REMOUNT | locked_flags(target), 0);
    CHECK(r, target);
}

/* tmpcopyup: the directory's content into the tmpfs mounted over it.  Both sides are fds (the
 * directory opened before the mount, the tmpfs root after); nothing is followed, symlinks are
 * copied as symlinks, owners and modes kept. */
static void copy_tree(int from, int to, int depth)
{
    char buf[2048];
    if (depth > 64)
        fail(ELOOP, "tmpcopyup: too deep");
    for (;;) {
        long n = SC3(__NR_getdents64, from, buf, sizeof buf);
        CHECK(n, "tmpcopyup: read a directory");
        if (n == 0)
            return;
        for (long off = 0; off < n;) {
            struct { u64 ino; s64 off; unsigned short reclen; unsigned char type; char name[]; } *d = (void *)(buf + off);
            off += d->reclen;
            const char *name = d->name;
            if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
                continue;
            struct statx st;
            CHECK(SC5(__NR_statx, from, name, AT_SYMLINK_NOFOLLOW_, STATX_BASIC_STATS, &st), name);
            unsigned mode = st.stx_mode & 07777;
            if (S_ISDIR(st.stx_mode)) {
                long r = SC3(__NR_mkdirat, to, name, 0700);
                if (r != -EEXIST)
                    CHECK(r, name);
                long sub = SC4(__NR_openat, from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
                CHECK(sub, name);
                long dsub = SC4(__NR_openat, to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
                CHECK(dsub, name);
                copy_tree((int)sub, (int)dsub, depth + 1);
                SC1(__NR_close, sub);
                SC1(__NR_close, dsub);
            } else if (S_ISREG(st.stx_mode)) {
                long in = SC4(__NR_openat, from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
                CHECK(in, name);
                long out = SC4(__NR_openat, to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                CHECK(out, name);
                for (;;) {
                    long c = SC4(__NR_sendfile, out, in, 0, 1 << 20);
                    CHECK(c, name);
                    if (c == 0)
                        break;
                }
                SC1(__NR_close, in);
                SC1(__NR_close, out);
            } else if (S_ISLNK(st.stx_mode)) {
                char target[4096];
                long len = SC4(__NR_readlinkat, from, name, target, sizeof target - 1);
                CHECK(len, name);
                target[len] = 0;
                CHECK(SC3(__NR_symlinkat, target, to, name), name);
            } else {
                u32 maj = st.stx_rdev_major, min = st.stx_rdev_minor; /* the kernel's new_encode_dev */
                u32 dev = (min & 0xff) | (maj << 8) | ((min & ~0xffu) << 12);
                CHECK(SC4(__NR_mknodat, to, name, (st.stx_mode & S_IFMT) | mode, dev), name);
            }
            CHECK(SC5(__NR_fchownat, to, name, st.stx_uid, st.stx_gid, AT_SYMLINK_NOFOLLOW_), name);
            if (!S_ISLNK(st.stx_mode))
                CHECK(SC3(__NR_fchmodat, to, name, mode), name);
        }
    }
}

/* The directory `path` inside the root, made if missing, whose last component is not followed:
 * proc and sysfs go on an ordinary directory, never through a symlink (CVE-2019-19921). */
static long open_plain_dir(const char *path)
{
    char buf[4096];
    const char *name;
    long pfd = resolve_parent(path, buf, sizeof buf, &name);
    if (pfd < 0)
        return pfd;
    if (WEAKENED(NO_PLAIN_DIR_CHECK)) {
        SC1(__NR_close, pfd);
        return resolve(path, CREATE_DIR);
    }
    SC3(__NR_mkdirat, pfd, name, 0755); /* EEXIST: whatever is there is checked below */
    long fd = SC4(__NR_openat, pfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    SC1(__NR_close, pfd);
    if (fd == -ENOTDIR || fd == -ELOOP)
        fail(ENOTDIR, "must be mounted on ordinary directory");
    return fd;
}

static void op_mount(const struct ocirun_op *op)
{
    const char *src = nonempty(op_str(op, 0)), *target = op_str(op, 1);
    const char *fstype = nonempty(op_str(op, 2)), *data = nonempty(op_str(op, 3));
    unsigned long flags = (unsigned long)mount_flags(op), prop = (unsigned long)mount_propagation(op);
    unsigned long how = (unsigned long)mount_how(op), again = (unsigned long)mount_remount_flags(op);
    char tbuf[32];
    long tfd = -1;
    int keep_mode = -1;
    const char *t = target;

    if (how & (OCIRUN_MNT_IN_ROOT | OCIRUN_MNT_ROOT)) {
        int create = CREATE_NONE;
        if (how & OCIRUN_MNT_MKDIR)
            create = CREATE_DIR;
        else if (how & OCIRUN_MNT_MKFILE)
            create = CREATE_FILE;
        else if (how & OCIRUN_MNT_SRC_AUTO) {
            struct statx st;
            create = CREATE_DIR;
            if (src && statx_fd(AT_FDCWD, src, 0, &st) == 0 && !S_ISDIR(st.stx_mode))
                create = CREATE_FILE;
        }
        if (how & OCIRUN_MNT_KEEP_MODE) {
            /* Only a directory that was there before keeps its mode (a new one is the mount's). */
            struct statx st;
            long pre = resolve(target, CREATE_NONE);
            if (pre >= 0 && statx_fd(pre, "", AT_EMPTY_PATH, &st) == 0)
                keep_mode = st.stx_mode & 07777;
            if (pre >= 0)
                SC1(__NR_close, pre);
        }
        if (how & OCIRUN_MNT_PLAIN_DIR)
            tfd = open_plain_dir(target);
        else
            tfd = resolve((how & OCIRUN_MNT_ROOT) ? "" : target, create);
        CHECK(tfd, target);
        t = fd_path(tbuf, (int)tfd);
    }
    long below = -1; /* tmpcopyup: what the tmpfs will cover */
    if (how & OCIRUN_MNT_COPYUP) {
        below = open_in_root(target, O_RDONLY | O_DIRECTORY);
        CHECK(below, target);
    }
    if (flags || fstype || src)
        CHECK(SC5(__NR_mount, src, t, fstype, flags, data), target);
    if (tfd >= 0 && (again || prop || keep_mode >= 0 || below >= 0)) {
        /* Later changes apply to the new mount, not to what was under it: open it again. */
        SC1(__NR_close, tfd);
        tfd = resolve((how & OCIRUN_MNT_ROOT) ? "" : target, CREATE_NONE);
        CHECK(tfd, target);
        t = fd_path(tbuf, (int)tfd);
    }
    if (keep_mode >= 0)
        CHECK(SC3(__NR_fchmodat, AT_FDCWD, t, keep_mode), target);
    if (below >= 0) {
        long top = open_in_root(target, O_RDONLY | O_DIRECTORY);
        CHECK(top, target);
        copy_tree((int)below, (int)top, 0);
        SC1(__NR_close, top);
        SC1(__NR_close, below);
    }
    if (again)
        remount(t, again);
    if (prop)
        CHECK(SC5(__NR_mount, 0, t, 0, prop, 0), target);
    if (tfd >= 0)
        SC1(__NR_close, tfd);
}

/* The file at `name` in `dirfd` (statx `flags`) is the device `mode`/`dev` asks for: same type,
 * and for a char or block device the same numbers.  Owner and mode are not compared. */
static int same_device(long dirfd, const char *name, int flags, u64 mode, u64 dev)
{
    struct statx st;
    if (statx_fd(dirfd, name, flags, &st) < 0 || (st.stx_mode & S_IFMT) != (mode & S_IFMT))
        return 0;
    if (!S_ISCHR(st.stx_mode) && !S_ISBLK(st.stx_mode))
        return 1;
    /* dev is glibc's makedev: major in bits 8-19 and 32-43, minor in bits 0-7 and 20-31 */
    u32 major = (u32)(((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfffu));
    u32 minor = (u32)((dev & 0xff) | ((dev >> 12) & ~0xffu));
    return st.stx_rdev_major == major && st.stx_rdev_minor == minor;
}

/* A device node.  Never replaces anything: a node that already is the requested device is kept as
 * it is (owner and mode too), anything else there is an error (runtime-spec, Devices).  With the
 * second string "check" (a bind-mounted /dev, not the container's), nothing is made at all: the
 * node must be there. */
static void op_mknod(const struct ocirun_op *op)
{
    char buf[4096];
    const char *name, *path = op_str(op, 0);
    if (*op_str(op, 1)) { /* "check": in a bind-mounted /dev, only check the node */
        long fd = resolve(path, CREATE_NONE);
        CHECK(fd, path);
        int same = same_device(fd, "", AT_EMPTY_PATH, (u64)mknod_mode(op), (u64)mknod_dev(op));
        SC1(__NR_close, fd);
        if (!same)
            fail(EEXIST, "a different file is there, not the requested device");
        return;
    }
    long pfd = resolve_parent(path, buf, sizeof buf, &name);
    CHECK(pfd, path);
    long r = SC4(__NR_mknodat, pfd, name, mknod_mode(op), mknod_dev(op));
    if (r == -EEXIST && WEAKENED(REPLACE_DEVICES)) { /* attack-test build: what ocirun did before */
        SC3(__NR_unlinkat, pfd, name, 0);
        r = SC4(__NR_mknodat, pfd, name, mknod_mode(op), mknod_dev(op));
    }
    if (r == -EEXIST) {
        int same = same_device(pfd, name, AT_SYMLINK_NOFOLLOW_, (u64)mknod_mode(op), (u64)mknod_dev(op));
        SC1(__NR_close, pfd);
        if (!same)
            fail(EEXIST, "a different file is there, not the requested device");
        return;
    }
    CHECK(r, path);
    CHECK(SC5(__NR_fchownat, pfd, name, mknod_uid(op), mknod_gid(op), AT_SYMLINK_NOFOLLOW_), path);
    /* mknod applied the umask; the node was just made by us, so it is no symlink. */
    CHECK(SC3(__NR_fchmodat, pfd, name, mknod_mode(op) & 07777), path);
    SC1(__NR_close, pfd);
}

static void op_mkdir(const struct ocirun_op *op)
{
    long fd = resolve(op_str(op, 0), CREATE_DIR);
    CHECK(fd, op_str(op, 0));
    SC1(__NR_close, fd);
}

static void op_symlink(const struct ocirun_op *op)
{
    char buf[4096];
    const char *name;
    long pfd = resolve_parent(op_str(op, 1), buf, sizeof buf, &name);
    CHECK(pfd, op_str(op, 1));
    long r = SC3(__NR_symlinkat, op_str(op, 0), pfd, name);
    if (r != -EEXIST)
        CHECK(r, op_str(op, 1));
    SC1(__NR_close, pfd);
}

static void op_rootfs(const struct ocirun_op *op)
{
    long fd = SC4(__NR_openat, AT_FDCWD, op_str(op, 0), O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    CHECK(fd, op_str(op, 0));
    root_fd = (int)fd;
}

static void reopen_root(void)
{
    long fd = SC4(__NR_openat, AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    CHECK(fd, "/");
    if (root_fd >= 0)
        SC1(__NR_close, root_fd);
    root_fd = (int)fd;
}

static void op_pivot_root(void)
{
    long old = SC4(__NR_openat, AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    CHECK(old, "/");
    CHECK(SC1(__NR_fchdir, root_fd), "rootfs");
    /* The old root ends up stacked on the new one; detach it from inside. */
    CHECK(SC2(__NR_pivot_root, ".", "."), "rootfs");
    CHECK(SC1(__NR_fchdir, old), "old root");
    CHECK(SC5(__NR_mount, 0, ".", 0, MS_SLAVE | MS_REC, 0), "old root");
    CHECK(SC2(__NR_umount2, ".", MNT_DETACH), "old root");
    CHECK(SC1(__NR_chdir, "/"), "/");
    SC1(__NR_close, old);
    reopen_root();
}

static void op_chroot(void)
{
    CHECK(SC1(__NR_fchdir, root_fd), "rootfs");
    CHECK(SC1(__NR_chroot, "."), "rootfs");
    CHECK(SC1(__NR_chdir, "/"), "/");
    reopen_root();
}

static int str_eq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* The next field of a /proc/self/mountinfo line (space separated), NUL-terminated in place. */
static char *mi_field(char **p, char *eol)
{
    char *f = *p;
    while (*p < eol && **p != ' ')
        (*p)++;
    if (*p < eol)
        *(*p)++ = 0;
    return f;
}

/* Copies a mountinfo path to `out` without its octal escapes (\040 ...); `out` may be `in` or
 * before it.  Returns the end of the copy (its NUL). */
static char *mi_unescape(char *out, const char *in)
{
    while (*in) {
        if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] >= '0' && in[2] <= '7' && in[3] >= '0' &&
            in[3] <= '7') {
            *out++ = (char)((in[1] - '0') << 6 | (in[2] - '0') << 3 | (in[3] - '0'));
            in += 4;
        } else {
            *out++ = *in++;
        }
    }
    *out = 0;
    return out;
}

/* --no-pivot leaves the host's / in the mount namespace, and with it the host's procfs and sysfs
 * mounts.  The kernel lets a process in a user namespace mount a new procfs (sysfs) only where a
 * fully visible one is already there (mount_too_revealing): the host's would do, and the new one
 * would have none of the container's masks.  So every full mount of either outside the rootfs is
 * unmounted, or covered by a tmpfs where it cannot be (a mount locked by a user namespace), as
 * runc's msMoveRoot does.  Only this mount namespace sees it: the mounts are slaves first. */
static void hide_host_procfs(void)
{
    char root[4096], lbuf[32];
    long n = SC4(__NR_readlinkat, AT_FDCWD, fd_path(lbuf, root_fd), root, sizeof root - 1);
    CHECK(n, "the rootfs's path");
    root[n] = 0;
    size_t rlen = (size_t)n;

    long fd = SC4(__NR_openat, AT_FDCWD, "/proc/self/mountinfo", O_RDONLY | O_CLOEXEC, 0);
    CHECK(fd, "/proc/self/mountinfo");
    size_t cap = 1 << 16, len = 0;
    long mem = SC6(__NR_mmap, 0, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(mem, "memory");
    for (;;) {
        if (len == cap) {
            mem = SC5(__NR_mremap, mem, cap, cap * 2, 1 /* MREMAP_MAYMOVE */, 0);
            CHECK(mem, "memory");
            cap *= 2;
        }
        long r = SC3(__NR_read, fd, (char *)mem + len, cap - len);
        if (r == -EINTR)
            continue;
        CHECK(r, "/proc/self/mountinfo");
        if (r == 0)
            break;
        len += (size_t)r;
    }
    SC1(__NR_close, fd);

    /* Pass 1: the mount points to hide, NUL-terminated one after the other at the start of the
     * buffer (each is shorter than its line, so the copy never overtakes the reading). */
    char *buf = (char *)mem, *out = buf, *p = buf, *end = buf + len;
    while (p < end) {
        char *eol = p;
        while (eol < end && *eol != '\n')
            eol++;
        *eol = 0;
        mi_field(&p, eol); /* mount id */
        mi_field(&p, eol); /* parent id */
        mi_field(&p, eol); /* major:minor */
        char *mroot = mi_field(&p, eol);
        char *point = mi_field(&p, eol);
        const char *fstype = "";
        while (p < eol) { /* options, optional fields, "-", then the type */
            char *f = mi_field(&p, eol);
            if (f[0] == '-' && !f[1]) {
                fstype = mi_field(&p, eol);
                break;
            }
        }
        p = eol + 1;
        int full = mroot[0] == '/' && !mroot[1];
        int pseudo = str_eq(fstype, "proc") || str_eq(fstype, "sysfs");
        if (!full || !pseudo)
            continue;
        char *start = out;
        out = mi_unescape(out, point) + 1;
        size_t plen = (size_t)(out - 1 - start);
        int inside = plen >= rlen && !memcmp(start, root, rlen) && (plen == rlen || start[rlen] == '/' ||
                                                                    (rlen == 1 && root[0] == '/'));
        if (inside)
            out = start; /* the container's own */
    }

    /* Pass 2 */
    for (char *mp = buf; mp < out; mp += str_len(mp) + 1) {
        long r = SC5(__NR_mount, 0, mp, 0, MS_SLAVE | MS_REC, 0);
        if (r == -ENOENT)
            continue; /* below one hidden before */
        CHECK(r, mp);
        r = SC2(__NR_umount2, mp, MNT_DETACH | 8 /* UMOUNT_NOFOLLOW */);
        if (r == -EINVAL || r == -EPERM)
            r = SC5(__NR_mount, "tmpfs", mp, "tmpfs", 0, 0);
        CHECK(r, mp);
    }
    SC2(__NR_munmap, mem, cap);
}

static void op_move_root(void)
{
    if (!WEAKENED(KEEP_HOST_PROCFS))
        hide_host_procfs();
    CHECK(SC1(__NR_fchdir, root_fd), "rootfs");
    CHECK(SC5(__NR_mount, ".", "/", 0, MS_MOVE, 0), "rootfs");
    CHECK(SC1(__NR_chroot, "."), "rootfs");
    CHECK(SC1(__NR_chdir, "/"), "/");
    reopen_root();
}

/* The working directory.  OCIRUN_CHDIR_FIRST runs while the process is root with all its
 * capabilities, so that a user may start in a directory only root can enter; where even root is
 * refused (EACCES, EPERM: a root-squashing NFS) OCIRUN_CHDIR_AGAIN tries as the user. */
static void op_chdir(const struct ocirun_op *op)
{
    static int entered;
    const char *dir = op_str(op, 0);
    char cwd[64];
    if (chdir_phase(op) == OCIRUN_CHDIR_FIRST) {
        long r = SC1(__NR_chdir, dir);
        if (r == 0)
            entered = 1;
        else if (r != -EACCES && r != -EPERM)
            fail((int)-r, dir);
        return;
    }
    if (chdir_phase(op) != OCIRUN_CHDIR_AGAIN || !entered)
        CHECK(SC1(__NR_chdir, dir), dir);
    /* A cwd reached through a leaked fd (/proc/self/fd/N) lies outside the root: getcwd then
     * says "(unreachable)" (CVE-2024-21626).  ERANGE only means a long path. */
    long r = SC2(__NR_getcwd, cwd, sizeof cwd);
    if (((r >= 0 && cwd[0] != '/') || r == -ENOENT) && !WEAKENED(NO_CWD_CHECK))
        fail(ENOENT, "the working directory is not inside the container");
}

static void op_write_file(const struct ocirun_op *op)
{
    const char *path = op_str(op, 0), *content = op_str(op, 1);
    long fd = open_in_root(path, O_WRONLY | O_NOFOLLOW); /* no O_TRUNC before the check below */
    CHECK(fd, path);
    if (write_file_procfs_only(op)) {
        struct statfs st;
        CHECK(SC2(__NR_fstatfs, fd, &st), path);
        if (st.f_type != 0x9fa0 && !WEAKENED(NO_PROCFS_CHECK)) /* PROC_SUPER_MAGIC */
            fail(EINVAL, path);
    } else {
        CHECK(SC2(__NR_ftruncate, fd, 0), path);
    }
    size_t len = str_len(content);
    CHECK(SC3(__NR_write, fd, content, len), path);
    SC1(__NR_close, fd);
}

static void op_open_devnull(void)
{
    struct statx st;
#if OCIRUN_WEAKEN_UNVERIFIED_DEVNULL
    /* attack-test build: the container's /dev/null, whatever it is (runc before CVE-2025-31133) */
    devnull_fd = (int)open_in_root("/dev/null", O_PATH);
    CHECK(devnull_fd, "/dev/null");
    return;
#endif
    long fd = SC4(__NR_openat, AT_FDCWD, "/dev/null", O_PATH | O_CLOEXEC, 0);
    CHECK(fd, "/dev/null");
    CHECK(statx_fd(fd, "", AT_EMPTY_PATH, &st), "/dev/null");
    if (!S_ISCHR(st.stx_mode) || st.stx_rdev_major != 1 || st.stx_rdev_minor != 3)
        fail(ENXIO, "/dev/null is not the null device");
    devnull_fd = (int)fd;
}

static void op_mask(const struct ocirun_op *op)
{
    const char *path = op_str(op, 0);
    char tbuf[32], sbuf[32];
    struct statx st;
    long fd = resolve(path, CREATE_NONE);
    if (fd == -ENOENT)
        return;
    CHECK(fd, path);
    CHECK(statx_fd(fd, "", AT_EMPTY_PATH, &st), path);
    if (S_ISDIR(st.stx_mode))
        CHECK(SC5(__NR_mount, "tmpfs", fd_path(tbuf, (int)fd), "tmpfs", MS_RDONLY, 0), path);
    else
        CHECK(SC5(__NR_mount, fd_path(sbuf, devnull_fd), fd_path(tbuf, (int)fd), 0, MS_BIND, 0), path);
    SC1(__NR_close, fd);
}

static void op_readonly(const struct ocirun_op *op)
{
    const char *path = op_str(op, 0);
    char tbuf[32];
    long fd = resolve(path, CREATE_NONE);
    if (fd == -ENOENT)
        return;
    CHECK(fd, path);
    fd_path(tbuf, (int)fd);
    CHECK(SC5(__NR_mount, tbuf, tbuf, 0, MS_BIND | MS_REC, 0), path);
    SC1(__NR_close, fd);
    fd = resolve(path, CREATE_NONE);
    CHECK(fd, path);
    fd_path(tbuf, (int)fd);
    remount(tbuf, MS_BIND | MS_RDONLY | MS_REC);
    SC1(__NR_close, fd);
}

static void op_caps(const struct ocirun_op *op)
{
    const u64 *m = (const u64 *)(op + 1);
    u64 bounding = m[0], eff = m[1], perm = m[2], inh = m[3], amb = m[4];
    int last = (int)caps_last_cap(op);
    if (caps_mode(op) == OCIRUN_CAPS_BOUNDING) {
        for (int c = 0; c <= last; c++)
            if (!(bounding & (1ULL << c)))
                CHECK(SC2(__NR_prctl, PR_CAPBSET_DROP, c), "capability bounding set");
        return;
    }
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    data[0].effective = (u32)eff;
    data[1].effective = (u32)(eff >> 32);
    data[0].permitted = (u32)perm;
    data[1].permitted = (u32)(perm >> 32);
    data[0].inheritable = (u32)inh;
    data[1].inheritable = (u32)(inh >> 32);
    CHECK(SC2(__NR_capset, &hdr, data), "capabilities");
    CHECK(SC5(__NR_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "ambient capabilities");
    for (int c = 0; c <= last; c++)
        if (amb & (1ULL << c))
            CHECK(SC5(__NR_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0), "ambient capabilities");
}

static void op_setid(const struct ocirun_op *op)
{
    CHECK(SC5(__NR_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0), "keep capabilities");
    long uid = setid_uid(op), gid = setid_gid(op);
    CHECK(SC3(__NR_setresgid, gid, gid, gid), "setresgid");
    CHECK(SC3(__NR_setresuid, uid, uid, uid), "setresuid");
    CHECK(SC5(__NR_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0), "keep capabilities");
}

static void op_exec_lookup(const struct ocirun_op *op)
{
    int first_err = 0;
    for (int i = 0; i < exec_lookup_count(op); i++) {
        const char *p = op_str(op, i);
        struct statx st;
        long r = statx_fd(AT_FDCWD, p, 0, &st);
        if (r == 0 && S_ISDIR(st.stx_mode))
            r = -EACCES;
        else if (r == 0 && !(st.stx_mode & 0111))
            r = -EACCES;
        if (r == 0) {
            exec_path = p;
            return;
        }
        /* Like execvp: report the first error that is not "not there". */
        if (!first_err || (first_err == ENOENT || first_err == ENOTDIR))
            first_err = (int)-r;
    }
    fail(first_err ? first_err : ENOENT, 0);
}

static void op_exec(const struct ocirun_op *op)
{
    long argc = exec_argc(op), envc = exec_envc(op);
    size_t bytes = (size_t)(argc + envc + 2) * sizeof(char *);
    long mem = SC6(__NR_mmap, 0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(mem, "argv");
    char **argv = (char **)mem, **envp = argv + argc + 1;
    const char *p = (const char *)(op + 1);
    for (long i = 0; i < argc + envc; i++) {
        char **slot = i < argc ? &argv[i] : &envp[i - argc];
        *slot = (char *)p;
        p += str_len(p) + 1;
    }
    argv[argc] = 0;
    envp[envc] = 0;
    long r = SC3(__NR_execve, exec_path, argv, envp);
    char detail[256];
    size_t n = str_copy(detail, sizeof detail, "exec ");
    str_copy(detail + n, sizeof detail - n, exec_path);
    fail((int)-r, detail);
}

static void op_seccomp(const struct ocirun_op *op)
{
    struct sock_fprog prog;
    prog.len = (unsigned short)seccomp_instructions(op);
    prog.filter = (struct sock_filter *)(op + 1);
    long r = SC3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, seccomp_flags(op), &prog);
    CHECK(r, "seccomp");
    if (seccomp_flags(op) & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
        /* The listener fd goes to the parent (pidfd_getfd), which passes it on to listenerPath. */
        send_msg(MSG_SECCOMP, cur_step, 0, r, 0);
        wait_ack();
        SC1(__NR_close, r);
    }
}

/* NULL-terminated pointer arrays for n strings starting at *p; advances *p past them. */
static char **string_array(const char **p, long n)
{
    long mem = SC6(__NR_mmap, 0, (size_t)(n + 1) * sizeof(char *), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(mem, "memory");
    char **arr = (char **)mem;
    for (long i = 0; i < n; i++) {
        arr[i] = (char *)*p;
        *p += str_len(*p) + 1;
    }
    arr[n] = 0;
    return arr;
}

static void write_all(int fd, const char *s, size_t len)
{
    while (len) {
        long n = SC3(__NR_write, fd, s, len);
        if (n == -EINTR)
            continue;
        if (n <= 0)
            return; /* the hook does not read its stdin: its business */
        s += n;
        len -= (size_t)n;
    }
}

/* What a failed startContainer hook said: the first HOOK_KEEP bytes of its stdout or stderr. */
#define HOOK_KEEP 48
struct hook_out {
    char buf[HOOK_KEEP];
    size_t len;
};

/* Reads what is there; 0 at EOF (or error). */
static int hook_read(int fd, struct hook_out *o)
{
    char chunk[512];
    long n;
    do
        n = SC3(__NR_read, fd, chunk, sizeof chunk);
    while (n == -EINTR);
    if (n <= 0)
        return 0;
    for (long i = 0; i < n && o->len < HOOK_KEEP; i++)
        o->buf[o->len++] = chunk[i];
    return 1;
}

/* Appends `o` to `q` (at most `cap` bytes), newlines as "\n": the error stays one line. */
static char *hook_show(char *q, size_t cap, const struct hook_out *o)
{
    char *end = q + cap - 1;
    for (size_t i = 0; i < o->len && q + 2 < end; i++) {
        char c = o->buf[i];
        if (c == '\n' || c == '\r') {
            *q++ = '\\';
            c = c == '\n' ? 'n' : 'r';
        }
        *q++ = c;
    }
    *q = 0;
    return q;
}

/* A startContainer hook (hook_index: its index): run in the container's namespaces, with the state on
 * its stdin; its stdout and stderr are kept (the first HOOK_KEEP bytes of each) for the error that
 * says how it failed, as runc's "exit status 1, stdout: ..., stderr: ..." (a pty of the
 * container's is no place for them: nobody may read it yet). */
static void op_hook(const struct ocirun_op *op)
{
    const char *p = (const char *)(op + 1);
    const char *path = p;
    p += str_len(p) + 1;
    char **argv = string_array(&p, hook_nargs(op));
    char **envp = string_array(&p, hook_nenv(op));
    const char *before = p, *after = p + str_len(p) + 1;
    int fds[2], outp[2], errp[2];
    CHECK(SC2(__NR_pipe2, fds, O_CLOEXEC), path);
    CHECK(SC2(__NR_pipe2, outp, O_CLOEXEC), path);
    CHECK(SC2(__NR_pipe2, errp, O_CLOEXEC), path);
    long pid = SC5(__NR_clone, 17 /* SIGCHLD */, 0, 0, 0, 0);
    CHECK(pid, path);
    if (pid == 0) {
        SC3(__NR_dup3, fds[0], 0, 0);
        SC3(__NR_dup3, outp[1], 1, 0);
        SC3(__NR_dup3, errp[1], 2, 0);
        long r = SC3(__NR_execve, path, argv, envp);
        char line[300], *q = line;
        q += str_copy(q, 200, path);
        q += str_copy(q, 4, ": ");
        q += str_copy(q, 30, errno_name((int)-r));
        str_copy(q, 2, "\n");
        write_str(2, line);
        SC1(__NR_exit_group, 127);
    }
    SC1(__NR_close, fds[0]);
    SC1(__NR_close, outp[1]);
    SC1(__NR_close, errp[1]);
    char num[24];
    put_uint(num, (unsigned long)host_pid);
    write_all(fds[1], before, str_len(before));
    write_all(fds[1], num, str_len(num));
    write_all(fds[1], after, str_len(after));
    SC1(__NR_close, fds[1]);

    struct hook_out out = {.len = 0}, err = {.len = 0};
    struct { long sec, nsec; } now, deadline = {0, 0};
    if (hook_timeout(op) > 0) {
        SC2(__NR_clock_gettime, 1 /* CLOCK_MONOTONIC */, &deadline);
        deadline.sec += hook_timeout(op);
    }
    struct { int fd; short events, revents; } pfd[2] = {{outp[0], 1 /* POLLIN */, 0}, {errp[0], 1, 0}};
    int timed_out = 0;
    while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
        struct { long sec, nsec; } left, *wait = 0;
        if (hook_timeout(op) > 0) {
            SC2(__NR_clock_gettime, 1, &now);
            left.sec = deadline.sec - now.sec;
            left.nsec = deadline.nsec - now.nsec;
            if (left.nsec < 0) {
                left.nsec += 1000000000;
                left.sec--;
            }
            if (left.sec < 0) {
                timed_out = 1;
                break;
            }
            wait = &left;
        }
        long r = SC5(__NR_ppoll, pfd, 2, wait, 0, 0);
        if (r == -EINTR)
            continue;
        if (r == 0) {
            timed_out = 1;
            break;
        }
        CHECK(r, path);
        for (int i = 0; i < 2; i++) {
            if (pfd[i].fd < 0 || !pfd[i].revents)
                continue;
            if (!hook_read(pfd[i].fd, i ? &err : &out)) {
                SC1(__NR_close, pfd[i].fd);
                pfd[i].fd = -1; /* ppoll skips negative fds */
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (pfd[i].fd >= 0)
            SC1(__NR_close, pfd[i].fd);
    if (timed_out)
        SC2(__NR_kill, pid, 9);
    int status = 0;
    long r;
    do
        r = SC4(__NR_wait4, pid, &status, 0, 0);
    while (r == -EINTR);
    if (!timed_out && status == 0)
        return;

    /* "[startContainer hook #N: ]exit status 3, stdout: ..., stderr: ..." (the name when it goes
     * to stderr: the parent, gone, cannot name it) */
    char detail[256], *q = detail;
    if (parent_gone) {
        q += str_copy(q, 40, "startContainer hook #");
        q = put_uint(q, (unsigned long)hook_index(op));
        q += str_copy(q, 4, ": ");
    }
    if (timed_out) {
        q += str_copy(q, 40, "timed out after ");
        q = put_uint(q, (unsigned long)hook_timeout(op));
        q += str_copy(q, 4, "s");
    } else if ((status & 0x7f) == 0) {
        q += str_copy(q, 20, "exit status ");
        q = put_uint(q, (unsigned long)((status >> 8) & 0xff));
    } else {
        q += str_copy(q, 20, "signal ");
        q = put_uint(q, (unsigned long)(status & 0x7f));
    }
    q += str_copy(q, 12, ", stdout: ");
    q = hook_show(q, 2 * HOOK_KEEP + 3, &out); /* at most 2 * HOOK_KEEP: room is left for stderr */
    q += str_copy(q, 12, ", stderr: ");
    hook_show(q, (size_t)(detail + sizeof detail - q), &err);
    fail(0, detail);
}

/* Joins a pid namespace: setns only changes where our children go, so fork.  The parent, still in
 * the runtime's pid namespace, tells the runtime the child's pid and exits (the runtime is a child
 * subreaper and inherits the child); the child waits for that message to be out, then goes on. */
static void op_pidns_fork(const struct ocirun_op *op)
{
    int gate[2];
    CHECK(SC2(__NR_setns, pidns_fork_fd(op), CLONE_NEWPID), "join the pid namespace");
    SC1(__NR_close, pidns_fork_fd(op));
    CHECK(SC2(__NR_pipe2, gate, O_CLOEXEC), "pipe");
    long pid = SC5(__NR_clone, 17 /* SIGCHLD */, 0, 0, 0, 0);
    CHECK(pid, "fork into the pid namespace");
    if (pid > 0) {
        send_msg(MSG_PID, cur_step, 0, pid, 0);
        SC1(__NR_exit_group, 0); /* closes the gate's write end */
    }
    char c;
    SC1(__NR_close, gate[1]);
    while (SC3(__NR_read, gate[0], &c, 1) == -EINTR)
        ;
    SC1(__NR_close, gate[0]);
}

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

static void op_mount_setattr(const struct ocirun_op *op)
{
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = (u64)mount_setattr_attr_set(op);
    attr.attr_clr = (u64)mount_setattr_attr_clr(op);
    attr.propagation = (u64)mount_setattr_propagation(op);
    long fd = resolve(op_str(op, 0), CREATE_NONE);
    CHECK(fd, op_str(op, 0));
    CHECK(SC5(__NR_mount_setattr, fd, "", AT_EMPTY_PATH | (unsigned)mount_setattr_at_flags(op), &attr, sizeof attr), op_str(op, 0));
    SC1(__NR_close, fd);
}

/* ioctl(SIOCGIFFLAGS/SIOCSIFFLAGS) on "lo": a new network namespace starts with it down. */
static void op_loopback_up(void)
{
    struct {
        char name[16];
        short flags;
        char pad[22];
    } ifr;
    memset(&ifr, 0, sizeof ifr);
    str_copy(ifr.name, sizeof ifr.name, "lo");
    long s = SC3(__NR_socket, 2 /* AF_INET */, 2 /* SOCK_DGRAM */ | O_CLOEXEC, 0);
    CHECK(s, "socket");
    CHECK(SC3(__NR_ioctl, s, 0x8913 /* SIOCGIFFLAGS */, &ifr), "lo");
    ifr.flags |= 1 /* IFF_UP */;
    CHECK(SC3(__NR_ioctl, s, 0x8914 /* SIOCSIFFLAGS */, &ifr), "lo");
    SC1(__NR_close, s);
}

/* The console: a pty of the container's devpts; the master goes to whoever listens on the console
 * socket (conmon, containerd's shim, ocirun run), the slave becomes /dev/console, the controlling
 * terminal and stdin, stdout and stderr. */
static void op_console(const struct ocirun_op *op)
{
    int zero = 0;
    long master = open_in_root("/dev/ptmx", O_RDWR | O_NOCTTY);
    if (master == -ELOOP || master == -ENOENT || master == -EXDEV_)
        master = open_in_root("/dev/pts/ptmx", O_RDWR | O_NOCTTY);
    CHECK(master, "/dev/ptmx");
    CHECK(SC3(__NR_ioctl, master, 0x40045431 /* TIOCSPTLCK */, &zero), "unlock the pty");
    long slave = SC3(__NR_ioctl, master, 0x5441 /* TIOCGPTPEER */, O_RDWR | O_NOCTTY | O_CLOEXEC);
    CHECK(slave, "open the pty's slave");
    struct statx st;
    CHECK(statx_fd(slave, "", AT_EMPTY_PATH, &st), "pty");
    if (!S_ISCHR(st.stx_mode) || st.stx_rdev_major < 136 || st.stx_rdev_major > 143)
        fail(ENOTTY_, "the console is not a pty");
    if (console_rows(op) || console_cols(op)) {
        unsigned short ws[4] = {(unsigned short)console_rows(op), (unsigned short)console_cols(op), 0, 0};
        CHECK(SC3(__NR_ioctl, master, 0x5414 /* TIOCSWINSZ */, ws), "set the console size");
    }
    CHECK(SC3(__NR_fchown, slave, console_uid(op), console_gid(op)), "chown the console"); /* -1: devpts's gid= */
    if (console_clear_onlcr(op)) { /* the runtime relays it: "\n" stays "\n" (runc clears ONLCR too) */
        unsigned int tio[16]; /* the kernel's struct termios: iflag, oflag, cflag, lflag, line, cc */
        CHECK(SC3(__NR_ioctl, slave, 0x5401 /* TCGETS */, tio), "read the console's settings");
        tio[1] &= ~0004u; /* c_oflag &= ~ONLCR */
        CHECK(SC3(__NR_ioctl, slave, 0x5402 /* TCSETS */, tio), "clear ONLCR on the console");
    }

    /* SCM_RIGHTS with the master, and its name as the data (what runc sends) */
    char name[] = "/dev/ptmx";
    struct { void *base; size_t len; } iov = {name, sizeof name - 1};
    union { char buf[24]; long align; } ctl;
    struct { size_t len; int level, type; int fd; } *cm = (void *)ctl.buf;
    cm->len = 20; /* CMSG_LEN(sizeof(int)) */
    cm->level = 1 /* SOL_SOCKET */;
    cm->type = 1 /* SCM_RIGHTS */;
    cm->fd = (int)master;
    struct { void *name; int namelen; void *iov; size_t iovlen; void *control; size_t controllen; int flags; }
        msg = {0, 0, &iov, 1, ctl.buf, 24, 0};
    CHECK(SC3(__NR_sendmsg, console_socket_fd(op), &msg, MSG_NOSIGNAL), "send the console to the console socket");
    SC1(__NR_close, master);
    SC1(__NR_close, console_socket_fd(op));

    char sbuf[32];
    if (console_dev_console(op)) { /* the container's terminal, not exec's */
        /* The pty is mounted on /dev/console, never through it: a file or a device there (the
         * host's, in a bind-mounted /dev) is covered, not touched; whatever else the image has
         * there (a symlink leading elsewhere) is replaced by an empty file, never followed. */
        char pbuf[64], tbuf[32];
        const char *name;
        long pfd = resolve_parent("/dev/console", pbuf, sizeof pbuf, &name);
        CHECK(pfd, "/dev");
        struct statx cst;
        if (statx_fd(pfd, name, AT_SYMLINK_NOFOLLOW_, &cst) == 0 && !S_ISREG(cst.stx_mode) &&
            !S_ISCHR(cst.stx_mode) && !WEAKENED(FOLLOW_CONSOLE))
            CHECK(SC3(__NR_unlinkat, pfd, name, 0), "/dev/console");
        long cfd = SC4(__NR_openat, pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (cfd != -EEXIST) /* never opened when it is there: it may be a device */
            CHECK(cfd, "/dev/console");
        if (cfd >= 0)
            SC1(__NR_close, cfd);
        cfd = SC4(__NR_openat, pfd, name, O_PATH | (WEAKENED(FOLLOW_CONSOLE) ? 0 : O_NOFOLLOW) | O_CLOEXEC, 0);
        CHECK(cfd, "/dev/console");
        CHECK(SC5(__NR_mount, fd_path(sbuf, (int)slave), fd_path(tbuf, (int)cfd), 0, MS_BIND, 0), "/dev/console");
        SC1(__NR_close, cfd);
        SC1(__NR_close, pfd);
    }
    SC0(__NR_setsid);
    CHECK(SC3(__NR_ioctl, slave, 0x540E /* TIOCSCTTY */, 0), "make the console the controlling terminal");
    for (int fd = 0; fd < 3; fd++)
        CHECK(SC3(__NR_dup3, slave, fd, 0), "console stdio");
    SC1(__NR_close, slave);
}

static void run_op(const struct ocirun_op *op)
{
    switch (op->code) {
    case OP_UNSHARE: CHECK(SC1(__NR_unshare, unshare_flags(op)), 0); break;
    case OP_MOUNT: op_mount(op); break;
    case OP_ROOTFS: op_rootfs(op); break;
    case OP_MKNOD: op_mknod(op); break;
    case OP_MKDIR: op_mkdir(op); break;
    case OP_SYMLINK: op_symlink(op); break;
    case OP_PIVOT_ROOT: op_pivot_root(); break;
    case OP_MOVE_ROOT: op_move_root(); break;
    case OP_CHROOT: op_chroot(); break;
    case OP_PIDNS_FORK: op_pidns_fork(op); break;
    case OP_SETHOSTNAME: CHECK(SC2(__NR_sethostname, op_str(op, 0), str_len(op_str(op, 0))), 0); break;
    case OP_SETDOMAINNAME: CHECK(SC2(__NR_setdomainname, op_str(op, 0), str_len(op_str(op, 0))), 0); break;
    case OP_WRITE_FILE: op_write_file(op); break;
    case OP_OPEN_DEVNULL: op_open_devnull(); break;
    case OP_MASK: op_mask(op); break;
    case OP_READONLY: op_readonly(op); break;
    case OP_SYNC: send_msg(MSG_SYNC, cur_step, 0, sync_point(op), 0); wait_ack(); break;
    case OP_CHDIR: op_chdir(op); break;
    case OP_RLIMIT: {
        struct rlimit64 rl = {(u64)rlimit_soft(op), (u64)rlimit_hard(op)};
        CHECK(SC4(__NR_prlimit64, 0, rlimit_resource(op), &rl, 0), 0);
        break;
    }
    case OP_NO_NEW_PRIVS: CHECK(SC5(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0); break;
    case OP_SECCOMP: op_seccomp(op); break;
    case OP_SETGROUPS: CHECK(SC2(__NR_setgroups, setgroups_count(op), (const u32 *)(op + 1)), 0); break;
    case OP_SETID: op_setid(op); break;
    case OP_CAPS: op_caps(op); break;
    case OP_UMASK: SC1(__NR_umask, umask_mask(op)); break;
    case OP_PERSONALITY: CHECK(SC1(__NR_personality, personality_persona(op)), 0); break;
    case OP_EXEC_LOOKUP: op_exec_lookup(op); break;
    case OP_READY:
        SC5(__NR_prctl, PR_SET_PDEATHSIG, 0, 0, 0, 0);
        send_msg(MSG_READY, cur_step, 0, 0, 0);
        parent_gone = (int)ready_parent_exits(op); /* create: the parent exits once it has the READY */
        break;
    case OP_WAIT_FIFO: op_wait_fifo(op); break;
    case OP_CLOSE_FROM: {
        /* Without close_range (old kernel, or a filter that denies it), one fcntl per fd. */
        if (WEAKENED(NO_CLOSE_RANGE))
            break;
        if (SC3(__NR_close_range, close_from_fd(op), ~0U, CLOSE_RANGE_CLOEXEC) < 0)
            for (long fd = close_from_fd(op); fd < 65536; fd++)
                SC3(__NR_fcntl, fd, F_SETFD, FD_CLOEXEC);
        break;
    }
    case OP_EXEC: op_exec(op); break;
    case OP_OOM_SCORE_ADJ: {
        char v[24]; /* one write: procfs parses each write on its own ("-" then "500" is +500) */
        v[0] = '-';
        long score = oom_score_adj_score(op);
        put_uint(v + (score < 0), (unsigned long)(score < 0 ? -score : score));
        long fd = SC4(__NR_openat, AT_FDCWD, "/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0);
        CHECK(fd, "/proc/self/oom_score_adj");
        struct statfs sfs;
        if ((SC2(__NR_fstatfs, fd, &sfs) < 0 || sfs.f_type != 0x9fa0) && !WEAKENED(NO_PROCFS_CHECK))
            fail(EINVAL, "/proc is not procfs");
        CHECK(SC3(__NR_write, fd, v, str_len(v)), "/proc/self/oom_score_adj");
        SC1(__NR_close, fd);
        break;
    }
    case OP_SETSID: CHECK(SC0(__NR_setsid), "setsid"); break;
    case OP_MOUNT_SETATTR: op_mount_setattr(op); break;
    case OP_LOOPBACK_UP: op_loopback_up(); break;
    case OP_HOOK: op_hook(op); break;
    case OP_CONSOLE: op_console(op); break;
    case OP_AFFINITY: CHECK(SC3(__NR_sched_setaffinity, 0, affinity_size(op), (const void *)(op + 1)), 0); break;
    case OP_SCHED: {
        const u64 *t = (const u64 *)(op + 1);
        struct {
            u32 size, policy;
            u64 flags;
            s32 nice;
            u32 priority;
            u64 runtime, deadline, period;
            u32 util_min, util_max;
        } attr = {56, (u32)sched_policy(op), (u64)sched_flags(op), (int)sched_nice(op), (u32)sched_priority(op),
                  t[0], t[1], t[2], 0, 1024};
        CHECK(SC3(__NR_sched_setattr, 0, &attr, 0), 0);
        break;
    }
    case OP_IOPRIO: CHECK(SC3(__NR_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, ioprio_ioclass(op) << 13 | ioprio_level(op)), 0); break;
    case OP_KEYRING: {
        /* KEYCTL_JOIN_SESSION_KEYRING; a kernel without keyrings (ENOSYS) or a sandbox that denies
         * them (EPERM/EACCES) leaves the inherited one, as runc does for ENOSYS. */
        long r = SC2(__NR_keyctl, 1, op_str(op, 0));
        if (r < 0 && r != -ENOSYS && r != -EPERM && r != -EACCES)
            CHECK(r, "join a session keyring");
        if (r >= 0) /* possessor: all; user: view, read, link (what runc sets) */
            SC3(__NR_keyctl, 5 /* KEYCTL_SETPERM */, r, 0x3f1b0000);
        break;
    }
    default: fail(EINVAL, "unknown op");
    }
}

static int init_main(int argc, char **argv)
{
    u64 none = 0;
    SC4(__NR_rt_sigprocmask, 2 /* SIG_SETMASK */, &none, 0, sizeof none); /* the shim blocked all */
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
    const struct ocirun_plan_hdr *hdr = (const void *)mem;
    if (hdr->magic != OCIRUN_PLAN_MAGIC || hdr->abi != OCIRUN_ABI_VERSION || hdr->size != (u32)size)
        fail(EINVAL, "plan");
    const char *p = (const char *)(hdr + 1), *end = (const char *)mem + size;
    for (u32 i = 0; i < hdr->nops; i++) {
        const struct ocirun_op *op = (const void *)p;
        if (p + sizeof *op > end || op->size < sizeof *op || p + op->size > end)
            fail(EINVAL, "plan");
        cur_step = (int)i;
        cur_code = op->code;
        run_op(op);
        p += op->size;
    }
    return 0;
}

__attribute__((used)) void start_c(long *sp)
{
    int argc = (int)sp[0];
    char **argv = (char **)(sp + 1);
    SC1(__NR_exit_group, init_main(argc, argv));
}
