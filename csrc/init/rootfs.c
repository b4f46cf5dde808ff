/* rootfs.c: the container's file system: mounts, devices, sysctls, masked and read-only paths,
 * and the switch to the rootfs (pivot_root, --no-pivot's move, chroot).
 * Needs fail() and CHECK, plan.c and paths.c. */

static int devnull_fd = -1; /* the host's /dev/null, checked (OP_OPEN_DEVNULL), for OP_MASK */

/* Flags that a remount must keep, because the kernel locks them on mounts from a more privileged
 * mount namespace (nosuid, nodev, noexec, and the atime ones). */
static unsigned long locked_flags(const char *target)
{
    struct statfs st;
    if (SC2(__NR_statfs, target, &st) < 0)
        return 0;
    unsigned long f = 0, s = (unsigned long)st.f_flags;
    if (s & ST_NOSUID) f |= MS_NOSUID;
    if (s & ST_NODEV) f |= MS_NODEV;
    if (s & ST_NOEXEC) f |= MS_NOEXEC;
    if (s & ST_NOATIME) f |= MS_NOATIME;
    if (s & ST_NODIRATIME) f |= MS_NODIRATIME;
    if (s & ST_RELATIME) f |= MS_RELATIME;
    return f;
}

static int trees_used; /* MNT_SRC_FD mounts made so far: the next one's tree is fd sync_fd+5+trees_used */

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
    if (depth > COPY_MAX_DEPTH)
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
            CHECK(SC5(__NR_statx, from, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &st), name);
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
                    long c = SC4(__NR_sendfile, out, in, 0, COPY_CHUNK);
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
            CHECK(SC5(__NR_fchownat, to, name, st.stx_uid, st.stx_gid, AT_SYMLINK_NOFOLLOW), name);
            if (!S_ISLNK(st.stx_mode))
                CHECK(SC3(__NR_fchmodat, to, name, mode), name);
        }
    }
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
            if (how & OCIRUN_MNT_SRC_FD) {
                if (statx_fd(sync_fd + 5 + trees_used, "", AT_EMPTY_PATH, &st) == 0 && !S_ISDIR(st.stx_mode))
                    create = CREATE_FILE;
            } else if (src && statx_fd(AT_FDCWD, src, 0, &st) == 0 && !S_ISDIR(st.stx_mode))
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
    /* A read-only file system that is still to be written to (its mode copied, tmpcopyup) is
     * mounted writable first and made read-only after. */
    unsigned long first = flags;
    if ((keep_mode >= 0 || below >= 0) && !(flags & MS_BIND))
        first &= ~(unsigned long)MS_RDONLY;
    if (how & OCIRUN_MNT_SRC_FD) {
        /* the runtime's clone of the source, made where the source could be reached */
        long sfd = sync_fd + 5 + trees_used++;
        CHECK(SC5(__NR_move_mount, sfd, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH), target);
        SC1(__NR_close, sfd);
    } else if (first || fstype || src) {
        long r = SC5(__NR_mount, src, t, fstype, first, data);
        const char *bind = 0; /* a refused mount's stand-in, from the host (we are still in its root) */
        if (r == -EPERM && (how & OCIRUN_MNT_SYSFS_BIND))
            bind = "/sys";
        else if ((r == -EBUSY || r == -EPERM) && (how & OCIRUN_MNT_CGROUP2_BIND))
            bind = op_str(op, 4);
        if (bind) {
            /* then the mount's flags on the bind */
            r = SC5(__NR_mount, bind, t, 0, MS_BIND | MS_REC, 0);
            if (r >= 0 && (flags & ~(unsigned long)MS_REC))
                again = (flags & ~(unsigned long)MS_REC) | MS_BIND;
        }
        CHECK(r, target);
    }
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
    if (first != flags)
        remount(t, flags);
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
        int same = same_device(pfd, name, AT_SYMLINK_NOFOLLOW, (u64)mknod_mode(op), (u64)mknod_dev(op));
        SC1(__NR_close, pfd);
        if (!same)
            fail(EEXIST, "a different file is there, not the requested device");
        return;
    }
    CHECK(r, path);
    CHECK(SC5(__NR_fchownat, pfd, name, mknod_uid(op), mknod_gid(op), AT_SYMLINK_NOFOLLOW), path);
    /* mknod applied the umask; the node was just made by us, so it is no symlink. */
    CHECK(SC3(__NR_fchmodat, pfd, name, mknod_mode(op) & 07777), path);
    SC1(__NR_close, pfd);
}

/* A directory and its missing parents (0755); one made here gets the op's mode,
 * one that was there keeps its own. */
