/* paths.c: paths inside the container's root, never leading out of it.
 *
 * Every path of the image is opened with openat2(RESOLVE_IN_ROOT) from root_fd: absolute symlinks
 * and ".." stop at the root (magic links are refused).  There is no fallback for a kernel without
 * openat2 (before 5.6): the op fails with ENOSYS.  Missing parts are created one component at a
 * time, each resolved again from the root, so that a symlink in the image cannot redirect them.
 * Needs fail() (open_plain_dir); tests/unit/c/init_parts.c runs this file without root.
 */

static int root_fd = -1; /* the directory "in root" paths are resolved in (OP_ROOTFS) */

/* "/proc/self/fd/N": how a path opened here is handed to mount(2) and friends. */
static char *fd_path(char buf[32], int fd)
{
    char *p = buf + str_copy(buf, 32, "/proc/self/fd/");
    put_uint(p, (unsigned long)fd);
    return buf;
}

static long statx_fd(long fd, const char *path, int flags, struct statx *st)
{
    return SC5(__NR_statx, fd, path, flags, STATX_TYPE | STATX_MODE | STATX_INO, st);
}

/* `path` opened with `flags` inside the root (a leading "/" is the root's; "" is the root). */
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

enum { MAX_LINKS = 40 }; /* dangling symlinks followed while making a path (the kernel's limit) */

/* A dangling symlink `name` in `pfd`, at buf[j..i) of the path in `buf` (buf[i] is 0 meanwhile,
 * the rest of the path follows it unless `last`): the path is rewritten to
 * go on from where the link points (an absolute target from the root, a relative one from the
 * link's directory), the rest of the path after it.  0, or -errno (-ENOENT: not a link). */
static long follow_dangling(char *buf, size_t cap, size_t j, size_t i, int last, long pfd, const char *name)
{
    char target[4096], out[4096];
    long n = SC4(__NR_readlinkat, pfd, name, target, sizeof target - 1);
    if (n == -EINVAL)
        return -ENOENT; /* not a link: something else is missing */
    if (n < 0)
        return n;
    target[n] = 0;
    size_t len = 0;
    if (target[0] != '/') { /* relative: from the directory the link is in */
        memcpy(out, buf, j);
        len = j;
    }
    len += str_copy(out + len, sizeof out - len, target);
    if (!last && len + 1 < sizeof out) {
        out[len++] = '/';
        len += str_copy(out + len, sizeof out - len, buf + i + 1);
    }
    if (len >= sizeof out - 1 || len >= cap - 1)
        return -ENAMETOOLONG;
    str_copy(buf, cap, out);
    return 0;
}

/* One pass of `resolve` over the path in `buf`, making what is missing; *again is set when a
 * dangling symlink rewrote `buf` (resolve starts over). */
static long make_path(char *buf, size_t cap, int create, int *again)
{
    size_t len = str_len(buf);
    size_t start = 0;
    *again = 0;
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
            if (r == -EEXIST) {
                /* There, yet not found: a symlink to what is missing (as runc, made where it
                 * points, inside the root). */
                cfd = open_in_root(buf, O_PATH);
                if (cfd == -ENOENT) {
                    r = follow_dangling(buf, cap, j, i, last, pfd, name);
                    SC1(__NR_close, pfd);
                    if (r < 0)
                        return r;
                    *again = 1;
                    return -ENOENT;
                }
            } else if (r >= 0) {
                cfd = open_in_root(buf, O_PATH);
            } else {
                cfd = r;
            }
            SC1(__NR_close, pfd);
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

/* Opens `path` inside the root as O_PATH; when it does not exist and `create` says so, creates the
 * missing components (directories, and the last one as `create` says), each resolved again from the
 * root so that no symlink in the image can lead outside.  A dangling symlink on the way is made
 * real where it points inside the root (runc does the same), at most MAX_LINKS of them. */
static long resolve(const char *path, int create)
{
    char buf[4096];
    long fd = open_in_root(path, O_PATH);
    if (fd != -ENOENT || create == CREATE_NONE)
        return fd;
    if (str_copy(buf, sizeof buf, path) >= sizeof buf - 1)
        return -ENAMETOOLONG;
    for (int links = 0; links <= MAX_LINKS; links++) {
        int again;
        fd = make_path(buf, sizeof buf, create, &again);
        if (!again)
            return fd;
    }
    return -ELOOP;
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
