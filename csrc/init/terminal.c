/* terminal.c: the console, a pty of the container's devpts.
 * Needs fail(), CHECK, plan.c and paths.c. */

/* The console: a pty of the container's devpts; the master goes to whoever listens on the console
 * socket (conmon, containerd's shim, ocirun run), the slave becomes /dev/console, the controlling
 * terminal and stdin, stdout and stderr. */
static void op_console(const struct ocirun_op *op)
{
    int zero = 0;
    long master = open_in_root("/dev/ptmx", O_RDWR | O_NOCTTY);
    if (master == -ELOOP || master == -ENOENT || master == -EXDEV)
        master = open_in_root("/dev/pts/ptmx", O_RDWR | O_NOCTTY);
    CHECK(master, "/dev/ptmx");
    CHECK(SC3(__NR_ioctl, master, TIOCSPTLCK, &zero), "unlock the pty");
    long slave = SC3(__NR_ioctl, master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    CHECK(slave, "open the pty's slave");
    struct statx st;
    CHECK(statx_fd(slave, "", AT_EMPTY_PATH, &st), "pty");
    if (!S_ISCHR(st.stx_mode) || st.stx_rdev_major < UNIX98_PTY_SLAVE_MAJOR ||
        st.stx_rdev_major >= UNIX98_PTY_SLAVE_MAJOR + UNIX98_PTY_MAJOR_COUNT)
        fail(ENOTTY, "the console is not a pty");
    if (console_rows(op) || console_cols(op)) {
        unsigned short ws[4] = {(unsigned short)console_rows(op), (unsigned short)console_cols(op), 0, 0};
        CHECK(SC3(__NR_ioctl, master, TIOCSWINSZ, ws), "set the console size");
    }
    CHECK(SC3(__NR_fchown, slave, console_uid(op), console_gid(op)), "chown the console"); /* -1: devpts's gid= */
    if (console_clear_onlcr(op)) { /* the runtime relays it: "\n" stays "\n" (runc clears ONLCR too) */
        struct termios tio; /* the kernel's */
        CHECK(SC3(__NR_ioctl, slave, TCGETS, &tio), "read the console's settings");
        tio.c_oflag &= ~(unsigned)ONLCR;
        CHECK(SC3(__NR_ioctl, slave, TCSETS, &tio), "clear ONLCR on the console");
    }

    /* SCM_RIGHTS with the master, and its name as the data (what runc sends) */
    char name[] = "/dev/ptmx";
    struct k_iovec iov = {name, sizeof name - 1};
    union { char buf[24]; long align; } ctl; /* CMSG_SPACE(sizeof(int)) */
    struct { size_t len; int level, type; int fd; } *cm = (void *)ctl.buf;
    cm->len = CMSG_LEN_FD;
    cm->level = SOL_SOCKET;
    cm->type = SCM_RIGHTS;
    cm->fd = (int)master;
    struct k_msghdr msg = {0, 0, &iov, 1, ctl.buf, sizeof ctl, 0};
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
        if (statx_fd(pfd, name, AT_SYMLINK_NOFOLLOW, &cst) == 0 && !S_ISREG(cst.stx_mode) &&
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
    CHECK(SC3(__NR_ioctl, slave, TIOCSCTTY, 0), "make the console the controlling terminal");
    for (int fd = 0; fd < 3; fd++)
        CHECK(SC3(__NR_dup3, slave, fd, 0), "console stdio");
    SC1(__NR_close, slave);
}
