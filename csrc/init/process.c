/* process.c: the process that becomes the container's: its namespaces (joined by fork, the
 * loopback), limits, scheduling and memory policy, credentials and capabilities, seccomp, working directory, and
 * finally the lookup and execve of the user's program.
 * Needs fail(), CHECK, send_msg(), wait_ack() and cur_step of init.c, and plan.c. */

static const char *exec_path; /* set by OP_EXEC_LOOKUP */

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

static void op_setgroups(const struct ocirun_op *op)
{
    CHECK(SC2(__NR_setgroups, setgroups_count(op), (const u32 *)(op + 1)), 0);
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

static void op_no_new_privs(const struct ocirun_op *op)
{
    (void)op; /* no fields */
    CHECK(SC5(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
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

static void op_unshare(const struct ocirun_op *op)
{
    CHECK(SC1(__NR_unshare, unshare_flags(op)), 0);
}

static void op_sethostname(const struct ocirun_op *op)
{
    CHECK(SC2(__NR_sethostname, op_str(op, 0), str_len(op_str(op, 0))), 0);
}

static void op_setdomainname(const struct ocirun_op *op)
{
    CHECK(SC2(__NR_setdomainname, op_str(op, 0), str_len(op_str(op, 0))), 0);
}

/* A new session: the container's processes are not in the caller's. */
static void op_setsid(const struct ocirun_op *op)
{
    (void)op; /* no fields */
    CHECK(SC0(__NR_setsid), "setsid");
}

/* Joins a pid namespace: setns only changes where our children go, so fork.  The parent, still in
 * the runtime's pid namespace, tells the runtime the child's pid and exits (the runtime is a child
 * subreaper and inherits the child); the child waits for that message to be out, then goes on. */
static void op_pidns_fork(const struct ocirun_op *op)
{
    int gate[2];
    if (pidns_fork_fd(op) < 0) { /* a new one, in the user namespace joined before (plan.join_userns) */
        CHECK(SC1(__NR_unshare, CLONE_NEWPID), "unshare the pid namespace");
    } else {
        CHECK(SC2(__NR_setns, pidns_fork_fd(op), CLONE_NEWPID), "join the pid namespace");
        SC1(__NR_close, pidns_fork_fd(op));
    }
    CHECK(SC2(__NR_pipe2, gate, O_CLOEXEC), "pipe");
    long pid = SC5(__NR_clone, SIGCHLD, 0, 0, 0, 0);
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

/* ioctl(SIOCGIFFLAGS/SIOCSIFFLAGS) on "lo": a new network namespace starts with it down. */
static void op_loopback_up(const struct ocirun_op *op)
{
    (void)op; /* no fields */
    struct {
        char name[16];
        short flags;
        char pad[22];
    } ifr;
    memset(&ifr, 0, sizeof ifr);
    str_copy(ifr.name, sizeof ifr.name, "lo");
    long s = SC3(__NR_socket, AF_INET, SOCK_DGRAM | O_CLOEXEC, 0);
    CHECK(s, "socket");
    CHECK(SC3(__NR_ioctl, s, SIOCGIFFLAGS, &ifr), "lo");
    ifr.flags |= IFF_UP;
    CHECK(SC3(__NR_ioctl, s, SIOCSIFFLAGS, &ifr), "lo");
    SC1(__NR_close, s);
}

static void op_rlimit(const struct ocirun_op *op)
{
    struct rlimit64 rl = {(u64)rlimit_soft(op), (u64)rlimit_hard(op)};
    CHECK(SC4(__NR_prlimit64, 0, rlimit_resource(op), &rl, 0), 0);
}

static void op_oom_score_adj(const struct ocirun_op *op)
{
    char v[24]; /* one write: procfs parses each write on its own ("-" then "500" is +500) */
    v[0] = '-';
    long score = oom_score_adj_score(op);
    put_uint(v + (score < 0), (unsigned long)(score < 0 ? -score : score));
    long fd = SC4(__NR_openat, AT_FDCWD, "/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0);
    CHECK(fd, "/proc/self/oom_score_adj");
    struct statfs sfs;
    if ((SC2(__NR_fstatfs, fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC) && !WEAKENED(NO_PROCFS_CHECK))
        fail(EINVAL, "/proc is not procfs");
    CHECK(SC3(__NR_write, fd, v, str_len(v)), "/proc/self/oom_score_adj");
    SC1(__NR_close, fd);
}

static void op_sched(const struct ocirun_op *op)
{
    const u64 *t = (const u64 *)(op + 1);
    struct {
        u32 size, policy;
        u64 flags;
        s32 nice;
        u32 priority;
        u64 runtime, deadline, period;
        u32 util_min, util_max;
    } attr = {SCHED_ATTR_SIZE_VER1, (u32)sched_policy(op), (u64)sched_flags(op), (int)sched_nice(op),
              (u32)sched_priority(op), t[0], t[1], t[2], 0, SCHED_CAPACITY_SCALE};
    CHECK(SC3(__NR_sched_setattr, 0, &attr, 0), 0);
}

static void op_affinity(const struct ocirun_op *op)
{
    CHECK(SC3(__NR_sched_setaffinity, 0, affinity_size(op), (const void *)(op + 1)), 0);
}

static void op_ioprio(const struct ocirun_op *op)
{
    CHECK(SC3(__NR_ioprio_set, IOPRIO_WHO_PROCESS, 0, ioprio_ioclass(op) << IOPRIO_CLASS_SHIFT | ioprio_level(op)), 0);
}

static void op_umask(const struct ocirun_op *op)
{
    SC1(__NR_umask, umask_mask(op));
}

static void op_personality(const struct ocirun_op *op)
{
    CHECK(SC1(__NR_personality, personality_persona(op)), 0);
}

/* The NUMA memory policy: maxnode counts the mask's bits plus one (the kernel reads maxnode - 1). */
static void op_set_mempolicy(const struct ocirun_op *op)
{
    long size = set_mempolicy_size(op);
    const void *nodes = size ? (const void *)(op + 1) : 0;
    CHECK(SC3(__NR_set_mempolicy, set_mempolicy_mode(op) | set_mempolicy_flags(op), nodes, size ? size * 8 + 1 : 0), 0);
}

static void op_keyring(const struct ocirun_op *op)
{
    /* A kernel without keyrings (ENOSYS) or a sandbox that denies them (EPERM/EACCES) leaves the
     * inherited one, as runc does for ENOSYS. */
    long r = SC2(__NR_keyctl, KEYCTL_JOIN_SESSION_KEYRING, op_str(op, 0));
    if (r < 0 && r != -ENOSYS && r != -EPERM && r != -EACCES)
        CHECK(r, "join a session keyring");
    if (r >= 0) /* what runc sets: the possessor all, the user view, read, search and link */
        SC3(__NR_keyctl, KEYCTL_SETPERM, r, KEY_POS_ALL | KEY_USR_VIEW | KEY_USR_READ | KEY_USR_SEARCH | KEY_USR_LINK);
}

/* Every fd from close_from_fd on is made close-on-exec (CVE-2024-21626); without close_range (old
 * kernel, or a filter that denies it), one fcntl per fd. */
static void op_close_from(const struct ocirun_op *op)
{
    if (WEAKENED(NO_CLOSE_RANGE))
        return;
    if (SC3(__NR_close_range, close_from_fd(op), ~0U, CLOSE_RANGE_CLOEXEC) < 0)
        for (long fd = close_from_fd(op); fd < CLOSE_SWEEP_END; fd++)
            SC3(__NR_fcntl, fd, F_SETFD, FD_CLOEXEC);
}
