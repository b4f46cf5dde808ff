/* init.h: what the parts of the init stage share (private to csrc/init.c and csrc/init/).
 *
 * The init stage is one translation unit: csrc/init.c includes the parts (the .c files of csrc/init/) in this
 * order, after its own message functions, and each part uses only what comes before it:
 *
 *     init.c            the state of the run, messages on the sync socket, fail()  (then:)
 *     init/plan.c       reading the plan: the header, the ops one by one, an op's strings
 *     init/paths.c      paths inside the root: openat2(RESOLVE_IN_ROOT), create missing parts
 *     init/rootfs.c     mounts, devices, masked and read-only paths, pivot_root/move/chroot
 *     init/process.c    namespaces, credentials, capabilities, limits, seccomp, cwd, exec
 *     init/terminal.c   the console (a pty of the container's devpts)
 *     init/hooks.c      startContainer hooks
 *     init.c            the ops on init.c's state (sync, ready, wait_fifo), run_op() (op code ->
 *                       op_<name>(), generated), init_main(), _start
 *
 * One unit, because the program is static and libc-free (-nostdlib): no link-time optimisation
 * to rely on, and the compiler inlines its many functions used once only when they are static and
 * in the same unit (the binary stays the size it was as one file).  A test program compiles parts
 * the same way (tests/unit/c/init_parts.c: plan.c and paths.c), defining fail() itself.
 *
 * What a part needs from the includer: fail() (and so CHECK), and for some the state and message
 * functions of init.c, as each part's opening comment says.
 *
 * An op is `static void op_<name>(const struct ocirun_op *op)` in the part of its concern, reading
 * its fields as <name>_<field>(op) (ocirun_ops.h, generated); how to add one: ocirun/protocol.py,
 * above _LAYOUT.
 */
#ifndef OCIRUN_INIT_H
#define OCIRUN_INIT_H

#include "../nolibc.h"
#include "../ocirun.h"
#include "ocirun_ops.h" /* generated from ocirun/protocol.py (ocirun/_opgen.py): OP_*, <op>_<field>() */
#include "../weaken.h"
#include "consts.h"

/* Reports the failure of the current step and exits; `err` is a positive errno, 0 for none. */
__attribute__((noreturn)) static void fail(int err, const char *detail);

#define CHECK(expr, detail)                                                                          \
    do {                                                                                             \
        long _r = (long)(expr);                                                                      \
        if (_r < 0)                                                                                  \
            fail((int)-_r, detail);                                                                  \
    } while (0)

/* sendmsg(2)/recvmsg(2)'s structures as the kernel reads them (no libc headers here). */
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

#endif
