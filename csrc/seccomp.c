/* seccomp.c: linux.seccomp compiled with libseccomp in the parent, and the parent's side of
 * SCMP_ACT_NOTIFY.
 *
 * crun's way: the BPF program is generated here, before the container exists, exported with
 * seccomp_export_bpf() and cached by ocirun/seccomp.py; the init stage only hands it to seccomp(2)
 * (init.c, OP_SECCOMP).  libseccomp's own loading (seccomp_load) is never used, so its load-time
 * attributes (NNP, TSYNC, LOG, SSB) do not matter: the flags go to the init stage's seccomp(2) call,
 * and no_new_privs is an op of its own.
 *
 * For SCMP_ACT_NOTIFY the init stage reports the number of its listener fd; the parent takes a copy
 * with pidfd_getfd(2) and sends it with the container process state to linux.seccomp.listenerPath.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

/* libseccomp's <seccomp.h>.  The module is built with -Icsrc, where <seccomp.h> would be our own
 * header: name it through a directory that only the system's include dirs have. */
#include <linux/../seccomp.h>
#ifndef SCMP_VER_MAJOR
#error "libseccomp's seccomp.h was not found (install libseccomp-dev)"
#endif

#include "seccomp.h"
#include "shim.h"

#ifndef SECCOMP_GET_ACTION_AVAIL
#define SECCOMP_GET_ACTION_AVAIL 2
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd 438
#endif

#define MAX_ARGS 6 /* a syscall has at most six arguments */

int ocirun_scmp_compile(struct ocirun_scmp_profile *p, int out_fd)
{
    p->failed_arch = -1;
    p->failed_rule = -1;
    scmp_filter_ctx ctx = seccomp_init(p->default_action);
    if (!ctx)
        return -EINVAL; /* libseccomp does not say more: an action this kernel lacks, or a bad one */
    int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (r < 0)
        goto out;
    /* A binary tree of syscall numbers for long rule lists; a libseccomp without it builds a list. */
    if (p->optimize)
        (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, (uint32_t)p->optimize);
    for (uint32_t i = 0; i < p->narchs; i++) {
        r = seccomp_arch_add(ctx, p->archs[i]);
        if (r == -EEXIST) /* the native arch is there from the start */
            continue;
        if (r < 0) {
            p->failed_arch = (int)i;
            goto out;
        }
    }
    for (uint32_t i = 0; i < p->nrules; i++) {
        struct ocirun_scmp_rule *rule = &p->rules[i];
        int nr = seccomp_syscall_resolve_name(rule->name);
        if (nr == __NR_SCMP_ERROR) {
            rule->status = 1;
            continue;
        }
        struct scmp_arg_cmp conds[MAX_ARGS];
        if (rule->nconds > MAX_ARGS) {
            r = -EINVAL;
            rule->status = r;
            p->failed_rule = (int)i;
            goto out;
        }
        memset(conds, 0, sizeof conds);
        for (uint32_t j = 0; j < rule->nconds; j++) {
            conds[j].arg = rule->conds[j].index;
            conds[j].op = (enum scmp_compare)rule->conds[j].op;
            conds[j].datum_a = rule->conds[j].value;
            conds[j].datum_b = rule->conds[j].value_two;
        }
        r = seccomp_rule_add_array(ctx, rule->action, nr, rule->nconds, conds);
        rule->status = r < 0 ? r : 0;
        if (r < 0) {
            p->failed_rule = (int)i;
            goto out;
        }
    }
    r = seccomp_export_bpf(ctx, out_fd);
out:
    seccomp_release(ctx);
    return r;
}

uint32_t ocirun_scmp_arch(const char *name)
{
    return seccomp_arch_resolve_name(name);
}

uint32_t ocirun_scmp_arch_native(void)
{
    return seccomp_arch_native();
}

int ocirun_scmp_syscall(const char *name)
{
    return seccomp_syscall_resolve_name(name);
}

unsigned int ocirun_scmp_version(void)
{
    const struct scmp_version *v = seccomp_version();
    return v->major << 16 | v->minor << 8 | v->micro;
}

unsigned int ocirun_scmp_api(void)
{
    return seccomp_api_get();
}

int ocirun_seccomp_flags_known(unsigned int flags)
{
    /* With no program the kernel checks the flags first (EINVAL), then fails to read the program
     * (EFAULT): nothing is ever loaded. */
    if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, flags, NULL) == 0)
        return 1;
    if (errno == EINVAL || errno == ENOSYS)
        return 0;
    return errno == EFAULT || errno == EACCES ? 1 : -errno;
}

int ocirun_seccomp_action_avail(uint32_t action)
{
    if (syscall(__NR_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0)
        return 1;
    if (errno == EOPNOTSUPP || errno == EINVAL || errno == ENOSYS)
        return 0;
    return -errno;
}

int ocirun_pidfd_getfd(int pid, int fd)
{
    long pidfd = syscall(__NR_pidfd_open, pid, 0);
    if (pidfd < 0)
        return -errno;
    long r = syscall(__NR_pidfd_getfd, (int)pidfd, fd, 0); /* the copy is close-on-exec */
    int err = errno;
    close((int)pidfd);
    return r < 0 ? -err : (int)r;
}

int ocirun_send_with_fd(const char *path, const char *data, unsigned long len, int fd, int *failed)
{
    *failed = 1;
    int r, sock = ocirun_connect_unix(path); /* shim.c */
    if (sock < 0)
        return sock;
    *failed = 2;
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct iovec iov = {(void *)data, len};
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.buf;
    msg.msg_controllen = sizeof ctl.buf;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    /* The fd goes with the first sendmsg only (config-linux.md, "The Container Process State"). */
    while (len > 0 || msg.msg_control) {
        ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = -errno;
            close(sock);
            return r;
        }
        msg.msg_control = NULL;
        msg.msg_controllen = 0;
        iov.iov_base = (char *)iov.iov_base + n;
        iov.iov_len -= (size_t)n;
        len -= (unsigned long)n;
    }
    close(sock);
    *failed = 0;
    return 0;
}
