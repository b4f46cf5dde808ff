/* init_parts.c: parts of the init stage (csrc/init/) driven from a test, without root.
 *
 * Built by tests/unit/conftest.py the way setup.py builds the init stage (the same NOLIBC_CFLAGS,
 * no libc), from the same files: plan.c and paths.c are included whole, as csrc/init.c includes
 * them, and this program stands in for init.c (fail() prints instead of messaging the parent).
 * Each command prints lines that the tests compare:
 *
 *   plan FILE                 the plan walked as init_main walks it: "I op CODE SIZE", then one
 *                             line per field ("I NAME.FIELD VALUE", read by its accessor)
 *                             and per string ("I NAME$K TEXT", op_str); "refused ..." when the
 *                             header or an op is not what init_main accepts (exit 3)
 *   resolve ROOT PATH HOW     resolve(PATH, HOW = none|dir|file) inside ROOT
 *   parent ROOT PATH          resolve_parent(PATH): the directory and the last component
 *   plain ROOT PATH           open_plain_dir(PATH) (what proc and sysfs are mounted on)
 *
 * A path that opened prints "ok " and where its fd leads (/proc/self/fd/N); a failure "err " and
 * the errno; fail() "fail ERRNO DETAIL" (exit 1).
 */
#include "init.h"

static void out(const char *s)
{
    SC3(__NR_write, 1, s, str_len(s));
}

static void out_int(long v)
{
    char buf[24];
    if (v < 0)
        out("-");
    put_uint(buf, v < 0 ? -(unsigned long)v : (unsigned long)v);
    out(buf);
}

__attribute__((noreturn)) static void fail(int err, const char *detail)
{
    out("fail ");
    out_int(err);
    out(" ");
    out(detail ? detail : "");
    out("\n");
    SC1(__NR_exit_group, 1);
    __builtin_unreachable();
}

#include "plan.c"
#include "paths.c"

#include "init_parts_ops.h" /* generated from protocol.OPS: print_fields(i, op) */

static int walk_plan(const char *file)
{
    long fd = SC4(__NR_openat, AT_FDCWD, file, O_RDONLY | O_CLOEXEC, 0);
    CHECK(fd, file);
    long size = SC3(__NR_lseek, fd, 0, SEEK_END);
    CHECK(size, file);
    long mem = SC6(__NR_mmap, 0, size ? size : 1, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(mem, file);
    const struct ocirun_plan_hdr *hdr = plan_header((const void *)mem, size);
    if (!hdr) {
        out("refused header\n");
        return 3;
    }
    const char *p = (const char *)(hdr + 1), *end = (const char *)mem + size;
    for (u32 i = 0; i < hdr->nops; i++) {
        const struct ocirun_op *op = plan_next(&p, end);
        if (!op) {
            out("refused op ");
            out_int(i);
            out("\n");
            return 3;
        }
        out_int(i);
        out(" op ");
        out_int(op->code);
        out(" ");
        out_int(op->size);
        out("\n");
        print_fields(i, op);
    }
    return 0;
}

/* "ok <where fd leads>" or "err <errno>"; closes fd. */
static void report(long fd, const char *name)
{
    char link[32], target[4096];
    if (fd < 0) {
        out("err ");
        out_int(-fd);
        out("\n");
        return;
    }
    long n = SC4(__NR_readlinkat, AT_FDCWD, fd_path(link, (int)fd), target, sizeof target - 1);
    CHECK(n, "readlink");
    target[n] = 0;
    out("ok ");
    out(target);
    if (name) {
        out(" ");
        out(name);
    }
    out("\n");
    SC1(__NR_close, fd);
}

static int str_is(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

static int parts_main(int argc, char **argv)
{
    if (argc == 3 && str_is(argv[1], "plan"))
        return walk_plan(argv[2]);
    if (argc < 4)
        return 2;
    long fd = SC4(__NR_openat, AT_FDCWD, argv[2], O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    CHECK(fd, argv[2]);
    root_fd = (int)fd;
    if (argc == 5 && str_is(argv[1], "resolve")) {
        int how = str_is(argv[4], "dir") ? CREATE_DIR : str_is(argv[4], "file") ? CREATE_FILE : CREATE_NONE;
        report(resolve(argv[3], how), 0);
    } else if (str_is(argv[1], "parent")) {
        char buf[4096];
        const char *name = 0;
        long pfd = resolve_parent(argv[3], buf, sizeof buf, &name);
        report(pfd, name);
    } else if (str_is(argv[1], "plain")) {
        report(open_plain_dir(argv[3]), 0);
    } else {
        return 2;
    }
    return 0;
}

__attribute__((used)) void start_c(long *sp)
{
    SC1(__NR_exit_group, parts_main((int)sp[0], (char **)(sp + 1)));
}
