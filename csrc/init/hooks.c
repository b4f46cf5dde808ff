/* hooks.c: startContainer hooks, run by the init stage in the container after `start`.
 * Needs fail(), CHECK, errno_name(), write_str(), parent_gone and host_pid of init.c. */

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
    long pid = SC5(__NR_clone, SIGCHLD, 0, 0, 0, 0);
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
        SC2(__NR_clock_gettime, CLOCK_MONOTONIC, &deadline);
        deadline.sec += hook_timeout(op);
    }
    struct { int fd; short events, revents; } pfd[2] = {{outp[0], POLLIN, 0}, {errp[0], POLLIN, 0}};
    int timed_out = 0;
    while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
        struct { long sec, nsec; } left, *wait = 0;
        if (hook_timeout(op) > 0) {
            SC2(__NR_clock_gettime, CLOCK_MONOTONIC, &now);
            left.sec = deadline.sec - now.sec;
            left.nsec = deadline.nsec - now.nsec;
            if (left.nsec < 0) {
                left.nsec += NSEC_PER_SEC;
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
        SC2(__NR_kill, pid, SIGKILL);
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
