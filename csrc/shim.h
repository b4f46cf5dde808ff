/* shim.h: the functions and the struct of ocirun's cffi module.  This file is also the cffi cdef
 * (ocirun/_shim_build.py reads it), so it holds plain declarations only: no macros, no includes. */

struct ocirun_spawn {
    int exec_fd;             /* sealed memfd of the init stage (ocirun_sealed_copy) */
    char *const *argv;       /* the init stage's argv, NULL-terminated */
    char *const *envp;       /* and its environment */
    int clone_flags;         /* CLONE_NEW* namespaces to create */
    int sync_fd;             /* the child's end of the sync socket */
    int unshare_flags;       /* namespaces the child makes after the clone (the time namespace) */
    int wait_go;             /* wait for the parent's MSG_ACK before the exec (id maps, time offsets) */
    int become_root;         /* new user namespace: setresgid/setresuid(0) once the maps are written */
    int pdeathsig;           /* signal for the child when the parent dies before READY (0: none) */
    int cgroup_fd;           /* >= 0: a cgroup2 directory the child is born in (clone3 CLONE_INTO_CGROUP) */
    int may_freeze;          /* its cgroup v2 may be frozen (a paused container): no CLONE_VFORK */
    int nsfds_n;             /* namespaces to join with setns(), in this order */
    const int *nsfds;
    const int *nstypes;
    int fds_n;               /* fds_from[i] becomes fds_to[i] in the init stage, inheritable */
    const int *fds_from;
    const int *fds_to;
};

int ocirun_abi_version(void);
int ocirun_socketpair(int fds[2]);
int ocirun_sealed_copy(const char *path);
int ocirun_spawn(const struct ocirun_spawn *s);
int ocirun_open_in_root(int root_fd, const char *path, int flags);
int ocirun_connect_unix(const char *path);
int ocirun_umount(const char *path);
int ocirun_set_child_subreaper(int on);
int ocirun_setns(int fd, int nstype);
int ocirun_recv_fd(int sock);
int ocirun_send_with_fds(int sock, const char *buf, int len, const int *fds, int nfds);
long ocirun_statfs_type(const char *path);
int ocirun_open_tree(const char *path, int recursive);
int ocirun_idmap_tree(int fd, int userns_fd, int recursive);