static void op_mkdir(const struct ocirun_op *op)
{
    char buf[32];
    const char *path = op_str(op, 0);
    long fd = resolve(path, CREATE_NONE);
    int made = fd == -ENOENT;
    if (made)
        fd = resolve(path, CREATE_DIR);
    CHECK(fd, path);
    if (made)
        CHECK(SC3(__NR_fchmodat, AT_FDCWD, fd_path(buf, (int)fd), mkdir_mode(op) & 07777), path);
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

/* Stdio that is the host's /dev/null (a detached create's, say) becomes the container's own
 * /dev/null, as runc's reOpenDevNull: then no fd of the container points into a mount outside its
 * mount namespace, which CRIU cannot checkpoint ("Can't lookup mount").  Only when the container's
 * /dev/null is the null device itself (not a symlink, a FIFO or a file of the image). */
static void reopen_devnull_stdio(void)
{
    struct statx st;
    long fd = open_in_root("/dev/null", O_RDWR | O_NONBLOCK | O_NOFOLLOW);
    if (fd < 0)
        return;
    if (statx_fd(fd, "", AT_EMPTY_PATH, &st) < 0 || !S_ISCHR(st.stx_mode) || st.stx_rdev_major != MEM_MAJOR ||
        st.stx_rdev_minor != DEVNULL_MINOR) {
        SC1(__NR_close, fd);
        return;
    }
    SC3(__NR_fcntl, fd, F_SETFL, 0); /* no O_NONBLOCK left for the program to see */
    for (int i = 0; i < 3; i++) {
        struct statx io;
        if (statx_fd(i, "", AT_EMPTY_PATH, &io) == 0 && S_ISCHR(io.stx_mode) && io.stx_rdev_major == MEM_MAJOR &&
            io.stx_rdev_minor == DEVNULL_MINOR)
            SC3(__NR_dup3, fd, i, 0);
    }
    SC1(__NR_close, fd);
}

static void op_pivot_root(const struct ocirun_op *op)
{
    (void)op; /* no fields */
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
    reopen_devnull_stdio();
}

static void op_chroot(const struct ocirun_op *op)
{
    (void)op; /* no fields */
    CHECK(SC1(__NR_fchdir, root_fd), "rootfs");
    CHECK(SC1(__NR_chroot, "."), "rootfs");
    CHECK(SC1(__NR_chdir, "/"), "/");
    reopen_root();
    reopen_devnull_stdio();
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
    size_t cap = MOUNTINFO_FIRST, len = 0;
    long mem = SC6(__NR_mmap, 0, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(mem, "memory");
    for (;;) {
        if (len == cap) {
            mem = SC5(__NR_mremap, mem, cap, cap * 2, MREMAP_MAYMOVE, 0);
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
        r = SC2(__NR_umount2, mp, MNT_DETACH | UMOUNT_NOFOLLOW);
        if (r == -EINVAL || r == -EPERM)
            r = SC5(__NR_mount, "tmpfs", mp, "tmpfs", 0, 0);
        CHECK(r, mp);
    }
    SC2(__NR_munmap, mem, cap);
}

static void op_move_root(const struct ocirun_op *op)
{
    (void)op; /* no fields */
    if (!WEAKENED(KEEP_HOST_PROCFS))
        hide_host_procfs();
    CHECK(SC1(__NR_fchdir, root_fd), "rootfs");
    CHECK(SC5(__NR_mount, ".", "/", 0, MS_MOVE, 0), "rootfs");
    CHECK(SC1(__NR_chroot, "."), "rootfs");
    CHECK(SC1(__NR_chdir, "/"), "/");
    reopen_root();
    reopen_devnull_stdio();
}

static void op_write_file(const struct ocirun_op *op)
{
    const char *path = op_str(op, 0), *content = op_str(op, 1);
    long fd = open_in_root(path, O_WRONLY | O_NOFOLLOW); /* no O_TRUNC before the check below */
    CHECK(fd, path);
    if (write_file_procfs_only(op)) {
        struct statfs st;
        CHECK(SC2(__NR_fstatfs, fd, &st), path);
        if (st.f_type != PROC_SUPER_MAGIC && !WEAKENED(NO_PROCFS_CHECK))
            fail(EINVAL, path);
    } else {
        CHECK(SC2(__NR_ftruncate, fd, 0), path);
    }
    size_t len = str_len(content);
    CHECK(SC3(__NR_write, fd, content, len), path);
    SC1(__NR_close, fd);
}

static void op_open_devnull(const struct ocirun_op *op)
{
    (void)op; /* no fields */
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
    if (!S_ISCHR(st.stx_mode) || st.stx_rdev_major != MEM_MAJOR || st.stx_rdev_minor != DEVNULL_MINOR)
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
    /* A bind remount sets every per-mount flag: keep the ones the mount has (a /proc/bus stays
     * nosuid,nodev,noexec as /proc is), and with them the ones the kernel locks. */
    remount(tbuf, MS_BIND | MS_RDONLY | MS_REC | locked_flags(tbuf));
    SC1(__NR_close, fd);
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
