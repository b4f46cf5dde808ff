/* launcher.c: the `ocirun` command.
 *
 * Starts the Python next to it in isolated mode without the site module (python3 -I -S): site
 * alone costs more than all the work of `ocirun state`, and a shell script launcher another
 * millisecond.  pip cannot write interpreter options into a script's #! line, so this small static
 * program (installed as <prefix>/bin/ocirun) does it:
 *
 *     <bindir>/python3 -I -S -c BOOT <bindir> <warm-up pid or 0> ARGS...
 *
 * where <bindir> is the directory of this executable (/proc/self/exe, so symlinks to it work)
 * and BOOT adds <bindir>/../lib/pythonX.Y/site-packages to sys.path (falling back on site when
 * ocirun is installed elsewhere) and calls ocirun.cli.launch.
 *
 * For the commands that move a process into cgroups (create, run, exec) on a cgroup v1 or hybrid
 * system, it also starts the wait that such a move costs, so that it passes while Python starts:
 * the first write to any cgroup.procs after a quiet spell takes the kernel's global
 * cgroup_threadgroup_rwsem for writing, and that waits for an RCU grace period (5-10 ms here);
 * later writes within about one grace period do not wait.  A short-lived child writes "0" (itself)
 * into the cgroup it is already in: a move that moves nothing.  On cgroup v2 alone nothing is
 * moved (clone3 CLONE_INTO_CGROUP) and nothing is done here.  Python reaps that child before it
 * exits (ocirun.cli.launch), so that none outlives the command.
 */
#include "nolibc.h"

#include <linux/fcntl.h>

static const char BOOT[] =
    "import sys\n"
    "d=sys.argv.pop(1)\n"
    "w=int(sys.argv.pop(1))\n"
    "sys.path.append('%s/../lib/python%d.%d/site-packages'%(d,*sys.version_info[:2]))\n"
    "try:\n"
    " from ocirun.cli import launch\n"
    "except ImportError:\n"
    " import site;site.main()\n"
    " from ocirun.cli import launch\n"
    "sys.argv[0]='ocirun'\n"
    "launch(sys.argv[1:],w)\n";

static void die(const char *msg)
{
    SC3(__NR_write, 2, msg, str_len(msg));
    SC1(__NR_exit_group, 127);
}

static int str_eq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

static int starts_with(const char *s, const char *prefix)
{
    while (*prefix)
        if (*s++ != *prefix++)
            return 0;
    return 1;
}

static long warm_cgroup_moves(void)
{
    static char buf[4096], path[4200];
    long fd = SC4(__NR_openat, AT_FDCWD, "/sys/fs/cgroup/cgroup.procs", O_WRONLY | O_CLOEXEC, 0);
    if (fd >= 0) { /* cgroup v2 alone */
        SC1(__NR_close, fd);
        return 0;
    }
    fd = SC4(__NR_openat, AT_FDCWD, "/proc/self/cgroup", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    long n = SC3(__NR_read, fd, buf, sizeof buf - 1);
    SC1(__NR_close, fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    const char *own = 0;
    for (char *line = buf; line && *line;) {
        char *next = line;
        while (*next && *next != '\n')
            next++;
        if (*next)
            *next++ = 0;
        if (starts_with(line, "0::"))
            own = line + 3;
        line = next;
    }
    if (!own)
        return 0;
    char *p = path + str_copy(path, sizeof path, "/sys/fs/cgroup/unified");
    p += str_copy(p, sizeof path - (size_t)(p - path) - 16, own);
    str_copy(p, 16, "/cgroup.procs");
    long pid = SC5(__NR_clone, 17 /* SIGCHLD */, 0, 0, 0, 0);
    if (pid == 0) {
        fd = SC4(__NR_openat, AT_FDCWD, path, O_WRONLY | O_CLOEXEC, 0);
        if (fd >= 0)
            SC3(__NR_write, fd, "0", 1);
        SC1(__NR_exit_group, 0);
    }
    return pid > 0 ? pid : 0;
}

static int launcher_main(int argc, char **argv, char **envp)
{
    static char dir[4096], python[4200];
    long n = SC3(__NR_readlink, "/proc/self/exe", dir, sizeof dir - 1);
    if (n <= 0)
        die("ocirun: cannot find its own location (/proc/self/exe)\n");
    dir[n] = 0;
    while (n > 0 && dir[n - 1] != '/')
        n--;
    if (n > 1)
        n--;
    dir[n] = 0;

    /* Any argument naming one of these commands will do: at worst a move that moves nothing. */
    static char warm[24] = "0";
    for (int i = 1; i < argc; i++) {
        if (str_eq(argv[i], "run") || str_eq(argv[i], "create") || str_eq(argv[i], "exec")) {
            put_uint(warm, (unsigned long)warm_cgroup_moves());
            break;
        }
    }

    /* argv for python: python3 -I -S -c BOOT <dir> args... (args are argv[1..]) */
    char *pargv[argc + 7];
    int k = 0;
    pargv[k++] = python; /* Python finds its prefix from argv[0] */
    pargv[k++] = "-I";
    pargv[k++] = "-S";
    pargv[k++] = "-c";
    pargv[k++] = (char *)BOOT;
    pargv[k++] = dir;
    pargv[k++] = warm;
    for (int i = 1; i < argc; i++)
        pargv[k++] = argv[i];
    pargv[k] = 0;

    static const char *names[] = {"/python3", "/python"};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *p = python + str_copy(python, sizeof python, dir);
        str_copy(p, sizeof python - (size_t)(p - python), names[i]);
        SC3(__NR_execve, python, pargv, envp);
    }
    die("ocirun: no python3 next to the ocirun command\n");
    return 127;
}

__attribute__((used)) void start_c(long *sp)
{
    int argc = (int)sp[0];
    char **argv = (char **)(sp + 1);
    char **envp = argv + argc + 1;
    SC1(__NR_exit_group, launcher_main(argc, argv, envp));
}
