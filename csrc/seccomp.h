/* seccomp.h: linux.seccomp compiled to BPF with libseccomp, in the parent, and the parent's side of
 * SCMP_ACT_NOTIFY.  This file is also the cffi cdef (ocirun/_shim_build.py reads it): plain
 * declarations only.  ocirun/seccomp.py turns the profile into these structs; the init stage
 * (init.c, OP_SECCOMP) only loads the BPF.
 *
 * Functions return 0 (or a count, an fd) on success and -errno on failure.
 */

struct ocirun_scmp_cond {
    uint32_t index;          /* argument 0..5 */
    uint32_t op;             /* enum scmp_compare: SCMP_CMP_NE = 1 ... SCMP_CMP_MASKED_EQ = 7 */
    uint64_t value;          /* datum a (the mask for SCMP_CMP_MASKED_EQ) */
    uint64_t value_two;      /* datum b */
};

struct ocirun_scmp_rule {
    const char *name;        /* syscall name, resolved by libseccomp */
    uint32_t action;         /* SCMP_ACT_* value, errno/trace data included */
    uint32_t nconds;
    const struct ocirun_scmp_cond *conds;
    int status;              /* out: 0 added, 1 skipped (the name is unknown to libseccomp), -errno */
};

struct ocirun_scmp_profile {
    uint32_t default_action;
    uint32_t narchs;
    const uint32_t *archs;   /* libseccomp arch tokens (ocirun_scmp_arch) */
    uint32_t nrules;
    struct ocirun_scmp_rule *rules;
    int optimize;            /* libseccomp's SCMP_FLTATR_CTL_OPTIMIZE: 2 = binary tree, 0 = default */
    int failed_arch;         /* out: index of the arch that failed, or -1 */
    int failed_rule;         /* out: index of the rule that failed, or -1 */
};

/* Compiles the profile and writes the BPF program (struct sock_filter[]) to out_fd. */
int ocirun_scmp_compile(struct ocirun_scmp_profile *p, int out_fd);
/* libseccomp's token for an arch name ("x86_64", "aarch64" ...), 0 if it does not know it. */
uint32_t ocirun_scmp_arch(const char *name);
uint32_t ocirun_scmp_arch_native(void);
/* The syscall number libseccomp gives `name` on the native arch: < -1 is a pseudo number (a syscall
 * of other archs only), -1 (__NR_SCMP_ERROR) means libseccomp does not know the name. */
int ocirun_scmp_syscall(const char *name);
/* major << 16 | minor << 8 | micro of the libseccomp in use, and its API level. */
unsigned int ocirun_scmp_version(void);
unsigned int ocirun_scmp_api(void);

/* Whether the kernel knows these SECCOMP_FILTER_FLAG_* flags: 1, 0, or -errno. */
int ocirun_seccomp_flags_known(unsigned int flags);
/* Whether the kernel has this SECCOMP_RET_* action: 1, 0, or -errno. */
int ocirun_seccomp_action_avail(uint32_t action);

/* A copy of file descriptor `fd` of process `pid` (pidfd_getfd(2)), close-on-exec. */
int ocirun_pidfd_getfd(int pid, int fd);
/* Connects to the unix socket `path` (SOCK_STREAM), sends `len` bytes of `data` with `fd` attached
 * (SCM_RIGHTS, in the first sendmsg) and closes the connection.  *failed: 1 socket/connect,
 * 2 sendmsg. */
int ocirun_send_with_fd(const char *path, const char *data, unsigned long len, int fd, int *failed);
