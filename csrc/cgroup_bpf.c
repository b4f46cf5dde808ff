/* cgroup_bpf.c: loads a device-filter program (assembled by ocirun/cgroups/devices.py) and makes it
 * the only one attached to a cgroup v2 directory, the way cgroup v2 replaces v1's devices.allow and
 * devices.deny.
 *
 * The new program is attached with BPF_F_ALLOW_MULTI, replacing the single old one in place when
 * there is exactly one (BPF_F_REPLACE, Linux 5.6), else attached next to the old ones, which are
 * then detached: at no moment is the cgroup left without a filter.
 *
 * Functions return 0 (or a count) on success and -errno on failure.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup_bpf.h"

#define MAX_OLD_PROGS 64

static long sys_bpf(int cmd, union bpf_attr *attr)
{
    return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

int ocirun_bpf_dev_query(int cgroup_fd, unsigned int *ids, unsigned int max_ids)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.query.target_fd = (uint32_t)cgroup_fd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
    attr.query.prog_cnt = max_ids;
    if (sys_bpf(BPF_PROG_QUERY, &attr) < 0)
        return -errno;
    return (int)attr.query.prog_cnt;
}

static int prog_load(const unsigned char *insns, int insn_count, char *log_buf, unsigned int log_size)
{
    static const char license[] = "Apache";
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)insns;
    attr.insn_cnt = (uint32_t)insn_count;
    attr.license = (uint64_t)(uintptr_t)license;
    if (log_buf != NULL && log_size > 0) {
        log_buf[0] = '\0';
        attr.log_buf = (uint64_t)(uintptr_t)log_buf;
        attr.log_size = log_size;
        attr.log_level = 1;
    }
    int fd = (int)sys_bpf(BPF_PROG_LOAD, &attr);
    return fd < 0 ? -errno : fd;
}

static int prog_attach(int cgroup_fd, int prog_fd, int replace_fd)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = (uint32_t)cgroup_fd;
    attr.attach_bpf_fd = (uint32_t)prog_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (replace_fd >= 0) {
        attr.attach_flags |= BPF_F_REPLACE;
        attr.replace_bpf_fd = (uint32_t)replace_fd;
    }
    return sys_bpf(BPF_PROG_ATTACH, &attr) < 0 ? -errno : 0;
}

static int prog_detach(int cgroup_fd, int prog_fd)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = (uint32_t)cgroup_fd;
    attr.attach_bpf_fd = (uint32_t)prog_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    return sys_bpf(BPF_PROG_DETACH, &attr) < 0 ? -errno : 0;
}

static int prog_fd_by_id(unsigned int id)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_id = id;
    int fd = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
    return fd < 0 ? -errno : fd;
}

int ocirun_bpf_dev_attach(int cgroup_fd, const unsigned char *insns, int insn_count,
                          char *log_buf, unsigned int log_size)
{
    unsigned int ids[MAX_OLD_PROGS];
    int old_fds[MAX_OLD_PROGS];
    int n_old, n_open = 0, i, err;

    n_old = ocirun_bpf_dev_query(cgroup_fd, ids, MAX_OLD_PROGS);
    if (n_old < 0)
        return n_old;

    int prog_fd = prog_load(insns, insn_count, NULL, 0);
    if (prog_fd == -EPERM) {
        /* Before Linux 5.11 programs are charged to RLIMIT_MEMLOCK (runc raises it the same way;
         * the container's processes do not inherit ocirun's limits). */
        struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
        (void)setrlimit(RLIMIT_MEMLOCK, &unlimited);
        prog_fd = prog_load(insns, insn_count, NULL, 0);
    }
    if (prog_fd == -EINVAL || prog_fd == -EACCES)  /* rejected by the verifier: get its log */
        prog_fd = prog_load(insns, insn_count, log_buf, log_size);
    if (prog_fd < 0)
        return prog_fd;

    for (i = 0; i < n_old; i++) {
        old_fds[i] = prog_fd_by_id(ids[i]);
        if (old_fds[i] < 0) {
            err = old_fds[i];
            goto out;
        }
        n_open++;
    }

    err = -EINVAL;
    if (n_old == 1)
        err = prog_attach(cgroup_fd, prog_fd, old_fds[0]);
    if (err == -EINVAL) {  /* not exactly one old program, or a kernel without BPF_F_REPLACE */
        err = prog_attach(cgroup_fd, prog_fd, -1);
        for (i = 0; err == 0 && i < n_old; i++)
            err = prog_detach(cgroup_fd, old_fds[i]);
    }
out:
    for (i = 0; i < n_open; i++)
        close(old_fds[i]);
    close(prog_fd);  /* the attachment holds its own reference */
    return err;
}
